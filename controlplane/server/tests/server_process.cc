#include "controlplane/server/tests/server_process.h"

#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "controlplane/server/tests/tls_client.h"

namespace berth::controlplane::testing {

Result<std::unique_ptr<ServerProcess>> ServerProcess::Start(const std::string& data_dir,
                                                            uint16_t port,
                                                            std::vector<std::string> extra_flags) {
  std::unique_ptr<ServerProcess> s(new ServerProcess());
  s->port_ = port;
  s->log_ = data_dir + "/server.log";
  std::vector<std::string> argv = {berth::testing::BuiltBinary("cmd/berth"),
                                   "server",
                                   "--data-dir",
                                   data_dir,
                                   "--bind-address",
                                   "127.0.0.1",
                                   "--secure-port",
                                   std::to_string(port)};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  s->child_ = BERTH_TRY(berth::testing::SpawnLogged(argv, s->log_));
  std::string last = "no answer";
  for (int i = 0; i < 300; ++i) {  // 30 s
    int status = 0;
    if (::waitpid(s->child_.get(), &status, WNOHANG) == s->child_.get()) {
      s->child_.release();
      return Error(Errc::kUnavailable, "berth server exited during startup: " + s->Log());
    }
    if (PathExists(data_dir + "/admin.kubeconfig")) {
      s->ca_pem_ = BERTH_TRY(ReadFile(data_dir + "/pki/ca.crt"));
      s->admin_.cert_pem = BERTH_TRY(ReadFile(data_dir + "/pki/admin.crt"));
      s->admin_.key_pem = BERTH_TRY(ReadFile(data_dir + "/pki/admin.key"));
      try {
        http::TlsClient client(port, s->ca_pem_, &s->admin_);
        if (client.Do(http::bhttp::verb::get, "/readyz").result_int() == 200) return s;
      } catch (const std::exception& e) {
        last = e.what();
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Error(Errc::kDeadlineExceeded,
               "berth server not ready within 30 s (" + last + "): " + s->Log());
}

std::string ServerProcess::Log() const {
  return ReadFile(log_).value_or("");
}

}  // namespace berth::controlplane::testing

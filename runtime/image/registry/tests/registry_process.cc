#include "runtime/image/registry/tests/registry_process.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "runtime/image/registry/http_client.h"
#include "runtime/image/registry/tests/test_server.h"

namespace berth::image::registry::testing {

Result<std::unique_ptr<RegistryProcess>> RegistryProcess::Start(const std::string& dir,
                                                                const std::string& htpasswd) {
  auto reg = std::unique_ptr<RegistryProcess>(new RegistryProcess());
  reg->port_ = UnusedPort();
  reg->log_ = dir + "/registry.log";
  std::string config =
      "version: 0.1\n"
      "log:\n  level: warn\n"
      "storage:\n  filesystem:\n    rootdirectory: " +
      dir +
      "/data\n"
      "http:\n  addr: 127.0.0.1:" +
      std::to_string(reg->port_) + "\n";
  if (!htpasswd.empty())
    config += "auth:\n  htpasswd:\n    realm: berth-test\n    path: " + htpasswd + "\n";
  BERTH_TRY(WriteFile(dir + "/config.yml", config));
  BERTH_TRY(reg->Spawn(dir + "/config.yml"));
  BERTH_TRY(reg->WaitReady());
  return reg;
}

std::string RegistryProcess::Log() const {
  return ReadFile(log_).value_or("");
}

Status RegistryProcess::Spawn(const std::string& config) {
  child_ = BERTH_TRY(berth::testing::SpawnLogged({kRegistryBinary, "serve", config}, log_));
  return Ok();
}

Status RegistryProcess::WaitReady() {
  HttpClient http;
  HttpRequest req;
  req.url = *Url::Parse("http://" + host() + "/v2/");
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    if (::waitpid(child_.get(), &status, WNOHANG) == child_.get()) {
      child_.release();
      return Error(Errc::kUnavailable, "docker-registry exited: " + Log());
    }
    Result<HttpResponse> r = http.Do(req);
    if (r.ok() && (r->status == 200 || r->status == 401)) return Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Error(Errc::kDeadlineExceeded,
               "docker-registry did not answer on " + host() + " within 10 s: " + Log());
}

Result<CommandResult> RunTool(std::vector<std::string> argv, const std::string& what) {
  Command cmd;
  cmd.argv = std::move(argv);
  cmd.timeout = std::chrono::milliseconds(120'000);
  CommandResult r = BERTH_TRY(RunCommand(cmd));
  if (!r.success()) {
    return Error(Errc::kInternal, what + ": " + r.Describe() + ": " + r.err + r.out);
  }
  return r;
}

Status PushLayout(const std::string& layout_dir, const std::string& tag, const std::string& dest,
                  bool all, const std::string& creds) {
  std::vector<std::string> argv{kSkopeo, "--insecure-policy", "copy", "--dest-tls-verify=false"};
  if (all) argv.emplace_back("--all");
  if (!creds.empty()) argv.insert(argv.end(), {"--dest-creds", creds});
  argv.push_back("oci:" + layout_dir + ":" + tag);
  argv.push_back("docker://" + dest);
  BERTH_TRY(RunTool(argv, "skopeo copy to " + dest));
  return Ok();
}

}  // namespace berth::image::registry::testing

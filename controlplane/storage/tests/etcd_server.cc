#include "controlplane/storage/tests/etcd_server.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "controlplane/storage/etcd_store.h"

namespace berth::controlplane::storage::testing {

Result<std::unique_ptr<EtcdServer>> EtcdServer::Start(const std::string& dir) {
  std::unique_ptr<EtcdServer> server(new EtcdServer());
  std::string client = "http://127.0.0.1:" + std::to_string(berth::testing::UnusedPort());
  std::string peer = "http://127.0.0.1:" + std::to_string(berth::testing::UnusedPort());
  server->endpoint_ = client.substr(std::string("http://").size());
  server->log_ = dir + "/etcd.log";
  std::vector<std::string> args = {kEtcdBinary,
                                   "--name=berth-test",
                                   "--data-dir=" + dir + "/etcd-data",
                                   "--listen-client-urls=" + client,
                                   "--advertise-client-urls=" + client,
                                   "--listen-peer-urls=" + peer,
                                   "--initial-advertise-peer-urls=" + peer,
                                   "--initial-cluster=berth-test=" + peer,
                                   "--log-outputs=stderr"};
  server->child_ = BERTH_TRY(berth::testing::SpawnLogged(args, server->log_));
  pid_t pid = server->child_.get();

  EtcdStoreOptions options;
  options.endpoint = server->endpoint_;
  options.timeout = std::chrono::milliseconds(500);
  std::string last;
  for (int i = 0; i < 200; ++i) {  // 20 s
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      server->child_.release();
      return Error(Errc::kUnavailable, "etcd exited during startup: " + server->Log());
    }
    Result<std::unique_ptr<EtcdStore>> store = EtcdStore::Open(options);
    if (store.ok()) return server;
    last = store.error().str();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Error(Errc::kDeadlineExceeded, "etcd did not answer on " + server->endpoint_ +
                                            " within 20 s (" + last + "): " + server->Log());
}

std::string EtcdServer::Log() const {
  return ReadFile(log_).value_or("");
}

}  // namespace berth::controlplane::storage::testing

#include "integration/cri/cri_daemon.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/file.h"
#include "common/strings.h"
#include "common/testing/testkit.h"
#include "common/unix_socket.h"

namespace berth::integration {

Result<std::unique_ptr<CriDaemon>> CriDaemon::Start(CriDaemonOptions options) {
  if (options.registry_config_dir.empty()) options.registry_config_dir = options.dir + "/certs.d";
  BERTH_TRY(MkdirAll(options.registry_config_dir, 0755));
  std::unique_ptr<CriDaemon> d(new CriDaemon(std::move(options)));
  BERTH_TRY(d->Spawn());
  return d;
}

CriDaemon::~CriDaemon() {
  Stop();
}

Status CriDaemon::Spawn() {
  std::vector<std::string> argv = {
      testing::BuiltBinary("cmd/berth"),
      "cri",
      "--listen=unix://" + socket(),
      "--root=" + root(),
      "--run-root=" + run_root(),
      "--cni-conf-dir=" + options_.cni_conf_dir,
      "--cni-bin-dir=" + Join(options_.cni_bin_dirs, ":"),
      "--cni-cache-dir=" + options_.dir + "/cni-cache",
      "--registry-config-dir=" + options_.registry_config_dir,
      "--stream-address=127.0.0.1:0",
      "--shim=" + testing::BuiltBinary("runtime/shim/berth-shim"),
      "--pause=" + testing::BuiltBinary("pause/berth-pause"),
      "--log-level=debug",
  };
  std::string log = options_.dir + "/cri.log";
  pid_t pid = ::fork();
  if (pid < 0) return Error::Sys("fork", "berth cri");
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (std::string& a : argv)
      args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  child_ = ChildGuard(pid);
  // Connectable first: a gRPC channel whose first connect fails backs off
  // for seconds before it tries again.
  for (int i = 0; i < 600 && !ConnectUnix(socket(), "berth cri socket").ok(); ++i) {
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      child_.release();
      return Error(Errc::kUnavailable, "berth cri exited at start:\n" + Log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto channel = grpc::CreateChannel("unix://" + socket(), grpc::InsecureChannelCredentials());
  runtime_ = ::runtime::v1::RuntimeService::NewStub(channel);
  images_ = ::runtime::v1::ImageService::NewStub(channel);
  // Ready when Version answers.
  for (int i = 0; i < 300; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    ::runtime::v1::VersionRequest req;
    ::runtime::v1::VersionResponse resp;
    if (runtime_->Version(&ctx, req, &resp).ok()) return Ok();
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      child_.release();
      return Error(Errc::kUnavailable, "berth cri exited at start:\n" + Log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Error(Errc::kDeadlineExceeded, "berth cri did not answer Version:\n" + Log());
}

void CriDaemon::Kill() {
  child_.KillAndReap();
}

Status CriDaemon::Restart() {
  return Spawn();
}

void CriDaemon::Stop() {
  pid_t pid = child_.release();
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

std::string CriDaemon::Log() const {
  return ReadFile(options_.dir + "/cri.log").value_or("");
}

}  // namespace berth::integration

#include "runtime/cri/server/stream_backend.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <optional>
#include <thread>

#include "common/pipe.h"
#include "common/unix_socket.h"
#include "runtime/shim/client.h"
#include "runtime/shim/protocol.h"

namespace berth::cri {
namespace {

namespace v1 = ::runtime::v1;

int ExitCode(int ws) {
  return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

void WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

// Connects to 127.0.0.1:port from inside the netns at `netns` (the socket
// keeps that namespace), within 5 s.
Result<UniqueFd> ConnectInNetns(const std::string& netns, int32_t port) {
  std::optional<Result<UniqueFd>> out;
  std::thread t([&] {
    out = [&]() -> Result<UniqueFd> {
      if (!netns.empty()) {
        UniqueFd ns(::open(netns.c_str(), O_RDONLY | O_CLOEXEC));
        if (!ns) return Error::Sys("open", netns);
        // Only this short-lived thread changes its network namespace.
        if (::setns(ns.get(), CLONE_NEWNET) != 0) return Error::Sys("setns", netns);
      }
      UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
      if (!fd) return Error::Sys("socket", "port forward");
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(port));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      std::string what = "127.0.0.1:" + std::to_string(port) + " in " + netns;
      if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno != EINPROGRESS) return Error::Sys("connect", what);
        pollfd p{fd.get(), POLLOUT, 0};
        if (::poll(&p, 1, 5000) <= 0) return Error(Errc::kDeadlineExceeded, "connect " + what);
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) return Error::Sys("connect", what, err);
      }
      int flags = ::fcntl(fd.get(), F_GETFL);
      ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
      return fd;
    }();
  });
  t.join();
  return std::move(*out);
}

}  // namespace

Result<StreamBackend::Target> StreamBackend::Running(const std::string& container_id) const {
  std::string id = BERTH_TRY(store_->ResolveContainerId(container_id));
  std::optional<ContainerRecord> c = store_->Container(id);
  if (!c) return Error(Errc::kNotFound, "container `" + id + "` not found");
  if (c->state() != v1::CONTAINER_RUNNING) {
    return Error(Errc::kFailedPrecondition, "container `" + id + "` is not running");
  }
  std::optional<SandboxRecord> s = store_->Sandbox(c->sandbox_id());
  if (!s) return Error(Errc::kNotFound, "pod sandbox of container `" + id + "` not found");
  return Target{std::move(*c), std::move(*s)};
}

Result<streaming::ProcessStreams> StreamBackend::Exec(const streaming::ExecRequest& req,
                                                      streaming::ExitHandler on_exit) {
  Target t = BERTH_TRY(Running(req.container_id));
  google::protobuf::RepeatedPtrField<std::string> cmd(req.cmd.begin(), req.cmd.end());
  std::string process = BERTH_TRY(WriteExecProcess(t.container, cmd, req.tty));
  streaming::ProcessStreams streams;
  shim::ExecStarted started;
  if (req.tty) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      return Error::Sys("socketpair", "console socket");
    }
    UniqueFd ours(pair[0]), theirs(pair[1]);
    std::array<int, 1> fds = {theirs.get()};
    started = BERTH_TRY(
        shim::Exec(t.sandbox.shim_dir(), t.container.id(), process, req.stdin, true, fds));
    theirs.reset();
    ReceivedMessage got = BERTH_TRY(ReceiveMessage(ours.get(), 64, "console socket"));
    if (!got.fd) return Error(Errc::kInternal, "exec: no pty master on the console socket");
    int master = got.fd.get();
    if (req.stdin) streams.stdin_fd.reset(::fcntl(master, F_DUPFD_CLOEXEC, 0));
    streams.resize = [master_fd = std::make_shared<UniqueFd>(::fcntl(master, F_DUPFD_CLOEXEC, 0))](
                         streaming::TerminalSize size) {
      (void)streaming::SetTerminalSize(master_fd->get(), size);
    };
    streams.stdout_fd = std::move(got.fd);
  } else {
    std::vector<int> fds;
    UniqueFd child_in, child_out, child_err;
    if (req.stdin) {
      auto [r, w] = BERTH_TRY(MakePipe("stream"));
      child_in = std::move(r);
      streams.stdin_fd = std::move(w);
      fds.push_back(child_in.get());
    }
    auto [out_r, out_w] = BERTH_TRY(MakePipe("stream"));
    auto [err_r, err_w] = BERTH_TRY(MakePipe("stream"));
    fds.push_back(out_w.get());
    fds.push_back(err_w.get());
    started = BERTH_TRY(
        shim::Exec(t.sandbox.shim_dir(), t.container.id(), process, req.stdin, false, fds));
    if (req.stdout) streams.stdout_fd = std::move(out_r);
    if (req.stderr) streams.stderr_fd = std::move(err_r);
  }
  pid_t pid = started.pid;
  streams.cancel = [pid] { ::kill(pid, SIGKILL); };
  std::thread([conn = std::move(started.conn), on_exit, process] {
    Result<int> status = shim::WaitExec(conn.get(), -1);
    ::unlink(process.c_str());
    if (status.ok()) {
      on_exit(ExitCode(*status));
    } else {
      on_exit(std::move(status).error());
    }
  }).detach();
  return streams;
}

Result<streaming::ProcessStreams> StreamBackend::Attach(const streaming::AttachRequest& req,
                                                        streaming::ExitHandler on_exit) {
  Target t = BERTH_TRY(Running(req.container_id));
  shim::Attached attached = BERTH_TRY(shim::Attach(t.sandbox.shim_dir(), t.container.id()));
  streaming::ProcessStreams streams;
  if (req.stdin) {
    if (attached.stdin) {
      streams.stdin_fd = std::move(attached.stdin);
    } else if (attached.terminal) {
      streams.stdin_fd.reset(::fcntl(attached.terminal.get(), F_DUPFD_CLOEXEC, 0));
    }
  }
  if (attached.terminal) {
    auto master = std::make_shared<UniqueFd>(std::move(attached.terminal));
    streams.resize = [master](streaming::TerminalSize size) {
      (void)streaming::SetTerminalSize(master->get(), size);
    };
  }
  // The shim sends output as messages; the server wants fds.
  auto [out_r, out_w] = BERTH_TRY(MakePipe("stream"));
  auto [err_r, err_w] = BERTH_TRY(MakePipe("stream"));
  if (req.stdout) streams.stdout_fd = std::move(out_r);
  if (req.stderr && !req.tty) streams.stderr_fd = std::move(err_r);
  int conn_fd = attached.conn.get();
  streams.cancel = [conn_fd] { ::shutdown(conn_fd, SHUT_RDWR); };
  std::thread([conn = std::move(attached.conn), out = std::move(out_w), err = std::move(err_w),
               on_exit] {
    for (;;) {
      Result<shim::Message> msg = shim::Receive(conn.get());
      if (!msg.ok() || msg->closed() || msg->verb() == "exit") break;
      if (msg->verb() != "data") continue;
      WriteAll(msg->field(1) == "2" ? err.get() : out.get(), msg->field(2));
    }
    on_exit(0);
  }).detach();
  return streams;
}

Result<UniqueFd> StreamBackend::PortForward(const std::string& pod_sandbox_id, int32_t port) {
  std::string id = BERTH_TRY(store_->ResolveSandboxId(pod_sandbox_id));
  std::optional<SandboxRecord> s = store_->Sandbox(id);
  if (!s) return Error(Errc::kNotFound, "pod sandbox `" + id + "` not found");
  if (!s->ready()) return Error(Errc::kFailedPrecondition, "pod sandbox `" + id + "` is not ready");
  return ConnectInNetns(s->netns_path(), port);
}

}  // namespace berth::cri

#include "runtime/cri/streaming/tests/test_backend.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "common/pipe.h"
#include "common/process.h"

namespace berth::cri::streaming::testing {

namespace {}  // namespace

TestBackend::~TestBackend() {
  std::vector<std::thread> waiters;
  {
    std::lock_guard lock(mu_);
    for (pid_t pid : pids_)
      ::kill(pid, SIGKILL);
    waiters.swap(waiters_);
  }
  for (auto& t : waiters)
    t.join();
}

Result<TestBackend::Spawned> TestBackend::Spawn(const std::vector<std::string>& argv, bool tty,
                                                bool want_stdin) {
  if (argv.empty()) return Error(Errc::kInvalidArgument, "empty command");
  std::vector<char*> cargv;
  for (const auto& a : argv)
    cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  Spawned out;
  if (tty) {
    UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) {
      return Error::Sys("posix_openpt");
    }
    std::string slave_name = ::ptsname(master.get());
    pid_t pid = ::fork();
    if (pid < 0) return Error::Sys("fork");
    if (pid == 0) {
      ::setsid();
      int s = ::open(slave_name.c_str(), O_RDWR);
      if (s < 0) ::_exit(126);
      ::ioctl(s, TIOCSCTTY, 0);
      ::dup2(s, 0);
      ::dup2(s, 1);
      ::dup2(s, 2);
      if (s > 2) ::close(s);
      ::execv(cargv[0], cargv.data());
      ::_exit(127);
    }
    out.pid = pid;
    auto shared = std::make_shared<UniqueFd>(::fcntl(master.get(), F_DUPFD_CLOEXEC, 0));
    out.streams.stdin_fd = UniqueFd(::fcntl(master.get(), F_DUPFD_CLOEXEC, 0));
    out.streams.stdout_fd = std::move(master);
    out.streams.resize = [this, shared](TerminalSize size) {
      {
        std::lock_guard lock(mu_);
        resizes_.push_back(size);
      }
      (void)SetTerminalSize(shared->get(), size);
    };
    return out;
  }

  auto in = BERTH_TRY(MakePipe("test stdio"));
  auto o = BERTH_TRY(MakePipe("test stdio"));
  auto e = BERTH_TRY(MakePipe("test stdio"));
  pid_t pid = ::fork();
  if (pid < 0) return Error::Sys("fork");
  if (pid == 0) {
    ::dup2(in.read.get(), 0);
    ::dup2(o.write.get(), 1);
    ::dup2(e.write.get(), 2);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  out.pid = pid;
  if (want_stdin) out.streams.stdin_fd = std::move(in.write);
  out.streams.stdout_fd = std::move(o.read);
  out.streams.stderr_fd = std::move(e.read);
  return out;
}

void TestBackend::Watch(pid_t pid, ExitHandler on_exit) {
  std::lock_guard lock(mu_);
  pids_.push_back(pid);
  waiters_.emplace_back([this, pid, on_exit = std::move(on_exit)] {
    auto st = WaitPid(pid);
    {
      std::lock_guard lock(mu_);
      std::erase(pids_, pid);
    }
    if (!st.ok()) {
      on_exit(st.error());
      return;
    }
    on_exit(ExitCodeFromWaitStatus(*st));
  });
}

Result<ProcessStreams> TestBackend::Exec(const ExecRequest& req, ExitHandler on_exit) {
  if (req.container_id == "missing") {
    return Error(Errc::kNotFound, "container \"missing\" not found");
  }
  auto spawned = BERTH_TRY(Spawn(req.cmd, req.tty, req.stdin));
  pid_t pid = spawned.pid;
  spawned.streams.cancel = [this, pid] {
    {
      std::lock_guard lock(mu_);
      ++cancels_;
    }
    ::kill(pid, SIGKILL);
  };
  Watch(pid, std::move(on_exit));
  return std::move(spawned.streams);
}

Status TestBackend::StartContainer(const std::string& id, const std::vector<std::string>& argv,
                                   bool tty) {
  auto spawned = BERTH_TRY(Spawn(argv, tty, true));
  auto c = std::make_shared<Container>();
  c->streams = std::move(spawned.streams);
  {
    std::lock_guard lock(mu_);
    containers_[id] = c;
  }
  Watch(spawned.pid, [this, c](Result<int> r) {
    ExitHandler h;
    {
      std::lock_guard lock(mu_);
      c->exited = true;
      c->exit_code = r.ok() ? *r : -1;
      h = c->on_exit;
    }
    if (h) h(c->exit_code);
  });
  return Ok();
}

Result<ProcessStreams> TestBackend::Attach(const AttachRequest& req, ExitHandler on_exit) {
  std::lock_guard lock(mu_);
  auto it = containers_.find(req.container_id);
  if (it == containers_.end()) {
    return Error(Errc::kNotFound, "container \"" + req.container_id + "\" not found");
  }
  auto& c = *it->second;
  if (c.attached) return Error(Errc::kFailedPrecondition, "already attached");
  c.attached = true;
  if (c.exited) {
    on_exit(c.exit_code);
  } else {
    c.on_exit = std::move(on_exit);
  }
  return std::move(c.streams);
}

Result<UniqueFd> TestBackend::PortForward(const std::string& pod_sandbox_id, int32_t port) {
  {
    std::lock_guard lock(mu_);
    forwards_.emplace_back(pod_sandbox_id, port);
  }
  return berth::testing::ConnectLoopback(static_cast<uint16_t>(port));
}

int TestBackend::cancels() const {
  std::lock_guard lock(mu_);
  return cancels_;
}

std::vector<TerminalSize> TestBackend::resizes() const {
  std::lock_guard lock(mu_);
  return resizes_;
}

std::vector<std::pair<std::string, int32_t>> TestBackend::forwards() const {
  std::lock_guard lock(mu_);
  return forwards_;
}

// ---------------------------------------------------------------------------

EchoServer::EchoServer() {
  Result<UniqueFd> listener = berth::testing::ListenLoopback(&port_, 16);
  listen_fd_ = listener.ok() ? listener->release() : -1;
  if (::pipe2(wake_, O_CLOEXEC) != 0) wake_[0] = wake_[1] = -1;
  thread_ = std::thread([this] { Run(); });
}

EchoServer::~EchoServer() {
  if (wake_[1] >= 0) (void)::write(wake_[1], "x", 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void EchoServer::Run() {
  // One poll loop over the listener and every client: echo until EOF.
  std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
  while (true) {
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;
    if (fds[0].revents) break;
    if (fds[1].revents & POLLIN) {
      int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) fds.push_back({c, POLLIN, 0});
    }
    for (size_t i = 2; i < fds.size();) {
      if (fds[i].revents) {
        char buf[16384];
        ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n > 0) {
          ssize_t off = 0;
          while (off < n) {
            ssize_t w = ::write(fds[i].fd, buf + off, n - off);
            if (w <= 0) break;
            off += w;
          }
          ++i;
          continue;
        }
        ::close(fds[i].fd);
        fds.erase(fds.begin() + static_cast<long>(i));
        continue;
      }
      ++i;
    }
  }
  for (size_t i = 2; i < fds.size(); ++i)
    ::close(fds[i].fd);
}

}  // namespace berth::cri::streaming::testing

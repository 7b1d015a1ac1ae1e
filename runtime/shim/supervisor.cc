#include "runtime/shim/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "common/file.h"
#include "common/log.h"
#include "common/pipe.h"
#include "common/time.h"
#include "common/unix_socket.h"
#include "runtime/shim/fork_ops.h"

namespace berth::shim {

struct Supervisor::Container {
  std::string id;
  pid_t pid = -1;
  bool exited = false;
  int status = 0;
  bool tty = false;
  bool stdin_once = false;
  CriLog log;
  UniqueFd output[2];  // stdout, stderr read ends; with a tty output[0] is the pty master
  UniqueFd stdin_w;    // the shim's copy of the stdin pipe's write end
  std::set<int> attachers;

  explicit Container(CriLog l) : log(std::move(l)) {}
};

struct Supervisor::PendingOp {
  enum class Kind { kCreate, kExec } kind = Kind::kCreate;
  int conn = -1;  // -1 once the requester has gone
  UniqueFd result;
  std::unique_ptr<Container> container;  // create: becomes containers_[id]
  UniqueFd console;                      // create with tty: our end of the console socket
};

namespace {

Status SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return Error::Sys("fcntl O_NONBLOCK", "fd " + std::to_string(fd));
  }
  return Ok();
}

int64_t NowNanos() {
  timespec ts = WallClockNow();
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string ExitPath(const std::string& dir, const std::string& id) {
  return dir + "/exits/" + id;
}

// Container ids reach paths: keep them to the characters runc allows.
bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > 1024 || id == "." || id == "..") return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == '+';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<Supervisor>> Supervisor::Create(SupervisorOptions options,
                                                       UniqueFd listener) {
  std::unique_ptr<Supervisor> s(new Supervisor(std::move(options), std::move(listener)));
  if (::mkdir((s->options_.dir + "/exits").c_str(), 0700) != 0 && errno != EEXIST) {
    return Error::Sys("mkdir", s->options_.dir + "/exits");
  }
  s->epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!s->epoll_) return Error::Sys("epoll_create1", "shim");
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return Error::Sys("sigprocmask", "SIGCHLD");
  s->signals_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!s->signals_) return Error::Sys("signalfd", "SIGCHLD");
  Supervisor* self = s.get();
  s->Watch(s->signals_.get(), [self](uint32_t) {
    signalfd_siginfo info;
    while (::read(self->signals_.get(), &info, sizeof info) == sizeof info) {
    }
    self->ReapChildren();
  });
  s->Watch(s->listener_.get(), [self](uint32_t) { self->Accept(); });
  return s;
}

Supervisor::Supervisor(SupervisorOptions options, UniqueFd listener)
    : options_(std::move(options)), listener_(std::move(listener)) {}

Supervisor::~Supervisor() = default;

void Supervisor::Watch(int fd, Handler handler, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    log::Write(log::Level::kError, Error::Sys("epoll_ctl ADD", "fd " + std::to_string(fd)).str());
    return;
  }
  handlers_[fd] = std::move(handler);
}

void Supervisor::Unwatch(int fd) {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  handlers_.erase(fd);
}

Status Supervisor::Run() {
  epoll_event events[32];
  while (!stopping_) {
    int n = ::epoll_wait(epoll_.get(), events, 32, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::Sys("epoll_wait", "shim");
    }
    for (int i = 0; i < n; ++i) {
      auto it = handlers_.find(events[i].data.fd);
      if (it == handlers_.end()) continue;  // unwatched by an earlier handler
      Handler handler = it->second;         // may unwatch itself while running
      handler(events[i].events);
    }
  }
  return Ok();
}

void Supervisor::Accept() {
  int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return;
  connections_[fd] = UniqueFd(fd);
  Watch(fd, [this, fd](uint32_t) { OnRequest(fd); });
}

void Supervisor::CloseConnection(int conn) {
  Unwatch(conn);
  subscribers_.erase(conn);
  for (auto& [id, c] : containers_)
    c->attachers.erase(conn);
  for (auto it = exec_waiters_.begin(); it != exec_waiters_.end();) {
    it = it->second == conn ? exec_waiters_.erase(it) : std::next(it);
  }
  for (auto& [pid, op] : ops_) {
    if (op->conn == conn) op->conn = -1;
  }
  connections_.erase(conn);
}

void Supervisor::OnRequest(int conn) {
  Result<Message> msg = Receive(conn);
  if (!msg.ok() || msg->closed()) {
    CloseConnection(conn);
    return;
  }
  Dispatch(conn, *msg);
}

void Supervisor::Reply(int conn, const Result<Message>& result) {
  if (conn < 0) return;
  Status sent = result.ok() ? Send(conn, {"ok"}) : SendError(conn, result.error());
  if (!sent.ok()) CloseConnection(conn);
}

void Supervisor::Dispatch(int conn, Message& msg) {
  const std::string& verb = msg.verb();
  if (verb == "create") return HandleCreate(conn, msg);
  if (verb == "exec") return HandleExec(conn, msg);
  if (verb == "attach") return HandleAttach(conn, msg);
  if (verb == "list") return HandleList(conn);
  if (verb == "forget") return HandleForget(conn, msg);
  if (verb == "subscribe") {
    subscribers_.insert(conn);
    return Reply(conn, Message{});
  }
  if (verb == "reopen") {
    Container* c = Find(msg.field(1));
    if (c == nullptr) {
      return Reply(conn, Error(Errc::kNotFound, "container `" + msg.field(1) + "` not found"));
    }
    Status s = c->log.Reopen();
    return Reply(conn, s.ok() ? Result<Message>(Message{}) : Result<Message>(s.error()));
  }
  if (verb == "shutdown") {
    std::string running;
    for (auto& [id, c] : containers_) {
      if (!c->exited) running += (running.empty() ? "" : ", ") + id;
    }
    if (!running.empty()) {
      return Reply(conn, Error(Errc::kFailedPrecondition, "containers still running: " + running));
    }
    stopping_ = true;
    return Reply(conn, Message{});
  }
  Reply(conn, Error(Errc::kInvalidArgument, "unknown shim request `" + verb + "`"));
}

Supervisor::Container* Supervisor::Find(const std::string& id) {
  auto it = containers_.find(id);
  return it == containers_.end() ? nullptr : it->second.get();
}

void Supervisor::HandleCreate(int conn, const Message& msg) {
  const std::string& id = msg.field(1);
  const std::string& flags = msg.field(3);
  auto fail = [&](Error e) { Reply(conn, std::move(e).Wrap("create container `" + id + "`")); };
  if (!ValidId(id)) return fail(Error(Errc::kInvalidArgument, "invalid container id"));
  if (Find(id) != nullptr) return fail(Error(Errc::kAlreadyExists, "container exists"));
  for (auto& [pid, op] : ops_) {
    if (op->container && op->container->id == id) {
      return fail(Error(Errc::kAlreadyExists, "container is being created"));
    }
  }
  Result<CriLog> log = CriLog::Open(msg.field(4));
  if (!log.ok()) return fail(std::move(log).error());

  auto op = std::make_unique<PendingOp>();
  op->kind = PendingOp::Kind::kCreate;
  op->conn = conn;
  op->container = std::make_unique<Container>(std::move(*log));
  Container& c = *op->container;
  c.id = id;
  c.tty = flags.find('t') != std::string::npos;
  c.stdin_once = flags.find('o') != std::string::npos;

  ChildStdio stdio;
  UniqueFd child_ends[3];
  if (c.tty) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      return fail(Error::Sys("socketpair", "console socket"));
    }
    op->console.reset(pair[0]);
    child_ends[0].reset(pair[1]);
    stdio.console_socket = pair[1];
  } else {
    for (int s = 0; s < 2; ++s) {
      auto p = MakePipe("container stdio");
      if (!p.ok()) return fail(std::move(p).error());
      c.output[s] = std::move(p->read);
      child_ends[s + 1] = std::move(p->write);
    }
    stdio.out = child_ends[1].get();
    stdio.err = child_ends[2].get();
  }
  if (flags.find('i') != std::string::npos && !c.tty) {
    auto p = MakePipe("container stdio");
    if (!p.ok()) return fail(std::move(p).error());
    c.stdin_w = std::move(p->write);
    child_ends[0] = std::move(p->read);
    stdio.in = child_ends[0].get();
  }
  Result<ForkedOp> forked = ForkCreate(options_.runtime, id, msg.field(2), stdio);
  if (!forked.ok()) return fail(std::move(forked).error());
  op->result = std::move(forked->result);
  ops_[forked->pid] = std::move(op);
  // child_ends close here: the container holds the only copies now.
}

void Supervisor::HandleExec(int conn, Message& msg) {
  const std::string& id = msg.field(1);
  const std::string& flags = msg.field(3);
  auto fail = [&](Error e) { Reply(conn, std::move(e).Wrap("exec in container `" + id + "`")); };
  Container* c = Find(id);
  if (c == nullptr) return fail(Error(Errc::kNotFound, "container not found"));
  if (c->exited) return fail(Error(Errc::kFailedPrecondition, "container is not running"));
  ChildStdio stdio;
  size_t next = 0;
  auto take = [&]() { return next < msg.fds.size() ? msg.fds[next++].get() : -1; };
  if (flags.find('t') != std::string::npos) {
    stdio.console_socket = take();
  } else {
    if (flags.find('i') != std::string::npos) stdio.in = take();
    stdio.out = take();
    stdio.err = take();
  }
  Result<ForkedOp> forked = ForkExec(options_.runtime, id, msg.field(2), stdio);
  if (!forked.ok()) return fail(std::move(forked).error());
  auto op = std::make_unique<PendingOp>();
  op->kind = PendingOp::Kind::kExec;
  op->conn = conn;
  op->result = std::move(forked->result);
  ops_[forked->pid] = std::move(op);
  msg.fds.clear();  // the child has its copies
}

void Supervisor::HandleAttach(int conn, const Message& msg) {
  const std::string& id = msg.field(1);
  Container* c = Find(id);
  if (c == nullptr) {
    return Reply(conn, Error(Errc::kNotFound, "attach: container `" + id + "` not found"));
  }
  if (c->exited) {
    return Reply(conn,
                 Error(Errc::kFailedPrecondition, "attach: container `" + id + "` is not running"));
  }
  std::string flags;
  std::vector<int> fds;
  if (c->stdin_w) {
    flags += 'i';
    fds.push_back(c->stdin_w.get());
  }
  if (c->tty) {
    flags += 't';
    fds.push_back(c->output[0].get());
  }
  if (!Send(conn, {"ok", flags}, fds).ok()) return CloseConnection(conn);
  // stdin_once: the first attacher's stdin is the container's; its close is EOF.
  if (c->stdin_once) c->stdin_w.reset();
  if (SetNonBlocking(conn).ok()) c->attachers.insert(conn);
}

void Supervisor::HandleList(int conn) {
  std::string payload = "ok";
  for (auto& [id, c] : containers_) {
    payload.push_back('\0');
    payload += id;
    payload.push_back('\0');
    payload += std::to_string(c->pid);
    payload.push_back('\0');
    payload += c->exited ? std::to_string(c->status) : "-";
  }
  if (!SendMessageFds(conn, payload, {}, "shim socket").ok()) CloseConnection(conn);
}

void Supervisor::HandleForget(int conn, const Message& msg) {
  const std::string& id = msg.field(1);
  Container* c = Find(id);
  if (c == nullptr) return Reply(conn, Message{});  // idempotent
  if (!c->exited) {
    return Reply(
        conn, Error(Errc::kFailedPrecondition, "forget: container `" + id + "` is still running"));
  }
  for (UniqueFd& out : c->output) {
    if (out) Unwatch(out.get());
  }
  for (int a : c->attachers)
    Unwatch(a), connections_.erase(a);
  containers_.erase(id);
  ::unlink(ExitPath(options_.dir, id).c_str());
  Reply(conn, Message{});
}

void Supervisor::ReapChildren() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    if (ops_.count(pid) != 0) {
      FinishOp(pid, status);
      continue;
    }
    bool known = false;
    for (auto& [id, c] : containers_) {
      if (c->pid == pid && !c->exited) {
        ContainerExited(*c, status);
        known = true;
        break;
      }
    }
    if (known) continue;
    auto waiter = exec_waiters_.find(pid);
    if (waiter != exec_waiters_.end()) {
      int conn = waiter->second;
      exec_waiters_.erase(waiter);
      if (!Send(conn, {"exit", std::to_string(status)}).ok()) CloseConnection(conn);
      continue;
    }
    // An exec process whose creator has not reported yet, or an orphan.
    if (unclaimed_exits_.size() >= 1024) unclaimed_exits_.erase(unclaimed_exits_.begin());
    unclaimed_exits_[pid] = status;
  }
}

void Supervisor::FinishOp(pid_t child, int) {
  std::unique_ptr<PendingOp> op = std::move(ops_[child]);
  ops_.erase(child);
  Result<pid_t> started = ReadForkResult(op->result.get());
  if (!started.ok()) return Reply(op->conn, std::move(started).error());
  pid_t pid = *started;
  if (op->kind == PendingOp::Kind::kExec) {
    auto early = unclaimed_exits_.find(pid);
    if (op->conn < 0) return;
    if (!Send(op->conn, {"ok", std::to_string(pid)}).ok()) return CloseConnection(op->conn);
    if (early != unclaimed_exits_.end()) {
      int status = early->second;
      unclaimed_exits_.erase(early);
      if (!Send(op->conn, {"exit", std::to_string(status)}).ok()) CloseConnection(op->conn);
    } else {
      exec_waiters_[pid] = op->conn;
    }
    return;
  }
  std::unique_ptr<Container> c = std::move(op->container);
  c->pid = pid;
  if (op->console) {
    // The runtime sent the pty master before its create returned.
    (void)SetNonBlocking(op->console.get());
    Result<ReceivedMessage> got = ReceiveMessage(op->console.get(), 64, "console socket");
    if (!got.ok() || !got->fd) {
      ::kill(pid, SIGKILL);
      return Reply(op->conn, Error(Errc::kInternal, "create container `" + c->id +
                                                        "`: no pty master on the console socket"));
    }
    c->output[0] = std::move(got->fd);
  }
  Container* raw = c.get();
  for (int s = 0; s < 2; ++s) {
    if (!raw->output[s]) continue;
    (void)SetNonBlocking(raw->output[s].get());
    Watch(raw->output[s].get(), [this, raw, s](uint32_t ev) { OnOutput(*raw, s, ev); });
  }
  std::string id = c->id;
  containers_[id] = std::move(c);
  if (op->conn >= 0 && !Send(op->conn, {"ok", std::to_string(pid)}).ok()) {
    CloseConnection(op->conn);
  }
}

void Supervisor::OnOutput(Container& c, int stream, uint32_t) {
  char buf[32 * 1024];
  for (;;) {
    ssize_t n = ::read(c.output[stream].get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {  // EOF, or EIO once a pty's last slave fd is closed
      Status s = c.log.Close(stream == 0 ? Stream::kStdout : Stream::kStderr);
      if (!s.ok())
        log::Write(log::Level::kWarn, std::string("container ") + c.id + ": " + s.error().str());
      Unwatch(c.output[stream].get());
      if (!c.tty) c.output[stream].reset();  // a pty master stays for resize until forget
      return;
    }
    std::string_view bytes(buf, static_cast<size_t>(n));
    Status s = c.log.Write(stream == 0 ? Stream::kStdout : Stream::kStderr, bytes);
    if (!s.ok())
      log::Write(log::Level::kWarn, std::string("container ") + c.id + ": " + s.error().str());
    Broadcast(c, stream, bytes);
  }
}

void Supervisor::Broadcast(Container& c, int stream, std::string_view bytes) {
  std::vector<int> gone;
  for (int a : c.attachers) {
    // Non-blocking: an attacher too slow to keep up is dropped, never the log.
    if (!Send(a, {"data", stream == 0 ? "1" : "2", bytes}).ok()) gone.push_back(a);
  }
  for (int a : gone)
    CloseConnection(a);
}

void Supervisor::DrainOutput(Container& c) {
  for (int s = 0; s < 2; ++s) {
    if (c.output[s] && handlers_.count(c.output[s].get()) != 0) OnOutput(c, s, 0);
  }
}

void Supervisor::ContainerExited(Container& c, int status) {
  DrainOutput(c);
  c.exited = true;
  c.status = status;
  std::string when = std::to_string(NowNanos());
  std::string record = std::to_string(status) + " " + when + "\n";
  Status saved =
      WriteFileAtomic(ExitPath(options_.dir, c.id), record, 0600, Durability::kProcessCrash);
  if (!saved.ok())
    log::Write(log::Level::kError, std::string("container ") + c.id + ": " + saved.error().str());
  c.stdin_w.reset();
  std::vector<int> gone;
  for (int s : subscribers_) {
    if (!Send(s, {"exit", c.id, std::to_string(status), when}).ok()) gone.push_back(s);
  }
  for (int a : c.attachers) {
    (void)Send(a, {"exit", std::to_string(status)});
    gone.push_back(a);
  }
  for (int g : gone)
    CloseConnection(g);
}

}  // namespace berth::shim

#include "runtime/shim/client.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "common/file.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/unix_socket.h"
#include "namespaces/syscalls.h"
#include "runtime/shim/protocol.h"

extern char** environ;

namespace berth::shim {
namespace {

Result<UniqueFd> Dial(const std::string& dir) {
  return ConnectUnix(SocketPath(dir), "shim socket", SOCK_SEQPACKET);
}

// One request on a fresh connection; the reply must be `ok`.
Result<Message> Call(const std::string& dir, std::initializer_list<std::string_view> fields,
                     std::string_view what, std::span<const int> fds = {}) {
  UniqueFd conn = BERTH_TRY_CTX(Dial(dir), std::string(what));
  BERTH_TRY_CTX(Send(conn.get(), fields, fds), std::string(what));
  Message reply = BERTH_TRY_CTX(Receive(conn.get()), std::string(what));
  return ExpectOk(std::move(reply), what);
}

std::string ReadAllFrom(int fd) {
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

std::string SocketPath(const std::string& dir) {
  return dir + "/shim.sock";
}

Result<pid_t> LaunchShim(const LaunchOptions& o) {
  if (::mkdir(o.dir.c_str(), 0700) != 0 && errno != EEXIST) return Error::Sys("mkdir", o.dir);
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return Error::Sys("pipe2", "shim ready pipe");
  UniqueFd ready_r(ready[0]), ready_w(ready[1]);
  std::vector<std::string> args = {o.binary,         "--id",         o.id,         "--dir", o.dir,
                                   "--runtime-root", o.runtime_root, "--ready-fd", "3"};
  if (!o.cgroup_root.empty()) {
    args.emplace_back("--cgroup-root");
    args.push_back(o.cgroup_root);
  }
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  // posix_spawn: safe from a multithreaded server, unlike fork + arbitrary code.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, ready_w.get(), 3);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDWR, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_RDWR, 0);
  // The shim outlives whoever launched it: it must not keep that process's
  // descriptors (in `berth up`, the apiserver's and kubelet's listening
  // sockets) open, or a restart finds its ports taken.
  posix_spawn_file_actions_addclosefrom_np(&actions, 4);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  pid_t pid = -1;
  int err = ::posix_spawn(&pid, o.binary.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (err != 0) return Error::Sys("posix_spawn", o.binary, err);
  ready_w.reset();
  std::string report = ReadAllFrom(ready_r.get());
  (void)WaitPid(pid);  // the launcher half exits once the shim is in the background
  if (report.starts_with("ok ")) return static_cast<pid_t>(std::atol(report.c_str() + 3));
  while (!report.empty() && report.back() == '\n')
    report.pop_back();
  if (report.starts_with("err ")) report.erase(0, 4);
  return Error(Errc::kInternal, "start shim for pod `" + o.id +
                                    "`: " + (report.empty() ? "it exited without a word" : report));
}

Result<pid_t> Create(const std::string& dir, const CreateRequest& r) {
  std::string flags;
  if (r.stdin) flags += 'i';
  if (r.stdin_once) flags += 'o';
  if (r.tty) flags += 't';
  Message reply = BERTH_TRY(
      Call(dir, {"create", r.id, r.bundle, flags, r.log_path}, "create container `" + r.id + "`"));
  return static_cast<pid_t>(std::atol(reply.field(1).c_str()));
}

Result<ExecStarted> Exec(const std::string& dir, const std::string& id,
                         const std::string& process_json, bool stdin, bool tty,
                         std::span<const int> fds) {
  std::string what = "exec in container `" + id + "`";
  std::string flags = std::string(stdin ? "i" : "") + (tty ? "t" : "");
  ExecStarted out;
  out.conn = BERTH_TRY_CTX(Dial(dir), what);
  BERTH_TRY_CTX(Send(out.conn.get(), {"exec", id, process_json, flags}, fds), what);
  Message reply = BERTH_TRY(ExpectOk(BERTH_TRY_CTX(Receive(out.conn.get()), what), what));
  out.pid = static_cast<pid_t>(std::atol(reply.field(1).c_str()));
  return out;
}

Result<int> WaitExec(int conn, int timeout_ms) {
  pollfd p{conn, POLLIN, 0};
  int n;
  while ((n = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  if (n < 0) return Error::Sys("poll", "shim exec connection");
  if (n == 0) {
    return Error(Errc::kDeadlineExceeded,
                 "timeout " + std::to_string(timeout_ms) + " ms exceeded waiting for exec");
  }
  Message msg = BERTH_TRY(Receive(conn));
  if (msg.closed() || msg.verb() != "exit") {
    return Error(Errc::kUnavailable, "the shim closed the exec connection before the exit");
  }
  return std::atoi(msg.field(1).c_str());
}

Result<Attached> Attach(const std::string& dir, const std::string& id) {
  std::string what = "attach to container `" + id + "`";
  Attached out;
  out.conn = BERTH_TRY_CTX(Dial(dir), what);
  BERTH_TRY_CTX(Send(out.conn.get(), {"attach", id}), what);
  Message reply = BERTH_TRY(ExpectOk(BERTH_TRY_CTX(Receive(out.conn.get()), what), what));
  const std::string& flags = reply.field(1);
  size_t next = 0;
  if (flags.find('i') != std::string::npos && next < reply.fds.size()) {
    out.stdin = std::move(reply.fds[next++]);
  }
  if (flags.find('t') != std::string::npos && next < reply.fds.size()) {
    out.terminal = std::move(reply.fds[next++]);
  }
  return out;
}

Result<UniqueFd> Subscribe(const std::string& dir) {
  UniqueFd conn = BERTH_TRY_CTX(Dial(dir), "subscribe to shim");
  BERTH_TRY(Send(conn.get(), {"subscribe"}));
  BERTH_TRY(ExpectOk(BERTH_TRY(Receive(conn.get())), "subscribe to shim"));
  return conn;
}

Result<std::vector<ShimContainer>> List(const std::string& dir) {
  Message reply = BERTH_TRY(Call(dir, {"list"}, "list shim containers"));
  std::vector<ShimContainer> out;
  for (size_t i = 1; i + 2 < reply.fields.size(); i += 3) {
    ShimContainer c;
    c.id = reply.fields[i];
    c.pid = static_cast<pid_t>(std::atol(reply.fields[i + 1].c_str()));
    if (reply.fields[i + 2] != "-") c.exit_status = std::atoi(reply.fields[i + 2].c_str());
    out.push_back(std::move(c));
  }
  return out;
}

Status Reopen(const std::string& dir, const std::string& id) {
  BERTH_TRY(Call(dir, {"reopen", id}, "reopen log of container `" + id + "`"));
  return Ok();
}

Status Forget(const std::string& dir, const std::string& id) {
  BERTH_TRY(Call(dir, {"forget", id}, "remove container `" + id + "` from its shim"));
  return Ok();
}

Status Shutdown(const std::string& dir, std::chrono::milliseconds timeout) {
  // The pidfd is opened while the shim still holds its pid, so a pid reused
  // later is never waited on; none (no pid file, already gone) means nothing
  // to wait for once the request is answered.
  UniqueFd pidfd;
  if (Result<std::string> text = ReadFile(dir + "/shim.pid"); text.ok()) {
    if (Result<pid_t> pid = ParseInt<pid_t>(*text, dir + "/shim.pid"); pid.ok()) {
      pidfd = UniqueFd(sys::PidfdOpen(*pid));
    }
  }
  BERTH_TRY(Call(dir, {"shutdown"}, "stop shim"));
  if (!pidfd) return Ok();
  pollfd p{pidfd.get(), POLLIN, 0};
  int ready = 0;
  do {
    ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (ready < 0 && errno == EINTR);
  if (ready < 0) return Error::Sys("poll", "pidfd of the shim in " + dir);
  if (ready == 0) {
    return Error(Errc::kDeadlineExceeded, "the shim in " + dir + " has not exited " +
                                              std::to_string(timeout.count()) +
                                              " ms after shutdown");
  }
  return Ok();
}

Result<std::optional<ExitRecord>> ReadExitRecord(const std::string& dir, const std::string& id) {
  std::string path = dir + "/exits/" + id;
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) {
    if (text.error().sys_errno() == ENOENT) return std::optional<ExitRecord>();
    return std::move(text).error();
  }
  ExitRecord r;
  char* rest = nullptr;
  r.status = static_cast<int>(std::strtol(text->c_str(), &rest, 10));
  if (rest == nullptr || *rest != ' ') {
    return Error(Errc::kDataLoss, "malformed exit record " + path + ": `" + *text + "`");
  }
  r.finished_ns = std::strtoll(rest + 1, nullptr, 10);
  return std::optional<ExitRecord>(r);
}

}  // namespace berth::shim

#include "cni/client/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "common/fd.h"
#include "common/time.h"

namespace berth::cni {

namespace {

constexpr int kTextBusyRetries = 20;  // a plugin binary being replaced
constexpr int kNoPidfdTickMs = 20;

// A pipe end guaranteed to be above stdio, so the dup2 file actions cannot
// clobber one another even when the process runs with 0-2 closed.
Result<UniqueFd> AboveStdio(int fd, const char* what) {
  if (fd > 2) return UniqueFd(fd);
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  Error err = Error::Sys("fcntl F_DUPFD_CLOEXEC", what);
  ::close(fd);
  if (moved < 0) return err;
  return UniqueFd(moved);
}

struct Pipe {
  UniqueFd read, write;
};

Result<Pipe> MakePipe(const char* what) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error::Sys("pipe2", what);
  UniqueFd r = BERTH_TRY(AboveStdio(fds[0], what));
  UniqueFd w = BERTH_TRY(AboveStdio(fds[1], what));
  return Pipe{std::move(r), std::move(w)};
}

// posix_spawn attributes and file actions, destroyed on scope exit.
class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawnattr_init(&attr_);
    posix_spawn_file_actions_init(&actions_);
  }
  ~SpawnSetup() {
    posix_spawnattr_destroy(&attr_);
    posix_spawn_file_actions_destroy(&actions_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  Status Init(int in, int out, int err) {
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    int rc = posix_spawnattr_setflags(
        &attr_, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    if (rc == 0) rc = posix_spawnattr_setsigmask(&attr_, &none);
    if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr_, &all);
    if (rc == 0) rc = posix_spawnattr_setpgroup(&attr_, 0);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions_, in, 0);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions_, out, 1);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions_, err, 2);
    if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&actions_, 3);
    if (rc != 0) return Error::Sys("posix_spawn setup", {}, rc);
    return Ok();
  }

  const posix_spawnattr_t* attr() const { return &attr_; }
  const posix_spawn_file_actions_t* actions() const { return &actions_; }

 private:
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

std::vector<char*> CStrings(const std::vector<std::string>& items) {
  std::vector<char*> out;
  out.reserve(items.size() + 1);
  for (const std::string& s : items)
    out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

Result<pid_t> Spawn(const SpawnRequest& req, const SpawnSetup& setup) {
  std::vector<std::string> argv_strings = req.argv.empty() ? std::vector{req.path} : req.argv;
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(req.env);
  for (int attempt = 0;; ++attempt) {
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, req.path.c_str(), setup.actions(), setup.attr(), argv.data(),
                           envp.data());
    if (rc == 0) return pid;
    // ETXTBSY: the file is open for writing somewhere (being installed, or a
    // write fd inherited by a process forked elsewhere); libcni retries too.
    if (rc != ETXTBSY || attempt >= kTextBusyRetries)
      return Error::Sys("posix_spawn", req.path, rc);
    ::usleep(50'000);
  }
}

// Blocks SIGPIPE in this thread while stdin is written; a SIGPIPE raised by
// the writes (thread-directed) is consumed before the mask is restored.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      timespec zero{0, 0};
      while (sigtimedwait(&pipe_, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false;
};

// Reads what is available; false at EOF or on error.
bool ReadSome(int fd, std::string& into) {
  char buf[8192];
  while (true) {
    ssize_t got = ::read(fd, buf, sizeof buf);
    if (got > 0) {
      into.append(buf, static_cast<size_t>(got));
      if (static_cast<size_t>(got) < sizeof buf) return true;
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == EAGAIN) return true;
    return false;
  }
}

void DecodeStatus(int status, SpawnResult& result) {
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
}

Result<int> ReapBlocking(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Error::Sys("waitpid", std::to_string(pid));
  }
  return status;
}

// Kills the process group on destruction unless released (error paths).
class GroupGuard {
 public:
  explicit GroupGuard(pid_t pid) : pid_(pid) {}
  ~GroupGuard() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    (void)ReapBlocking(pid_);
  }
  GroupGuard(const GroupGuard&) = delete;
  GroupGuard& operator=(const GroupGuard&) = delete;
  void release() { pid_ = -1; }

 private:
  pid_t pid_;
};

struct Streams {
  UniqueFd in, out, err;
  std::string_view pending;
};

// One poll round: feeds stdin, reads output; returns true once the child
// has exited (pidfd readable, or reaped when there is no pidfd).
Result<bool> PollOnce(Streams& s, int pidfd, pid_t pid, int wait_ms, SpawnResult& result,
                      std::optional<int>& reaped) {
  pollfd fds[4];
  int n = 0;
  int in_i = -1, out_i = -1, err_i = -1, pid_i = -1;
  if (s.in) fds[in_i = n++] = {s.in.get(), POLLOUT, 0};
  if (s.out) fds[out_i = n++] = {s.out.get(), POLLIN, 0};
  if (s.err) fds[err_i = n++] = {s.err.get(), POLLIN, 0};
  if (pidfd >= 0) fds[pid_i = n++] = {pidfd, POLLIN, 0};
  if (pidfd < 0 && (wait_ms < 0 || wait_ms > kNoPidfdTickMs)) wait_ms = kNoPidfdTickMs;
  int r = ::poll(fds, n, wait_ms);
  if (r < 0 && errno != EINTR) return Error::Sys("poll", "plugin " + std::to_string(pid));
  if (r > 0) {
    if (in_i >= 0 && fds[in_i].revents != 0) {
      ssize_t w = ::write(s.in.get(), s.pending.data(), s.pending.size());
      if (w > 0) s.pending.remove_prefix(static_cast<size_t>(w));
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || s.pending.empty()) s.in.reset();
    }
    if (out_i >= 0 && fds[out_i].revents != 0 && !ReadSome(s.out.get(), result.out)) s.out.reset();
    if (err_i >= 0 && fds[err_i].revents != 0 && !ReadSome(s.err.get(), result.err)) s.err.reset();
    if (pid_i >= 0 && fds[pid_i].revents != 0) return true;
  }
  if (pidfd < 0) {
    int status = 0;
    pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid) {
      reaped = status;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string SpawnResult::Describe() const {
  if (timed_out) return "timed out";
  if (term_signal != 0) return std::string("killed by signal ") + strsignal(term_signal);
  return "exit status " + std::to_string(exit_code);
}

Result<SpawnResult> SpawnAndWait(const SpawnRequest& req) {
  Pipe in = BERTH_TRY(MakePipe("plugin stdin"));
  Pipe out = BERTH_TRY(MakePipe("plugin stdout"));
  Pipe err = BERTH_TRY(MakePipe("plugin stderr"));
  SpawnSetup setup;
  BERTH_TRY(setup.Init(in.read.get(), out.write.get(), err.write.get()));
  pid_t pid = BERTH_TRY(Spawn(req, setup));
  GroupGuard group(pid);
  in.read.reset();
  out.write.reset();
  err.write.reset();
  // pidfd_open(2) by number: glibc 2.36's <sys/pidfd.h> lacks C linkage in
  // C++. -1 (ENOSYS) on kernels before 5.3: then exit is polled.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));

  Streams s{std::move(in.write), std::move(out.read), std::move(err.read), req.stdin_data};
  for (int fd : {s.in.get(), s.out.get(), s.err.get()})
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
  if (s.pending.empty()) s.in.reset();

  SigpipeGuard sigpipe;
  SpawnResult result;
  std::optional<int> reaped;
  int64_t deadline = MonotonicNanos() + int64_t{req.timeout.count()} * 1'000'000;
  bool exited = false;
  while (!exited) {
    int64_t left = deadline - MonotonicNanos();
    if (left <= 0) {
      result.timed_out = true;
      return result;  // GroupGuard kills the group and reaps
    }
    exited = BERTH_TRY(
        PollOnce(s, pidfd.get(), pid, static_cast<int>(left / 1'000'000) + 1, result, reaped));
  }
  // Exited: what it wrote is in the pipes; take it without waiting for EOF
  // (a grandchild may hold the write ends).
  if (s.out) ReadSome(s.out.get(), result.out);
  if (s.err) ReadSome(s.err.get(), result.err);
  group.release();
  int status = reaped ? *reaped : BERTH_TRY(ReapBlocking(pid));
  DecodeStatus(status, result);
  return result;
}

}  // namespace berth::cni

#include "integration/priv/harness/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

extern char** environ;

namespace berth::priv {
namespace {

struct ReaperState {
  std::mutex mu;
  std::condition_variable cv;
  std::map<pid_t, int> statuses;
};

ReaperState& State() {
  static ReaperState* state = new ReaperState();  // never destroyed: the thread outlives main
  return *state;
}

// Blocks until some child is a zombie, then reaps and records it under the
// lock (WNOWAIT first, so a pid is never free while it is unrecorded).
[[noreturn]] void ReaperLoop() {
  ReaperState& s = State();
  while (true) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOWAIT | __WALL) != 0) {
      struct timespec ts {
        0, 2'000'000
      };
      ::nanosleep(&ts, nullptr);  // ECHILD: nothing to wait for yet
      continue;
    }
    std::lock_guard<std::mutex> lock(s.mu);
    int status = 0;
    pid_t pid = ::waitpid(info.si_pid, &status, WNOHANG | __WALL);
    if (pid > 0) {
      s.statuses[pid] = status;
      s.cv.notify_all();
    }
  }
}

int MakeMemfd(const char* name, const std::string& data) {
  int fd = ::memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return -1;
  if (!data.empty() && ::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    ::close(fd);
    return -1;
  }
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[8192];
  off_t off = 0;
  while (true) {
    ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return out;
}

struct ChildIo {
  int in = -1, out = -1, err = -1;
};

// Forks and execs with the given stdio; the stale-entry drop happens under
// the reaper lock (see process.h). Returns -1 when fork fails.
pid_t ForkExec(const std::vector<std::string>& argv, const ChildIo& io, const RunOptions& options) {
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e)
    env_store.emplace_back(*e);
  for (const std::string& e : options.env)
    env_store.push_back(e);
  std::vector<char*> args, envp;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const std::string& e : env_store)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  ReaperState& s = State();
  std::lock_guard<std::mutex> lock(s.mu);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(io.in, 0);
    ::dup2(io.out, 1);
    ::dup2(io.err, 2);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) _exit(126);
    ::execve(args[0], args.data(), envp.data());
    dprintf(2, "execve %s: %s\n", args[0], strerror(errno));
    _exit(127);
  }
  if (pid > 0) s.statuses.erase(pid);
  return pid;
}

RunResult Finish(pid_t pid, const RunOptions& options) {
  RunResult r;
  std::optional<int> status = WaitStatus(pid, options.timeout);
  if (!status) {
    r.timed_out = true;
    ::kill(pid, SIGKILL);
    status = WaitStatus(pid, std::chrono::seconds(10));
  }
  r.status = status.value_or(-1);
  return r;
}

}  // namespace

void InstallReaper() {
  static std::once_flag once;
  std::call_once(once, [] {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    std::thread(ReaperLoop).detach();
  });
}

std::optional<int> WaitStatus(pid_t pid, std::chrono::milliseconds timeout) {
  ReaperState& s = State();
  std::unique_lock<std::mutex> lock(s.mu);
  if (!s.cv.wait_for(lock, timeout, [&] { return s.statuses.count(pid) != 0; }))
    return std::nullopt;
  int status = s.statuses[pid];
  s.statuses.erase(pid);
  return status;
}

void ClaimPid(pid_t pid) {
  ReaperState& s = State();
  std::lock_guard<std::mutex> lock(s.mu);
  // Reaping happens under this lock: if the process still exists, any entry
  // is from an earlier process with the same pid.
  if (::kill(pid, 0) == 0 || errno == EPERM) s.statuses.erase(pid);
}

std::string DescribeStatus(std::optional<int> status) {
  if (!status) return "running";
  if (WIFEXITED(*status)) return "exit " + std::to_string(WEXITSTATUS(*status));
  if (WIFSIGNALED(*status)) return "signal " + std::to_string(WTERMSIG(*status));
  return "status " + std::to_string(*status);
}

int RunResult::exit_code() const {
  if (status < 0) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string RunResult::Describe() const {
  std::string what = timed_out
                         ? "timed out"
                         : DescribeStatus(status < 0 ? std::nullopt : std::optional<int>(status));
  return what + (out.empty() ? "" : "\nstdout: " + out) + (err.empty() ? "" : "\nstderr: " + err);
}

OutputFile::OutputFile(const char* name) : fd_(MakeMemfd(name, "")) {}

OutputFile::~OutputFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string OutputFile::Read() const {
  return ReadAll(fd_);
}

RunResult Run(const std::vector<std::string>& argv, const RunOptions& options) {
  InstallReaper();
  int in = MakeMemfd("stdin", options.stdin_data);
  OutputFile out("stdout"), err("stderr");
  pid_t pid = ForkExec(argv, {in, out.fd(), err.fd()}, options);
  ::close(in);
  if (pid < 0) return RunResult{-1, false, "", std::string("fork: ") + strerror(errno)};
  RunResult r = Finish(pid, options);
  r.out = out.Read();
  r.err = err.Read();
  return r;
}

RunResult RunWithFiles(const std::vector<std::string>& argv, const OutputFile& out,
                       const OutputFile& err, const RunOptions& options) {
  InstallReaper();
  int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = ForkExec(argv, {in, out.fd(), err.fd()}, options);
  ::close(in);
  if (pid < 0) return RunResult{-1, false, "", std::string("fork: ") + strerror(errno)};
  return Finish(pid, options);
}

}  // namespace berth::priv

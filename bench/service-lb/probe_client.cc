// Spawning the probe client and parsing its summary (probe_client.h).
#include "bench/service-lb/probe_client.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <vector>

#include "bench/service-lb/bench_env.h"
#include "common/fd.h"
#include "common/json.h"
#include "common/process.h"

namespace berth::bench {
namespace {

// In the child, before exec: into the cgroup, so that the socket programs
// see every socket the probe makes.
void JoinCgroup(const std::string& cgroup) {
  if (cgroup.empty()) return;
  std::string procs = cgroup + "/cgroup.procs";
  int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
  std::string pid = std::to_string(::getpid());
  if (fd < 0 || ::write(fd, pid.data(), pid.size()) != static_cast<ssize_t>(pid.size()))
    ::_exit(125);
  ::close(fd);
}

Result<std::string> RunCapturing(const ProbeRequest& request) {
  std::vector<std::string> args = {request.probe,   "tcp",
                                   "--target",      request.target,
                                   "--count",       std::to_string(request.count),
                                   "--concurrency", std::to_string(request.concurrency)};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return Error::Sys("pipe2");
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) return Error::Sys("fork");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    JoinCgroup(request.cgroup);
    ::dup2(write_end.get(), STDOUT_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  SetRunningProbe(pid);
  write_end.reset();
  std::string out;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(read_end.get(), buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  auto status = WaitPid(pid);
  SetRunningProbe(0);
  if (!status.ok()) return std::move(status).error();
  if (int code = ExitCodeFromWaitStatus(*status); code != 0)
    return Error(Errc::kInternal, "berth-lb-probe tcp exited with " + std::to_string(code) +
                                      (code == 125 ? " (could not join the cgroup)" : ""));
  return out;
}

}  // namespace

Result<ProbeRun> RunProbe(const ProbeRequest& request) {
  std::string out = BERTH_TRY(RunCapturing(request));
  auto doc = BERTH_TRY(json::Parse(out, "berth-lb-probe output"));
  const auto* root = doc.if_object();
  if (root == nullptr) return Error(Errc::kInternal, "berth-lb-probe output: not an object");
  auto number = [&](const boost::json::value* v) {
    return v == nullptr ? 0.0 : v->is_double() ? v->as_double() : v->to_number<double>();
  };
  ProbeRun run;
  run.ok = static_cast<uint64_t>(number(root->if_contains("ok")));
  run.failed = static_cast<uint64_t>(number(root->if_contains("failed")));
  run.peer_mismatch = static_cast<uint64_t>(number(root->if_contains("peer_mismatch")));
  run.rps = number(root->if_contains("rps"));
  if (const auto* backends = root->if_contains("backends"); backends && backends->is_object())
    run.backends = backends->as_object().size();
  if (const auto* latency = root->if_contains("latency_us"); latency && latency->is_object()) {
    run.p50_us = number(latency->as_object().if_contains("p50"));
    run.p99_us = number(latency->as_object().if_contains("p99"));
  }
  if (const auto* errors = root->if_contains("errors"))
    run.errors = boost::json::serialize(*errors);
  return run;
}

}  // namespace berth::bench

// Spawning the probe client and parsing its summary (probe_client.h).
#include "bench/service-lb/probe_client.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <vector>

#include "bench/service-lb/bench_env.h"
#include "bench/service-lb/piped_child.h"
#include "common/fd.h"
#include "common/json.h"
#include "common/process.h"

namespace berth::bench {
namespace {

Result<std::string> RunCapturing(const ProbeRequest& request) {
  std::vector<std::string> args = {request.probe,   "tcp",
                                   "--target",      request.target,
                                   "--count",       std::to_string(request.count),
                                   "--concurrency", std::to_string(request.concurrency)};
  // In the cgroup, so that the socket programs see every socket it makes.
  PipedChild child = BERTH_TRY(SpawnPiped(args, "", request.cgroup));
  pid_t pid = child.pid;
  UniqueFd read_end = std::move(child.out);
  SetRunningProbe(pid);
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
    return Error(Errc::kInternal,
                 "berth-lb-probe tcp exited with " + std::to_string(code) +
                     (code == kChildNoCgroup ? " (could not join the cgroup)" : ""));
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

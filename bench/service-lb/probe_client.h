#pragma once
// Runs `berth-lb-probe tcp` against one ClusterIP and reads its JSON
// summary; in berth mode the probe joins the bench cgroup (where berth's
// socket programs are attached) before exec.

#include <cstdint>
#include <string>

#include "common/error.h"

namespace berth::bench {

struct ProbeRun {
  uint64_t ok = 0;
  uint64_t failed = 0;
  uint64_t peer_mismatch = 0;
  size_t backends = 0;  // distinct backends that answered
  double p50_us = 0;
  double p99_us = 0;
  double rps = 0;
  std::string errors;  // the "errors" object as JSON, for the log
};

struct ProbeRequest {
  std::string probe;   // binary
  std::string target;  // "10.96.x.y:80"
  uint64_t count = 0;
  uint64_t concurrency = 1;
  std::string cgroup;  // "" = stay in the bench's cgroup
};

Result<ProbeRun> RunProbe(const ProbeRequest& request);

}  // namespace berth::bench

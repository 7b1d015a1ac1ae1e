#pragma once
// The query of /containerLogs as kubelet decodes it: v1.PodLogOptions
// (follow, previous, timestamps, tailLines — or the old "tail", where "all"
// means no limit — sinceSeconds, sinceTime, limitBytes), then its
// validation, then the CRI read options (NewLogOptions).

#include <cstdint>
#include <string>

#include "agent/server/cri_log.h"
#include "agent/server/routes.h"
#include "common/error.h"

namespace berth::agent::kubelet {

struct PodLogRequest {
  LogOptions options;
  bool previous = false;
};

// kInvalidArgument: the query does not decode (kubelet answers 400);
// kFailedPrecondition: it decodes but is invalid (422). `now_unix_nanos`
// anchors sinceSeconds.
Result<PodLogRequest> ParsePodLogQuery(const Query& query, int64_t now_unix_nanos);

// Go's conversion of a query value to bool: absent, "0" and "false" (any
// case) are false, anything else (even "") true.
bool QueryBool(const Query& query, const std::string& key);

}  // namespace berth::agent::kubelet

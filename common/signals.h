#pragma once
// Signal names as runc's CLI, Dockerfile STOPSIGNAL and kubelet give them.

#include <string>

#include "common/error.h"

namespace berth {

// "KILL", "SIGKILL", "9", "RTMIN+1" -> number; InvalidArgument otherwise.
Result<int> ParseSignal(const std::string& name);

}  // namespace berth

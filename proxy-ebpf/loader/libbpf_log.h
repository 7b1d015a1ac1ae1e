#pragma once
// libbpf's messages (the verifier log among them) go to berth's log at
// debug level and are kept, per thread, so that a failed load can quote
// them in its error instead of leaving the reason on stderr.

#include <string>

namespace berth::proxy {

// Installs the print callback (once per process).
void RouteLibbpfLogs();
// What libbpf printed on this thread since the last call, warnings first
// lines of the verifier log included; clears it.
std::string TakeLibbpfLog();

}  // namespace berth::proxy

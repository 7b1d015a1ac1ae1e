#pragma once
// Daemons a test or bench started as children (berth server, berth agent):
// stopping them as their own signal handling expects, noticing one that
// died early, and the end of their logs for an error message.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "common/error.h"
#include "common/process.h"

namespace berth::testing {

// SIGTERM, then SIGKILL after `grace`; reaps either way. An error naming
// `what` when SIGKILL was needed.
Status TerminateChild(ChildGuard& child, const std::string& what, std::chrono::seconds grace);

// The error "<what> exited (<code>)" when the child has already exited
// (it was meant to keep running); it is reaped then. nullopt while it runs.
std::optional<Error> ChildExited(ChildGuard& child, const std::string& what);

// The last `bytes` of the file at `path` ("..." first when cut), or why it
// could not be read.
std::string FileTail(const std::string& path, size_t bytes);

}  // namespace berth::testing

#pragma once
// Where berth's helper binaries (berth-shim, berth-pause, berth-cni-bridge)
// are: next to the running berth binary once installed, in their own
// directories of the build tree otherwise.

#include <string>

namespace berth::cli {

std::string NextToSelf(const std::string& name);

}  // namespace berth::cli

#pragma once
// Running OCI lifecycle hooks (config.md "POSIX-platform Hooks"): each hook is
// executed with the container's state JSON on stdin, in order; the first
// failure stops the phase. A hook without env inherits the runtime's
// environment (as runc, whose Go exec does so for a nil Env).

#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/oci/spec.h"

namespace berth::runtime::oci {

// `phase` names the hook list in errors ("createRuntime").
Status RunHooks(const std::vector<Hook>& hooks, std::string_view phase,
                const std::string& state_json);

// poststop semantics: every hook runs; failures are logged as warnings.
void RunHooksWarnOnly(const std::vector<Hook>& hooks, std::string_view phase,
                      const std::string& state_json);

}  // namespace berth::runtime::oci

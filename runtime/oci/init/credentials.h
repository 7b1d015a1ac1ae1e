#pragma once
// Switching the process to the spec's user, and the environment it execs
// with.

#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/oci/spec.h"

namespace berth::runtime::oci {

// setgroups(additionalGids), setresgid, setresuid. `setgroups_allowed` is
// false in a user namespace whose setgroups file says "deny".
Status SwitchUser(const User& user, bool setgroups_allowed);

// process.env plus HOME from the container's /etc/passwd when the spec does
// not set it (runc's behaviour), "/" when the user has no entry.
std::vector<std::string> ProcessEnv(const Process& process);

// Resolves args[0] like Go's exec.LookPath with the container's PATH:
// error text `exec: "sh": executable file not found in $PATH`.
Result<std::string> LookPath(const std::string& file, const std::vector<std::string>& env);

}  // namespace berth::runtime::oci

#pragma once
// berth's RuntimeDefault seccomp profile: the profile a CRI container gets
// for SecurityProfile{RuntimeDefault} (or the legacy "runtime/default" and
// "docker/default"), comparable to containerd 1.7's contrib/seccomp default:
//   - defaultAction SCMP_ACT_ERRNO (EPERM), the host arch and its compat ABIs;
//   - one allow rule for the syscalls every container may make, personality(2)
//     for the few safe personas, and arch-specific extras;
//   - rules that a capability in the bounding set unlocks (CAP_SYS_ADMIN:
//     mount, unshare, setns, clone with namespace flags, ...);
//   - without CAP_SYS_ADMIN: clone(2) only without CLONE_NEW* flags, and
//     clone3(2) answered with ENOSYS so that libc falls back to clone.
// The tables are data (seccomp_default.cc); the output is linux.seccomp as
// config.json spells it.

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace berth::cri {

// `bounding`: the container's bounding capabilities ("CAP_SYS_ADMIN", ...).
// `goarch`: GOARCH name of the host ("amd64", "arm64", ...); "" = this host.
boost::json::object DefaultSeccompProfile(const std::vector<std::string>& bounding,
                                          std::string_view goarch = "");

// The SCMP_ARCH_* list for a GOARCH name (empty for an unknown one).
std::vector<std::string> SeccompArchitectures(std::string_view goarch);

}  // namespace berth::cri

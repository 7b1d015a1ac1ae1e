#pragma once
// Name tables for the seccomp strings of the OCI spec: SCMP_ACT_*,
// SCMP_CMP_*, SCMP_ARCH_* and SECCOMP_FILTER_FLAG_*, mapped to the values
// libseccomp and seccomp(2) take. Internal to berth_oci_security (tests use
// it too); the public entry points are in seccomp.h.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::runtime::security {

bool IsSeccompAction(std::string_view name);
// SCMP_ACT_ERRNO and SCMP_ACT_TRACE carry an errno (SECCOMP_RET_DATA).
bool SeccompActionTakesErrno(std::string_view name);
// The libseccomp action value (SCMP_ACT_ERRNO(n) ...); errno_ret defaults to
// EPERM for the actions that take one, as in runc. nullopt: unknown name.
std::optional<uint32_t> SeccompActionValue(std::string_view name,
                                           std::optional<uint32_t> errno_ret);
// ALLOW, LOG and TRACE let unknown syscalls through to the kernel, so the
// ENOSYS stub is not needed (runc's "allow actions").
bool IsPermissiveSeccompAction(std::string_view name);

// The libseccomp `enum scmp_compare` value; nullopt: unknown name.
std::optional<int> SeccompOperatorValue(std::string_view name);

// The libseccomp SCMP_ARCH_* token; nullopt: unknown name.
std::optional<uint32_t> SeccompArchToken(std::string_view name);
// The AUDIT_ARCH_* value seccomp_data.arch carries for that token (x32
// shares x86_64's); nullopt: not a known token.
std::optional<uint32_t> SeccompAuditArch(uint32_t arch_token);

// The SECCOMP_FILTER_FLAG_* bit; nullopt: unknown name.
std::optional<unsigned int> SeccompFlagValue(std::string_view name);

std::vector<std::string> SeccompActionNames();
std::vector<std::string> SeccompOperatorNames();
std::vector<std::string> SeccompArchNames();
std::vector<std::string> SeccompFlagNames();

}  // namespace berth::runtime::security

// The seccomp part of `features` (runtime-spec features.md, linux.seccomp).

#include <linux/seccomp.h>

#include "runtime/oci/security/seccomp.h"
#include "runtime/oci/security/seccomp_kernel.h"
#include "runtime/oci/security/seccomp_names.h"

namespace berth::runtime::security {

std::vector<std::string> SupportedSeccompActions() {
  return SeccompActionNames();
}
std::vector<std::string> SupportedSeccompOperators() {
  return SeccompOperatorNames();
}
std::vector<std::string> SupportedSeccompArchitectures() {
  return SeccompArchNames();
}
std::vector<std::string> KnownSeccompFlags() {
  return SeccompFlagNames();
}

std::vector<std::string> SupportedSeccompFlags() {
  std::vector<std::string> out;
  for (const std::string& name : SeccompFlagNames()) {
    unsigned int probe = *SeccompFlagValue(name);
    if (probe == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) probe |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    if (KernelAcceptsSeccompFlags(probe)) out.push_back(name);
  }
  return out;
}

}  // namespace berth::runtime::security

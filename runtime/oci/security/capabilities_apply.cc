// Applying CapabilitySets in the container init: the bounding set with
// PR_CAPBSET_DROP, E/P/I with capset (libcap), the ambient set with
// PR_CAP_AMBIENT. See capabilities(7).

#include <sys/capability.h>
#include <sys/prctl.h>

#include <memory>
#include <string>

#include "common/log.h"
#include "runtime/oci/security/capabilities.h"

namespace berth::runtime::security {
namespace {

using CapPtr = std::unique_ptr<std::remove_pointer_t<cap_t>, decltype(&cap_free)>;

bool Has(uint64_t mask, int cap) {
  return (mask >> cap) & 1;
}

Status SetFlag(cap_t caps, cap_flag_t flag, uint64_t mask) {
  for (int cap = 0; cap <= LastCapability(); ++cap) {
    if (!Has(mask, cap)) continue;
    cap_value_t value = cap;
    if (cap_set_flag(caps, flag, 1, &value, CAP_SET) != 0) {
      return Error::Sys("cap_set_flag", CapabilityName(cap));
    }
  }
  return Ok();
}

std::string Describe(const CapabilitySets& sets) {
  auto hex = [](uint64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return std::string(buf);
  };
  return "effective=" + hex(sets.effective) + " permitted=" + hex(sets.permitted) +
         " inheritable=" + hex(sets.inheritable);
}

Status SetProcessCaps(const CapabilitySets& sets) {
  CapPtr caps(cap_init(), &cap_free);
  if (!caps) return Error::Sys("cap_init");
  BERTH_TRY(SetFlag(caps.get(), CAP_EFFECTIVE, sets.effective));
  BERTH_TRY(SetFlag(caps.get(), CAP_PERMITTED, sets.permitted));
  BERTH_TRY(SetFlag(caps.get(), CAP_INHERITABLE, sets.inheritable));
  if (cap_set_proc(caps.get()) != 0) return Error::Sys("capset", Describe(sets));
  return Ok();
}

Status SetAmbient(uint64_t ambient) {
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    // EINVAL: a kernel without ambient capabilities (< 4.3); fine if none wanted.
    if (errno == EINVAL && ambient == 0) return Ok();
    return Error::Sys("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
  }
  for (int cap = 0; cap <= LastCapability(); ++cap) {
    if (!Has(ambient, cap)) continue;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
      // A capability not both permitted and inheritable cannot be ambient.
      // runc (gocapability) ignores these, and runc's own default spec lists
      // ambient capabilities without inheritable ones, so do the same.
      if (errno == EPERM) {
        BLOG(kDebug) << "ambient capability " << CapabilityName(cap)
                     << " skipped: not in both the permitted and inheritable sets";
        continue;
      }
      return Error::Sys("prctl(PR_CAP_AMBIENT_RAISE)", CapabilityName(cap));
    }
  }
  return Ok();
}

}  // namespace

Status DropBounding(const CapabilitySets& sets) {
  if (!sets.specified) return Ok();
  for (int cap = 0; cap <= LastCapability(); ++cap) {
    if (Has(sets.bounding, cap)) continue;
    int present = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (present == 0) continue;
    if (present < 0) {
      if (errno == EINVAL) continue;  // not a capability of this kernel
      return Error::Sys("prctl(PR_CAPBSET_READ)", CapabilityName(cap));
    }
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      return Error::Sys("prctl(PR_CAPBSET_DROP)", CapabilityName(cap));
    }
  }
  return Ok();
}

Status ApplyCapabilities(const CapabilitySets& sets) {
  if (!sets.specified) return Ok();
  BERTH_TRY(SetProcessCaps(sets));
  return SetAmbient(sets.ambient);
}

}  // namespace berth::runtime::security

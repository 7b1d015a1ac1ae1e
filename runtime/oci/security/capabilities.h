#pragma once
// Capabilities from process.capabilities (bounding, effective, inheritable,
// permitted, ambient), applied with libcap / prctl in the container init.
//
// In the container init, in this order:
//   DropBounding(sets)          (needs CAP_SETPCAP: before the uid change)
//   prctl(PR_SET_KEEPCAPS, 1); setgroups/setgid/setuid
//   ApplyCapabilities(sets)     (capset E/P/I, then the ambient set)
// When process.capabilities is absent (`specified` false) both calls leave
// the capabilities untouched, as runc does.

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace berth::runtime::security {

// Each set as a bit mask over capability numbers (CAP_CHOWN = bit 0 ...).
struct CapabilitySets {
  uint64_t bounding = 0, effective = 0, inheritable = 0, permitted = 0, ambient = 0;
  bool specified = false;  // process.capabilities present at all
  // Names skipped as unknown to libcap or to the running kernel (sorted,
  // each once); ParseCapabilities has already logged the warning.
  std::vector<std::string> unknown;
};

// Parses process.capabilities. Names unknown to this kernel/libcap are
// skipped with the warning runc 1.1 prints ("ignoring unknown or unavailable
// capabilities: [...]"); skipping only ever removes privilege, and the
// runtime spec says such names SHOULD NOT fail the container. Names are the
// capabilities(7) spelling, upper case with the CAP_ prefix.
Result<CapabilitySets> ParseCapabilities(const json::Field& field);

// "CAP_NET_ADMIN" -> 12; -1 if unknown to libcap or above LastCapability().
int CapabilityFromName(const std::string& name);
// 12 -> "CAP_NET_ADMIN"; the number as a string when libcap has no name.
std::string CapabilityName(int cap);
// All capability names this kernel knows, in number order (for `features`).
std::vector<std::string> KnownCapabilities();
// Highest capability number the running kernel supports
// (/proc/sys/kernel/cap_last_cap).
int LastCapability();
// The names of the bits set in `mask`, in number order (for messages).
std::vector<std::string> CapabilityNames(uint64_t mask);

// Drops every capability not in `sets.bounding` from the bounding set. Call
// before changing uid (needs CAP_SETPCAP). Capabilities already absent are
// skipped, so a host whose bounding set lacks some (CAP_SYS_RESOURCE here)
// is not an error.
Status DropBounding(const CapabilitySets& sets);
// Sets effective/permitted/inheritable (capset), then clears the ambient set
// and raises each ambient capability that is both permitted and inheritable;
// others are skipped, as runc does. Call after the uid change (with
// PR_SET_KEEPCAPS set before it).
Status ApplyCapabilities(const CapabilitySets& sets);

}  // namespace berth::runtime::security

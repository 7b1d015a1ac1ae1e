#pragma once
// Capabilities from process.capabilities (bounding, effective, inheritable,
// permitted, ambient), applied with libcap / prctl in the container init.

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
};

// Parses process.capabilities. Names unknown to this kernel/libcap are
// skipped with a warning, as runc 1.1 does (skipping only ever removes
// privilege).
Result<CapabilitySets> ParseCapabilities(const json::Field& field);

// "CAP_NET_ADMIN" -> 12; -1 if unknown.
int CapabilityFromName(const std::string& name);
std::string CapabilityName(int cap);
// All capability names this kernel knows (for `features`).
std::vector<std::string> KnownCapabilities();
// Highest capability number the running kernel supports.
int LastCapability();

// Drops every capability not in `sets.bounding` from the bounding set. Call
// before changing uid (needs CAP_SETPCAP).
Status DropBounding(const CapabilitySets& sets);
// Sets effective/permitted/inheritable and raises ambient. Call after the
// uid change (with PR_SET_KEEPCAPS set before it).
Status ApplyCapabilities(const CapabilitySets& sets);

}  // namespace berth::runtime::security

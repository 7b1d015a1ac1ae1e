// Capability names (libcap) and the parsing of process.capabilities.

#include "runtime/oci/security/capabilities.h"

#include <sys/capability.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "common/file.h"
#include "common/log.h"
#include "common/strings.h"

namespace berth::runtime::security {
namespace {

constexpr int kMaxCapBits = 64;

// libcap's names ("cap_chown"), upper-cased; empty where libcap has none.
const std::vector<std::string>& NameTable() {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> names(kMaxCapBits);
    for (int cap = 0; cap < kMaxCapBits; ++cap) {
      char* raw = cap_to_name(static_cast<cap_value_t>(cap));
      if (raw == nullptr) continue;
      std::string name(raw);
      cap_free(raw);
      if (name.rfind("cap_", 0) != 0) continue;  // libcap printed a number
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      names[static_cast<size_t>(cap)] = std::move(name);
    }
    return names;
  }();
  return table;
}

int ReadLastCapability() {
  auto text = ReadFile("/proc/sys/kernel/cap_last_cap");
  if (text) {
    auto value = ParseInt<int>(*text, "cap_last_cap");
    if (value && *value >= 0 && *value < kMaxCapBits) return *value;
  }
  return static_cast<int>(cap_max_bits()) - 1;  // probes the bounding set
}

struct SetField {
  const char* key;
  uint64_t CapabilitySets::*mask;
};

constexpr SetField kSets[] = {
    {"bounding", &CapabilitySets::bounding},       {"effective", &CapabilitySets::effective},
    {"inheritable", &CapabilitySets::inheritable}, {"permitted", &CapabilitySets::permitted},
    {"ambient", &CapabilitySets::ambient},
};

Result<uint64_t> ParseSet(const json::Field& field, std::set<std::string>* unknown) {
  uint64_t mask = 0;
  for (const std::string& name : BERTH_TRY(field.StringArray())) {
    int cap = CapabilityFromName(name);
    if (cap < 0) {
      unknown->insert(name);
      continue;
    }
    mask |= uint64_t{1} << cap;
  }
  return mask;
}

}  // namespace

int LastCapability() {
  static const int last = ReadLastCapability();
  return last;
}

int CapabilityFromName(const std::string& name) {
  const std::vector<std::string>& table = NameTable();
  int last = std::min(LastCapability(), kMaxCapBits - 1);
  for (int cap = 0; cap <= last; ++cap) {
    if (table[static_cast<size_t>(cap)] == name) return cap;
  }
  return -1;
}

std::string CapabilityName(int cap) {
  if (cap >= 0 && cap < kMaxCapBits && !NameTable()[static_cast<size_t>(cap)].empty()) {
    return NameTable()[static_cast<size_t>(cap)];
  }
  return std::to_string(cap);
}

std::vector<std::string> KnownCapabilities() {
  std::vector<std::string> out;
  for (int cap = 0; cap <= std::min(LastCapability(), kMaxCapBits - 1); ++cap) {
    if (!NameTable()[static_cast<size_t>(cap)].empty()) out.push_back(CapabilityName(cap));
  }
  return out;
}

std::vector<std::string> CapabilityNames(uint64_t mask) {
  std::vector<std::string> out;
  for (int cap = 0; cap < kMaxCapBits; ++cap) {
    if (mask & (uint64_t{1} << cap)) out.push_back(CapabilityName(cap));
  }
  return out;
}

Result<CapabilitySets> ParseCapabilities(const json::Field& field) {
  CapabilitySets sets;
  if (!field.present()) return sets;
  BERTH_TRY(field.ExpectObject());
  sets.specified = true;
  std::set<std::string> unknown;
  for (const SetField& set : kSets) {
    sets.*set.mask = BERTH_TRY(ParseSet(field[set.key], &unknown));
  }
  sets.unknown.assign(unknown.begin(), unknown.end());
  if (!sets.unknown.empty()) {
    BLOG(kWarn) << "ignoring unknown or unavailable capabilities: [" << Join(sets.unknown, " ")
                << "]";
  }
  return sets;
}

}  // namespace berth::runtime::security

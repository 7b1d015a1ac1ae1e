#include "runtime/cri/spec/capabilities.h"

#include <algorithm>
#include <cctype>

#include "runtime/oci/security/capabilities.h"

namespace berth::cri {
namespace {

namespace bj = boost::json;
namespace v1 = ::runtime::v1;

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

bool IsAll(const std::string& name) {
  return Upper(name) == "ALL";
}

// "net_admin", "NET_ADMIN", "CAP_NET_ADMIN" -> "CAP_NET_ADMIN".
Result<std::string> Normalize(const std::string& name, const std::string& field) {
  std::string up = Upper(name);
  if (up.rfind("CAP_", 0) == 0) up.erase(0, 4);
  if (up.empty() ||
      up.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != std::string::npos) {
    return Error(Errc::kInvalidArgument, field + ": invalid capability name \"" + name + "\"");
  }
  return "CAP_" + up;
}

bool Contains(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

void Add(std::vector<std::string>& list, const std::string& name) {
  if (!Contains(list, name)) list.push_back(name);
}

void Remove(std::vector<std::string>& list, const std::string& name) {
  list.erase(std::remove(list.begin(), list.end(), name), list.end());
}

bj::array ToArray(const std::vector<std::string>& list) {
  bj::array out;
  for (const std::string& s : list)
    out.emplace_back(s);
  return out;
}

}  // namespace

const std::vector<std::string>& DefaultCapabilities() {
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE"};
  return caps;
}

std::vector<std::string> AllCapabilities() {
  return runtime::security::KnownCapabilities();
}

Result<CapabilityPlan> PlanCapabilities(const v1::Capability* caps, bool privileged) {
  CapabilityPlan plan;
  plan.bounding = privileged ? AllCapabilities() : DefaultCapabilities();
  if (caps == nullptr) return plan;
  const auto& adds = caps->add_capabilities();
  const auto& drops = caps->drop_capabilities();
  if (!privileged) {
    // ALL first, so that "add ALL, drop CHOWN" and "drop ALL, add X" work.
    if (std::any_of(adds.begin(), adds.end(), IsAll)) plan.bounding = AllCapabilities();
    if (std::any_of(drops.begin(), drops.end(), IsAll)) plan.bounding.clear();
    for (const std::string& name : adds) {
      if (!IsAll(name)) Add(plan.bounding, BERTH_TRY(Normalize(name, "add_capabilities")));
    }
    for (const std::string& name : drops) {
      if (!IsAll(name)) Remove(plan.bounding, BERTH_TRY(Normalize(name, "drop_capabilities")));
    }
  }
  for (const std::string& name : caps->add_ambient_capabilities()) {
    std::string cap = BERTH_TRY(Normalize(name, "add_ambient_capabilities"));
    Add(plan.bounding, cap);
    Add(plan.ambient, cap);
  }
  return plan;
}

boost::json::object CapabilitiesJson(const CapabilityPlan& plan) {
  bj::object out{{"bounding", ToArray(plan.bounding)},
                 {"effective", ToArray(plan.bounding)},
                 {"permitted", ToArray(plan.bounding)}};
  if (!plan.ambient.empty()) {
    out["inheritable"] = ToArray(plan.ambient);
    out["ambient"] = ToArray(plan.ambient);
  }
  return out;
}

}  // namespace berth::cri

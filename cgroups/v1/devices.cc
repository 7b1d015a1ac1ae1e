// devices on cgroup v1: the kernel list (devices.list) is read into the
// emulator, the target rule set replayed into another, and only the
// difference is written to devices.allow / devices.deny in order, as runc
// does: a running container does not lose access to a device it keeps.
// On a real cgroupfs the resulting devices.list is read back and compared.

#include <sys/vfs.h>

#include "cgroups/cgroupfs.h"
#include "cgroups/device_rules.h"
#include "cgroups/v1/controllers.h"

namespace berth::cgroups::v1 {

namespace {

constexpr long kCgroupSuperMagic = 0x27e0eb;  // linux/magic.h CGROUP_SUPER_MAGIC

bool OnCgroupfs(const std::string& dir) {
  struct statfs fs {};
  return ::statfs(dir.c_str(), &fs) == 0 && fs.f_type == kCgroupSuperMagic;
}

Result<DeviceEmulator> Current(const std::string& dir) {
  std::string list = BERTH_TRY(ReadKnob(dir, "devices.list"));
  return DeviceEmulator::FromList(list);
}

// A deny-list cannot be read back (devices.list shows only "a *:* rwm"),
// so only its mode is compared.
Status Verify(const std::string& dir, const DeviceEmulator& target) {
  DeviceEmulator after = BERTH_TRY(Current(dir));
  bool ok = target.default_allow() ? after.default_allow() : after == target;
  if (ok) return Ok();
  return Error(Errc::kInternal, "devices: `" + KnobPath(dir, "devices.list") +
                                    "` does not match the requested rules after the update");
}

}  // namespace

Status ApplyDevices(const std::string& dir, const std::vector<DeviceRule>& rules) {
  if (rules.empty()) return Ok();
  std::string field = std::string(kField) + "devices";
  DeviceEmulator target = BERTH_TRY_CTX(DeviceEmulator::FromRules(rules), field);
  DeviceEmulator current = BERTH_TRY(Current(dir));
  for (const DeviceRule& rule : current.Transition(target)) {
    const char* file = rule.allow ? "devices.allow" : "devices.deny";
    BERTH_TRY_CTX(WriteKnob(dir, file, DeviceRuleString(rule)), field);
  }
  if (OnCgroupfs(dir)) BERTH_TRY(Verify(dir, target));
  return Ok();
}

}  // namespace berth::cgroups::v1

#pragma once
// The devices controller's rule semantics, emulated (internal to cgroups/).
//
// The OCI device list is a sequence of writes to v1's devices.allow and
// devices.deny. The kernel keeps a default (allow or deny) plus exceptions;
// a wildcard rule ("a", every device and access) resets the default and
// drops the exceptions, every other rule adds or removes an exception.
// DeviceEmulator replays a list that way, as runc's emulator does, so both
// drivers agree with v1 and with runc:
//   - v1 writes the minimal transition from the current devices.list;
//   - v2 compiles the exceptions into a BPF_CGROUP_DEVICE program.
// A fresh emulator denies everything (runc's target state): a list without
// a leading wildcard still yields an allow-list.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "cgroups/resources.h"
#include "common/error.h"

namespace berth::cgroups {

// Access bits, numerically the kernel's BPF_DEVCG_ACC_* values.
enum : uint8_t { kAccMknod = 1, kAccRead = 2, kAccWrite = 4, kAccAll = 7 };
uint8_t AccessBits(std::string_view rwm);  // "" -> all
std::string AccessString(uint8_t bits);    // "rwm" order

// "c 1:3 rwm", "b *:* m", "a *:* rwm": the devices.allow/deny syntax.
std::string DeviceRuleString(const DeviceRule& rule);

struct DeviceKey {
  char type = 'c';     // 'b' or 'c'
  int64_t major = -1;  // -1 = any
  int64_t minor = -1;
  // runc sorts by (major, minor, type); so do we, for identical writes.
  bool operator<(const DeviceKey& o) const {
    return std::tie(major, minor, type) < std::tie(o.major, o.minor, o.type);
  }
  bool operator==(const DeviceKey& o) const = default;
};

class DeviceEmulator {
 public:
  // Replays `rules` on a deny-everything start.
  static Result<DeviceEmulator> FromRules(const std::vector<DeviceRule>& rules);
  // The state a v1 devices.list shows. A default-allow cgroup lists only
  // "a *:* rwm": its deny exceptions are invisible, so it reads as bare
  // allow-all (Transition accounts for that).
  static Result<DeviceEmulator> FromList(std::string_view list);

  // One devices.allow / devices.deny write. Removing part of a wildcard
  // exception (e.g. denying c 1:3 under "c *:* rwm" allowed) is refused:
  // v1 would silently ignore it.
  Status Apply(const DeviceRule& rule);

  bool default_allow() const { return default_allow_; }
  // The exceptions, sorted; each has allow == !default_allow().
  std::vector<DeviceRule> Exceptions() const;
  // The devices.allow/deny writes that take a cgroup in state *this to
  // `target`, disrupting as little as possible.
  std::vector<DeviceRule> Transition(const DeviceEmulator& target) const;
  // The kernel's decision for one access: in allow-list mode an exception
  // must cover every requested bit; in deny-list mode any overlap denies.
  bool Allows(char type, uint32_t major, uint32_t minor, uint8_t access) const;

  bool operator==(const DeviceEmulator& o) const = default;

 private:
  bool default_allow_ = false;
  std::map<DeviceKey, uint8_t> rules_;
};

}  // namespace berth::cgroups

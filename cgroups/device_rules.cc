#include "cgroups/device_rules.h"

#include "common/strings.h"

namespace berth::cgroups {

uint8_t AccessBits(std::string_view rwm) {
  if (rwm.empty()) return kAccAll;
  uint8_t bits = 0;
  for (char c : rwm) {
    if (c == 'r') bits |= kAccRead;
    if (c == 'w') bits |= kAccWrite;
    if (c == 'm') bits |= kAccMknod;
  }
  return bits;
}

std::string AccessString(uint8_t bits) {
  std::string out;
  if (bits & kAccRead) out += 'r';
  if (bits & kAccWrite) out += 'w';
  if (bits & kAccMknod) out += 'm';
  return out;
}

namespace {

std::string Number(const std::optional<int64_t>& n) {
  return n && *n >= 0 ? std::to_string(*n) : "*";
}

DeviceKey KeyOf(const DeviceRule& rule) {
  return DeviceKey{rule.type, rule.major.value_or(-1), rule.minor.value_or(-1)};
}

DeviceRule RuleOf(const DeviceKey& key, uint8_t access, bool allow) {
  DeviceRule rule;
  rule.allow = allow;
  rule.type = key.type;
  if (key.major >= 0) rule.major = key.major;
  if (key.minor >= 0) rule.minor = key.minor;
  rule.access = AccessString(access);
  return rule;
}

DeviceRule Wildcard(bool allow) {
  return DeviceRule{allow, 'a', std::nullopt, std::nullopt, "rwm"};
}

bool Matches(const DeviceKey& key, char type, uint32_t major, uint32_t minor) {
  return key.type == type && (key.major < 0 || key.major == major) &&
         (key.minor < 0 || key.minor == minor);
}

// "c 1:3 rwm" / "b *:* m" / "a *:* rwm" from devices.list.
Result<DeviceRule> ParseListLine(const std::string& line) {
  auto bad = [&] {
    return Error(Errc::kInvalidArgument, "devices.list: malformed line \"" + line + "\"");
  };
  std::vector<std::string> f = SplitNonEmpty(line, ' ');
  if (f.size() != 3 || f[0].size() != 1 || f[0].find_first_not_of("abc") != std::string::npos) {
    return bad();
  }
  size_t colon = f[1].find(':');
  if (colon == std::string::npos || f[2].find_first_not_of("rwm") != std::string::npos) {
    return bad();
  }
  DeviceRule rule{true, f[0][0], std::nullopt, std::nullopt, f[2]};
  std::string major = f[1].substr(0, colon), minor = f[1].substr(colon + 1);
  if (major != "*") rule.major = BERTH_TRY(ParseInt<uint32_t>(major, "devices.list major"));
  if (minor != "*") rule.minor = BERTH_TRY(ParseInt<uint32_t>(minor, "devices.list minor"));
  return rule;
}

}  // namespace

std::string DeviceRuleString(const DeviceRule& rule) {
  std::string access = rule.access.empty() ? "rwm" : AccessString(AccessBits(rule.access));
  if (rule.type == 'a') return "a *:* " + access;
  return std::string(1, rule.type) + " " + Number(rule.major) + ":" + Number(rule.minor) + " " +
         access;
}

Result<DeviceEmulator> DeviceEmulator::FromRules(const std::vector<DeviceRule>& rules) {
  DeviceEmulator e;
  for (const DeviceRule& rule : rules)
    BERTH_TRY(e.Apply(rule));
  return e;
}

Result<DeviceEmulator> DeviceEmulator::FromList(std::string_view list) {
  DeviceEmulator e;
  for (const std::string& line : Split(list, '\n')) {
    if (Trim(line).empty()) continue;
    DeviceRule rule = BERTH_TRY(ParseListLine(std::string(Trim(line))));
    BERTH_TRY(e.Apply(rule));
  }
  return e;
}

Status DeviceEmulator::Apply(const DeviceRule& rule) {
  if (rule.type == 'a') {
    default_allow_ = rule.allow;
    rules_.clear();
    return Ok();
  }
  DeviceKey key = KeyOf(rule);
  uint8_t bits = AccessBits(rule.access);
  if (rule.allow != default_allow_) {
    rules_[key] |= bits;  // a new exception (or more access for one)
    return Ok();
  }
  // Removing (part of) an exception. v1 silently ignores removals that only
  // a broader wildcard exception covers; refuse them instead of pretending.
  for (DeviceKey partial : {DeviceKey{key.type, -1, key.minor}, DeviceKey{key.type, key.major, -1},
                            DeviceKey{key.type, -1, -1}}) {
    if (partial == key) continue;
    auto it = rules_.find(partial);
    if (it != rules_.end() && (it->second & bits) != 0) {
      return Error(Errc::kInvalidArgument,
                   "device rule \"" + DeviceRuleString(rule) +
                       "\" cannot punch a hole in the wildcard rule \"" +
                       DeviceRuleString(RuleOf(partial, it->second, !default_allow_)) + "\"");
    }
  }
  auto it = rules_.find(key);
  if (it != rules_.end()) {
    it->second &= static_cast<uint8_t>(~bits);
    if (it->second == 0) rules_.erase(it);
  }
  return Ok();
}

std::vector<DeviceRule> DeviceEmulator::Exceptions() const {
  std::vector<DeviceRule> out;
  for (const auto& [key, bits] : rules_)
    out.push_back(RuleOf(key, bits, !default_allow_));
  return out;
}

std::vector<DeviceRule> DeviceEmulator::Transition(const DeviceEmulator& target) const {
  std::vector<DeviceRule> out;
  const std::map<DeviceKey, uint8_t>* old_rules = &rules_;
  static const std::map<DeviceKey, uint8_t> kNone;
  // A deny-list's exceptions are not visible in devices.list, so leaving
  // one (or changing the default) needs the disruptive wildcard write.
  if (default_allow_ || default_allow_ != target.default_allow_) {
    out.push_back(Wildcard(target.default_allow_));
    old_rules = &kNone;
  }
  for (const auto& [key, old_bits] : *old_rules) {
    auto it = target.rules_.find(key);
    uint8_t dropped =
        old_bits & static_cast<uint8_t>(~(it == target.rules_.end() ? 0 : it->second));
    if (dropped != 0) out.push_back(RuleOf(key, dropped, target.default_allow_));
  }
  for (const auto& [key, new_bits] : target.rules_) {
    auto it = old_rules->find(key);
    uint8_t gained = new_bits & static_cast<uint8_t>(~(it == old_rules->end() ? 0 : it->second));
    if (gained != 0) out.push_back(RuleOf(key, gained, !target.default_allow_));
  }
  return out;
}

bool DeviceEmulator::Allows(char type, uint32_t major, uint32_t minor, uint8_t access) const {
  for (const auto& [key, bits] : rules_) {
    if (!Matches(key, type, major, minor)) continue;
    if (default_allow_ && (access & bits) != 0) return false;
    if (!default_allow_ && (access & ~bits) == 0) return true;
  }
  return default_allow_;
}

}  // namespace berth::cgroups

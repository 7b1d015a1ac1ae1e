// ParseSeccomp: linux.seccomp -> SeccompProfile, validating every name and
// combination so that a bad profile fails `create` with the field's path.

#include <algorithm>
#include <string>
#include <utility>

#include "runtime/oci/security/seccomp.h"
#include "runtime/oci/security/seccomp_names.h"

namespace berth::runtime::security {
namespace {

constexpr uint32_t kMaxSyscallArgs = 6;
constexpr uint32_t kMaxErrno = 0xffff;  // SECCOMP_RET_DATA

std::string Quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

Result<std::string> ParseAction(const json::Field& field) {
  std::string action = BERTH_TRY(field.String());
  if (!IsSeccompAction(action)) return field.Invalid("unknown action " + Quoted(action));
  return action;
}

// errnoRet / defaultErrnoRet: only for actions that carry one (the spec: "when
// the action doesn't support an errno, the runtime MUST print an error").
Result<std::optional<uint32_t>> ParseErrnoRet(const json::Field& field, const std::string& action) {
  auto value = BERTH_TRY(field.OptInt<uint32_t>());
  if (!value) return value;
  if (!SeccompActionTakesErrno(action)) {
    return field.Invalid(action + " does not take an errno return code");
  }
  if (*value > kMaxErrno) {
    return field.Invalid("value " + std::to_string(*value) + " out of range (max 65535)");
  }
  return value;
}

Result<std::vector<std::string>> ParseNameList(const json::Field& field,
                                               std::optional<uint32_t> (*lookup)(std::string_view),
                                               std::string_view what) {
  std::vector<std::string> out;
  for (const json::Field& item : BERTH_TRY(field.Items())) {
    std::string name = BERTH_TRY(item.String());
    if (!lookup(name)) return item.Invalid("unknown " + std::string(what) + " " + Quoted(name));
    out.push_back(std::move(name));
  }
  return out;
}

std::optional<uint32_t> FlagLookup(std::string_view name) {
  auto value = SeccompFlagValue(name);
  return value ? std::optional<uint32_t>(*value) : std::nullopt;
}

Result<SeccompArg> ParseArg(const json::Field& field) {
  BERTH_TRY(field.ExpectObject());
  SeccompArg arg;
  arg.index = BERTH_TRY(field["index"].Int<uint32_t>());
  if (arg.index >= kMaxSyscallArgs) {
    return field["index"].Invalid("syscall argument index " + std::to_string(arg.index) +
                                  " out of range (0-5)");
  }
  arg.value = BERTH_TRY(field["value"].Int<uint64_t>());
  arg.value_two = BERTH_TRY(field["valueTwo"].OptInt<uint64_t>()).value_or(0);
  arg.op = BERTH_TRY(field["op"].String());
  if (!SeccompOperatorValue(arg.op))
    return field["op"].Invalid("unknown operator " + Quoted(arg.op));
  return arg;
}

Result<std::vector<std::string>> ParseSyscallNames(const json::Field& field,
                                                   const std::string& action) {
  if (!field.present()) return field.Invalid("required field missing");
  std::vector<json::Field> items = BERTH_TRY(field.Items());
  if (items.empty()) return field.Invalid("must contain at least one syscall name");
  std::vector<std::string> names;
  for (const json::Field& item : items) {
    std::string name = BERTH_TRY(item.String());
    if (name.empty()) return item.Invalid("empty string is not a valid syscall");
    // As runc: the init reports the listener fd to its parent with write(2),
    // which must therefore never wait for the (not yet running) agent.
    if (action == "SCMP_ACT_NOTIFY" && name == "write") {
      return item.Invalid("SCMP_ACT_NOTIFY cannot be used for the write syscall");
    }
    names.push_back(std::move(name));
  }
  return names;
}

Result<SeccompRule> ParseRule(const json::Field& field) {
  BERTH_TRY(field.ExpectObject());
  SeccompRule rule;
  rule.action = BERTH_TRY(ParseAction(field["action"]));
  rule.names = BERTH_TRY(ParseSyscallNames(field["names"], rule.action));
  rule.errno_ret = BERTH_TRY(ParseErrnoRet(field["errnoRet"], rule.action));
  rule.args = BERTH_TRY(field["args"].MapItems(ParseArg));
  return rule;
}

Status ParseListener(const json::Field& field, SeccompProfile* profile) {
  profile->listener_path = BERTH_TRY(field["listenerPath"].OptString()).value_or("");
  profile->listener_metadata = BERTH_TRY(field["listenerMetadata"].OptString()).value_or("");
  if (!profile->listener_metadata.empty() && profile->listener_path.empty()) {
    return field["listenerMetadata"].Invalid("must not be set without listenerPath");
  }
  if (profile->UsesNotify() && profile->listener_path.empty()) {
    return field["listenerPath"].Invalid("required when SCMP_ACT_NOTIFY is used");
  }
  return Ok();
}

Status ParseDefault(const json::Field& field, SeccompProfile* profile) {
  profile->default_action = BERTH_TRY(ParseAction(field["defaultAction"]));
  // NOTIFY as the default would catch write(2) too; see ParseSyscallNames.
  if (profile->default_action == "SCMP_ACT_NOTIFY") {
    return field["defaultAction"].Invalid("SCMP_ACT_NOTIFY cannot be used as the default action");
  }
  profile->default_errno_ret =
      BERTH_TRY(ParseErrnoRet(field["defaultErrnoRet"], profile->default_action));
  return Ok();
}

}  // namespace

bool SeccompProfile::UsesNotify() const {
  return std::any_of(syscalls.begin(), syscalls.end(),
                     [](const SeccompRule& r) { return r.action == "SCMP_ACT_NOTIFY"; });
}

Result<SeccompProfile> ParseSeccomp(const json::Field& field) {
  SeccompProfile profile;
  BERTH_TRY(field.ExpectObject());
  std::vector<json::Field> rules = BERTH_TRY(field["syscalls"].Items());
  // runc: no defaultAction and no syscalls means seccomp is not configured.
  if (!field["defaultAction"].present() && rules.empty()) return profile;

  BERTH_TRY(ParseDefault(field, &profile));
  profile.architectures =
      BERTH_TRY(ParseNameList(field["architectures"], &SeccompArchToken, "architecture"));
  profile.flags = BERTH_TRY(ParseNameList(field["flags"], &FlagLookup, "flag"));
  for (const json::Field& rule : rules)
    profile.syscalls.push_back(BERTH_TRY(ParseRule(rule)));
  BERTH_TRY(ParseListener(field, &profile));
  return profile;
}

}  // namespace berth::runtime::security

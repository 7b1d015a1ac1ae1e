// ParseSeccomp: every field, every error path (with the field's path).

#include <gtest/gtest.h>

#include <string>

#include "runtime/oci/security/seccomp.h"
#include "runtime/oci/security/tests/seccomp_test_util.h"

namespace berth::runtime::security {
namespace {

using testing::ParseProfileText;
using testing::Profile;

std::string ErrorOf(const std::string& text) {
  auto profile = ParseProfileText(text);
  if (profile.ok()) return "<parsed>";
  EXPECT_EQ(profile.error().code(), Errc::kInvalidArgument);
  return profile.error().str();
}

// A profile with one rule whose body is `rule`.
std::string WithRule(const std::string& rule) {
  return R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [)" + rule + "]}";
}

TEST(SeccompParseTest, AbsentIsDisabled) {
  auto profile = ParseSeccomp(json::Field(nullptr, "linux.seccomp"));
  ASSERT_TRUE(profile.ok());
  EXPECT_FALSE(profile->enabled());
}

TEST(SeccompParseTest, NoDefaultActionAndNoSyscallsIsDisabled) {
  EXPECT_FALSE(Profile("{}").enabled());
  EXPECT_FALSE(Profile(R"({"architectures": ["SCMP_ARCH_X86_64"], "syscalls": []})").enabled());
  EXPECT_FALSE(Profile("null").enabled());
}

TEST(SeccompParseTest, EveryField) {
  SeccompProfile p = Profile(R"({
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 38,
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
    "listenerPath": "/run/agent.sock",
    "listenerMetadata": "meta",
    "unknownField": {"is": "ignored"},
    "syscalls": [
      {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"},
      {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"},
                {"index": 1, "value": 255, "valueTwo": 3, "op": "SCMP_CMP_MASKED_EQ"}]},
      {"names": ["kill"], "action": "SCMP_ACT_TRACE", "errnoRet": 1}
    ]})");
  EXPECT_TRUE(p.enabled());
  EXPECT_EQ(p.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(p.default_errno_ret, 38u);
  EXPECT_EQ(p.architectures,
            (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  EXPECT_EQ(p.flags, (std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG",
                                               "SECCOMP_FILTER_FLAG_SPEC_ALLOW"}));
  EXPECT_EQ(p.listener_path, "/run/agent.sock");
  EXPECT_EQ(p.listener_metadata, "meta");
  ASSERT_EQ(p.syscalls.size(), 4u);
  EXPECT_EQ(p.syscalls[0].names, (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(p.syscalls[0].action, "SCMP_ACT_ALLOW");
  EXPECT_FALSE(p.syscalls[0].errno_ret.has_value());
  EXPECT_TRUE(p.UsesNotify());
  ASSERT_EQ(p.syscalls[2].args.size(), 2u);
  EXPECT_EQ(p.syscalls[2].args[0].index, 0u);
  EXPECT_EQ(p.syscalls[2].args[0].value, 8u);
  EXPECT_EQ(p.syscalls[2].args[0].value_two, 0u);
  EXPECT_EQ(p.syscalls[2].args[0].op, "SCMP_CMP_EQ");
  EXPECT_EQ(p.syscalls[2].args[1].index, 1u);
  EXPECT_EQ(p.syscalls[2].args[1].value, 255u);
  EXPECT_EQ(p.syscalls[2].args[1].value_two, 3u);
  EXPECT_EQ(p.syscalls[2].args[1].op, "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(p.syscalls[3].errno_ret, 1u);
}

TEST(SeccompParseTest, FullUint64ArgumentValues) {
  SeccompProfile p = Profile(WithRule(
      R"({"names": ["ioctl"], "action": "SCMP_ACT_ERRNO",
          "args": [{"index": 5, "value": 18446744073709551615,
                    "valueTwo": 9223372036854775808, "op": "SCMP_CMP_MASKED_EQ"}]})"));
  ASSERT_EQ(p.syscalls.size(), 1u);
  EXPECT_EQ(p.syscalls[0].args[0].index, 5u);
  EXPECT_EQ(p.syscalls[0].args[0].value, UINT64_MAX);
  EXPECT_EQ(p.syscalls[0].args[0].value_two, uint64_t{1} << 63);
}

TEST(SeccompParseTest, EveryActionOperatorArchitectureAndFlagIsAccepted) {
  for (const std::string& action : SupportedSeccompActions()) {
    if (action == "SCMP_ACT_NOTIFY") continue;  // not as the default
    EXPECT_EQ(Profile(R"({"defaultAction": ")" + action + R"("})").default_action, action);
  }
  for (const std::string& op : SupportedSeccompOperators()) {
    Profile(WithRule(
        R"({"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": ")" +
        op + R"("}]})"));
  }
  for (const std::string& arch : SupportedSeccompArchitectures()) {
    Profile(R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": [")" + arch + R"("]})");
  }
  for (const std::string& flag : KnownSeccompFlags()) {
    Profile(R"({"defaultAction": "SCMP_ACT_ALLOW", "flags": [")" + flag + R"("]})");
  }
}

TEST(SeccompParseTest, ErrnoRetDefaultsAreLeftToCompile) {
  SeccompProfile p = Profile(R"({"defaultAction": "SCMP_ACT_ERRNO",
      "syscalls": [{"names": ["read"], "action": "SCMP_ACT_TRACE"}]})");
  EXPECT_FALSE(p.default_errno_ret.has_value());
  EXPECT_FALSE(p.syscalls[0].errno_ret.has_value());
}

TEST(SeccompParseTest, TopLevelErrors) {
  EXPECT_EQ(ErrorOf("[]"), "linux.seccomp: expected object, got array");
  EXPECT_EQ(ErrorOf(R"({"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})"),
            "linux.seccomp.defaultAction: required field missing");
  EXPECT_EQ(ErrorOf(R"({"defaultAction": 1})"),
            "linux.seccomp.defaultAction: expected string, got number");
  EXPECT_EQ(ErrorOf(R"({"defaultAction": "SCMP_ACT_BOGUS"})"),
            "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_BOGUS\"");
  EXPECT_EQ(ErrorOf(R"({"defaultAction": "scmp_act_allow"})"),
            "linux.seccomp.defaultAction: unknown action \"scmp_act_allow\"");
  EXPECT_EQ(ErrorOf(R"({"defaultAction": "SCMP_ACT_NOTIFY"})"),
            "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as the default action");
  EXPECT_EQ(ErrorOf(R"({"syscalls": {}})"), "linux.seccomp.syscalls: expected array, got object");
}

TEST(SeccompParseTest, DefaultErrnoRetErrors) {
  EXPECT_EQ(ErrorOf(R"({"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1})"),
            "linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW does not take an errno return code");
  EXPECT_EQ(ErrorOf(R"({"defaultAction": "SCMP_ACT_KILL", "defaultErrnoRet": 1})"),
            "linux.seccomp.defaultErrnoRet: SCMP_ACT_KILL does not take an errno return code");
  EXPECT_EQ(ErrorOf(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1})"),
            "linux.seccomp.defaultErrnoRet: value -1 must not be negative");
  EXPECT_EQ(ErrorOf(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 65536})"),
            "linux.seccomp.defaultErrnoRet: value 65536 out of range (max 65535)");
  EXPECT_EQ(ErrorOf(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": "1"})"),
            "linux.seccomp.defaultErrnoRet: expected integer, got string");
}

TEST(SeccompParseTest, ArchitectureAndFlagErrors) {
  EXPECT_EQ(ErrorOf(R"({"defaultAction": "SCMP_ACT_ALLOW",
                        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"]})"),
            "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"");
  EXPECT_EQ(ErrorOf(R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": "SCMP_ARCH_X86"})"),
            "linux.seccomp.architectures: expected array, got string");
  EXPECT_EQ(
      ErrorOf(R"({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NOPE"]})"),
      "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_NOPE\"");
  // NEW_LISTENER and TSYNC_ESRCH are the runtime's business, not the profile's.
  EXPECT_EQ(
      ErrorOf(
          R"({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NEW_LISTENER"]})"),
      "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_NEW_LISTENER\"");
}

TEST(SeccompParseTest, ListenerErrors) {
  EXPECT_EQ(ErrorOf(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "x"})"),
            "linux.seccomp.listenerMetadata: must not be set without listenerPath");
  EXPECT_EQ(ErrorOf(WithRule(R"({"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"})")),
            "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
  EXPECT_EQ(ErrorOf(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": 3})"),
            "linux.seccomp.listenerPath: expected string, got number");
}

TEST(SeccompParseTest, RuleErrors) {
  EXPECT_EQ(ErrorOf(WithRule("[]")), "linux.seccomp.syscalls[0]: expected object, got array");
  EXPECT_EQ(ErrorOf(WithRule(R"({"names": ["read"]})")),
            "linux.seccomp.syscalls[0].action: required field missing");
  EXPECT_EQ(ErrorOf(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["read"], "action": "SCMP_ACT_ERRNO"},
                {"names": ["write"], "action": "SCMP_ACT_LOG"},
                {"names": ["open"], "action": "SCMP_ACT_FOO"}]})"),
            "linux.seccomp.syscalls[2].action: unknown action \"SCMP_ACT_FOO\"");
  EXPECT_EQ(ErrorOf(WithRule(R"({"action": "SCMP_ACT_ERRNO"})")),
            "linux.seccomp.syscalls[0].names: required field missing");
  EXPECT_EQ(ErrorOf(WithRule(R"({"names": [], "action": "SCMP_ACT_ERRNO"})")),
            "linux.seccomp.syscalls[0].names: must contain at least one syscall name");
  EXPECT_EQ(ErrorOf(WithRule(R"({"names": ["read", ""], "action": "SCMP_ACT_ERRNO"})")),
            "linux.seccomp.syscalls[0].names[1]: empty string is not a valid syscall");
  EXPECT_EQ(ErrorOf(WithRule(R"({"names": ["read", 7], "action": "SCMP_ACT_ERRNO"})")),
            "linux.seccomp.syscalls[0].names[1]: expected string, got number");
  EXPECT_EQ(ErrorOf(WithRule(R"({"names": ["read"], "action": "SCMP_ACT_KILL", "errnoRet": 1})")),
            "linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_KILL does not take an errno return code");
  EXPECT_EQ(ErrorOf(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/s",
                        "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_NOTIFY"}]})"),
            "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for the write "
            "syscall");
}

TEST(SeccompParseTest, ArgErrors) {
  auto arg_error = [](const std::string& arg) {
    return ErrorOf(
        WithRule(R"({"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [)" + arg + "]}"));
  };
  EXPECT_EQ(arg_error("1"), "linux.seccomp.syscalls[0].args[0]: expected object, got number");
  EXPECT_EQ(arg_error(R"({"value": 1, "op": "SCMP_CMP_EQ"})"),
            "linux.seccomp.syscalls[0].args[0].index: required field missing");
  EXPECT_EQ(arg_error(R"({"index": 6, "value": 1, "op": "SCMP_CMP_EQ"})"),
            "linux.seccomp.syscalls[0].args[0].index: syscall argument index 6 out of range (0-5)");
  EXPECT_EQ(arg_error(R"({"index": -1, "value": 1, "op": "SCMP_CMP_EQ"})"),
            "linux.seccomp.syscalls[0].args[0].index: value -1 must not be negative");
  EXPECT_EQ(arg_error(R"({"index": 0, "op": "SCMP_CMP_EQ"})"),
            "linux.seccomp.syscalls[0].args[0].value: required field missing");
  EXPECT_EQ(arg_error(R"({"index": 0, "value": -5, "op": "SCMP_CMP_EQ"})"),
            "linux.seccomp.syscalls[0].args[0].value: value -5 must not be negative");
  EXPECT_EQ(arg_error(R"({"index": 0, "value": 1, "valueTwo": "x", "op": "SCMP_CMP_EQ"})"),
            "linux.seccomp.syscalls[0].args[0].valueTwo: expected integer, got string");
  EXPECT_EQ(arg_error(R"({"index": 0, "value": 1})"),
            "linux.seccomp.syscalls[0].args[0].op: required field missing");
  EXPECT_EQ(arg_error(R"({"index": 0, "value": 1, "op": "SCMP_CMP_LIKE"})"),
            "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_LIKE\"");
}

}  // namespace
}  // namespace berth::runtime::security

#include "cgroups/device_rules.h"

#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <random>

#include "cgroups/tests/bpf_interpreter.h"
#include "cgroups/v2/device_program.h"

namespace berth::cgroups {
namespace {

DeviceRule Rule(bool allow, char type, std::optional<int64_t> major, std::optional<int64_t> minor,
                std::string access) {
  return DeviceRule{allow, type, major, minor, std::move(access)};
}

// runc's default for a container: deny all, then its allowed devices.
std::vector<DeviceRule> RuncDefault() {
  std::vector<DeviceRule> rules = {Rule(false, 'a', std::nullopt, std::nullopt, "rwm")};
  for (const DeviceRule& d : RuncDefaultAllowedDevices())
    rules.push_back(d);
  return rules;
}

std::vector<std::string> Strings(const std::vector<DeviceRule>& rules) {
  std::vector<std::string> out;
  out.reserve(rules.size());
  for (const DeviceRule& r : rules)
    out.push_back((r.allow ? "allow " : "deny ") + DeviceRuleString(r));
  return out;
}

TEST(DeviceRuleStringTest, Syntax) {
  EXPECT_EQ(DeviceRuleString(Rule(true, 'c', 1, 3, "rw")), "c 1:3 rw");
  EXPECT_EQ(DeviceRuleString(Rule(true, 'b', std::nullopt, std::nullopt, "")), "b *:* rwm");
  EXPECT_EQ(DeviceRuleString(Rule(false, 'a', 4, 4, "r")), "a *:* r");
  EXPECT_EQ(DeviceRuleString(Rule(true, 'c', 136, std::nullopt, "mwr")), "c 136:* rwm");
}

// From a fresh v1 cgroup ("a *:* rwm"), runc writes "deny a" and then the
// allow exceptions sorted by (major, minor, type): the devices.list this host
// shows for a runc container.
TEST(DeviceEmulatorTest, TransitionFromFreshCgroupMatchesRunc) {
  auto current = DeviceEmulator::FromList("a *:* rwm\n");
  ASSERT_TRUE(current.ok());
  EXPECT_TRUE(current->default_allow());
  auto target = DeviceEmulator::FromRules(RuncDefault());
  ASSERT_TRUE(target.ok()) << target.error().str();
  EXPECT_FALSE(target->default_allow());
  std::vector<std::string> want = {"deny a *:* rwm",  "allow b *:* m",      "allow c *:* m",
                                   "allow c 1:3 rwm", "allow c 1:5 rwm",    "allow c 1:7 rwm",
                                   "allow c 1:8 rwm", "allow c 1:9 rwm",    "allow c 5:0 rwm",
                                   "allow c 5:2 rwm", "allow c 10:200 rwm", "allow c 136:* rwm"};
  EXPECT_EQ(Strings(current->Transition(*target)), want);
}

// The devices.list of a runc container on this host, read back, equals the
// emulated target; an update then writes only the difference.
TEST(DeviceEmulatorTest, ReadBackAndMinimalUpdate) {
  auto listed = DeviceEmulator::FromList(
      "b *:* m\nc *:* m\nc 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\nc 5:0 rwm\n"
      "c 5:2 rwm\nc 10:200 rwm\nc 136:* rwm\n");
  ASSERT_TRUE(listed.ok()) << listed.error().str();
  auto target = DeviceEmulator::FromRules(RuncDefault());
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(*listed, *target);
  EXPECT_TRUE(listed->Transition(*target).empty());

  std::vector<DeviceRule> update = RuncDefault();
  update.push_back(Rule(false, 'c', 10, 200, "w"));  // tun: read-only now
  update.push_back(Rule(true, 'c', 4, 64, "rw"));    // ttyS0
  auto next = DeviceEmulator::FromRules(update);
  ASSERT_TRUE(next.ok());
  std::vector<std::string> want = {"deny c 10:200 w", "allow c 4:64 rw"};
  EXPECT_EQ(Strings(listed->Transition(*next)), want);
}

TEST(DeviceEmulatorTest, DenyListMode) {
  auto e = DeviceEmulator::FromRules(
      {Rule(true, 'a', std::nullopt, std::nullopt, "rwm"), Rule(false, 'c', 1, 3, "w")});
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->default_allow());
  EXPECT_FALSE(e->Allows('c', 1, 3, kAccWrite));
  EXPECT_FALSE(e->Allows('c', 1, 3, kAccRead | kAccWrite));  // any overlap denies
  EXPECT_TRUE(e->Allows('c', 1, 3, kAccRead));
  EXPECT_TRUE(e->Allows('b', 8, 0, kAccAll));
  // A deny list's exceptions are invisible in devices.list: the transition
  // from it always restarts with the wildcard.
  auto back = DeviceEmulator::FromRules(RuncDefault());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(Strings(e->Transition(*back)).front(), "deny a *:* rwm");
}

TEST(DeviceEmulatorTest, AllowListSemantics) {
  auto e = DeviceEmulator::FromRules(RuncDefault());
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->Allows('c', 1, 3, kAccRead | kAccWrite));
  EXPECT_TRUE(e->Allows('c', 136, 7, kAccAll));
  EXPECT_TRUE(e->Allows('b', 8, 0, kAccMknod));
  EXPECT_FALSE(e->Allows('b', 8, 0, kAccRead));
  EXPECT_FALSE(e->Allows('c', 1, 4, kAccRead));
  // The list needs no leading wildcard: a fresh emulator denies everything.
  auto bare = DeviceEmulator::FromRules({Rule(true, 'c', 1, 3, "r")});
  ASSERT_TRUE(bare.ok());
  EXPECT_FALSE(bare->default_allow());
  EXPECT_TRUE(bare->Allows('c', 1, 3, kAccRead));
  EXPECT_FALSE(bare->Allows('c', 1, 3, kAccRead | kAccWrite));  // needs one covering rule
}

TEST(DeviceEmulatorTest, LaterRulesOverrideEarlier) {
  auto e = DeviceEmulator::FromRules({Rule(true, 'c', 1, 3, "rwm"), Rule(false, 'c', 1, 3, "w")});
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->Allows('c', 1, 3, kAccRead));
  EXPECT_FALSE(e->Allows('c', 1, 3, kAccWrite));
  EXPECT_FALSE(e->Allows('c', 1, 3, kAccRead | kAccWrite));
  auto reset = DeviceEmulator::FromRules(
      {Rule(true, 'c', 1, 3, "rwm"), Rule(false, 'a', std::nullopt, std::nullopt, "")});
  ASSERT_TRUE(reset.ok());
  EXPECT_TRUE(reset->Exceptions().empty());
}

TEST(DeviceEmulatorTest, RefusesHolesInWildcards) {
  auto e = DeviceEmulator::FromRules(
      {Rule(true, 'c', std::nullopt, std::nullopt, "rw"), Rule(false, 'c', 1, 3, "w")});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().str().find("cannot punch a hole in the wildcard rule \"c *:* rw\""),
            std::string::npos)
      << e.error().str();
  // A removal the wildcard does not overlap is fine.
  EXPECT_TRUE(DeviceEmulator::FromRules(
                  {Rule(true, 'c', std::nullopt, std::nullopt, "m"), Rule(false, 'c', 1, 3, "w")})
                  .ok());
}

TEST(DeviceEmulatorTest, MalformedList) {
  EXPECT_FALSE(DeviceEmulator::FromList("c 1 rwm\n").ok());
  EXPECT_FALSE(DeviceEmulator::FromList("x 1:3 rwm\n").ok());
  EXPECT_FALSE(DeviceEmulator::FromList("c 1:3 rwx\n").ok());
}

// ---- the BPF program ----

uint32_t Ctx(char type, uint8_t access) {
  uint32_t t = type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
  return t | (static_cast<uint32_t>(access) << 16);
}

bool ProgramAllows(const v2::BpfProgram& prog, char type, uint32_t major, uint32_t minor,
                   uint8_t access) {
  testing::BpfRun run = testing::RunDeviceProgram(prog, Ctx(type, access), major, minor);
  EXPECT_TRUE(run.ok) << run.error;
  return run.r0 == 1;
}

TEST(DeviceProgramTest, RuncDefault) {
  auto e = DeviceEmulator::FromRules(RuncDefault());
  ASSERT_TRUE(e.ok());
  auto prog = v2::DeviceProgram(*e);
  ASSERT_TRUE(prog.ok()) << prog.error().str();
  EXPECT_TRUE(ProgramAllows(*prog, 'c', 1, 3, kAccWrite));               // /dev/null
  EXPECT_TRUE(ProgramAllows(*prog, 'c', 136, 0, kAccRead | kAccWrite));  // a pty
  EXPECT_TRUE(ProgramAllows(*prog, 'b', 8, 0, kAccMknod));
  EXPECT_FALSE(ProgramAllows(*prog, 'b', 8, 0, kAccRead));
  EXPECT_FALSE(ProgramAllows(*prog, 'c', 1, 1, kAccRead));  // /dev/mem
  // Ends with the default verdict.
  EXPECT_EQ(prog->back().code, BPF_JMP | BPF_EXIT);
  EXPECT_EQ((*prog)[prog->size() - 2].imm, 0);
}

TEST(DeviceProgramTest, EmptyAllowListDeniesAllAndAllowAllAllowsAll) {
  DeviceEmulator deny;
  auto p = v2::DeviceProgram(deny);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(ProgramAllows(*p, 'c', 1, 3, kAccRead));
  auto allow = DeviceEmulator::FromRules({Rule(true, 'a', std::nullopt, std::nullopt, "rwm")});
  ASSERT_TRUE(allow.ok());
  auto q = v2::DeviceProgram(*allow);
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(ProgramAllows(*q, 'b', 259, 1, kAccAll));
}

// Property: for random rule lists and random accesses, the program and the
// emulator (the kernel's v1 semantics) agree.
TEST(DeviceProgramTest, AgreesWithTheEmulator) {
  std::mt19937 rng(12345);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const char* accesses[] = {"r", "w", "m", "rw", "rm", "wm", "rwm", ""};
  int programs = 0;
  for (int round = 0; round < 400; ++round) {
    std::vector<DeviceRule> rules;
    int n = pick(8);
    for (int i = 0; i < n; ++i) {
      DeviceRule r;
      r.allow = pick(2) == 0;
      r.type = "abcc"[pick(4)];
      if (pick(3) != 0) r.major = pick(4);
      if (pick(3) != 0) r.minor = pick(4);
      r.access = accesses[pick(8)];
      rules.push_back(r);
    }
    auto e = DeviceEmulator::FromRules(rules);
    if (!e.ok()) continue;  // a refused hole punch
    auto prog = v2::DeviceProgram(*e);
    ASSERT_TRUE(prog.ok());
    ++programs;
    for (char type : {'b', 'c'}) {
      for (uint32_t major = 0; major < 5; ++major) {
        for (uint32_t minor = 0; minor < 5; ++minor) {
          for (uint8_t access = 1; access <= kAccAll; ++access) {
            ASSERT_EQ(ProgramAllows(*prog, type, major, minor, access),
                      e->Allows(type, major, minor, access))
                << "round " << round << " " << type << " " << major << ":" << minor << " access "
                << int(access);
          }
        }
      }
    }
  }
  EXPECT_GT(programs, 200);
}

}  // namespace
}  // namespace berth::cgroups

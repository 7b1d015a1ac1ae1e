// rlimits and oom_score_adj applied for real, in forked children, including
// the clamping when CAP_SYS_RESOURCE is missing.

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/file.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/testing/testkit.h"
#include "runtime/oci/security/rlimits.h"
#include "runtime/oci/security/tests/child.h"

namespace berth::runtime::security {
namespace {

using testing::Complain;
using testing::Fail;
using testing::RunInChild;

class RlimitsPrivTest : public ::testing::Test {
 protected:
  void SetUp() override { BERTH_REQUIRE(::berth::testing::IsRoot(), "root"); }
};

bool HostHasCapSysResource() {
  auto status = ReadFile("/proc/self/status");
  if (!status) return false;
  for (const std::string& line : Split(*status, '\n')) {
    if (line.rfind("CapBnd:", 0) != 0) continue;
    auto mask = ParseInt<uint64_t>(line.substr(7), "CapBnd", 16);
    return mask.ok() && (*mask >> CAP_SYS_RESOURCE) & 1;
  }
  return false;
}

// Child side: takes CAP_SYS_RESOURCE out of the effective set, so that the
// clamping paths run on any host (this one lacks it anyway).
int DropCapSysResource(int fd) {
  cap_t caps = cap_get_proc();
  cap_value_t resource = CAP_SYS_RESOURCE;
  cap_set_flag(caps, CAP_EFFECTIVE, 1, &resource, CAP_CLEAR);
  int rc = cap_set_proc(caps);
  cap_free(caps);
  return rc == 0 ? 0 : Fail(fd, "cap_set_proc");
}

Rlimit Limit(int resource, uint64_t soft, uint64_t hard) {
  return {resource, RlimitName(resource), soft, hard};
}

TEST_F(RlimitsPrivTest, HostRefusesRaisingTheHardLimit) {
  BERTH_REQUIRE(!HostHasCapSysResource(), "a host without CAP_SYS_RESOURCE (see ARCHITECTURE.md)");
  auto outcome = RunInChild([&](int fd) {
    rlimit cur{};
    getrlimit(RLIMIT_NOFILE, &cur);
    rlimit raised{cur.rlim_cur, cur.rlim_max + 1};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return Complain(fd, "raise succeeded");
    return errno == EPERM ? 0 : Fail(fd, "setrlimit");
  });
  EXPECT_TRUE(outcome.ok()) << outcome.Describe();
}

TEST_F(RlimitsPrivTest, SetsNofile) {
  auto outcome = RunInChild([&](int fd) {
    std::vector<std::string> warnings;
    Status s =
        ApplyRlimits({Limit(RLIMIT_NOFILE, 512, 1024), Limit(RLIMIT_CORE, 0, 0)}, 0, &warnings);
    if (!s) return Complain(fd, s.error().str());
    if (!warnings.empty()) return Complain(fd, warnings[0]);
    rlimit got{};
    getrlimit(RLIMIT_NOFILE, &got);
    if (got.rlim_cur != 512 || got.rlim_max != 1024) return Complain(fd, "NOFILE not applied");
    getrlimit(RLIMIT_CORE, &got);
    return got.rlim_cur == 0 && got.rlim_max == 0 ? 0 : Complain(fd, "CORE not applied");
  });
  EXPECT_TRUE(outcome.ok()) << outcome.Describe();
}

TEST_F(RlimitsPrivTest, RaisingTheHardLimitIsClampedWithAWarning) {
  auto outcome = RunInChild([&](int fd) {
    if (DropCapSysResource(fd) != 0) return 1;
    rlimit before{};
    getrlimit(RLIMIT_NOFILE, &before);
    std::vector<std::string> warnings;
    uint64_t wanted = before.rlim_max + 1000;
    Status s = ApplyRlimits({Limit(RLIMIT_NOFILE, wanted, wanted)}, 0, &warnings);
    if (!s) return Complain(fd, s.error().str());
    if (warnings.size() != 1) return Complain(fd, "want one warning");
    Complain(fd, warnings[0]);
    if (warnings[0].find("RLIMIT_NOFILE") == std::string::npos) return 1;
    rlimit after{};
    getrlimit(RLIMIT_NOFILE, &after);
    // Hard kept, soft = min(soft, hard).
    return after.rlim_max == before.rlim_max && after.rlim_cur == before.rlim_max ? 0 : 2;
  });
  EXPECT_TRUE(outcome.ok()) << outcome.Describe();
  EXPECT_NE(outcome.output.find("needs CAP_SYS_RESOURCE"), std::string::npos) << outcome.output;
}

TEST_F(RlimitsPrivTest, ClampKeepsALowerSoftLimit) {
  auto outcome = RunInChild([&](int fd) {
    if (DropCapSysResource(fd) != 0) return 1;
    rlimit before{};
    getrlimit(RLIMIT_NOFILE, &before);
    std::vector<std::string> warnings;
    Status s = ApplyRlimits({Limit(RLIMIT_NOFILE, 100, RLIM_INFINITY)}, 0, &warnings);
    if (!s) return Complain(fd, s.error().str());
    rlimit after{};
    getrlimit(RLIMIT_NOFILE, &after);
    if (warnings.size() != 1) return Complain(fd, "want one warning");
    return after.rlim_cur == 100 && after.rlim_max == before.rlim_max ? 0 : Complain(fd, "limits");
  });
  EXPECT_TRUE(outcome.ok()) << outcome.Describe();
}

TEST_F(RlimitsPrivTest, AppliesToAnotherProcess) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    pause();
    _exit(0);
  }
  ChildGuard guard(pid);  // SIGKILLed and reaped on exit
  std::vector<std::string> warnings;
  Status s = ApplyRlimits({Limit(RLIMIT_NOFILE, 256, 512)}, pid, &warnings);
  ASSERT_TRUE(s.ok()) << s.error().str();
  auto limits = ReadFile("/proc/" + std::to_string(pid) + "/limits");
  ASSERT_TRUE(limits.ok());
  bool found = false;
  for (const std::string& line : Split(*limits, '\n')) {
    if (line.rfind("Max open files", 0) != 0) continue;
    found = true;
    EXPECT_EQ(SplitNonEmpty(line, ' ')[3], "256") << line;
    EXPECT_EQ(SplitNonEmpty(line, ' ')[4], "512") << line;
  }
  EXPECT_TRUE(found);
}

TEST_F(RlimitsPrivTest, OtherErrorsNameTheLimit) {
  std::vector<std::string> warnings;
  Status s = ApplyRlimits({Limit(RLIMIT_NOFILE, 1, 1)}, 999999999, &warnings);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().str(), "prlimit `RLIMIT_NOFILE of pid 999999999`: No such process");
  Status oom = ApplyOomScoreAdj(0, 999999999, &warnings);
  ASSERT_FALSE(oom.ok());
  EXPECT_EQ(oom.error().str(), "open `/proc/999999999/oom_score_adj`: No such file or directory");
}

Result<int> OomScoreAdj() {
  std::string text = BERTH_TRY(ReadFile("/proc/self/oom_score_adj"));
  return ParseInt<int>(text, "oom_score_adj");
}

TEST_F(RlimitsPrivTest, OomScoreAdjLoweringIsClampedWithAWarning) {
  auto outcome = RunInChild([&](int fd) {
    if (DropCapSysResource(fd) != 0) return 1;
    std::vector<std::string> warnings;
    // Raising is always allowed.
    if (Status s = ApplyOomScoreAdj(500, 0, &warnings); !s) return Complain(fd, s.error().str());
    if (OomScoreAdj().value_or(0) != 500 || !warnings.empty()) return Complain(fd, "raise");
    // Lowering below the floor is not: the current value stays.
    if (Status s = ApplyOomScoreAdj(-1000, 0, &warnings); !s) return Complain(fd, s.error().str());
    if (warnings.size() != 1) return Complain(fd, "want one warning");
    Complain(fd, warnings[0]);
    return OomScoreAdj().value_or(0) == 500 ? 0 : 2;
  });
  EXPECT_TRUE(outcome.ok()) << outcome.Describe();
  EXPECT_NE(outcome.output.find("kept 500"), std::string::npos) << outcome.output;
}

TEST_F(RlimitsPrivTest, OomScoreAdjOnThisHostWithoutCapSysResource) {
  BERTH_REQUIRE(!HostHasCapSysResource(), "a host without CAP_SYS_RESOURCE (see ARCHITECTURE.md)");
  // No capability games: the host itself refuses the lowering.
  auto outcome = RunInChild([&](int fd) {
    std::vector<std::string> warnings;
    int before = OomScoreAdj().value_or(0);
    if (Status s = ApplyOomScoreAdj(-1000, 0, &warnings); !s) return Complain(fd, s.error().str());
    if (warnings.size() != 1) return Complain(fd, "want one warning");
    return OomScoreAdj().value_or(0) == before ? 0 : 2;
  });
  EXPECT_TRUE(outcome.ok()) << outcome.Describe();
}

}  // namespace
}  // namespace berth::runtime::security

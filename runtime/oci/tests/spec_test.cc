#include "runtime/oci/spec.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::runtime::oci {
namespace {

constexpr const char* kMinimal = R"({
  "ociVersion": "1.1.0",
  "root": {"path": "rootfs", "readonly": true},
  "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 1, "gid": 2, "additionalGids": [3]},
              "env": ["PATH=/bin"], "noNewPrivileges": true, "oomScoreAdj": 100},
  "hostname": "h",
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
  "hooks": {"poststop": [{"path": "/bin/true", "args": ["true"], "timeout": 5}]},
  "annotations": {"a": "b"},
  "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"},
                           {"type": "network", "path": "/proc/self/ns/net"}],
            "cgroupsPath": "x/y",
            "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438}],
            "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"],
            "sysctl": {"net.ipv4.ip_forward": "1"}}
})";

std::string WithPatch(const std::string& from, const std::string& to) {
  std::string s = kMinimal;
  size_t pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return s.replace(pos, from.size(), to);
}

TEST(Spec, ParsesTheFieldsTheRuntimeUses) {
  auto spec = ParseSpec(kMinimal);
  ASSERT_TRUE(spec.ok()) << spec.error().str();
  EXPECT_EQ(spec->root_path, "rootfs");
  EXPECT_TRUE(spec->root_readonly);
  EXPECT_EQ(spec->process->user.additional_gids, std::vector<uint32_t>{3});
  EXPECT_EQ(spec->process->oom_score_adj, 100);
  EXPECT_TRUE(spec->linux_config.CreatesNew(ns::Kind::kPid));
  EXPECT_FALSE(spec->linux_config.CreatesNew(ns::Kind::kNetwork));
  EXPECT_TRUE(spec->linux_config.Has(ns::Kind::kNetwork));
  EXPECT_EQ(spec->linux_config.devices[0].file_mode, 0666u);
  EXPECT_EQ(spec->hooks.poststop[0].timeout, 5);
  EXPECT_EQ(spec->annotations[0], (std::pair<std::string, std::string>{"a", "b"}));
}

TEST(Spec, ErrorsNameTheField) {
  struct Case {
    std::string from, to, want;
  } cases[] = {
      {R"({"type": "uts"})", R"({"type": "utz"})",
       "linux.namespaces[2].type: unknown namespace type \"utz\""},
      {R"("args": ["sh"])", R"("args": "sh")", "process.args: expected array, got string"},
      {R"("uid": 1)", R"("uid": -1)", "process.user.uid: value -1 must not be negative"},
      {R"("type": "c")", R"("type": "x")", "linux.devices[0].type: unknown device type \"x\""},
      {R"("timeout": 5)", R"("timeout": 0)", "hooks.poststop[0].timeout: must be positive"},
      {R"({"type": "pid"})", R"({"type": "pid"}, {"type": "pid"})",
       "duplicate namespace type \"pid\""},
      {R"("ociVersion": "1.1.0",)", "", "ociVersion: required field missing"},
  };
  for (const Case& c : cases) {
    auto spec = ParseSpec(WithPatch(c.from, c.to));
    ASSERT_FALSE(spec.ok()) << c.want;
    EXPECT_NE(spec.error().str().find(c.want), std::string::npos) << spec.error().str();
    EXPECT_EQ(spec.error().str().rfind("config.json: ", 0), 0u) << spec.error().str();
  }
}

TEST(Spec, UnsupportedSecurityFeaturesAreRefusedByName) {
  auto rdt =
      ParseSpec(WithPatch(R"("cgroupsPath": "x/y",)", R"("cgroupsPath": "x/y", "intelRdt": {},)"));
  ASSERT_FALSE(rdt.ok());
  EXPECT_NE(rdt.error().str().find("linux.intelRdt: not supported by berth"), std::string::npos);
  auto aa = ParseSpec(WithPatch(R"("noNewPrivileges": true)",
                                R"("noNewPrivileges": true, "apparmorProfile": "p")"));
  ASSERT_TRUE(aa.ok());
  Status s = ValidateProcess(*aa->process, "process");
  EXPECT_EQ(s.error().str(), "process.apparmorProfile: AppArmor is not supported by berth");
}

TEST(Spec, MalformedJsonNamesTheLine) {
  auto spec = ParseSpec("{\n\"ociVersion\": \"1\",\n\"root\" {}\n}", "/b/config.json");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().str().find("/b/config.json: invalid JSON at line 3"), std::string::npos)
      << spec.error().str();
}

class ValidateTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(MkdirAll(bundle_ / "rootfs").ok()); }
  Status Check(const std::string& json) {
    auto spec = ParseSpec(json);
    if (!spec.ok()) return std::move(spec).error();
    return Validate(*spec, bundle_.path());
  }
  testing::TempDir bundle_;
};

TEST_F(ValidateTest, MinimalIsValid) {
  EXPECT_TRUE(Check(kMinimal).ok()) << Check(kMinimal).error().str();
}

TEST_F(ValidateTest, SemanticRules) {
  struct Case {
    std::string from, to, want;
  } cases[] = {
      {R"("path": "rootfs")", R"("path": "nope")", "root.path: rootfs `"},
      {R"("args": ["sh"])", R"("args": [])", "process.args: must not be empty"},
      {R"("cwd": "/")", R"("cwd": "tmp")", "process.cwd: must be an absolute path"},
      {R"({"type": "uts"},)", "", "hostname: setting the hostname needs a private UTS namespace"},
      {R"("net.ipv4.ip_forward": "1")", R"("vm.swappiness": "1")",
       "linux.sysctl.vm.swappiness: sysctl is not in a separate kernel namespace"},
      {R"({"type": "mount"},)", "", "linux.namespaces: a mount namespace is required"},
      {R"("/proc/self/ns/net")", R"("/nonexistent/net")",
       "linux.namespaces[3].path: namespace path `/nonexistent/net` does not exist"},
      {R"({"type": "pid"},)", R"({"type": "pid"}, {"type": "user"},)",
       "linux.uidMappings: a new user namespace needs uid mappings"},
  };
  for (const Case& c : cases) {
    Status s = Check(WithPatch(c.from, c.to));
    ASSERT_FALSE(s.ok()) << c.want;
    EXPECT_NE(s.error().str().find(c.want), std::string::npos) << s.error().str();
  }
}

TEST_F(ValidateTest, MissingProcessIsAnError) {
  std::string s = kMinimal;
  size_t begin = s.find("\"process\"");
  size_t end = s.find("\"hostname\"");
  s.erase(begin, end - begin);
  EXPECT_EQ(Check(s).error().str(), "process: required field missing");
}

}  // namespace
}  // namespace berth::runtime::oci

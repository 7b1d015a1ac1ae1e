#include "runtime/oci/state.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "runtime/oci/device_rules.h"

namespace berth::runtime::oci {
namespace {

TEST(State, IdsFollowRuncRules) {
  EXPECT_TRUE(ValidateId("web-1_a.b+c").ok());
  EXPECT_FALSE(ValidateId("").ok());
  EXPECT_FALSE(ValidateId("..").ok());
  EXPECT_FALSE(ValidateId("a/b").ok());
  EXPECT_EQ(ValidateId("a b").error().str(), "invalid container ID format: a b");
}

TEST(State, DuplicateIdAndMissingContainer) {
  testing::TempDir root;
  ASSERT_TRUE(StateDir::Create(root.path(), "c1").ok());
  auto dup = StateDir::Create(root.path(), "c1");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().str(), "container with given ID already exists");
  auto missing = StateDir::Open(root.path(), "nope");
  EXPECT_EQ(missing.error().str(), "container does not exist");
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
}

TEST(State, SaveLoadRoundTripAndStatus) {
  testing::TempDir root;
  auto dir = StateDir::Create(root.path(), "c1");
  ASSERT_TRUE(dir.ok());
  ContainerState s;
  s.id = "c1";
  s.bundle = "/b";
  s.rootfs = "/b/rootfs";
  s.created = "2025-01-01T00:00:00Z";
  s.pid = getpid();
  s.pid_start_time = *ProcessStartTime(getpid());
  s.annotations = {{"k", "v"}};
  s.own_namespaces = {"pid", "mount"};
  ASSERT_TRUE(dir->Save(s).ok());
  auto loaded = dir->Load();
  ASSERT_TRUE(loaded.ok()) << loaded.error().str();
  EXPECT_EQ(loaded->pid, s.pid);
  EXPECT_TRUE(loaded->OwnsNamespace(ns::Kind::kPid));
  EXPECT_FALSE(loaded->OwnsNamespace(ns::Kind::kNetwork));
  // Alive and no exec fifo: running. A different start time: a reused pid.
  EXPECT_EQ(ComputeStatus(*loaded, *dir), ContainerStatus::kRunning);
  ASSERT_TRUE(WriteFile(dir->FifoPath(), "").ok());
  EXPECT_EQ(ComputeStatus(*loaded, *dir), ContainerStatus::kCreated);
  loaded->pid_start_time += 1;
  EXPECT_EQ(ComputeStatus(*loaded, *dir), ContainerStatus::kStopped);
}

TEST(State, RuncStateJsonFieldOrder) {
  ContainerState s;
  s.id = "c1";
  s.pid = 42;
  s.bundle = "/b";
  s.rootfs = "/b/rootfs";
  s.created = "T";
  std::string out = RuncStateJson(s, ContainerStatus::kStopped, "", true);
  EXPECT_EQ(out,
            "{\n  \"ociVersion\": \"1.1.0\",\n  \"id\": \"c1\",\n  \"pid\": 0,\n  \"status\": "
            "\"stopped\",\n"
            "  \"bundle\": \"/b\",\n  \"rootfs\": \"/b/rootfs\",\n  \"created\": \"T\",\n  "
            "\"owner\": \"\"\n}");
  auto oci = boost::json::parse(OciStateJson(s, ContainerStatus::kRunning)).as_object();
  EXPECT_EQ(oci.at("pid").as_int64(), 42);
  EXPECT_EQ(oci.at("status").as_string(), "running");
}

TEST(DeviceRules, RuncDefaultsFollowSpecRules) {
  Spec spec;
  cgroups::DeviceRule deny;
  deny.allow = false;
  deny.access = "rwm";
  spec.linux_config.resources.devices.push_back(deny);
  Device fuse;
  fuse.path = "/dev/fuse";
  fuse.major = 10;
  fuse.minor = 229;
  spec.linux_config.devices.push_back(fuse);
  auto rules = EffectiveResources(spec).devices;
  ASSERT_EQ(rules.size(), 1u + 1u + 11u);
  EXPECT_FALSE(rules[0].allow);
  EXPECT_TRUE(rules[1].allow);
  EXPECT_EQ(rules[1].major, 10);
  EXPECT_EQ(rules[1].minor, 229);
  EXPECT_EQ(rules[2].access, "m");
  EXPECT_FALSE(rules[2].major.has_value());
  // No rules: the cgroup already allows everything; nothing is added.
  EXPECT_TRUE(EffectiveResources(Spec{}).devices.empty());
}

}  // namespace
}  // namespace berth::runtime::oci

#include <gtest/gtest.h>

#include "cgroups/cgroups.h"

namespace berth::cgroups {
namespace {

TEST(PlacementJsonTest, RoundTrip) {
  Placement p;
  p.mode = Mode::kHybrid;
  p.paths = {{"memory", "/sys/fs/cgroup/memory/a/c"}, {"unified", "/sys/fs/cgroup/unified/a/c"}};
  p.relative = {{"memory", "/a/c"}, {"unified", "/a/c"}};
  p.roots = {{"memory", "/sys/fs/cgroup/memory/a"}, {"unified", "/sys/fs/cgroup/unified/a"}};
  std::string json = PlacementToJson(p);
  EXPECT_EQ(json, R"({"mode":"hybrid","paths":{"memory":"/sys/fs/cgroup/memory/a/c",)"
                  R"("unified":"/sys/fs/cgroup/unified/a/c"},"relative":{"memory":"/a/c",)"
                  R"("unified":"/a/c"},"roots":{"memory":"/sys/fs/cgroup/memory/a",)"
                  R"("unified":"/sys/fs/cgroup/unified/a"}})");
  Result<Placement> back = PlacementFromJson(json);
  ASSERT_TRUE(back.ok()) << back.error().str();
  EXPECT_EQ(back->mode, p.mode);
  EXPECT_EQ(back->paths, p.paths);
  EXPECT_EQ(back->relative, p.relative);
  EXPECT_EQ(back->roots, p.roots);
}

TEST(PlacementJsonTest, Errors) {
  EXPECT_FALSE(PlacementFromJson("{").ok());
  EXPECT_FALSE(PlacementFromJson(R"({"mode":"v9","paths":{"unified":"/x"}})").ok());
  EXPECT_FALSE(PlacementFromJson(R"({"mode":"v2","paths":{}})").ok());
  Result<Placement> noroot = PlacementFromJson(R"({"mode":"v2","paths":{"unified":"/x/y"}})");
  ASSERT_FALSE(noroot.ok());
  EXPECT_NE(noroot.error().str().find("no berth root"), std::string::npos);
  Result<Placement> type = PlacementFromJson(R"({"mode":"v2","paths":{"unified":5}})");
  ASSERT_FALSE(type.ok());
  EXPECT_EQ(type.error().str(), "cgroupPlacement.paths.unified: expected string, got number");
}

// Open refuses a placement that points outside its berth root.
TEST(PlacementJsonTest, OpenChecksConfinement) {
  Placement p;
  p.mode = Mode::kV2;
  p.paths = {{"unified", "/sys/fs/cgroup/other"}};
  p.roots = {{"unified", "/sys/fs/cgroup/berth"}};
  Result<DriverPtr> d = Open(p);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().str().find("strictly below the berth root"), std::string::npos);
  p.mode = Mode::kV1;
  p.paths = {{"memory", "/sys/fs/cgroup/memory/berth"}};
  p.roots = {{"memory", "/sys/fs/cgroup/memory/berth"}};
  EXPECT_FALSE(Open(p).ok());
  p.paths = {{"memory", "/sys/fs/cgroup/memory/berth/../../x"}};
  EXPECT_FALSE(Open(p).ok());
}

}  // namespace
}  // namespace berth::cgroups

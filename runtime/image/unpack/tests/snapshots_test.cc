#include "runtime/image/unpack/snapshots.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "runtime/image/manifest.h"

namespace berth::image {
namespace {

Digest Id(const std::string& seed) {
  return Sha256Of(seed);
}

// An ApplyFn writing one file named after the layer and recording calls.
Snapshots::ApplyFn Writer(const std::string& name, int* calls,
                          std::vector<std::string>* lowers_seen = nullptr) {
  return [=](const std::string& dir, const std::vector<std::string>& lowers) -> Status {
    ++*calls;
    if (lowers_seen != nullptr) *lowers_seen = lowers;
    return WriteFile(dir + "/" + name, std::string(10000, 'x'));
  };
}

std::vector<std::string> Entries(const std::string& dir) {
  Result<std::vector<std::string>> names = ListDir(dir);
  if (!names.ok()) return {};
  std::sort(names->begin(), names->end());
  return *names;
}

TEST(Snapshots, EnsureCreatesOnceThenReturnsTheCommittedSnapshot) {
  berth::testing::TempDir tmp("berth-snap");
  Snapshots snaps(tmp / "snapshots");
  Digest a = Id("a");
  int calls = 0;
  Result<std::string> dir = snaps.Ensure(a, {}, Writer("a", &calls));
  ASSERT_TRUE(dir.ok()) << dir.error().str();
  EXPECT_EQ(*dir, tmp / ("snapshots/" + a.hex() + "/fs"));
  EXPECT_EQ(*dir, snaps.Dir(a));
  EXPECT_TRUE(PathExists(*dir + "/a"));
  EXPECT_EQ(calls, 1);

  dir = snaps.Ensure(a, {}, Writer("a", &calls));
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(Entries(snaps.root()), std::vector<std::string>{a.hex()});
  EXPECT_EQ(Entries(snaps.root() + "/" + a.hex()),
            (std::vector<std::string>{"fs", "snapshot.json"}));

  Result<SnapshotInfo> info = snaps.Stat(a);
  ASSERT_TRUE(info.ok()) << info.error().str();
  EXPECT_EQ(info->chain_id, a);
  EXPECT_TRUE(info->parent.empty());
  EXPECT_GE(info->size, 10000u);
  EXPECT_EQ(info->inodes, 1u);
}

TEST(Snapshots, ChildrenSeeTheirParentsTopMostFirst) {
  berth::testing::TempDir tmp("berth-snap");
  Snapshots snaps(tmp.path());
  std::vector<Digest> chain = ChainIds({Id("l0"), Id("l1"), Id("l2")});
  int calls = 0;
  std::vector<std::string> seen;
  ASSERT_TRUE(snaps.Ensure(chain[0], {}, Writer("0", &calls, &seen)).ok());
  EXPECT_TRUE(seen.empty());
  ASSERT_TRUE(snaps.Ensure(chain[1], chain[0], Writer("1", &calls, &seen)).ok());
  EXPECT_EQ(seen, std::vector<std::string>{snaps.Dir(chain[0])});
  ASSERT_TRUE(snaps.Ensure(chain[2], chain[1], Writer("2", &calls, &seen)).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{snaps.Dir(chain[1]), snaps.Dir(chain[0])}));

  Result<std::vector<std::string>> lowers = snaps.LowerDirs(chain[2]);
  ASSERT_TRUE(lowers.ok());
  EXPECT_EQ(*lowers, (std::vector<std::string>{snaps.Dir(chain[2]), snaps.Dir(chain[1]),
                                               snaps.Dir(chain[0])}));
  Result<std::vector<SnapshotInfo>> all = snaps.List();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
}

TEST(Snapshots, MissingParentIsNotFound) {
  berth::testing::TempDir tmp("berth-snap");
  Snapshots snaps(tmp.path());
  int calls = 0;
  Result<std::string> dir = snaps.Ensure(Id("child"), Id("nobody"), Writer("c", &calls));
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code(), Errc::kNotFound);
  EXPECT_EQ(calls, 0);
}

TEST(Snapshots, AFailedApplyLeavesNothingBehind) {
  berth::testing::TempDir tmp("berth-snap");
  Snapshots snaps(tmp / "s");
  Result<std::string> dir =
      snaps.Ensure(Id("bad"), {}, [](const std::string& dir, const std::vector<std::string>&) {
        EXPECT_TRUE(WriteFile(dir + "/partial", "x").ok());
        return Status(Error(Errc::kDataLoss, "corrupt layer"));
      });
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code(), Errc::kDataLoss);
  EXPECT_NE(dir.error().str().find("corrupt layer"), std::string::npos);
  EXPECT_TRUE(Entries(snaps.root()).empty());
  EXPECT_EQ(snaps.Stat(Id("bad")).error().code(), Errc::kNotFound);
}

TEST(Snapshots, ConcurrentCreatorsBothSucceedAndOneCopyRemains) {
  berth::testing::TempDir tmp("berth-snap");
  Snapshots snaps(tmp.path());
  Digest id = Id("raced");
  std::atomic<int> inside{0};
  // Both appliers wait until both are running, so both really unpack.
  auto apply = [&](const std::string& dir, const std::vector<std::string>&) -> Status {
    ++inside;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (inside.load() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return WriteFile(dir + "/f", "same content");
  };
  Result<std::string> r1 = Error(Errc::kUnknown, "not run");
  Result<std::string> r2 = Error(Errc::kUnknown, "not run");
  std::thread t1([&] { r1 = snaps.Ensure(id, {}, apply); });
  std::thread t2([&] { r2 = snaps.Ensure(id, {}, apply); });
  t1.join();
  t2.join();
  ASSERT_TRUE(r1.ok()) << r1.error().str();
  ASSERT_TRUE(r2.ok()) << r2.error().str();
  EXPECT_EQ(inside.load(), 2);
  EXPECT_EQ(*r1, *r2);
  EXPECT_EQ(*ReadFile(*r1 + "/f"), "same content");
  EXPECT_EQ(Entries(snaps.root()), std::vector<std::string>{id.hex()});
}

TEST(Snapshots, RemoveRefusesParentsAndRemovesLeaves) {
  berth::testing::TempDir tmp("berth-snap");
  Snapshots snaps(tmp.path());
  std::vector<Digest> chain = ChainIds({Id("l0"), Id("l1")});
  int calls = 0;
  ASSERT_TRUE(snaps.Ensure(chain[0], {}, Writer("0", &calls)).ok());
  ASSERT_TRUE(snaps.Ensure(chain[1], chain[0], Writer("1", &calls)).ok());

  Status s = snaps.Remove(chain[0]);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::kFailedPrecondition);
  ASSERT_TRUE(snaps.Remove(chain[1]).ok());
  ASSERT_TRUE(snaps.Remove(chain[0]).ok());
  EXPECT_TRUE(Entries(snaps.root()).empty());
  s = snaps.Remove(chain[0]);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::kNotFound);
}

TEST(Snapshots, RemoveTemporaryClearsInterruptedWork) {
  berth::testing::TempDir tmp("berth-snap");
  Snapshots snaps(tmp.path());
  int calls = 0;
  ASSERT_TRUE(snaps.Ensure(Id("keep"), {}, Writer("k", &calls)).ok());
  ASSERT_TRUE(MkdirAll(tmp / "tmp-abc123/fs/deep").ok());
  ASSERT_TRUE(snaps.RemoveTemporary().ok());
  EXPECT_EQ(Entries(snaps.root()), std::vector<std::string>{Id("keep").hex()});
}

TEST(Snapshots, OnlySha256ChainIdsAreAccepted) {
  berth::testing::TempDir tmp("berth-snap");
  Snapshots snaps(tmp.path());
  int calls = 0;
  Result<Digest> sha512 = Digest::Parse("sha512:" + std::string(128, 'a'));
  ASSERT_TRUE(sha512.ok());
  Result<std::string> r = snaps.Ensure(*sha512, {}, Writer("x", &calls));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
  EXPECT_FALSE(snaps.Ensure(Digest(), {}, Writer("x", &calls)).ok());
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace berth::image

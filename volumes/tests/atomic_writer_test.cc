// The atomic writer: layout, unchanged payloads, updates and removed keys.

#include "volumes/atomic_writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <regex>
#include <set>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "volumes/tests/test_util.h"

namespace berth::volumes {
namespace {

using testing::LinkTarget;
using testing::Mode;

FileProjection File(std::string data, mode_t mode = 0644) {
  FileProjection f;
  f.data = std::move(data);
  f.mode = mode;
  return f;
}

std::set<std::string> Entries(const std::string& dir) {
  Result<std::vector<std::string>> names = ListDir(dir);
  return names.ok() ? std::set<std::string>(names->begin(), names->end()) : std::set<std::string>();
}

std::set<std::string> TimestampDirs(const std::string& dir) {
  std::set<std::string> out;
  for (const std::string& name : Entries(dir)) {
    if (name.rfind("..2", 0) == 0) out.insert(name);
  }
  return out;
}

class AtomicWriterTest : public ::testing::Test {
 protected:
  berth::testing::TempDir tmp_{"berth-volumes"};
  std::string dir_ = tmp_.path();
  AtomicWriter writer_{dir_, "test volume"};
};

TEST_F(AtomicWriterTest, WritesTimestampedDirDataLinkAndVisibleSymlinks) {
  mode_t old_umask = ::umask(077);  // modes must not depend on it
  Result<bool> written = writer_.Write(
      {{"a", File("one")}, {"conf/b.yaml", File("two", 0600)}, {"x", File("", 0755)}});
  ::umask(old_umask);
  ASSERT_TRUE(written.ok()) << written.error().str();
  EXPECT_TRUE(*written);

  std::string ts = LinkTarget(dir_ + "/..data");
  EXPECT_TRUE(std::regex_match(ts, std::regex(R"(\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d{9})")))
      << ts;
  EXPECT_EQ(Entries(dir_), (std::set<std::string>{"..data", ts, "a", "conf", "x"}));
  EXPECT_EQ(LinkTarget(dir_ + "/a"), "..data/a");
  EXPECT_EQ(LinkTarget(dir_ + "/conf"), "..data/conf");
  EXPECT_EQ(*ReadFile(dir_ + "/a"), "one");
  EXPECT_EQ(*ReadFile(dir_ + "/conf/b.yaml"), "two");
  EXPECT_EQ(Mode(dir_ + "/a"), 0644);
  EXPECT_EQ(Mode(dir_ + "/conf/b.yaml"), 0600);
  EXPECT_EQ(Mode(dir_ + "/x"), 0755);
  EXPECT_EQ(Mode(dir_ + "/" + ts), 0755);
}

TEST_F(AtomicWriterTest, UnchangedPayloadIsNotRewritten) {
  Payload payload{{"a", File("one")}, {"d/b", File("two")}};
  ASSERT_TRUE(writer_.Write(payload).ok());
  std::string ts = LinkTarget(dir_ + "/..data");
  ino_t inode = testing::Stat(dir_ + "/a").st_ino;

  Result<bool> again = writer_.Write(payload);
  ASSERT_TRUE(again.ok()) << again.error().str();
  EXPECT_FALSE(*again);
  EXPECT_EQ(LinkTarget(dir_ + "/..data"), ts);
  EXPECT_EQ(testing::Stat(dir_ + "/a").st_ino, inode);

  // A lost user-visible symlink comes back without a rewrite.
  ASSERT_EQ(::unlink((dir_ + "/a").c_str()), 0);
  EXPECT_FALSE(*writer_.Write(payload));
  EXPECT_EQ(*ReadFile(dir_ + "/a"), "one");
}

TEST_F(AtomicWriterTest, UpdateSwapsDataLinkAndRemovesOldVersion) {
  ASSERT_TRUE(writer_.Write({{"a", File("one")}}).ok());
  std::string old_ts = LinkTarget(dir_ + "/..data");

  Result<bool> written = writer_.Write({{"a", File("uno")}});
  ASSERT_TRUE(written.ok()) << written.error().str();
  EXPECT_TRUE(*written);
  std::string new_ts = LinkTarget(dir_ + "/..data");
  EXPECT_NE(new_ts, old_ts);
  EXPECT_EQ(TimestampDirs(dir_), std::set<std::string>{new_ts});
  EXPECT_FALSE(PathExists(dir_ + "/..data_tmp"));
  EXPECT_EQ(*ReadFile(dir_ + "/a"), "uno");
}

TEST_F(AtomicWriterTest, RemovedKeysDisappear) {
  ASSERT_TRUE(
      writer_.Write({{"a", File("1")}, {"b", File("2")}, {"d/x", File("3")}, {"d/y", File("4")}})
          .ok());
  Result<bool> written = writer_.Write({{"a", File("1")}, {"d/y", File("4")}});
  ASSERT_TRUE(written.ok()) << written.error().str();
  EXPECT_TRUE(*written);  // same contents, fewer keys: a new version
  std::string ts = LinkTarget(dir_ + "/..data");
  EXPECT_EQ(Entries(dir_), (std::set<std::string>{"..data", ts, "a", "d"}));
  EXPECT_FALSE(PathExists(dir_ + "/d/x"));
  EXPECT_EQ(*ReadFile(dir_ + "/d/y"), "4");

  ASSERT_TRUE(writer_.Write({}).ok());
  ts = LinkTarget(dir_ + "/..data");
  EXPECT_EQ(Entries(dir_), (std::set<std::string>{"..data", ts}));
  EXPECT_TRUE(Entries(dir_ + "/" + ts).empty());
}

TEST_F(AtomicWriterTest, CleansUpAfterAKilledWriter) {
  ASSERT_TRUE(writer_.Write({{"a", File("1")}}).ok());
  // What a writer killed mid-way leaves: a half-written version and a
  // dangling ..data_tmp.
  ASSERT_TRUE(MkdirAll(dir_ + "/..2001_01_01_00_00_00.000000001").ok());
  ASSERT_EQ(::symlink("..2001_01_01_00_00_00.000000001", (dir_ + "/..data_tmp").c_str()), 0);
  ASSERT_TRUE(writer_.Write({{"a", File("2")}}).ok());
  EXPECT_EQ(TimestampDirs(dir_), std::set<std::string>{LinkTarget(dir_ + "/..data")});
  EXPECT_FALSE(PathExists(dir_ + "/..data_tmp"));
  EXPECT_EQ(*ReadFile(dir_ + "/a"), "2");
}

TEST_F(AtomicWriterTest, SetPermsRunsOnTheNewVersionAndItsFailureKeepsTheOld) {
  ASSERT_TRUE(writer_.Write({{"a", File("1")}}).ok());
  std::string old_ts = LinkTarget(dir_ + "/..data");
  std::string seen;
  Result<bool> failed = writer_.Write({{"a", File("2")}}, [&](const std::string& ts) {
    seen = ts;
    EXPECT_EQ(*ReadFile(dir_ + "/" + ts + "/a"), "2");
    return Status(Error(Errc::kPermissionDenied, "no"));
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(seen, old_ts);
  EXPECT_FALSE(PathExists(dir_ + "/" + seen));
  EXPECT_EQ(LinkTarget(dir_ + "/..data"), old_ts);
  EXPECT_EQ(*ReadFile(dir_ + "/a"), "1");
}

TEST(ValidatePayloadPathTest, RefusesEscapesAndOddNames) {
  EXPECT_TRUE(ValidatePayloadPath("a").ok());
  EXPECT_TRUE(ValidatePayloadPath("a/b/c.txt").ok());
  struct Case {
    std::string path;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"", "invalid path: must not be empty: \"\""},
           {"/etc/passwd", "invalid path: must be relative path: /etc/passwd"},
           {"..", "invalid path: must not contain '..': .."},
           {"a/../../b", "invalid path: must not contain '..': a/../../b"},
           {"..data", "invalid path: must not start with '..': ..data"},
           {std::string(256, 'x'),
            "invalid path: filenames must be less than or equal to 255 "
            "characters"},
       }) {
    Status s = ValidatePayloadPath(c.path);
    ASSERT_FALSE(s.ok()) << c.path;
    EXPECT_EQ(s.error().code(), Errc::kInvalidArgument);
    EXPECT_EQ(s.error().message(), c.message);
  }
}

TEST_F(AtomicWriterTest, InvalidPayloadWritesNothing) {
  Result<bool> written = writer_.Write({{"ok", File("1")}, {"../escape", File("2")}});
  ASSERT_FALSE(written.ok());
  EXPECT_TRUE(Entries(dir_).empty());
  EXPECT_FALSE(PathExists(tmp_.path() + "/../escape"));
}

}  // namespace
}  // namespace berth::volumes

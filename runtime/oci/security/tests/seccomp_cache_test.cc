// CompileSeccompCached: an identical profile gives the program CompileSeccomp
// gives, compiled once and then read from the cache; other profiles get
// entries of their own; damaged entries are recompiled; an unsafe directory
// is not used.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "runtime/oci/security/seccomp.h"
#include "runtime/oci/security/tests/seccomp_test_util.h"

namespace berth::runtime::security {
namespace {

using testing::Profile;

constexpr char kDenyMkdir[] = R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["mkdir", "mkdirat", "no_such_syscall"], "action": "SCMP_ACT_ERRNO"}]})";
constexpr char kDenyChmod[] = R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["chmod", "fchmodat"], "action": "SCMP_ACT_ERRNO"}]})";

bool SameProgram(const CompiledSeccomp& a, const CompiledSeccomp& b) {
  return a.program.size() == b.program.size() &&
         std::memcmp(a.program.data(), b.program.data(), a.program.size() * sizeof(sock_filter)) ==
             0 &&
         a.flags == b.flags && a.uses_notify == b.uses_notify &&
         a.unknown_syscalls == b.unknown_syscalls;
}

std::vector<std::string> Entries(const std::string& dir) {
  Result<std::vector<std::string>> names = ListDir(dir);
  return names.ok() ? *names : std::vector<std::string>{};
}

class SeccompCacheTest : public ::testing::Test {
 protected:
  CompiledSeccomp Cached(const char* text) {
    auto compiled = CompileSeccompCached(Profile(text), cache_);
    EXPECT_TRUE(compiled.ok()) << compiled.error().str();
    return compiled.ok() ? std::move(compiled).value() : CompiledSeccomp{};
  }

  berth::testing::TempDir dir_{"berth-seccomp-cache"};
  std::string cache_ = dir_.path() + "/@seccomp-cache";
};

TEST_F(SeccompCacheTest, IdenticalProfileGivesTheCompiledProgramFromOneEntry) {
  CompiledSeccomp direct = testing::Compile(kDenyMkdir);
  CompiledSeccomp first = Cached(kDenyMkdir);
  CompiledSeccomp second = Cached(kDenyMkdir);
  EXPECT_TRUE(SameProgram(direct, first));
  EXPECT_TRUE(SameProgram(direct, second));
  EXPECT_EQ(second.unknown_syscalls, std::vector<std::string>{"no_such_syscall"});
  ASSERT_EQ(Entries(cache_).size(), 1u);

  struct stat st {};
  ASSERT_EQ(::stat(cache_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((cache_ + "/" + Entries(cache_)[0]).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(SeccompCacheTest, TheSecondCallReadsTheEntry) {
  Cached(kDenyMkdir);
  std::string entry = cache_ + "/" + Entries(cache_)[0];
  std::string bytes = ReadFile(entry).value();
  // The entry ends with the unknown name: what comes back is what the file
  // says, so the second call did not compile.
  ASSERT_TRUE(bytes.ends_with("no_such_syscall"));
  bytes.back() = 'L';
  ASSERT_TRUE(WriteFileAtomic(entry, bytes, 0600).ok());
  CompiledSeccomp read = Cached(kDenyMkdir);
  EXPECT_EQ(read.unknown_syscalls, std::vector<std::string>{"no_such_syscalL"});
  EXPECT_EQ(read.program.size(), testing::Compile(kDenyMkdir).program.size());
}

TEST_F(SeccompCacheTest, OtherProfilesGetEntriesOfTheirOwn) {
  CompiledSeccomp mkdir = Cached(kDenyMkdir);
  CompiledSeccomp chmod = Cached(kDenyChmod);
  EXPECT_EQ(Entries(cache_).size(), 2u);
  EXPECT_TRUE(SameProgram(chmod, testing::Compile(kDenyChmod)));
  EXPECT_FALSE(SameProgram(mkdir, chmod));
  // Another errno is another program.
  CompiledSeccomp eacces = Cached(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir", "mkdirat", "no_such_syscall"], "action": "SCMP_ACT_ERRNO",
       "errnoRet": 13}]})");
  EXPECT_EQ(Entries(cache_).size(), 3u);
  EXPECT_FALSE(SameProgram(mkdir, eacces));
}

TEST_F(SeccompCacheTest, DamagedEntryIsCompiledAgainAndRewritten) {
  CompiledSeccomp direct = testing::Compile(kDenyMkdir);
  Cached(kDenyMkdir);
  std::string entry = cache_ + "/" + Entries(cache_)[0];
  std::string whole = ReadFile(entry).value();
  for (size_t keep : {size_t{0}, size_t{5}, whole.size() / 2, whole.size() - 1}) {
    ASSERT_TRUE(WriteFileAtomic(entry, whole.substr(0, keep), 0600).ok());
    EXPECT_TRUE(SameProgram(Cached(kDenyMkdir), direct)) << "entry cut to " << keep;
    EXPECT_EQ(ReadFile(entry).value(), whole);
  }
  // The same name holding another key is a miss too.
  std::string other = whole;
  other[std::strlen("BERTHSC1") + sizeof(uint64_t) + 3] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(entry, other, 0600).ok());
  EXPECT_TRUE(SameProgram(Cached(kDenyMkdir), direct));
  EXPECT_EQ(ReadFile(entry).value(), whole);
}

TEST_F(SeccompCacheTest, DirectoryOthersMayWriteIsNotUsed) {
  ASSERT_TRUE(MkdirAll(cache_, 0700).ok());
  ASSERT_EQ(::chmod(cache_.c_str(), 0777), 0);
  EXPECT_TRUE(SameProgram(Cached(kDenyMkdir), testing::Compile(kDenyMkdir)));
  EXPECT_TRUE(Entries(cache_).empty());
}

TEST_F(SeccompCacheTest, DisabledProfileAndNoDirectoryNeedNoEntry) {
  auto none = CompileSeccompCached(SeccompProfile{}, cache_);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->program.empty());
  auto uncached = CompileSeccompCached(Profile(kDenyMkdir), "");
  ASSERT_TRUE(uncached.ok());
  EXPECT_TRUE(SameProgram(*uncached, testing::Compile(kDenyMkdir)));
  EXPECT_TRUE(Entries(cache_).empty());
}

}  // namespace
}  // namespace berth::runtime::security

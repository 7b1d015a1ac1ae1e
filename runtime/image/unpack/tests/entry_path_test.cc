#include "runtime/image/unpack/entry_path.h"

#include <gtest/gtest.h>

namespace berth::image {
namespace {

std::string Clean(std::string_view name) {
  Result<std::string> r = CleanEntryPath(name);
  return r.ok() ? *r : "ERROR: " + r.error().str();
}

TEST(CleanEntryPath, NormalizesLeadingSlashDotAndDoubleSlashes) {
  EXPECT_EQ(Clean("etc/passwd"), "etc/passwd");
  EXPECT_EQ(Clean("./etc/passwd"), "etc/passwd");
  EXPECT_EQ(Clean("/etc/passwd"), "etc/passwd");
  EXPECT_EQ(Clean("//etc//./passwd"), "etc/passwd");
  EXPECT_EQ(Clean("usr/lib/"), "usr/lib");
  EXPECT_EQ(Clean("a/b/../c"), "a/c");
  EXPECT_EQ(Clean("./"), "");
  EXPECT_EQ(Clean("/"), "");
  EXPECT_EQ(Clean("."), "");
}

TEST(CleanEntryPath, RefusesEscapes) {
  for (const char* name :
       {"..", "../x", "../../etc/x", "/../etc/x", "./../x", "a/../../x", "a/b/../../../x", "/.."}) {
    Result<std::string> r = CleanEntryPath(name);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().str(), "path escapes the layer") << name;
    EXPECT_EQ(r.error().code(), Errc::kPermissionDenied);
  }
  // Names that merely contain dots are fine.
  EXPECT_EQ(Clean("a/..b/...c"), "a/..b/...c");
}

TEST(ParseEntryPath, ClassifiesWhiteouts) {
  Result<EntryPath> p = ParseEntryPath("etc/.wh.motd");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, EntryKind::kWhiteout);
  EXPECT_EQ(p->path, "etc/motd");

  p = ParseEntryPath("./.wh.top");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, EntryKind::kWhiteout);
  EXPECT_EQ(p->path, "top");

  p = ParseEntryPath("var/cache/.wh..wh..opq");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, EntryKind::kOpaque);
  EXPECT_EQ(p->path, "var/cache");

  p = ParseEntryPath(".wh..wh..opq");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, EntryKind::kOpaque);
  EXPECT_EQ(p->path, "");

  p = ParseEntryPath(".wh..wh.plnk/123.456");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, EntryKind::kAufsMeta);
  p = ParseEntryPath("./.wh..wh.plnk/");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, EntryKind::kAufsMeta);
  p = ParseEntryPath("x/.wh..wh.aufs");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, EntryKind::kAufsMeta);

  p = ParseEntryPath("usr/bin/tool");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, EntryKind::kNormal);
  EXPECT_EQ(p->path, "usr/bin/tool");
}

TEST(ParseEntryPath, RefusesEmptyWhiteoutsAndEscapes) {
  EXPECT_FALSE(ParseEntryPath("dir/.wh.").ok());
  EXPECT_FALSE(ParseEntryPath("dir/.wh..").ok());
  EXPECT_FALSE(ParseEntryPath("../.wh.x").ok());
}

TEST(SplitParent, Splits) {
  EXPECT_EQ(SplitParent("a/b/c"), (std::pair<std::string, std::string>{"a/b", "c"}));
  EXPECT_EQ(SplitParent("c"), (std::pair<std::string, std::string>{"", "c"}));
  EXPECT_EQ(SplitParent(""), (std::pair<std::string, std::string>{"", ""}));
}

}  // namespace
}  // namespace berth::image

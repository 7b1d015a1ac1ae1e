#include "runtime/image/image_user.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::image {
namespace {

constexpr char kPasswd[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# comment\n"
    "app:x:1000:1001::/home/app:/bin/sh\n"
    "broken line\n"
    "nobody:x:65534:65534::/:/bin/false\n";
constexpr char kGroup[] =
    "root:x:0:\n"
    "appgrp:x:1001:\n"
    "audio:x:29:app,other\n"
    "video:x:44:app\n"
    "staff:x:50:other\n";

std::string Show(std::string_view spec) {
  Result<ResolvedUser> u = ResolveUser(spec, kPasswd, kGroup);
  if (!u.ok()) return "error: " + u.error().str();
  std::string out = std::to_string(u->uid) + ":" + std::to_string(u->gid);
  for (uint32_t g : u->additional_gids)
    out += "," + std::to_string(g);
  return out;
}

TEST(ImageUserTest, RuncRules) {
  EXPECT_EQ(Show(""), "0:0");
  EXPECT_EQ(Show("root"), "0:0");
  EXPECT_EQ(Show("app"), "1000:1001,29,44");
  EXPECT_EQ(Show("1000"), "1000:1001,29,44");
  EXPECT_EQ(Show("4242"), "4242:0");
  EXPECT_EQ(Show("4242:7"), "4242:7");
  EXPECT_EQ(Show("app:audio"), "1000:29,44");
  EXPECT_EQ(Show("app:5"), "1000:5,29,44");
  EXPECT_EQ(Show("ghost"), "error: user \"ghost\": no user \"ghost\" in /etc/passwd");
  EXPECT_EQ(Show("app:ghosts"), "error: user \"app:ghosts\": no group \"ghosts\" in /etc/group");
  Result<ResolvedUser> none = ResolveUser("1", "", "");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->uid, 1u);
}

TEST(ImageUserTest, ReadsTheRootfsNotTheHost) {
  testing::TempDir dir;
  ASSERT_TRUE(MkdirAll(dir / "rootfs/etc").ok());
  ASSERT_TRUE(WriteFile(dir / "rootfs/etc/passwd", "svc:x:77:88::/:/bin/sh\n").ok());
  Result<ResolvedUser> u = ResolveUserInRootfs("svc", dir / "rootfs");  // no /etc/group
  ASSERT_TRUE(u.ok()) << u.error().str();
  EXPECT_EQ(u->uid, 77u);
  EXPECT_EQ(u->gid, 88u);
  EXPECT_TRUE(u->additional_gids.empty());
  // A hostile image pointing /etc/group at the host's: confined to the
  // rootfs the link names itself, and the lookup fails instead of finding
  // the host's "root" group.
  ASSERT_EQ(::symlink("/../../../../../../../../etc/group", (dir / "rootfs/etc/group").c_str()), 0);
  Result<ResolvedUser> root_group = ResolveUserInRootfs("svc:root", dir / "rootfs");
  ASSERT_FALSE(root_group.ok()) << "the host's /etc/group was read";
  EXPECT_NE(root_group.error().str().find("/etc/group"), std::string::npos);
}

}  // namespace
}  // namespace berth::image

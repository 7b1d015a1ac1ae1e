#include "runtime/oci/mount_options.h"

#include <gtest/gtest.h>
#include <linux/mount.h>
#include <sys/mount.h>

namespace berth::runtime::oci {
namespace {

TEST(MountOptions, FlagsPropagationAndData) {
  MountOptions o =
      ParseMountOptions({"nosuid", "noexec", "rbind", "ro", "rslave", "mode=755", "size=64k"});
  EXPECT_EQ(o.flags, MS_NOSUID | MS_NOEXEC | MS_BIND | MS_REC | MS_RDONLY);
  EXPECT_EQ(o.propagation, std::vector<unsigned long>{MS_SLAVE | MS_REC});
  EXPECT_EQ(o.data, "mode=755,size=64k");
  EXPECT_TRUE(o.bind());
}

TEST(MountOptions, LaterOptionsWin) {
  EXPECT_EQ(ParseMountOptions({"ro", "rw"}).flags, 0u);
  EXPECT_EQ(ParseMountOptions({"nosuid", "suid"}).flags, 0u);
}

TEST(MountOptions, RecursiveAttributes) {
  MountOptions o = ParseMountOptions({"rro", "rnoatime"});
  EXPECT_TRUE(o.recursive_attrs);
  EXPECT_EQ(o.attr_set, uint64_t{MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOATIME});
  EXPECT_NE(o.attr_clr & MOUNT_ATTR__ATIME, 0u);
}

TEST(MountOptions, KnownOptionsIncludeRuncTable) {
  std::vector<std::string> known = KnownMountOptions();
  for (const char* name : {"bind", "rbind", "ro", "rro", "rslave", "tmpcopyup", "nosymfollow"}) {
    EXPECT_NE(std::find(known.begin(), known.end(), name), known.end()) << name;
  }
}

}  // namespace
}  // namespace berth::runtime::oci

// hostPath type checks on temporary files.

#include "volumes/host_path.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "common/fd.h"
#include "common/file.h"
#include "common/testing/testkit.h"
#include "volumes/tests/test_util.h"

namespace berth::volumes {
namespace {

class HostPathTest : public ::testing::Test {
 protected:
  HostPathTest() {
    EXPECT_TRUE(MkdirAll(dir_).ok());
    EXPECT_TRUE(WriteFile(file_, "x").ok());
    socket_fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(socket_fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }

  void ExpectFailure(const std::string& path, std::string_view type, const std::string& message) {
    Status s = CheckHostPathType(path, type);
    ASSERT_FALSE(s.ok()) << path << " " << type;
    EXPECT_EQ(s.error().str(), message);
  }

  berth::testing::TempDir tmp_{"berth-hostpath"};
  std::string dir_ = tmp_ / "dir";
  std::string file_ = tmp_ / "file";
  std::string socket_ = tmp_ / "sock";
  UniqueFd socket_fd_;
};

TEST_F(HostPathTest, MatchingTypesPass) {
  EXPECT_TRUE(CheckHostPathType(tmp_ / "missing", "").ok());
  EXPECT_TRUE(CheckHostPathType(dir_, "Directory").ok());
  EXPECT_TRUE(CheckHostPathType(dir_, "DirectoryOrCreate").ok());
  EXPECT_TRUE(CheckHostPathType(file_, "File").ok());
  EXPECT_TRUE(CheckHostPathType(file_, "FileOrCreate").ok());
  EXPECT_TRUE(CheckHostPathType(socket_, "Socket").ok());
  EXPECT_TRUE(CheckHostPathType("/dev/null", "CharDevice").ok());
  ASSERT_EQ(::symlink(dir_.c_str(), (tmp_ / "link").c_str()), 0);
  EXPECT_TRUE(CheckHostPathType(tmp_ / "link", "Directory").ok());  // followed, as upstream
}

TEST_F(HostPathTest, MismatchesSayWhatThePathIsNot) {
  ExpectFailure(file_, "Directory", "hostPath type check failed: " + file_ + " is not a directory");
  ExpectFailure(file_, "DirectoryOrCreate",
                "hostPath type check failed: " + file_ + " is not a directory");
  ExpectFailure(dir_, "File", "hostPath type check failed: " + dir_ + " is not a file");
  ExpectFailure(dir_, "FileOrCreate", "hostPath type check failed: " + dir_ + " is not a file");
  ExpectFailure(file_, "Socket", "hostPath type check failed: " + file_ + " is not a socket file");
  ExpectFailure(file_, "CharDevice",
                "hostPath type check failed: " + file_ + " is not a character device");
  ExpectFailure("/dev/null", "BlockDevice",
                "hostPath type check failed: /dev/null is not a block device");
  ExpectFailure(tmp_ / "missing", "Directory",
                "hostPath type check failed: " + tmp_ / "missing" + " is not a directory");
  Status bad = CheckHostPathType(dir_, "Fifo");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(bad.error().str(), "Fifo is an invalid volume type");
}

TEST_F(HostPathTest, OrCreateCreates) {
  ASSERT_TRUE(CheckHostPathType(tmp_ / "new/deep/dir", "DirectoryOrCreate").ok());
  EXPECT_EQ(testing::Mode(tmp_ / "new/deep/dir"), 0755);
  ASSERT_TRUE(CheckHostPathType(tmp_ / "new/file", "FileOrCreate").ok());
  EXPECT_EQ(testing::Mode(tmp_ / "new/file"), 0644);
  EXPECT_EQ(*ReadFile(tmp_ / "new/file"), "");
  // FileOrCreate does not make parents (upstream neither).
  EXPECT_FALSE(CheckHostPathType(tmp_ / "absent/file", "FileOrCreate").ok());
}

TEST_F(HostPathTest, BlockDevice) {
  std::string device;
  if (DIR* dev = ::opendir("/dev")) {
    while (dirent* ent = ::readdir(dev)) {
      struct stat st {};
      std::string path = std::string("/dev/") + ent->d_name;
      if (::lstat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) {
        device = path;
        break;
      }
    }
    ::closedir(dev);
  }
  BERTH_REQUIRE(!device.empty(), "a block device under /dev");
  EXPECT_TRUE(CheckHostPathType(device, "BlockDevice").ok());
  ExpectFailure(device, "CharDevice",
                "hostPath type check failed: " + device + " is not a character device");
}

}  // namespace
}  // namespace berth::volumes

#include "common/unix_socket.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "common/testing/testkit.h"

namespace berth {
namespace {

std::pair<UniqueFd, UniqueFd> SeqPacketPair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

TEST(UnixSocketTest, PassesPayloadAndFd) {
  auto [a, b] = SeqPacketPair();
  testing::TempDir dir;
  std::string path = dir.path() + "/f";
  UniqueFd file(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600));
  ASSERT_TRUE(file.valid());
  ASSERT_TRUE(SendMessage(a.get(), "hello", file.get(), "test socket").ok());
  Result<ReceivedMessage> got = ReceiveMessage(b.get(), 64, "test socket");
  ASSERT_TRUE(got.ok()) << got.error().str();
  EXPECT_EQ(got->payload, "hello");
  ASSERT_TRUE(got->fd.valid());
  struct stat sent {
  }, received{};
  ASSERT_EQ(::fstat(file.get(), &sent), 0);
  ASSERT_EQ(::fstat(got->fd.get(), &received), 0);
  EXPECT_EQ(sent.st_ino, received.st_ino);
  EXPECT_NE(got->fd.get(), file.get());
  EXPECT_EQ(::fcntl(got->fd.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

TEST(UnixSocketTest, NoFdAndEndOfStream) {
  auto [a, b] = SeqPacketPair();
  ASSERT_TRUE(SendMessage(a.get(), "x", -1, "test socket").ok());
  Result<ReceivedMessage> got = ReceiveMessage(b.get(), 64, "test socket");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->payload, "x");
  EXPECT_FALSE(got->fd.valid());
  a.reset();
  got = ReceiveMessage(b.get(), 64, "test socket");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->payload.empty());
}

TEST(UnixSocketTest, ErrorsNameTheSocketAndPath) {
  auto [a, b] = SeqPacketPair();
  b.reset();
  Status s = SendMessage(a.get(), "x", -1, "console socket");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().str().find("sendmsg"), std::string::npos) << s.error().str();
  EXPECT_NE(s.error().str().find("console socket"), std::string::npos) << s.error().str();

  Result<UniqueFd> missing = ConnectUnix("/nonexistent/berth.sock", "console socket");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().str().find("/nonexistent/berth.sock"), std::string::npos);
  Result<UniqueFd> long_path = ConnectUnix("/" + std::string(200, 'a'), "console socket");
  ASSERT_FALSE(long_path.ok());
  EXPECT_NE(long_path.error().str().find("path too long"), std::string::npos);
}

}  // namespace
}  // namespace berth

#include "runtime/shim/protocol.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>

namespace berth::shim {
namespace {

struct Pair {
  UniqueFd a, b;
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
};

TEST(ShimProtocolTest, FieldsAndFdsRoundTrip) {
  Pair p;
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  UniqueFd r(pipefd[0]), w(pipefd[1]);
  std::array<int, 2> fds = {r.get(), w.get()};
  ASSERT_TRUE(Send(p.a.get(), {"create", "id-1", "/b u n d l e", "it", ""}, fds).ok());
  Result<Message> got = Receive(p.b.get());
  ASSERT_TRUE(got.ok()) << got.error().str();
  ASSERT_EQ(got->fields.size(), 5u);
  EXPECT_EQ(got->verb(), "create");
  EXPECT_EQ(got->field(2), "/b u n d l e");
  EXPECT_EQ(got->field(4), "");
  EXPECT_EQ(got->field(9), "");
  ASSERT_EQ(got->fds.size(), 2u);
  // The received write end feeds the original read end.
  ASSERT_EQ(::write(got->fds[1].get(), "x", 1), 1);
  char c = 0;
  ASSERT_EQ(::read(r.get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');
}

TEST(ShimProtocolTest, DataFramesKeepNulBytes) {
  Pair p;
  std::string bytes("a\0b\0c", 5);
  ASSERT_TRUE(Send(p.a.get(), {"data", "2", bytes}).ok());
  Result<Message> got = Receive(p.b.get());
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->fields.size(), 3u);
  EXPECT_EQ(got->field(2), bytes);
}

TEST(ShimProtocolTest, ErrorsKeepTheirCategory) {
  Pair p;
  ASSERT_TRUE(SendError(p.a.get(), Error(Errc::kNotFound, "container `x` not found")).ok());
  Result<Message> got = Receive(p.b.get());
  ASSERT_TRUE(got.ok());
  Result<Message> checked = ExpectOk(std::move(*got), "attach");
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().code(), Errc::kNotFound);
  EXPECT_EQ(checked.error().str(), "attach: container `x` not found");
}

TEST(ShimProtocolTest, ClosedPeerIsAnEmptyMessage) {
  Pair p;
  p.a.reset();
  Result<Message> got = Receive(p.b.get());
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->closed());
  EXPECT_FALSE(ExpectOk(std::move(*got), "list").ok());
}

TEST(ShimProtocolTest, OversizedMessagesAreRefused) {
  Pair p;
  std::string big(kMaxMessage + 1, 'x');
  Status s = Send(p.a.get(), {"data", "1", big});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().str().find("data"), std::string::npos);
}

}  // namespace
}  // namespace berth::shim

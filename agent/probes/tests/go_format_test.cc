// Go renderings used in probe and hook messages.

#include "agent/probes/go_format.h"

#include <gtest/gtest.h>

namespace berth::agent::gofmt {
namespace {

TEST(GoFormat, Duration) {
  EXPECT_EQ(Duration(0), "0s");
  EXPECT_EQ(Duration(1), "1s");
  EXPECT_EQ(Duration(59), "59s");
  EXPECT_EQ(Duration(60), "1m0s");
  EXPECT_EQ(Duration(90), "1m30s");
  EXPECT_EQ(Duration(3600), "1h0m0s");
  EXPECT_EQ(Duration(3725), "1h2m5s");
}

TEST(GoFormat, Quote) {
  EXPECT_EQ(Quote(""), "\"\"");
  EXPECT_EQ(Quote("plain text"), "\"plain text\"");
  EXPECT_EQ(Quote("a\"b\\c\nd\te"), "\"a\\\"b\\\\c\\nd\\te\"");
  EXPECT_EQ(Quote(std::string("\x01\x7f", 2)), "\"\\x01\\x7f\"");
  EXPECT_EQ(Quote("h\xc3\xa9llo"), "\"h\xc3\xa9llo\"");
  EXPECT_EQ(Quote("bad\xff"), "\"bad\\xff\"");
}

TEST(GoFormat, ErrnoTextAndGrpc) {
  EXPECT_EQ(ErrnoText("Connection refused"), "connection refused");
  EXPECT_EQ(ErrnoText("EOF"), "EOF");
  EXPECT_EQ(GrpcError(14, "connection reset"),
            "rpc error: code = Unavailable desc = connection reset");
  EXPECT_EQ(GrpcCodeName(4), "DeadlineExceeded");
}

TEST(GoFormat, PodDesc) {
  boost::json::object pod = {{"metadata", {{"name", "web"}, {"namespace", "ns"}, {"uid", "u1"}}}};
  EXPECT_EQ(PodDesc(&pod), "web_ns(u1)");
  EXPECT_EQ(PodDesc(nullptr), "<nil>");
}

}  // namespace
}  // namespace berth::agent::gofmt

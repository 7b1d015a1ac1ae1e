#include "runtime/cri/streaming/protocol.h"

#include <gtest/gtest.h>

#include "runtime/cri/streaming/request_cache.h"
#include "runtime/cri/streaming/status.h"
#include "runtime/cri/streaming/terminal.h"

namespace berth::cri::streaming {
namespace {

TEST(Negotiate, ClientOrderWins) {
  auto server = SpdyCommandProtocols();
  EXPECT_EQ(Negotiate({"v4.channel.k8s.io, v3.channel.k8s.io"}, server), "v4.channel.k8s.io");
  EXPECT_EQ(Negotiate({"bogus", "v2.channel.k8s.io,channel.k8s.io"}, server), "v2.channel.k8s.io");
  EXPECT_EQ(Negotiate({"v9"}, server), std::nullopt);
  EXPECT_EQ(Negotiate({}, server), std::nullopt);
}

TEST(Status, JsonLikeKubelet) {
  EXPECT_EQ(StatusJson(CommandStatus::Success()), R"({"metadata":{},"status":"Success"})");
  EXPECT_EQ(
      StatusJson(CommandStatus::NonZeroExit(3, ExecExitMessage({"sh", "-c", "exit 3"}, 3))),
      R"({"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: )"
      R"(error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode",)"
      R"("details":{"causes":[{"reason":"ExitCode","message":"3"}]}})");
  EXPECT_EQ(StatusJson(CommandStatus::InternalError("boom")),
            R"({"metadata":{},"status":"Failure","message":"Internal error occurred: boom",)"
            R"("reason":"InternalError","details":{"causes":[{"message":"boom"}]},"code":500})");
  EXPECT_EQ(StatusText(CommandStatus::Success()), std::nullopt);
  EXPECT_EQ(StatusText(CommandStatus::InternalError("boom")), "Internal error occurred: boom");
}

TEST(Resize, DecodesSplitAndJoinedMessages) {
  ResizeDecoder d;
  EXPECT_TRUE(d.Feed(R"({"Width":80,)").empty());
  auto got = d.Feed("\"Height\":24}\n{\"width\":100,\"height\":30}\n{\"Wi");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], (TerminalSize{80, 24}));
  EXPECT_EQ(got[1], (TerminalSize{100, 30}));
  got = d.Feed("dth\":1,\"Height\":2}");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], (TerminalSize{1, 2}));
  EXPECT_TRUE(d.Feed("[1]").empty());
  EXPECT_TRUE(d.failed());
}

TEST(RequestCache, TokensAreOneTimeAndExpire) {
  auto now = std::chrono::steady_clock::now();
  RequestCache cache(std::chrono::minutes(1), 2, [&] { return now; });
  auto t1 = cache.Insert(ExecRequest{"c1", {"ls"}, false, false, true, false});
  ASSERT_TRUE(t1.ok());
  EXPECT_EQ(t1->size(), 8u);
  for (char c : *t1)
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
  auto got = cache.Consume(*t1);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::get<ExecRequest>(*got).container_id, "c1");
  EXPECT_FALSE(cache.Consume(*t1).has_value());  // one time

  auto t2 = cache.Insert(AttachRequest{"c2"});
  ASSERT_TRUE(t2.ok());
  now += std::chrono::seconds(61);
  EXPECT_FALSE(cache.Consume(*t2).has_value());  // expired

  ASSERT_TRUE(cache.Insert(PortForwardRequest{"s", {}}).ok());
  ASSERT_TRUE(cache.Insert(PortForwardRequest{"s", {}}).ok());
  auto full = cache.Insert(PortForwardRequest{"s", {}});
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code(), Errc::kResourceExhausted);
  now += std::chrono::seconds(61);  // expired entries make room again
  EXPECT_TRUE(cache.Insert(PortForwardRequest{"s", {}}).ok());
}

TEST(Base64Url, Encodes) {
  EXPECT_EQ(Base64UrlEncode(std::string("\xfb\xff\xbf", 3)), "-_-_");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
}

}  // namespace
}  // namespace berth::cri::streaming

// tcpSocket and grpc probes against loopback servers.

#include <gtest/gtest.h>

#include "agent/probes/probe.h"
#include "agent/probes/tests/test_servers.h"
#include "common/testing/testkit.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using Health = ::grpc::health::v1::HealthCheckResponse;

ProbeOutcome Probe(const bj::object& probe) {
  bj::object container = {{"name", "app"}};
  ProbeTarget target;
  target.pod_ip = "127.0.0.1";
  target.container = &container;
  return RunProbe(probe, target);
}

TEST(TcpProbe, OpenPortSucceedsClosedPortFails) {
  uint16_t port = 0;
  UniqueFd listener = berth::testing::ListenLoopback(&port).value();
  ProbeOutcome open = Probe({{"tcpSocket", {{"port", port}}}});
  EXPECT_EQ(open.result, ProbeResult::kSuccess) << open.message;
  EXPECT_EQ(open.message, "");

  uint16_t unused = berth::testing::UnusedPort();
  ProbeOutcome closed = Probe({{"tcpSocket", {{"port", unused}}}});
  EXPECT_EQ(closed.result, ProbeResult::kFailure);
  EXPECT_EQ(closed.message,
            "dial tcp 127.0.0.1:" + std::to_string(unused) + ": connect: connection refused");
}

TEST(TcpProbe, ExplicitHostAndUnknownPortName) {
  uint16_t port = 0;
  UniqueFd listener = berth::testing::ListenLoopback(&port).value();
  bj::object container = {{"name", "app"}};
  ProbeTarget target;
  target.pod_ip = "192.0.2.1";  // not used: the probe names a host
  target.container = &container;
  ProbeOutcome out =
      RunProbe(bj::object{{"tcpSocket", {{"host", "127.0.0.1"}, {"port", port}}}}, target);
  EXPECT_EQ(out.result, ProbeResult::kSuccess) << out.message;
  ProbeOutcome bad = RunProbe(bj::object{{"tcpSocket", {{"port", "nope"}}}}, target);
  EXPECT_EQ(bad.result, ProbeResult::kUnknown);
}

TEST(GrpcProbe, ServingNotServingAndUnknownService) {
  testing::TestHealthServer server;
  server.Set("", Health::SERVING);
  server.Set("db", Health::NOT_SERVING);
  ProbeOutcome healthy = Probe({{"grpc", {{"port", server.port()}}}});
  EXPECT_EQ(healthy.result, ProbeResult::kSuccess) << healthy.message;
  EXPECT_EQ(healthy.message, "service healthy");

  ProbeOutcome down = Probe({{"grpc", {{"port", server.port()}, {"service", "db"}}}});
  EXPECT_EQ(down.result, ProbeResult::kFailure);
  EXPECT_EQ(down.message, "service unhealthy (responded with \"NOT_SERVING\")");

  ProbeOutcome unknown = Probe({{"grpc", {{"port", server.port()}, {"service", "cache"}}}});
  EXPECT_EQ(unknown.result, ProbeResult::kFailure);
  EXPECT_EQ(unknown.message,
            "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service");
}

TEST(GrpcProbe, ServerWithoutHealthService) {
  testing::TestHealthServer server(/*serve_health=*/false);
  ProbeOutcome out = Probe({{"grpc", {{"port", server.port()}}}});
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_TRUE(
      out.message.starts_with("error: this server does not implement the grpc health "
                              "protocol (grpc.health.v1.Health): "))
      << out.message;
}

TEST(GrpcProbe, NoServerTimesOut) {
  uint16_t port = berth::testing::UnusedPort();
  ProbeOutcome out = Probe({{"grpc", {{"port", port}}}, {"timeoutSeconds", 1}});
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_EQ(out.message, "timeout: failed to connect service \"127.0.0.1:" + std::to_string(port) +
                             "\" within 1s: context deadline exceeded");
}

}  // namespace
}  // namespace berth::agent

// Request routing, query decoding and the authorization attributes a path
// maps to.

#include "agent/server/routes.h"

#include <gtest/gtest.h>

#include "agent/server/log_query.h"

namespace berth::agent::kubelet {
namespace {

TEST(RoutesTest, PodEndpointsTakeTheirPathParameters) {
  Route r = ParseRoute("GET", "/containerLogs/default/web-1/app");
  EXPECT_EQ(r.endpoint, Endpoint::kContainerLogs);
  EXPECT_EQ(r.namespace_, "default");
  EXPECT_EQ(r.pod, "web-1");
  EXPECT_EQ(r.container, "app");

  r = ParseRoute("POST", "/exec/ns/p/c");
  EXPECT_EQ(r.endpoint, Endpoint::kExec);
  EXPECT_EQ(r.uid, "");
  EXPECT_EQ(r.container, "c");
  r = ParseRoute("GET", "/exec/ns/p/uid-1/c");
  EXPECT_EQ(r.endpoint, Endpoint::kExec);
  EXPECT_EQ(r.uid, "uid-1");
  EXPECT_EQ(r.container, "c");
  EXPECT_EQ(ParseRoute("GET", "/attach/ns/p/c").endpoint, Endpoint::kAttach);

  r = ParseRoute("POST", "/portForward/ns/p");
  EXPECT_EQ(r.endpoint, Endpoint::kPortForward);
  EXPECT_EQ(r.pod, "p");
  r = ParseRoute("GET", "/portForward/ns/p/uid-2");
  EXPECT_EQ(r.uid, "uid-2");

  r = ParseRoute("POST", "/run/ns/p/uid/c");
  EXPECT_EQ(r.endpoint, Endpoint::kRun);
  EXPECT_EQ(r.uid, "uid");
  // Path segments are decoded.
  EXPECT_EQ(ParseRoute("GET", "/containerLogs/ns/p/a%2Db").container, "a-b");
}

TEST(RoutesTest, WrongMethodsAndUnknownPaths) {
  EXPECT_EQ(ParseRoute("GET", "/run/ns/p/c").endpoint, Endpoint::kMethodNotAllowed);
  EXPECT_EQ(ParseRoute("POST", "/containerLogs/ns/p/c").endpoint, Endpoint::kMethodNotAllowed);
  EXPECT_EQ(ParseRoute("DELETE", "/pods").endpoint, Endpoint::kMethodNotAllowed);
  EXPECT_EQ(ParseRoute("GET", "/containerLogs/ns/p").endpoint, Endpoint::kNotFound);
  EXPECT_EQ(ParseRoute("GET", "/containerLogs/ns//c").endpoint, Endpoint::kNotFound);
  EXPECT_EQ(ParseRoute("GET", "/exec/ns/p/a/b/c").endpoint, Endpoint::kNotFound);
  EXPECT_EQ(ParseRoute("GET", "/nope").endpoint, Endpoint::kNotFound);
  EXPECT_EQ(ParseRoute("GET", "/metrics/cadvisor").endpoint, Endpoint::kNotFound);
}

TEST(RoutesTest, NodeEndpoints) {
  EXPECT_EQ(ParseRoute("GET", "/healthz").endpoint, Endpoint::kHealthz);
  Route h = ParseRoute("GET", "/healthz/syncloop");
  EXPECT_EQ(h.endpoint, Endpoint::kHealthz);
  EXPECT_EQ(h.healthz_check, "syncloop");
  EXPECT_EQ(ParseRoute("GET", "/pods").endpoint, Endpoint::kPods);
  EXPECT_EQ(ParseRoute("GET", "/pods/").endpoint, Endpoint::kPods);
  EXPECT_EQ(ParseRoute("GET", "/runningpods/").endpoint, Endpoint::kRunningPods);
  EXPECT_EQ(ParseRoute("GET", "/metrics").endpoint, Endpoint::kMetrics);
  EXPECT_EQ(ParseRoute("GET", "/metrics/resource").endpoint, Endpoint::kMetricsResource);
  EXPECT_EQ(ParseRoute("GET", "/stats/summary").endpoint, Endpoint::kStatsSummary);
}

// pkg/kubelet/server/auth_test.go's table, with fine-grained authz on.
TEST(RoutesTest, AuthorizationSubresourcesFollowUpstream) {
  using V = std::vector<std::string>;
  EXPECT_EQ(AuthzSubresources("/stats/summary"), (V{"stats"}));
  EXPECT_EQ(AuthzSubresources("/stats"), (V{"stats"}));
  EXPECT_EQ(AuthzSubresources("/metrics"), (V{"metrics"}));
  EXPECT_EQ(AuthzSubresources("/metrics/resource"), (V{"metrics"}));
  EXPECT_EQ(AuthzSubresources("/logs/messages"), (V{"log"}));
  EXPECT_EQ(AuthzSubresources("/checkpoint/ns/p/c"), (V{"checkpoint"}));
  EXPECT_EQ(AuthzSubresources("/pods"), (V{"pods", "proxy"}));
  EXPECT_EQ(AuthzSubresources("/pods/"), (V{"pods", "proxy"}));
  EXPECT_EQ(AuthzSubresources("/runningpods/"), (V{"pods", "proxy"}));
  EXPECT_EQ(AuthzSubresources("/healthz"), (V{"healthz", "proxy"}));
  EXPECT_EQ(AuthzSubresources("/healthz/ping"), (V{"healthz", "proxy"}));
  EXPECT_EQ(AuthzSubresources("/configz"), (V{"configz", "proxy"}));
  EXPECT_EQ(AuthzSubresources("/containerLogs/ns/p/c"), (V{"proxy"}));
  EXPECT_EQ(AuthzSubresources("/exec/ns/p/c"), (V{"proxy"}));
  EXPECT_EQ(AuthzSubresources("/podsxyz"), (V{"proxy"}));
  EXPECT_EQ(AuthzSubresources("/statsx"), (V{"proxy"}));
  EXPECT_EQ(ApiVerb("GET"), "get");
  EXPECT_EQ(ApiVerb("POST"), "create");
  EXPECT_EQ(ApiVerb("PUT"), "update");
  EXPECT_EQ(ApiVerb("PATCH"), "patch");
  EXPECT_EQ(ApiVerb("DELETE"), "delete");
  EXPECT_EQ(ApiVerb("HEAD"), "");
}

TEST(RoutesTest, MetricsBuckets) {
  EXPECT_EQ(MetricsBucket("/containerLogs/ns/p/c"), "containerLogs");
  EXPECT_EQ(MetricsBucket("/metrics/resource"), "metrics/resource");
  EXPECT_EQ(MetricsBucket("/metrics"), "metrics");
  EXPECT_EQ(MetricsBucket("/portForward/ns/p"), "portForward");
  EXPECT_EQ(MetricsBucket("/metrics/nope"), "other");
  EXPECT_EQ(MetricsBucket("/whatever"), "other");
}

TEST(RoutesTest, QueryDecodesLikeGo) {
  Query q("command=sh&command=-c&command=echo+a%20b&stdin=true&empty=&flag");
  EXPECT_EQ(q.All("command"), (std::vector<std::string>{"sh", "-c", "echo a b"}));
  EXPECT_EQ(q.Get("stdin"), "true");
  EXPECT_TRUE(q.Has("empty"));
  EXPECT_TRUE(q.Has("flag"));
  EXPECT_FALSE(q.Has("nope"));
  EXPECT_TRUE(QueryBool(q, "stdin"));
  EXPECT_TRUE(QueryBool(q, "flag"));  // Go: any value but 0/false is true
  EXPECT_TRUE(QueryBool(q, "empty"));
  EXPECT_FALSE(QueryBool(q, "nope"));
  EXPECT_FALSE(QueryBool(Query("tty=0"), "tty"));
  EXPECT_FALSE(QueryBool(Query("tty=False"), "tty"));
  EXPECT_TRUE(QueryBool(Query("tty=1"), "tty"));
}

TEST(LogQueryTest, DecodesPodLogOptions) {
  constexpr int64_t kNow = 1'700'000'000LL * 1'000'000'000;
  Result<PodLogRequest> r = ParsePodLogQuery(
      Query("follow=true&timestamps=1&previous=true&tailLines=10&limitBytes=100&sinceSeconds=60"),
      kNow);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_TRUE(r->options.follow);
  EXPECT_TRUE(r->options.timestamps);
  EXPECT_TRUE(r->previous);
  EXPECT_EQ(r->options.tail_lines, 10);
  EXPECT_EQ(r->options.limit_bytes, 100);
  EXPECT_EQ(r->options.since_unix_nanos, kNow - 60LL * 1'000'000'000);

  r = ParsePodLogQuery(Query("sinceTime=2023-11-14T22:13:20Z"), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->options.since_unix_nanos, kNow);
  EXPECT_EQ(r->options.tail_lines, -1);
  EXPECT_FALSE(r->options.follow);

  // The old "tail" wins over tailLines; "all" means everything.
  EXPECT_EQ(ParsePodLogQuery(Query("tail=3&tailLines=5"), kNow)->options.tail_lines, 3);
  EXPECT_EQ(ParsePodLogQuery(Query("tail=all&tailLines=5"), kNow)->options.tail_lines, -1);
}

TEST(LogQueryTest, RejectsWhatKubeletRejects) {
  auto code = [](const std::string& q) {
    Result<PodLogRequest> r = ParsePodLogQuery(Query(q), 0);
    return r.ok() ? Errc::kUnknown : r.error().code();
  };
  EXPECT_EQ(code("tailLines=x"), Errc::kInvalidArgument);  // 400
  EXPECT_EQ(code("sinceTime=yesterday"), Errc::kInvalidArgument);
  EXPECT_EQ(code("tailLines=-1"), Errc::kFailedPrecondition);  // 422
  EXPECT_EQ(code("limitBytes=0"), Errc::kFailedPrecondition);
  EXPECT_EQ(code("sinceSeconds=0"), Errc::kFailedPrecondition);
  EXPECT_EQ(code("sinceSeconds=5&sinceTime=2023-11-14T22:13:20Z"), Errc::kFailedPrecondition);
}

}  // namespace
}  // namespace berth::agent::kubelet

// The API machinery's pure parts: request info, selectors, patches,
// validation messages, table helpers.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "controlplane/server/api/kinds.h"
#include "controlplane/server/api/patch.h"
#include "controlplane/server/api/request_info.h"
#include "controlplane/server/api/selectors.h"
#include "controlplane/server/api/validation.h"

namespace berth::controlplane::api {
namespace {

namespace bj = boost::json;

TEST(RequestInfoTest, ReadsVerbsScopesAndSubresources) {
  Query none;
  Query watch = ParseQuery("watch=true&labelSelector=app%3Dweb");
  EXPECT_EQ(watch.at("labelSelector"), "app=web");

  RequestInfo list = ParseRequestInfo("GET", "/api/v1/namespaces/demo/pods", none);
  EXPECT_TRUE(list.is_resource_request);
  EXPECT_EQ(list.verb, "list");
  EXPECT_EQ(list.namespace_, "demo");
  EXPECT_EQ(list.resource, "pods");

  EXPECT_EQ(ParseRequestInfo("GET", "/api/v1/pods", watch).verb, "watch");
  RequestInfo status =
      ParseRequestInfo("PUT", "/apis/apps/v1/namespaces/d/deployments/web/status", none);
  EXPECT_EQ(status.verb, "update");
  EXPECT_EQ(status.group, "apps");
  EXPECT_EQ(status.name, "web");
  EXPECT_EQ(status.subresource, "status");

  RequestInfo ns = ParseRequestInfo("DELETE", "/api/v1/namespaces/demo", none);
  EXPECT_EQ(ns.verb, "delete");
  EXPECT_EQ(ns.resource, "namespaces");
  EXPECT_EQ(ns.name, "demo");
  RequestInfo finalize = ParseRequestInfo("PUT", "/api/v1/namespaces/demo/finalize", none);
  EXPECT_EQ(finalize.resource, "namespaces");
  EXPECT_EQ(finalize.subresource, "finalize");

  EXPECT_EQ(ParseRequestInfo("DELETE", "/api/v1/namespaces/d/pods", none).verb, "deletecollection");
  EXPECT_FALSE(ParseRequestInfo("GET", "/api/v1", none).is_resource_request);
  EXPECT_FALSE(ParseRequestInfo("GET", "/version", none).is_resource_request);
}

bj::object Labels(std::initializer_list<std::pair<std::string, std::string>> kv) {
  bj::object o;
  for (const auto& [k, v] : kv)
    o[k] = v;
  return o;
}

TEST(LabelSelectorTest, EveryOperatorMatchesAsUpstream) {
  bj::object web = Labels({{"app", "web"}, {"tier", "fe"}, {"n", "5"}});
  auto matches = [&](const char* text) {
    Result<LabelSelector> s = LabelSelector::Parse(text);
    EXPECT_TRUE(s.ok()) << text << ": " << (s.ok() ? "" : s.error().str());
    return s.ok() && s->Matches(&web);
  };
  EXPECT_TRUE(matches(""));
  EXPECT_TRUE(matches("app=web"));
  EXPECT_TRUE(matches("app==web,tier"));
  EXPECT_FALSE(matches("app!=web"));
  EXPECT_TRUE(matches("missing!=x"));  // != matches an absent key
  EXPECT_TRUE(matches("tier in (fe, be)"));
  EXPECT_FALSE(matches("tier notin (fe)"));
  EXPECT_TRUE(matches("!legacy"));
  EXPECT_FALSE(matches("!app"));
  EXPECT_TRUE(matches("n>3,n<9"));
  EXPECT_TRUE(LabelSelector::Parse("app=").ok());  // an empty value is a value
  EXPECT_FALSE(LabelSelector::Parse("app in (a").ok());
  EXPECT_FALSE(LabelSelector::Parse("app woo b").ok());
  EXPECT_FALSE(LabelSelector::Parse("-bad-=x").ok());
}

TEST(LabelSelectorTest, ReadsMatchLabelsAndMatchExpressions) {
  bj::value sel = bj::parse(R"({"matchLabels":{"app":"web"},
      "matchExpressions":[{"key":"tier","operator":"In","values":["fe"]},
                          {"key":"old","operator":"DoesNotExist"}]})");
  Result<LabelSelector> s = LabelSelector::FromJson(sel, "spec.selector");
  ASSERT_TRUE(s.ok()) << s.error().str();
  bj::object good = Labels({{"app", "web"}, {"tier", "fe"}});
  bj::object bad = Labels({{"app", "web"}, {"tier", "fe"}, {"old", "1"}});
  EXPECT_TRUE(s->Matches(&good));
  EXPECT_FALSE(s->Matches(&bad));
  Result<LabelSelector> broken = LabelSelector::FromJson(
      bj::parse(R"({"matchExpressions":[{"key":"a","operator":"In"}]})"), "spec.selector");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message().find("spec.selector.matchExpressions[0].values"),
            std::string::npos);
}

TEST(FieldSelectorTest, EqualityAndInequalityWithEscapes) {
  Result<FieldSelector> s = FieldSelector::Parse("spec.nodeName=n1,status.phase!=Failed");
  ASSERT_TRUE(s.ok());
  auto lookup = [](std::string_view f) -> std::optional<std::string> {
    if (f == "spec.nodeName") return "n1";
    if (f == "status.phase") return "Running";
    return std::nullopt;
  };
  EXPECT_TRUE(*s->Matches(lookup));
  EXPECT_EQ(s->Exact("spec.nodeName"), "n1");
  Result<FieldSelector> unknown = FieldSelector::Parse("spec.foo=1");
  ASSERT_TRUE(unknown.ok());
  Result<bool> m = unknown->Matches(lookup);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message(), "field label not supported: spec.foo");
  Result<FieldSelector> escaped = FieldSelector::Parse(R"(metadata.name=a\,b)");
  ASSERT_TRUE(escaped.ok());
  EXPECT_EQ(escaped->Exact("metadata.name"), "a,b");
  EXPECT_FALSE(FieldSelector::Parse("nonsense").ok());
}

bj::value Patch(PatchType type, const char* target, const char* patch, const char* kind = "Pod") {
  Result<bj::value> out = ApplyPatch(type, bj::parse(target), bj::parse(patch), kind);
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().str());
  return out.ok() ? *out : bj::value();
}

TEST(PatchTest, JsonPatchOperations) {
  bj::value out = Patch(PatchType::kJson, R"({"a":{"b":[1,2]},"c":1})",
                        R"([{"op":"add","path":"/a/b/-","value":3},
                            {"op":"replace","path":"/c","value":2},
                            {"op":"copy","from":"/c","path":"/d"},
                            {"op":"move","from":"/d","path":"/e"},
                            {"op":"remove","path":"/a/b/0"},
                            {"op":"test","path":"/e","value":2}])");
  EXPECT_EQ(out, bj::parse(R"({"a":{"b":[2,3]},"c":2,"e":2})"));
  EXPECT_FALSE(ApplyPatch(PatchType::kJson, bj::parse("{}"),
                          bj::parse(R"([{"op":"remove","path":"/nope"}])"), "Pod")
                   .ok());
  EXPECT_FALSE(ApplyPatch(PatchType::kJson, bj::parse(R"({"a":1})"),
                          bj::parse(R"([{"op":"test","path":"/a","value":2}])"), "Pod")
                   .ok());
  EXPECT_EQ(Patch(PatchType::kJson, R"({"a~b":{"c/d":1}})",
                  R"([{"op":"replace","path":"/a~0b/c~1d","value":5}])"),
            bj::parse(R"({"a~b":{"c/d":5}})"));
}

TEST(PatchTest, MergePatchRemovesNullsAndReplacesLists) {
  EXPECT_EQ(Patch(PatchType::kMerge, R"({"a":1,"b":{"c":1,"d":2},"l":[1,2]})",
                  R"({"a":null,"b":{"c":3},"l":[9]})"),
            bj::parse(R"({"b":{"c":3,"d":2},"l":[9]})"));
}

TEST(PatchTest, StrategicMergesContainersByNameAndPortsByContainerPort) {
  const char* pod = R"({"spec":{"containers":[
      {"name":"a","image":"x:1","ports":[{"containerPort":80,"protocol":"TCP"}],
       "env":[{"name":"E1","value":"1"}]},
      {"name":"b","image":"y:1"}],
      "tolerations":[{"key":"t1"}]}})";
  bj::value out = Patch(PatchType::kStrategic, pod,
                        R"({"spec":{"containers":[{"name":"a","image":"x:2",
                              "ports":[{"containerPort":81}],
                              "env":[{"name":"E2","value":"2"}]}],
                            "tolerations":[{"key":"t2"}]}})");
  const bj::array& cs = out.at("spec").at("containers").as_array();
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].at("image"), "x:2");
  EXPECT_EQ(cs[0].at("ports").as_array().size(), 2u);
  EXPECT_EQ(cs[0].at("env").as_array().size(), 2u);
  EXPECT_EQ(cs[1].at("image"), "y:1");
  // No merge strategy upstream: tolerations are replaced.
  EXPECT_EQ(out.at("spec").at("tolerations"), bj::parse(R"([{"key":"t2"}])"));
}

TEST(PatchTest, StrategicDirectivesAsKubectlApplySendsThem) {
  const char* pod = R"({"metadata":{"finalizers":["a","b"]},"spec":{"containers":[
      {"name":"a","image":"x"},{"name":"b","image":"y"},{"name":"c","image":"z"}]}})";
  bj::value out = Patch(PatchType::kStrategic, pod, R"({
      "metadata":{"$deleteFromPrimitiveList/finalizers":["a"],"finalizers":["c"]},
      "spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"a"}],
              "containers":[{"$patch":"delete","name":"b"}]}})");
  EXPECT_EQ(out.at("metadata").at("finalizers"), bj::parse(R"(["b","c"])"));
  const bj::array& cs = out.at("spec").at("containers").as_array();
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].at("name"), "c");
  EXPECT_EQ(cs[1].at("name"), "a");
  bj::value replaced = Patch(PatchType::kStrategic, R"({"spec":{"m":{"a":1,"b":2}}})",
                             R"({"spec":{"m":{"$patch":"replace","c":3}}})");
  EXPECT_EQ(replaced.at("spec").at("m"), bj::parse(R"({"c":3})"));
  bj::value retained = Patch(PatchType::kStrategic,
                             R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{}}}})",
                             R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})");
  EXPECT_EQ(retained.at("spec").at("strategy"), bj::parse(R"({"type":"Recreate"})"));
}

TEST(PatchTest, ServicePortsMergeByPort) {
  bj::value out = Patch(PatchType::kStrategic, R"({"spec":{"ports":[{"port":80,"name":"http"}]}})",
                        R"({"spec":{"ports":[{"port":443,"name":"https"}]}})", "Service");
  EXPECT_EQ(out.at("spec").at("ports").as_array().size(), 2u);
}

TEST(ValidationTest, NamesAndMessagesAsUpstream) {
  EXPECT_EQ(Dns1123SubdomainError("web.example-1"), "");
  EXPECT_NE(Dns1123SubdomainError("Web"), "");
  EXPECT_NE(Dns1123LabelError("a.b"), "");
  EXPECT_EQ(QualifiedNameError("app.kubernetes.io/name"), "");
  EXPECT_NE(QualifiedNameError("/x"), "");
  EXPECT_NE(LabelValueError("-x"), "");
  FieldErrors errors;
  errors.Required("spec.containers");
  errors.Invalid("metadata.name", bj::string("A"), "bad");
  ApiStatus s = InvalidStatus("", "Pod", "A", errors.causes());
  EXPECT_EQ(s.code, 422);
  EXPECT_EQ(s.message,
            "Pod \"A\" is invalid: [spec.containers: Required value, metadata.name: Invalid "
            "value: \"A\": bad]");
}

TEST(TableHelpersTest, HumanDurationAsKubectlPrints) {
  EXPECT_EQ(HumanDuration(5), "5s");
  EXPECT_EQ(HumanDuration(119), "119s");
  EXPECT_EQ(HumanDuration(200), "3m20s");
  EXPECT_EQ(HumanDuration(3600 * 2 + 60 * 5), "125m");
  EXPECT_EQ(HumanDuration(3600 * 5 + 60), "5h1m");
  EXPECT_EQ(HumanDuration(3600 * 30), "30h");
  EXPECT_EQ(HumanDuration(86400 * 3 + 3600), "3d1h");
  EXPECT_EQ(HumanDuration(86400 * 30), "30d");
  EXPECT_EQ(HumanDuration(86400 * 365 * 3), "3y");
  EXPECT_EQ(ParseRfc3339("1970-01-02T00:00:00Z"), 86400);
  EXPECT_EQ(ParseRfc3339("2026-11-22T14:00:00Z"), 1795356000);
}

TEST(PodDefaultsTest, PullPolicyAndSpecDefaults) {
  bj::object pod = bj::parse(R"({"spec":{"containers":[{"name":"a","image":"busybox"},
      {"name":"b","image":"reg:5000/busybox:1.36"}]}})")
                       .as_object();
  PodKind().Default(pod);
  const bj::object& spec = pod.at("spec").as_object();
  EXPECT_EQ(spec.at("restartPolicy"), "Always");
  EXPECT_EQ(spec.at("dnsPolicy"), "ClusterFirst");
  EXPECT_EQ(spec.at("terminationGracePeriodSeconds"), 30);
  EXPECT_EQ(spec.at("schedulerName"), "default-scheduler");
  EXPECT_EQ(spec.at("containers").at(0).at("imagePullPolicy"), "Always");
  EXPECT_EQ(spec.at("containers").at(1).at("imagePullPolicy"), "IfNotPresent");
  EXPECT_EQ(spec.at("containers").at(0).at("terminationMessagePath"), "/dev/termination-log");
}

}  // namespace
}  // namespace berth::controlplane::api

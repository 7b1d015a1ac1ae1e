#include "cni/client/client.h"

#include <gtest/gtest.h>

#include "cni/client/tests/fake_plugin.h"
#include "common/file.h"
#include "common/time.h"

namespace berth::cni {
namespace {

using testing::Fail;
using testing::FakePlugins;
using testing::Print;
namespace bj = boost::json;

constexpr const char* kResultA = R"({"cniVersion":"1.0.0",
  "interfaces":[{"name":"cni0"},{"name":"eth0","sandbox":"/proc/1/ns/net"}],
  "ips":[{"address":"10.88.0.5/24","gateway":"10.88.0.1","interface":1}]})";
// b answers in the 0.4.0 format: converted to the list's 1.0.0.
constexpr const char* kResultB = R"({"cniVersion":"0.4.0",
  "interfaces":[{"name":"cni0"},{"name":"eth0","sandbox":"/proc/1/ns/net"}],
  "ips":[{"version":"4","address":"10.88.0.5/24","gateway":"10.88.0.1","interface":1}],
  "fromB":true})";
constexpr const char* kResultC = R"({"cniVersion":"1.0.0",
  "interfaces":[{"name":"cni0"},{"name":"eth0","sandbox":"/proc/1/ns/net"}],
  "ips":[{"address":"fd00::5/64","interface":1},{"address":"10.88.0.5/24","interface":1}],
  "fromC":true})";

constexpr const char* kPodsList = R"({"cniVersion":"1.0.0","name":"pods","plugins":[
  {"type":"a","capabilities":{"portMappings":true},"custom":{"keep":[1,"two"]}},
  {"type":"b","capabilities":{"bandwidth":true,"dns":true,"portMappings":false}},
  {"type":"c"}]})";

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    f_.Write("a", {{"ADD", Print(kResultA)}});
    f_.Write("b", {{"ADD", Print(kResultB)}});
    f_.Write("c", {{"ADD", Print(kResultC)}});
    f_.WriteConf("10-pods.conflist", kPodsList);
    ASSERT_TRUE(MkdirAll(f_.path("empty-bin")).ok());
  }

  ClientOptions Options() const {
    ClientOptions o;
    o.conf_dir = f_.conf_dir();
    o.plugin_dirs = {f_.path("empty-bin"), f_.bin_dir()};
    o.cache_dir = f_.cache_dir();
    o.plugin_env = std::vector<std::string>{"PATH=/usr/bin:/bin", "CNI_COMMAND=stale"};
    o.timeout = std::chrono::milliseconds(10'000);
    return o;
  }

  static RuntimeConf Pod(const std::string& netns = "/proc/self/ns/net") {
    RuntimeConf rt;
    rt.container_id = "sandbox1";
    rt.netns = netns;
    rt.ifname = "eth0";
    rt.args = PodCniArgs("default", "web", "uid-1", "sandbox1");
    rt.capabilities.port_mappings = {{8080, 80, "tcp", ""}};
    rt.capabilities.bandwidth = Bandwidth{1000, 2000, 3000, 4000};
    rt.capabilities.dns = DnsConfig{{"10.96.0.10"}, {"svc.cluster.local"}, {"ndots:5"}};
    return rt;
  }

  FakePlugins f_;
};

bj::value Json(const char* text) {
  return bj::parse(text);
}

TEST_F(ClientTest, AddRunsTheChainInOrderWithPrevResultAndCaches) {
  Client client(Options());
  auto result = client.Add(Pod());
  ASSERT_TRUE(result.ok()) << result.error().str();
  EXPECT_EQ(f_.Calls(), (std::vector<std::string>{"a ADD", "b ADD", "c ADD"}));

  // Environment, as containerd sends it; stale CNI_* of the base replaced.
  auto env = f_.Env("a", "ADD");
  EXPECT_EQ(env["CNI_COMMAND"], "ADD");
  EXPECT_EQ(env["CNI_CONTAINERID"], "sandbox1");
  EXPECT_EQ(env["CNI_NETNS"], "/proc/self/ns/net");
  EXPECT_EQ(env["CNI_IFNAME"], "eth0");
  EXPECT_EQ(env["CNI_ARGS"],
            "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;"
            "K8S_POD_INFRA_CONTAINER_ID=sandbox1;K8S_POD_UID=uid-1");
  EXPECT_EQ(env["CNI_PATH"], f_.path("empty-bin") + ":" + f_.bin_dir());
  EXPECT_EQ(env["PATH"], "/usr/bin:/bin");

  // a: name and cniVersion injected, unknown keys untouched, only the
  // capability it declares, no prevResult.
  bj::object a = f_.Stdin("a", "ADD");
  EXPECT_EQ(a.at("name").as_string(), "pods");
  EXPECT_EQ(a.at("cniVersion").as_string(), "1.0.0");
  EXPECT_EQ(bj::serialize(a.at("custom")), R"({"keep":[1,"two"]})");
  EXPECT_FALSE(a.contains("prevResult"));
  EXPECT_EQ(bj::serialize(a.at("runtimeConfig")),
            R"({"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]})");

  // b: a's result as prevResult; bandwidth and dns, not portMappings (false).
  bj::object b = f_.Stdin("b", "ADD");
  EXPECT_EQ(b.at("prevResult"), Json(kResultA));
  const bj::object& rc = b.at("runtimeConfig").as_object();
  EXPECT_EQ(rc.size(), 2u);
  EXPECT_EQ(bj::serialize(rc.at("bandwidth")),
            R"({"ingressRate":1000,"ingressBurst":2000,"egressRate":3000,"egressBurst":4000})");
  EXPECT_EQ(bj::serialize(rc.at("dns")),
            R"({"servers":["10.96.0.10"],"searches":["svc.cluster.local"],"options":["ndots:5"]})");

  // c: b's result converted to 1.0.0 (ips[].version dropped); no
  // capabilities at all.
  bj::object c = f_.Stdin("c", "ADD");
  EXPECT_FALSE(c.contains("runtimeConfig"));
  const bj::object& prev = c.at("prevResult").as_object();
  EXPECT_EQ(prev.at("cniVersion").as_string(), "1.0.0");
  EXPECT_TRUE(prev.at("fromB").as_bool());
  EXPECT_FALSE(prev.at("ips").as_array()[0].as_object().contains("version"));

  // The final result is c's.
  EXPECT_TRUE(result->json().at("fromC").as_bool());
  EXPECT_EQ(result->PodIps(), (std::vector<std::string>{"10.88.0.5", "fd00::5"}));

  // Cached with the config and args ADD used.
  auto entry = ResultCache(f_.cache_dir()).Get("pods", "sandbox1", "eth0");
  ASSERT_TRUE(entry.ok() && entry->has_value()) << f_.cache_dir();
  EXPECT_EQ((*entry)->result, result->json());
  EXPECT_EQ(Json((*entry)->config.c_str()), Json(kPodsList));
  EXPECT_EQ((*entry)->cni_args, Pod().args);
  EXPECT_EQ((*entry)->netns, "/proc/self/ns/net");
  EXPECT_TRUE((*entry)->capability_args.contains("portMappings"));
  auto cached = client.CachedResult(Pod());
  ASSERT_TRUE(cached.ok() && cached->has_value());
  EXPECT_EQ((*cached)->json(), result->json());
}

TEST_F(ClientTest, DelReversesTheCachedChainEvenAfterTheConfChanged) {
  Client client(Options());
  auto added = client.Add(Pod());
  ASSERT_TRUE(added.ok()) << added.error().str();

  // The admin replaces the network; DEL must still undo what ADD did.
  f_.Write("z", {});
  ASSERT_TRUE(RemoveAll(f_.conf_dir() + "/10-pods.conflist").ok());
  f_.WriteConf("05-other.conflist",
               R"({"cniVersion":"1.0.0","name":"other","plugins":[{"type":"z"}]})");
  ASSERT_TRUE(client.Reload().ok());
  f_.ClearCalls();

  RuntimeConf rt = Pod();
  rt.capabilities = {};  // DEL uses the cached capability args
  rt.args = {};          // and the cached CNI_ARGS
  ASSERT_TRUE(client.Del(rt).ok());
  EXPECT_EQ(f_.Calls(), (std::vector<std::string>{"c DEL", "b DEL", "a DEL"}));
  for (const char* type : {"a", "b", "c"}) {
    bj::object in = f_.Stdin(type, "DEL");
    EXPECT_EQ(in.at("prevResult"), added->json()) << type;
    EXPECT_EQ(in.at("name").as_string(), "pods");
  }
  EXPECT_TRUE(f_.Stdin("a", "DEL").at("runtimeConfig").as_object().contains("portMappings"));
  EXPECT_EQ(f_.Env("a", "DEL")["CNI_ARGS"].find("IgnoreUnknown=1;K8S_POD_NAMESPACE=default"), 0u);
  EXPECT_FALSE(PathExists(f_.cache_dir() + "/pods-sandbox1-eth0"));

  // Again: nothing cached, so DEL with the current config, no prevResult.
  f_.ClearCalls();
  ASSERT_TRUE(client.Del(Pod()).ok());
  EXPECT_EQ(f_.Calls(), (std::vector<std::string>{"z DEL"}));
  EXPECT_FALSE(f_.Stdin("z", "DEL").contains("prevResult"));
  EXPECT_EQ(f_.Stdin("z", "DEL").at("name").as_string(), "other");
}

TEST_F(ClientTest, DelWithAVanishedNetnsPassesAnEmptyNetns) {
  Client client(Options());
  ASSERT_TRUE(client.Add(Pod(f_.path("netns-pin"))).ok());
  ASSERT_TRUE(client.Del(Pod(f_.path("netns-pin"))).ok());
  EXPECT_EQ(f_.Env("c", "DEL")["CNI_NETNS"], "");
  EXPECT_EQ(f_.Env("c", "DEL")["CNI_CONTAINERID"], "sandbox1");
  // A plain file where the pin was (unmounted) counts as gone too.
  ASSERT_TRUE(WriteFile(f_.path("netns-pin"), "").ok());
  ASSERT_TRUE(client.Del(Pod(f_.path("netns-pin"))).ok());
  EXPECT_EQ(f_.Env("c", "DEL")["CNI_NETNS"], "");
  // A live netns is passed through.
  ASSERT_TRUE(client.Del(Pod("/proc/self/ns/net")).ok());
  EXPECT_EQ(f_.Env("c", "DEL")["CNI_NETNS"], "/proc/self/ns/net");
}

TEST_F(ClientTest, DelFailureKeepsTheCacheForARetry) {
  Client client(Options());
  ASSERT_TRUE(client.Add(Pod()).ok());
  f_.Write("b", {{"DEL", Fail(11, "busy")}});
  auto st = client.Del(Pod());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().str().find("code 11"), std::string::npos) << st.error().str();
  EXPECT_TRUE(PathExists(f_.cache_dir() + "/pods-sandbox1-eth0"));
  EXPECT_FALSE(f_.Called("a", "DEL"));  // stopped at b
  f_.Write("b", {});
  ASSERT_TRUE(client.Del(Pod()).ok());
  EXPECT_FALSE(PathExists(f_.cache_dir() + "/pods-sandbox1-eth0"));
}

TEST_F(ClientTest, PluginErrorsNamePluginCodeAndMessage) {
  f_.Write("b", {{"ADD", Fail(11, "no IPs left", "range 10.88.0.0/24 is full")}});
  Client client(Options());
  auto r = client.Add(Pod());
  ASSERT_FALSE(r.ok());
  const std::string& msg = r.error().message();
  EXPECT_NE(msg.find("CNI plugin \"b\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("network \"pods\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("ADD"), std::string::npos) << msg;
  EXPECT_NE(msg.find("code 11 (try again later)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no IPs left"), std::string::npos) << msg;
  EXPECT_NE(msg.find("range 10.88.0.0/24 is full"), std::string::npos) << msg;
  EXPECT_EQ(r.error().code(), Errc::kUnavailable);
  EXPECT_FALSE(f_.Called("c", "ADD"));
  EXPECT_FALSE(PathExists(f_.cache_dir() + "/pods-sandbox1-eth0"));

  // Not JSON: exit status and stderr instead.
  f_.Write("b", {{"ADD", "echo 'bridge exploded' >&2; exit 2"}});
  r = client.Add(Pod());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("exit status 2: bridge exploded"), std::string::npos)
      << r.error().message();

  // A broken result.
  f_.Write("b", {{"ADD", Print(R"({"cniVersion":"1.0.0","ips":[{"address":"nope"}]})")}});
  r = client.Add(Pod());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().str().find("\"b\" (network \"pods\") ADD result: ips[0].address"),
            std::string::npos)
      << r.error().str();

  f_.Write("b", {{"ADD", Fail(3, "gone")}});
  EXPECT_EQ(client.Add(Pod()).error().code(), Errc::kNotFound);
}

TEST_F(ClientTest, MissingPluginNamesTypeAndPath) {
  f_.WriteConf("01-x.conflist",
               R"({"cniVersion":"1.0.0","name":"x","plugins":[{"type":"nonesuch"}]})");
  Client client(Options());
  auto r = client.Add(Pod());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kNotFound);
  EXPECT_NE(r.error().str().find("\"nonesuch\" not found in CNI_PATH " + f_.path("empty-bin")),
            std::string::npos)
      << r.error().str();
}

TEST_F(ClientTest, TimeoutKillsAHangingPlugin) {
  f_.Write("b", {{"ADD", "sleep 30"}});
  ClientOptions o = Options();
  o.timeout = std::chrono::milliseconds(300);
  Client client(o);
  int64_t start = MonotonicNanos();
  auto r = client.Add(Pod());
  ASSERT_FALSE(r.ok());
  EXPECT_LT(MonotonicNanos() - start, 5'000'000'000);
  EXPECT_EQ(r.error().code(), Errc::kDeadlineExceeded);
  EXPECT_NE(r.error().message().find("CNI plugin \"b\""), std::string::npos);
  EXPECT_NE(r.error().message().find("timed out after 300ms"), std::string::npos)
      << r.error().message();
}

TEST_F(ClientTest, InvalidAttachmentsAreRejectedBeforeAnyPluginRuns) {
  Client client(Options());
  RuntimeConf rt = Pod();
  rt.container_id = "-bad";
  EXPECT_EQ(client.Add(rt).error().code(), Errc::kInvalidArgument);
  rt = Pod();
  rt.ifname = "waytoolonginterfacename";
  EXPECT_EQ(client.Add(rt).error().code(), Errc::kInvalidArgument);
  rt = Pod();
  rt.args.emplace_back("K", "a;b");
  EXPECT_EQ(client.Add(rt).error().code(), Errc::kInvalidArgument);
  EXPECT_TRUE(f_.Calls().empty());
}

TEST_F(ClientTest, CheckUsesTheCachedResultInOrder) {
  Client client(Options());
  EXPECT_EQ(client.Check(Pod()).error().code(), Errc::kNotFound);
  auto added = client.Add(Pod());
  ASSERT_TRUE(added.ok());
  f_.ClearCalls();
  ASSERT_TRUE(client.Check(Pod()).ok());
  EXPECT_EQ(f_.Calls(), (std::vector<std::string>{"a CHECK", "b CHECK", "c CHECK"}));
  EXPECT_EQ(f_.Stdin("a", "CHECK").at("prevResult"), added->json());
  f_.Write("b", {{"CHECK", Fail(7, "bridge cni0 is down")}});
  auto st = client.Check(Pod());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("failed CHECK: code 7"), std::string::npos)
      << st.error().message();
}

TEST_F(ClientTest, CheckHonoursDisableCheckAndOldVersions) {
  ClientOptions o = Options();
  f_.WriteConf("01-nocheck.conflist",
               R"({"cniVersion":"1.0.0","name":"nocheck","disableCheck":true,
                   "plugins":[{"type":"a"}]})");
  Client client(o);
  ASSERT_TRUE(client.Add(Pod()).ok());
  f_.ClearCalls();
  EXPECT_TRUE(client.Check(Pod()).ok());
  EXPECT_TRUE(f_.Calls().empty());
  ASSERT_TRUE(client.Del(Pod()).ok());

  ASSERT_TRUE(RemoveAll(f_.conf_dir() + "/01-nocheck.conflist").ok());
  f_.WriteConf("01-old.conflist",
               R"({"cniVersion":"0.3.1","name":"old","plugins":[{"type":"a"}]})");
  ASSERT_TRUE(client.Reload().ok());
  ASSERT_TRUE(client.Add(Pod()).ok());
  EXPECT_EQ(client.Check(Pod()).error().code(), Errc::kUnimplemented);
  // 0.3.x: no prevResult on DEL either.
  ASSERT_TRUE(client.Del(Pod()).ok());
  EXPECT_FALSE(f_.Stdin("a", "DEL").contains("prevResult"));
  // ...but the ADD result was converted to 0.3.1 for the caller.
  EXPECT_EQ(f_.Stdin("a", "ADD").at("cniVersion").as_string(), "0.3.1");
}

TEST_F(ClientTest, StatusBeforeSpec11OnlyNeedsConfigAndPlugins) {
  Client client(Options());
  ASSERT_TRUE(client.NetworkStatus().ok());
  EXPECT_TRUE(f_.Calls().empty());  // no STATUS for a 1.0.0 list

  f_.WriteConf("01-missing.conflist",
               R"({"cniVersion":"1.0.0","name":"m","plugins":[{"type":"a"},{"type":"gone"}]})");
  auto st = client.NetworkStatus();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().str().find("\"gone\" not found"), std::string::npos) << st.error().str();

  FakePlugins empty;
  ClientOptions o = Options();
  o.conf_dir = empty.conf_dir();
  Client none(o);
  st = none.NetworkStatus();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().str().find("cni config uninitialized"), std::string::npos);
  EXPECT_NE(st.error().str().find(empty.conf_dir()), std::string::npos);
  EXPECT_FALSE(none.Add(Pod()).ok());
  // Nothing cached, nothing configured: DEL has nothing to do.
  EXPECT_TRUE(none.Del(Pod()).ok());
}

TEST_F(ClientTest, StatusRunsEveryPluginOfA11List) {
  f_.WriteConf("01-new.conflist",
               R"({"cniVersion":"1.1.0","name":"new","plugins":[{"type":"a"},{"type":"b"}]})");
  Client client(Options());
  ASSERT_TRUE(client.NetworkStatus().ok());
  EXPECT_EQ(f_.Calls(), (std::vector<std::string>{"a STATUS", "b STATUS"}));
  bj::object in = f_.Stdin("b", "STATUS");
  EXPECT_EQ(in.at("name").as_string(), "new");
  EXPECT_EQ(in.at("cniVersion").as_string(), "1.1.0");
  EXPECT_FALSE(in.contains("prevResult"));
  EXPECT_EQ(f_.Env("b", "STATUS")["CNI_CONTAINERID"], "");

  f_.Write("a", {{"STATUS", Fail(50, "agent unreachable")}});
  auto st = client.NetworkStatus();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), Errc::kUnavailable);
  EXPECT_NE(st.error().message().find("code 50 (plugin not available): agent unreachable"),
            std::string::npos)
      << st.error().message();
}

TEST_F(ClientTest, SetNetworkPinsTheConfiguration) {
  Client client(Options());
  auto list =
      ParseConfList(R"({"cniVersion":"1.0.0","name":"pinned","plugins":[{"type":"c"}]})", "inline");
  ASSERT_TRUE(list.ok());
  client.SetNetwork(std::move(*list));
  ASSERT_TRUE(client.NetworkStatus().ok());  // does not reload the conf dir
  EXPECT_EQ(client.network()->name, "pinned");
  ASSERT_TRUE(client.Add(Pod()).ok());
  EXPECT_EQ(f_.Calls(), (std::vector<std::string>{"c ADD"}));
}

TEST_F(ClientTest, VersionInfo) {
  Client client(Options());
  auto info = client.GetVersionInfo("a");
  ASSERT_TRUE(info.ok()) << info.error().str();
  EXPECT_EQ(info->cni_version, "1.0.0");
  EXPECT_TRUE(info->Supports("0.4.0"));
  EXPECT_FALSE(info->Supports("1.1.0"));
  EXPECT_EQ(f_.Stdin("a", "VERSION").at("cniVersion").as_string(), kSpecVersion);
}

}  // namespace
}  // namespace berth::cni

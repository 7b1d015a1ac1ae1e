// berth-cni-bridge driven as a runtime drives it: the built binary exec'd
// with CNI_* and the configuration on stdin, inside a network namespace
// this test creates as the "host", with pods in namespaces of their own.
// Nothing touches the machine's own network namespace; every namespace is
// deleted on the way out, which takes the bridge, veths and rules with it.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <set>
#include <thread>

#include "cni/bridge/commands.h"
#include "cni/bridge/hostport.h"
#include "cni/bridge/link.h"
#include "cni/bridge/netns.h"
#include "cni/bridge/tests/netns_fixture.h"
#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::cni::bridge {
namespace {

namespace bj = boost::json;
using testing::PluginCall;
using testing::PluginRun;
using testing::TestNetns;

constexpr const char* kNetwork = "berth-test";
constexpr const char* kGateway = "10.88.0.1";

class BridgePrivTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE(berth::testing::IsRoot(), "needs root for network namespaces");
    binary_ = berth::testing::BuiltBinary("cni/bridge/berth-cni-bridge");
    BERTH_REQUIRE(PathExists(binary_), "berth-cni-bridge not built at " + binary_);
    BERTH_REQUIRE(PathExists("/usr/bin/nsenter"), "nsenter (util-linux) missing");
    prefix_ = "bcb" + std::to_string(::getpid());
    auto host = TestNetns::Create(prefix_ + "-host");
    ASSERT_TRUE(host.ok()) << host.error().str();
    host_ = std::make_unique<TestNetns>(std::move(host).value());
  }

  // A pod netns, kept until the test ends (or Remove()d).
  TestNetns& Pod(const std::string& name) {
    auto ns = TestNetns::Create(prefix_ + "-" + name);
    EXPECT_TRUE(ns.ok()) << ns.error().str();
    pods_.push_back(std::make_unique<TestNetns>(std::move(ns).value()));
    return *pods_.back();
  }

  bj::object BaseConfig() {
    return bj::object{{"cniVersion", "1.0.0"},
                      {"name", kNetwork},
                      {"type", "berth-cni-bridge"},
                      {"bridge", "berth0"},
                      {"isGateway", true},
                      {"isDefaultGateway", true},
                      {"hairpinMode", true},
                      {"ipam", bj::object{{"subnet", "10.88.0.0/16"}, {"dataDir", ipam_.path()}}},
                      {"dns", bj::object{{"nameservers", bj::array{"10.96.0.10"}}}}};
  }

  PluginRun Run(const std::string& command, const std::string& id, const std::string& netns,
                const bj::object& conf) {
    PluginCall call{binary_, host_->path(), command, id, netns, "eth0", bj::serialize(conf)};
    auto r = testing::RunPluginBinary(call);
    EXPECT_TRUE(r.ok()) << r.error().str();
    return r.ok() ? *r : PluginRun{};
  }

  // ADD that must succeed; returns the result document.
  bj::object Add(const std::string& id, const TestNetns& pod, const bj::object& conf) {
    PluginRun r = Run("ADD", id, pod.path(), conf);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    if (r.exit_code != 0) return {};
    return bj::parse(r.out).as_object();
  }

  static std::string PodIp(const bj::object& result) {
    std::string cidr(result.at("ips").as_array()[0].at("address").as_string());
    return cidr.substr(0, cidr.find('/'));
  }

  // Runs `fn` with a socket of `bus` inside netns `path`.
  template <class Fn>
  auto WithSocket(const std::string& path, int bus, Fn fn) {
    auto ns = OpenNetns(path);
    EXPECT_TRUE(ns.ok()) << ns.error().str();
    auto sock = OpenNetlinkIn(ns->get(), bus, path);
    EXPECT_TRUE(sock.ok()) << sock.error().str();
    return fn(*sock);
  }

  bool LinkExists(const std::string& netns_path, const std::string& name) {
    return WithSocket(netns_path, NETLINK_ROUTE, [&](NetlinkSocket& s) {
      auto link = GetLink(s, name);
      EXPECT_TRUE(link.ok()) << link.error().str();
      return link.ok() && link->has_value();
    });
  }

  int Mtu(const std::string& netns_path, const std::string& name) {
    return WithSocket(netns_path, NETLINK_ROUTE, [&](NetlinkSocket& s) {
      auto link = GetLink(s, name);
      return link.ok() && link->has_value() ? (*link)->mtu : -1;
    });
  }

  // `ip ...` inside a netns the test made; must succeed.
  void Ip(const std::string& netns_path, std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/sbin/ip");
    auto r = testing::RunIn(netns_path, args);
    ASSERT_TRUE(r.ok()) << r.error().str();
    ASSERT_TRUE(r->success()) << r->err;
  }

  size_t RulesOf(const std::string& id) {
    return WithSocket(host_->path(), NETLINK_NETFILTER, [&](NetlinkSocket& s) {
      auto n = CountPodNat(s, NatOwner{kNetwork, id, "eth0"});
      EXPECT_TRUE(n.ok()) << n.error().str();
      return n.ok() ? *n : size_t{0};
    });
  }

  size_t AllRules() {
    return WithSocket(host_->path(), NETLINK_NETFILTER, [&](NetlinkSocket& s) {
      auto rules = ListHostportRules(s);
      EXPECT_TRUE(rules.ok()) << rules.error().str();
      return rules.ok() ? rules->size() : 0;
    });
  }

  std::string IpFile(const std::string& ip) { return ipam_ / (std::string(kNetwork) + "/" + ip); }

  std::string binary_;
  std::string prefix_;
  berth::testing::TempDir ipam_{"berth-cni-bridge-ipam"};
  std::unique_ptr<TestNetns> host_;
  std::vector<std::unique_ptr<TestNetns>> pods_;
};

TEST_F(BridgePrivTest, TwoPodsReachEachOtherAndTheHost) {
  TestNetns& a = Pod("a");
  TestNetns& b = Pod("b");
  bj::object conf = BaseConfig();
  conf["mtu"] = 1400;
  bj::object ra = Add("pod-a", a, conf);
  bj::object rb = Add("pod-b", b, conf);
  ASSERT_FALSE(ra.empty());
  ASSERT_FALSE(rb.empty());
  std::string ip_a = PodIp(ra), ip_b = PodIp(rb);
  EXPECT_EQ(Mtu(a.path(), "eth0"), 1400);
  EXPECT_EQ(Mtu(host_->path(), "berth0"), 1400);
  EXPECT_NE(ip_a, ip_b);
  EXPECT_EQ(ra.at("cniVersion").as_string(), "1.0.0");

  // Result shape: bridge, host veth, pod interface with its sandbox.
  const bj::array& ifs = ra.at("interfaces").as_array();
  ASSERT_EQ(ifs.size(), 3u);
  EXPECT_EQ(ifs[0].at("name").as_string(), "berth0");
  std::string host_veth(ifs[1].at("name").as_string());
  EXPECT_EQ(host_veth, HostVethName(kNetwork, "pod-a", "eth0"));
  EXPECT_EQ(ifs[1].at("mac").as_string().size(), 17u);
  EXPECT_EQ(ifs[2].at("name").as_string(), "eth0");
  EXPECT_EQ(ifs[2].at("sandbox").as_string(), a.path());
  const bj::object& ip = ra.at("ips").as_array()[0].as_object();
  EXPECT_EQ(ip.at("interface").as_int64(), 2);
  EXPECT_EQ(ip.at("gateway").as_string(), kGateway);
  EXPECT_EQ(ra.at("routes").as_array()[0].at("dst").as_string(), "0.0.0.0/0");
  EXPECT_EQ(ra.at("dns").at("nameservers").as_array()[0].as_string(), "10.96.0.10");
  EXPECT_TRUE(PathExists(IpFile(ip_a)));
  EXPECT_EQ(*ReadFile(IpFile(ip_a)), "pod-a\neth0\n");

  // Pod A -> pod B across the bridge.
  auto listen_b = testing::ListenTcp(b.path(), 8000);
  ASSERT_TRUE(listen_b.ok()) << listen_b.error().str();
  auto peer = testing::ConnectAndAccept(a.path(), ip_b, 8000, listen_b->get());
  ASSERT_TRUE(peer.ok()) << peer.error().str();
  EXPECT_EQ(testing::AddrString(*peer), ip_a);

  // Pod A -> a listener in the host netns, at the gateway address.
  auto listen_host = testing::ListenTcp(host_->path(), 9000);
  ASSERT_TRUE(listen_host.ok()) << listen_host.error().str();
  peer = testing::ConnectAndAccept(a.path(), kGateway, 9000, listen_host->get());
  ASSERT_TRUE(peer.ok()) << peer.error().str();
  EXPECT_EQ(testing::AddrString(*peer), ip_a);

  // CHECK with the ADD result as prevResult.
  bj::object check_conf = conf;
  check_conf["prevResult"] = ra;
  PluginRun check = Run("CHECK", "pod-a", a.path(), check_conf);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_EQ(check.out, "");

  // DEL removes both veth ends and the reservation; a second DEL is fine.
  PluginRun del = Run("DEL", "pod-a", a.path(), check_conf);
  EXPECT_EQ(del.exit_code, 0) << del.out << del.err;
  EXPECT_FALSE(LinkExists(a.path(), "eth0"));
  EXPECT_FALSE(LinkExists(host_->path(), host_veth));
  EXPECT_TRUE(LinkExists(host_->path(), "berth0")) << "DEL leaves the bridge";
  EXPECT_FALSE(PathExists(IpFile(ip_a)));
  del = Run("DEL", "pod-a", a.path(), check_conf);
  EXPECT_EQ(del.exit_code, 0) << del.out << del.err;

  // CHECK after DEL reports the missing attachment.
  check = Run("CHECK", "pod-a", a.path(), check_conf);
  EXPECT_NE(check.exit_code, 0);
  EXPECT_EQ(bj::parse(check.out).at("code").as_int64(), 103) << check.out;
}

TEST_F(BridgePrivTest, HostPortsHairpinAndLocalhost) {
  TestNetns& a = Pod("a");
  TestNetns& b = Pod("b");
  bj::object conf = BaseConfig();
  conf["capabilities"] = bj::object{{"portMappings", true}};
  conf["runtimeConfig"] = bj::object{
      {"portMappings",
       bj::array{bj::object{{"hostPort", 18080}, {"containerPort", 80}, {"protocol", "tcp"}},
                 bj::object{{"hostPort", 18053}, {"containerPort", 53}, {"protocol", "udp"}}}}};
  bj::object ra = Add("pod-a", a, conf);
  ASSERT_FALSE(ra.empty());
  bj::object rb = Add("pod-b", b, BaseConfig());
  ASSERT_FALSE(rb.empty());
  std::string ip_a = PodIp(ra);
  EXPECT_EQ(RulesOf("pod-a"), 6u) << "2 mappings x (prerouting, output) + 2 masquerade rules";
  EXPECT_EQ(RulesOf("pod-b"), 0u);

  auto listener = testing::ListenTcp(a.path(), 80);
  ASSERT_TRUE(listener.ok()) << listener.error().str();

  // From the host netns, to the gateway address (output chain).
  auto peer = testing::ConnectAndAccept(host_->path(), kGateway, 18080, listener->get());
  ASSERT_TRUE(peer.ok()) << peer.error().str();
  // From the host netns, to 127.0.0.1 (output chain, route_localnet, SNAT).
  peer = testing::ConnectAndAccept(host_->path(), "127.0.0.1", 18080, listener->get());
  ASSERT_TRUE(peer.ok()) << peer.error().str();
  EXPECT_EQ(testing::AddrString(*peer), kGateway) << "masqueraded away from 127.0.0.1";
  // From another pod through the hostPort (prerouting chain).
  peer = testing::ConnectAndAccept(b.path(), kGateway, 18080, listener->get());
  ASSERT_TRUE(peer.ok()) << peer.error().str();
  EXPECT_EQ(testing::AddrString(*peer), PodIp(rb));
  // Hairpin: pod A reaches itself through its own hostPort.
  peer = testing::ConnectAndAccept(a.path(), kGateway, 18080, listener->get());
  ASSERT_TRUE(peer.ok()) << peer.error().str();
  EXPECT_EQ(testing::AddrString(*peer), kGateway) << "hairpin traffic is masqueraded";

  // UDP mapping.
  auto udp = testing::BindUdp(a.path(), 53);
  ASSERT_TRUE(udp.ok()) << udp.error().str();
  auto from = testing::SendAndReceiveUdp(host_->path(), kGateway, 18053, udp->get());
  ASSERT_TRUE(from.ok()) << from.error().str();

  bj::object check_conf = conf;
  check_conf["prevResult"] = ra;
  PluginRun check = Run("CHECK", "pod-a", a.path(), check_conf);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;

  PluginRun del = Run("DEL", "pod-a", a.path(), check_conf);
  EXPECT_EQ(del.exit_code, 0) << del.out << del.err;
  EXPECT_EQ(RulesOf("pod-a"), 0u);
  EXPECT_EQ(AllRules(), 0u);
  auto gone = testing::ConnectAndAccept(host_->path(), kGateway, 18080, listener->get());
  EXPECT_FALSE(gone.ok()) << "the hostPort no longer leads to the pod";
}

// ipMasq: a pod reaches a network that has no route back to the pod
// subnet, because its traffic leaves the host masqueraded.
TEST_F(BridgePrivTest, IpMasqHidesPodsBehindTheHost) {
  TestNetns& a = Pod("a");
  TestNetns& outside = Pod("out");
  std::string veth = prefix_ + "o";
  Ip(host_->path(),
     {"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", outside.name()});
  Ip(host_->path(), {"addr", "add", "192.0.2.1/24", "dev", veth});
  Ip(host_->path(), {"link", "set", veth, "up"});
  Ip(outside.path(), {"addr", "add", "192.0.2.2/24", "dev", "eth0"});
  Ip(outside.path(), {"link", "set", "eth0", "up"});
  auto listener = testing::ListenTcp(outside.path(), 7000);
  ASSERT_TRUE(listener.ok()) << listener.error().str();

  bj::object conf = BaseConfig();
  conf["ipMasq"] = true;
  bj::object ra = Add("pod-a", a, conf);
  ASSERT_FALSE(ra.empty());
  EXPECT_EQ(RulesOf("pod-a"), 1u);
  auto peer = testing::ConnectAndAccept(a.path(), "192.0.2.2", 7000, listener->get());
  ASSERT_TRUE(peer.ok()) << peer.error().str();
  EXPECT_EQ(testing::AddrString(*peer), "192.0.2.1") << "source is the host's address";

  PluginRun del = Run("DEL", "pod-a", a.path(), conf);
  EXPECT_EQ(del.exit_code, 0) << del.out << del.err;
  EXPECT_EQ(RulesOf("pod-a"), 0u);
}

TEST_F(BridgePrivTest, ConcurrentAddsGetDistinctAddresses) {
  constexpr int kPods = 10;
  std::vector<TestNetns*> pods;
  for (int i = 0; i < kPods; ++i)
    pods.push_back(&Pod("p" + std::to_string(i)));
  std::vector<PluginRun> runs(kPods);
  // Each pod maps a hostPort too, so the nf_tables transactions race as well.
  std::vector<bj::object> confs;
  for (int i = 0; i < kPods; ++i) {
    confs.push_back(BaseConfig());
    confs.back()["runtimeConfig"] = bj::object{
        {"portMappings", bj::array{bj::object{{"hostPort", 20000 + i}, {"containerPort", 80}}}}};
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < kPods; ++i) {
    threads.emplace_back(
        [&, i] { runs[i] = Run("ADD", "pod-" + std::to_string(i), pods[i]->path(), confs[i]); });
  }
  for (auto& t : threads)
    t.join();
  std::set<std::string> ips;
  for (int i = 0; i < kPods; ++i) {
    ASSERT_EQ(runs[i].exit_code, 0) << runs[i].out << runs[i].err;
    ips.insert(PodIp(bj::parse(runs[i].out).as_object()));
  }
  EXPECT_EQ(ips.size(), static_cast<size_t>(kPods));
  EXPECT_EQ(ips.count(kGateway), 0u);
  EXPECT_EQ(AllRules(), static_cast<size_t>(4 * kPods));

  threads.clear();
  for (int i = 0; i < kPods; ++i) {
    threads.emplace_back(
        [&, i] { runs[i] = Run("DEL", "pod-" + std::to_string(i), pods[i]->path(), confs[i]); });
  }
  for (auto& t : threads)
    t.join();
  for (int i = 0; i < kPods; ++i)
    EXPECT_EQ(runs[i].exit_code, 0) << runs[i].out << runs[i].err;
  EXPECT_EQ(AllRules(), 0u);
  for (const std::string& ip : ips)
    EXPECT_FALSE(PathExists(IpFile(ip))) << ip;
}

// Listing rules while other plugins commit: a rule dump spans several
// netlink reads, and deletions ahead of the dump's position used to make it
// skip rules, so a DEL could leave one of its own rules behind.
TEST_F(BridgePrivTest, RuleListingIsConsistentWhileOthersCommit) {
  constexpr int kOthers = 30;
  auto others = [](int i) { return NatOwner{kNetwork, "other-" + std::to_string(i), "eth0"}; };
  auto other_nat = [](int i) {
    return PodNat{Ipv4{0x0a580000u + 10 + static_cast<uint32_t>(i)},
                  {PortMapping{static_cast<uint16_t>(21000 + i), 80}},
                  std::nullopt};
  };
  const NatOwner steady{kNetwork, "steady", "eth0"};
  WithSocket(host_->path(), NETLINK_NETFILTER, [&](NetlinkSocket& s) {
    for (int i = 0; i < kOthers; ++i)
      ASSERT_TRUE(AddPodNat(s, others(i), other_nat(i)).ok());
    // Masquerade only: its one rule sits last in the dump, after every rule
    // the churn below deletes.
    PodNat nat{Ipv4{0x0a580002u}, {}, Ipv4Prefix{Ipv4{0x0a580000u}, 16}};
    ASSERT_TRUE(AddPodNat(s, steady, nat).ok());
  });

  std::atomic<bool> stop{false};
  std::thread churn([&] {
    WithSocket(host_->path(), NETLINK_NETFILTER, [&](NetlinkSocket& s) {
      for (int round = 0; !stop; ++round) {
        int i = round % kOthers;
        EXPECT_TRUE(DeletePodNat(s, others(i)).ok());
        EXPECT_TRUE(AddPodNat(s, others(i), other_nat(i)).ok());
        std::this_thread::sleep_for(std::chrono::microseconds(500));
      }
    });
  });
  int wrong = 0;
  WithSocket(host_->path(), NETLINK_NETFILTER, [&](NetlinkSocket& s) {
    for (int n = 0; n < 300; ++n) {
      auto count = CountPodNat(s, steady);
      ASSERT_TRUE(count.ok()) << count.error().str();
      wrong += *count != 1;
    }
  });
  stop = true;
  churn.join();
  EXPECT_EQ(wrong, 0) << "listings that missed the steady rule";
}

TEST_F(BridgePrivTest, DelAfterTheNetnsIsGone) {
  TestNetns& a = Pod("a");
  bj::object conf = BaseConfig();
  conf["runtimeConfig"] = bj::object{
      {"portMappings", bj::array{bj::object{{"hostPort", 18081}, {"containerPort", 81}}}}};
  bj::object ra = Add("pod-a", a, conf);
  ASSERT_FALSE(ra.empty());
  std::string netns_path = a.path();
  a.Remove();
  PluginRun del = Run("DEL", "pod-a", netns_path, conf);
  EXPECT_EQ(del.exit_code, 0) << del.out << del.err;
  EXPECT_FALSE(PathExists(IpFile(PodIp(ra))));
  EXPECT_FALSE(LinkExists(host_->path(), HostVethName(kNetwork, "pod-a", "eth0")));
  EXPECT_EQ(RulesOf("pod-a"), 0u);
  // And with no netns at all, as after a reboot.
  del = Run("DEL", "pod-a", "", conf);
  EXPECT_EQ(del.exit_code, 0) << del.out << del.err;
}

TEST_F(BridgePrivTest, FailedAddsLeaveNothingBehind) {
  TestNetns& a = Pod("a");
  TestNetns& b = Pod("b");
  TestNetns& c = Pod("c");
  bj::object conf = BaseConfig();
  conf["ipam"].as_object()["rangeStart"] = "10.88.0.10";
  conf["ipam"].as_object()["rangeEnd"] = "10.88.0.11";
  ASSERT_FALSE(Add("pod-a", a, conf).empty());
  // The same interface again: refused, and pod A's attachment is untouched.
  PluginRun dup = Run("ADD", "pod-x", a.path(), conf);
  EXPECT_NE(dup.exit_code, 0);
  EXPECT_EQ(bj::parse(dup.out).at("code").as_int64(), 102) << dup.out;
  EXPECT_TRUE(LinkExists(a.path(), "eth0"));
  ASSERT_FALSE(Add("pod-b", b, conf).empty());
  // The range is full: error 101, and no veth left in pod C or the host.
  PluginRun full = Run("ADD", "pod-c", c.path(), conf);
  EXPECT_NE(full.exit_code, 0);
  bj::object e = bj::parse(full.out).as_object();
  EXPECT_EQ(e.at("code").as_int64(), 101) << full.out;
  EXPECT_EQ(e.at("cniVersion").as_string(), "1.0.0");
  EXPECT_FALSE(LinkExists(c.path(), "eth0"));
  EXPECT_FALSE(LinkExists(host_->path(), HostVethName(kNetwork, "pod-c", "eth0")));
}

TEST_F(BridgePrivTest, StatusAndGarbageCollection) {
  TestNetns& a = Pod("a");
  TestNetns& b = Pod("b");
  bj::object conf = BaseConfig();
  conf["cniVersion"] = "1.1.0";
  conf["runtimeConfig"] = bj::object{
      {"portMappings", bj::array{bj::object{{"hostPort", 18082}, {"containerPort", 82}}}}};
  PluginRun status = Run("STATUS", "", "", conf);
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  bj::object ra = Add("pod-a", a, conf);
  bj::object rb = Add("pod-b", b, conf);
  ASSERT_FALSE(ra.empty());
  ASSERT_FALSE(rb.empty());
  EXPECT_EQ(ra.at("cniVersion").as_string(), "1.1.0");
  EXPECT_EQ(RulesOf("pod-b"), 4u);

  bj::object gc = conf;
  gc.erase("runtimeConfig");
  gc["cni.dev/valid-attachments"] =
      bj::array{bj::object{{"containerID", "pod-a"}, {"ifname", "eth0"}}};
  PluginRun r = Run("GC", "", "", gc);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(PathExists(IpFile(PodIp(ra))));
  EXPECT_FALSE(PathExists(IpFile(PodIp(rb))));
  EXPECT_EQ(RulesOf("pod-a"), 4u);
  EXPECT_EQ(RulesOf("pod-b"), 0u);
}

// Chained with Debian's reference plugins: berth-cni-bridge's result is the
// prevResult of `tuning` (which parses it with libcni's types) in a
// conflist-style sequence, and DEL runs in reverse.
TEST_F(BridgePrivTest, ChainsWithReferenceTuningPlugin) {
  const std::string tuning = "/usr/lib/cni/tuning";
  BERTH_REQUIRE(PathExists(tuning), "containernetworking-plugins (tuning) not installed");
  TestNetns& a = Pod("a");
  bj::object conf = BaseConfig();
  bj::object result = Add("pod-a", a, conf);
  ASSERT_FALSE(result.empty());

  bj::object tuning_conf{{"cniVersion", "1.0.0"},
                         {"name", kNetwork},
                         {"type", "tuning"},
                         {"sysctl", bj::object{{"net.ipv4.conf.eth0.rp_filter", "2"}}},
                         {"prevResult", result}};
  PluginCall call{
      tuning, host_->path(), "ADD", "pod-a", a.path(), "eth0", bj::serialize(tuning_conf)};
  auto add = testing::RunPluginBinary(call);
  ASSERT_TRUE(add.ok()) << add.error().str();
  ASSERT_EQ(add->exit_code, 0) << add->out << add->err;
  bj::object chained = bj::parse(add->out).as_object();
  EXPECT_EQ(chained.at("ips"), result.at("ips")) << "tuning passes our result through";
  auto rp = testing::RunIn(a.path(), {"/bin/cat", "/proc/sys/net/ipv4/conf/eth0/rp_filter"});
  ASSERT_TRUE(rp.ok());
  EXPECT_EQ(rp->out, "2\n");

  bj::object check_conf = conf;
  check_conf["prevResult"] = chained;
  PluginRun check = Run("CHECK", "pod-a", a.path(), check_conf);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;

  tuning_conf["prevResult"] = chained;
  call.command = "DEL";
  call.config = bj::serialize(tuning_conf);
  auto del = testing::RunPluginBinary(call);
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->exit_code, 0) << del->out << del->err;
  PluginRun ours = Run("DEL", "pod-a", a.path(), check_conf);
  EXPECT_EQ(ours.exit_code, 0) << ours.out << ours.err;
  EXPECT_FALSE(LinkExists(a.path(), "eth0"));
}

}  // namespace
}  // namespace berth::cni::bridge

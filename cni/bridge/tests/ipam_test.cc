#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

#include "cni/bridge/ipam_store.h"
#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::cni::bridge {
namespace {

Ipv4 Ip(const char* s) {
  return *ParseIpv4(s, "test");
}

// 10.0.0.0/24 with the given range, gateway .1.
IpamConfig Range(const char* start, const char* end, const char* gateway = "10.0.0.1") {
  IpamConfig c;
  c.subnet = *ParseIpv4Prefix("10.0.0.0/24", "test");
  c.range_start = Ip(start);
  c.range_end = Ip(end);
  c.gateway = Ip(gateway);
  return c;
}

class IpamTest : public ::testing::Test {
 protected:
  IpamStore Store(const IpamConfig& c) { return IpamStore(dir_ / "net", c); }
  testing::TempDir dir_{"berth-ipam-test"};
};

TEST_F(IpamTest, SkipsGatewayAndRecordsOwner) {
  IpamStore s = Store(Range("10.0.0.1", "10.0.0.254"));
  auto ip = s.Allocate("c1", "eth0");
  ASSERT_TRUE(ip.ok()) << ip.error().str();
  EXPECT_EQ(ip->str(), "10.0.0.2");
  auto content = ReadFile(dir_ / "net/10.0.0.2");
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, "c1\neth0\n");
  EXPECT_EQ(*ReadFile(dir_ / "net/last_reserved_ip.0"), "10.0.0.2");
}

TEST_F(IpamTest, NeverHandsOutNetworkOrBroadcast) {
  // A range spanning the whole /30 (only reachable by building the config
  // by hand: the parser rejects it) still leaves out .0, .1 (gateway), .3.
  IpamConfig c;
  c.subnet = *ParseIpv4Prefix("10.0.0.0/30", "test");
  c.range_start = Ip("10.0.0.0");
  c.range_end = Ip("10.0.0.3");
  c.gateway = Ip("10.0.0.1");
  IpamStore s = Store(c);
  EXPECT_EQ(s.Allocate("a", "eth0")->str(), "10.0.0.2");
  auto full = s.Allocate("b", "eth0");
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code(), Errc::kResourceExhausted);
}

TEST_F(IpamTest, RoundRobinDoesNotReuseAReleasedAddressAtOnce) {
  IpamStore s = Store(Range("10.0.0.10", "10.0.0.20"));
  EXPECT_EQ(s.Allocate("a", "eth0")->str(), "10.0.0.10");
  EXPECT_EQ(s.Allocate("b", "eth0")->str(), "10.0.0.11");
  ASSERT_TRUE(s.Release("a", "eth0").ok());
  EXPECT_EQ(s.Allocate("c", "eth0")->str(), "10.0.0.12");
}

TEST_F(IpamTest, WrapsAroundAndExhausts) {
  IpamStore s = Store(Range("10.0.0.10", "10.0.0.12"));
  EXPECT_EQ(s.Allocate("a", "eth0")->str(), "10.0.0.10");
  EXPECT_EQ(s.Allocate("b", "eth0")->str(), "10.0.0.11");
  EXPECT_EQ(s.Allocate("c", "eth0")->str(), "10.0.0.12");
  auto full = s.Allocate("d", "eth0");
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code(), Errc::kResourceExhausted);
  EXPECT_NE(full.error().str().find("10.0.0.10-10.0.0.12"), std::string::npos);
  ASSERT_TRUE(s.Release("b", "eth0").ok());
  EXPECT_EQ(s.Allocate("d", "eth0")->str(), "10.0.0.11") << "wraps past the end to the free one";
}

TEST_F(IpamTest, DuplicateAttachmentIsRefused) {
  IpamStore s = Store(Range("10.0.0.10", "10.0.0.20"));
  ASSERT_TRUE(s.Allocate("a", "eth0").ok());
  auto again = s.Allocate("a", "eth0");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Errc::kAlreadyExists);
  EXPECT_TRUE(s.Allocate("a", "eth1").ok()) << "another interface of the same container";
}

TEST_F(IpamTest, ReleaseByContainerAndInterface) {
  IpamStore s = Store(Range("10.0.0.10", "10.0.0.20"));
  Ipv4 a0 = *s.Allocate("a", "eth0");
  Ipv4 a1 = *s.Allocate("a", "eth1");
  Ipv4 b0 = *s.Allocate("b", "eth0");
  auto released = s.Release("a", "eth1");
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(*released, std::vector<Ipv4>{a1});
  released = s.Release("a", "");
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(*released, std::vector<Ipv4>{a0});
  released = s.Release("a", "eth0");
  ASSERT_TRUE(released.ok()) << "releasing nothing is fine";
  EXPECT_TRUE(released->empty());
  EXPECT_EQ(*s.Find("b", "eth0"), b0);
  EXPECT_FALSE(s.Find("a", "eth0")->has_value());
}

TEST_F(IpamTest, ReleaseInAMissingDirectoryIsFine) {
  IpamStore s = Store(Range("10.0.0.10", "10.0.0.20"));
  auto released = s.Release("nobody", "eth0");
  ASSERT_TRUE(released.ok());
  EXPECT_TRUE(released->empty());
  EXPECT_FALSE(PathExists(dir_ / "net")) << "a release does not create the store";
}

TEST_F(IpamTest, PersistsAcrossInstances) {
  {
    IpamStore s = Store(Range("10.0.0.10", "10.0.0.20"));
    ASSERT_TRUE(s.Allocate("a", "eth0").ok());
    ASSERT_TRUE(s.Allocate("b", "eth0").ok());
  }
  IpamStore s = Store(Range("10.0.0.10", "10.0.0.20"));
  auto all = s.List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(s.Find("b", "eth0")->value().str(), "10.0.0.11");
  EXPECT_EQ(s.Allocate("c", "eth0")->str(), "10.0.0.12") << "last_reserved_ip.0 survived";
}

TEST_F(IpamTest, ReadsHostLocalFileFormat) {
  ASSERT_TRUE(MkdirAll(dir_ / "net").ok());
  ASSERT_TRUE(WriteFile(dir_ / "net/10.0.0.15", "legacy\r\neth3").ok());
  IpamStore s = Store(Range("10.0.0.10", "10.0.0.20"));
  EXPECT_EQ(s.Find("legacy", "eth3")->value().str(), "10.0.0.15");
  auto released = s.Release("legacy", "eth3");
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(released->size(), 1u);
}

TEST_F(IpamTest, GarbageCollectKeepsOnlyValidAttachments) {
  IpamStore s = Store(Range("10.0.0.10", "10.0.0.20"));
  ASSERT_TRUE(s.Allocate("keep", "eth0").ok());
  ASSERT_TRUE(s.Allocate("gone", "eth0").ok());
  ASSERT_TRUE(s.Allocate("keep", "eth1").ok());
  auto released = s.ReleaseAllExcept({{"keep", "eth0"}});
  ASSERT_TRUE(released.ok());
  ASSERT_EQ(released->size(), 2u);
  auto left = s.List();
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].container_id, "keep");
  EXPECT_EQ((*left)[0].ifname, "eth0");
}

TEST_F(IpamTest, ConcurrentThreadsGetDistinctAddresses) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10;
  std::vector<std::vector<Ipv4>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread has its own store, hence its own lock file description.
      IpamStore s = Store(Range("10.0.0.2", "10.0.0.254"));
      for (int i = 0; i < kPerThread; ++i) {
        auto ip = s.Allocate("t" + std::to_string(t) + "-" + std::to_string(i), "eth0");
        if (ip.ok()) got[t].push_back(*ip);
      }
    });
  }
  for (auto& th : threads)
    th.join();
  std::set<uint32_t> all;
  for (const auto& v : got) {
    EXPECT_EQ(v.size(), static_cast<size_t>(kPerThread));
    for (Ipv4 ip : v)
      all.insert(ip.value);
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST_F(IpamTest, ConcurrentProcessesGetDistinctAddresses) {
  constexpr int kProcs = 4;
  constexpr int kPerProc = 10;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      IpamStore s = Store(Range("10.0.0.2", "10.0.0.254"));
      int failures = 0;
      for (int i = 0; i < kPerProc; ++i)
        failures += !s.Allocate("p" + std::to_string(p) + "-" + std::to_string(i), "eth0").ok();
      ::_exit(failures);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto all = Store(Range("10.0.0.2", "10.0.0.254")).List();
  ASSERT_TRUE(all.ok());
  std::set<uint32_t> distinct;
  for (const Allocation& a : *all)
    distinct.insert(a.ip.value);
  EXPECT_EQ(all->size(), static_cast<size_t>(kProcs * kPerProc));
  EXPECT_EQ(distinct.size(), all->size());
}

TEST_F(IpamTest, CheckUsable) {
  EXPECT_TRUE(Store(Range("10.0.0.10", "10.0.0.20")).CheckUsable().ok());
  ASSERT_TRUE(WriteFile(dir_ / "file", "x").ok());
  IpamStore bad(dir_ / "file/net", Range("10.0.0.10", "10.0.0.20"));
  EXPECT_FALSE(bad.CheckUsable().ok());
}

}  // namespace
}  // namespace berth::cni::bridge

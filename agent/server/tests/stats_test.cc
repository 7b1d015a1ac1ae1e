// /proc parsing, CPU rates, and the shapes of /stats/summary and
// /metrics/resource.

#include "agent/server/stats.h"

#include <gtest/gtest.h>

#include <limits>

#include "agent/server/node_stats.h"
#include "agent/server/prometheus.h"
#include "agent/server/summary.h"

namespace berth::agent::kubelet {
namespace {

namespace bj = boost::json;

TEST(NodeStatsTest, ProcStat) {
  std::string stat =
      "cpu  100 20 30 1000 50 5 5 10 7 0\n"
      "cpu0 50 10 15 500 25 2 3 5 3 0\n"
      "btime 1700000000\n";
  // user+nice+system+irq+softirq+steal = 170 ticks of 10 ms
  EXPECT_EQ(*ParseProcStatBusyNanos(stat, 100), 170u * 10'000'000u);
  EXPECT_EQ(*ParseProcStatBootTime(stat), 1700000000);
  EXPECT_FALSE(ParseProcStatBusyNanos("intr 1\n", 100).ok());
}

TEST(NodeStatsTest, MeminfoVmstatNetDevRoute) {
  MemInfo m = *ParseMeminfo(
      "MemTotal:       16000000 kB\nMemFree:         4000000 kB\n"
      "MemAvailable:    9000000 kB\nInactive(file):  2000000 kB\nAnonPages:       3000000 kB\n");
  EXPECT_EQ(m.total, 16000000ull * 1024);
  EXPECT_EQ(m.free, 4000000ull * 1024);
  EXPECT_EQ(m.available, 9000000ull * 1024);
  EXPECT_EQ(m.inactive_file, 2000000ull * 1024);
  EXPECT_EQ(m.anon, 3000000ull * 1024);
  VmStat v = ParseVmstat("nr_free_pages 1\npgfault 12345\npgmajfault 67\n");
  EXPECT_EQ(v.page_faults, 12345u);
  EXPECT_EQ(v.major_page_faults, 67u);
  std::vector<InterfaceStats> net = ParseNetDev(
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
      "drop fifo colls carrier compressed\n"
      "    lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0\n"
      "  eth0: 2000 20 3 0 0 0 0 0 4000 40 5 0 0 0 0 0\n");
  ASSERT_EQ(net.size(), 1u);
  EXPECT_EQ(net[0].name, "eth0");
  EXPECT_EQ(net[0].rx_bytes, 2000u);
  EXPECT_EQ(net[0].rx_errors, 3u);
  EXPECT_EQ(net[0].tx_bytes, 4000u);
  EXPECT_EQ(net[0].tx_errors, 5u);
  EXPECT_EQ(
      DefaultRouteInterface(
          "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
          "eth1\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
          "eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"),
      "eth0");
  EXPECT_EQ(DefaultRouteInterface(""), "");
  EXPECT_TRUE(SelfStats().ok());
  EXPECT_GT(StatFs("/").value().capacity_bytes, 0u);
}

TEST(CpuRatesTest, RateBetweenSamplesOfTheSameObject) {
  CpuRates rates;
  CpuSample a{1'000'000'000, std::nullopt, 5'000'000'000};
  rates.Fill("c1", a);
  EXPECT_FALSE(a.usage_nano_cores);                         // nothing to compare with yet
  CpuSample b{3'000'000'000, std::nullopt, 6'000'000'000};  // 1 s of CPU in 2 s
  rates.Fill("c1", b);
  EXPECT_EQ(b.usage_nano_cores, 500'000'000u);
  CpuSample same_time{3'000'000'000, std::nullopt, 6'000'000'000};
  rates.Fill("c1", same_time);
  EXPECT_FALSE(same_time.usage_nano_cores);
  CpuSample given{4'000'000'000, 42, 7'000'000'000};
  rates.Fill("c1", given);
  EXPECT_EQ(given.usage_nano_cores, 42u);  // the runtime's own figure wins
  CpuSample other{5'000'000'000, std::nullopt, 1};
  rates.Fill("c2", other);
  EXPECT_FALSE(other.usage_nano_cores);
}

StatsSample Sample() {
  StatsSample s;
  s.node.name = "n1";
  s.node.boot_time_nanos = 1'700'000'000'000'000'000;
  s.node.cpu = {1'700'000'100'000'000'000, 250'000'000, 9'000'000'000};
  s.node.memory.time_nanos = 1'700'000'100'000'000'000;
  s.node.memory.working_set_bytes = 1000;
  s.node.memory.usage_bytes = 1500;
  s.node.memory.available_bytes = 7000;
  s.node.network = NetworkSample{1'700'000'100'000'000'000, "eth0", {{"eth0", 1, 2, 3, 4}}};
  FsSample fs;
  fs.time_nanos = 1'700'000'100'000'000'000;
  fs.capacity_bytes = 100;
  fs.available_bytes = 60;
  fs.used_bytes = 40;
  s.node.fs = fs;
  PodSample p;
  p.name = "web";
  p.namespace_ = "default";
  p.uid = "uid-1";
  p.start_nanos = 1'700'000'050'000'000'000;
  p.cpu = {1'700'000'100'000'000'000, std::nullopt, 2'000'000'000};
  p.memory.time_nanos = 1'700'000'100'000'000'000;
  p.memory.working_set_bytes = 300;
  ContainerSample c;
  c.name = "app";
  c.start_nanos = 1'700'000'060'000'000'000;
  c.cpu = {1'700'000'100'500'000'000, 100, 1'500'000'000};
  c.memory.time_nanos = 1'700'000'100'500'000'000;
  c.memory.working_set_bytes = 200;
  p.containers.push_back(c);
  s.pods.push_back(p);
  return s;
}

TEST(SummaryTest, TheShapeMetricsServerReads) {
  bj::object sum = SummaryJson(Sample(), false);
  EXPECT_EQ(bj::serialize(sum.at("node").at("cpu")),
            R"({"time":"2023-11-14T22:15:00Z","usageNanoCores":250000000,)"
            R"("usageCoreNanoSeconds":9000000000})");
  EXPECT_EQ(sum.at("node").at("nodeName"), "n1");
  EXPECT_EQ(sum.at("node").at("memory").at("workingSetBytes"), 1000);
  EXPECT_EQ(sum.at("node").at("network").at("name"), "eth0");
  EXPECT_EQ(sum.at("node").at("network").at("rxBytes"), 1);
  EXPECT_EQ(sum.at("node").at("fs").at("capacityBytes"), 100);
  const bj::object& pod = sum.at("pods").at(0).as_object();
  EXPECT_EQ(bj::serialize(pod.at("podRef")),
            R"({"name":"web","namespace":"default","uid":"uid-1"})");
  EXPECT_EQ(pod.at("startTime"), "2023-11-14T22:14:10Z");
  EXPECT_FALSE(pod.at("cpu").as_object().contains("usageNanoCores"));  // unknown: left out
  EXPECT_EQ(pod.at("containers").at(0).at("name"), "app");
  EXPECT_EQ(pod.at("containers").at(0).at("cpu").at("usageNanoCores"), 100);
  EXPECT_EQ(pod.at("containers").at(0).at("memory").at("workingSetBytes"), 200);

  bj::object small = SummaryJson(Sample(), true);
  EXPECT_FALSE(small.at("node").as_object().contains("fs"));
  EXPECT_FALSE(small.at("node").as_object().contains("network"));
  EXPECT_TRUE(small.at("node").as_object().contains("memory"));
}

TEST(SummaryTest, ResourceMetricsText) {
  std::string text = ResourceMetricsText(Sample(), false);
  EXPECT_NE(text.find("# TYPE container_cpu_usage_seconds_total counter\n"
                      "container_cpu_usage_seconds_total{container=\"app\",namespace=\"default\","
                      "pod=\"web\"} 1.5 1700000100500\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("container_memory_working_set_bytes{container=\"app\",namespace=\"default\","
                      "pod=\"web\"} 200 1700000100500\n"),
            std::string::npos);
  EXPECT_NE(text.find("node_cpu_usage_seconds_total 9 1700000100000\n"), std::string::npos);
  EXPECT_NE(text.find("node_memory_working_set_bytes 1000 1700000100000\n"), std::string::npos);
  EXPECT_NE(text.find("pod_cpu_usage_seconds_total{namespace=\"default\",pod=\"web\"} 2 "),
            std::string::npos);
  EXPECT_NE(text.find("container_start_time_seconds{container=\"app\",namespace=\"default\","
                      "pod=\"web\"} 1700000060 1700000060000\n"),
            std::string::npos);
  EXPECT_NE(text.find("resource_scrape_error 0\n"), std::string::npos);
  EXPECT_NE(ResourceMetricsText({}, true).find("resource_scrape_error 1\n"), std::string::npos);
}

TEST(PrometheusTest, Format) {
  PromText t;
  t.Family("x_total", "Help with \\ and\nnewline", "counter");
  t.Sample("x_total", {{"a", "q\"uote\\\n"}}, 1e6);
  t.Sample("x_total", {}, 0.25, 5);
  EXPECT_EQ(t.str(),
            "# HELP x_total Help with \\\\ and\\nnewline\n# TYPE x_total counter\n"
            "x_total{a=\"q\\\"uote\\\\\\n\"} 1e+06\nx_total 0.25 5\n");
  EXPECT_EQ(FormatPromValue(std::numeric_limits<double>::infinity()), "+Inf");
}

}  // namespace
}  // namespace berth::agent::kubelet

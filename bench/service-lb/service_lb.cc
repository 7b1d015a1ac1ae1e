// bench/service-lb: ClusterIP load balancing, berth's socket-level eBPF
// dataplane against kube-proxy's iptables rules, in the same run with the
// same client (issue 8, acceptance 7).
//
// For each service count (10 endpoints each): connect+request latency
// p50/p99 and requests/s of `berth-lb-probe tcp` to one ClusterIP, the time
// to program every service from empty (LbMaps::Replace vs one
// iptables-restore) and to apply one endpoint change (LbMaps::Apply vs a
// partial iptables-restore --noflush). Prints the tables, the ratios and
// PASS/MISS per target. Root only; everything happens in the bench's own
// netns and mount ns, plus one cgroup it creates and removes.
//
//   service-lb [--services 10,1000,10000] [--requests N] [--trials K]
//              [--concurrency C] [--mode both|berth|iptables]
//              [--iptables-restore PATH] [--iptables-timeout-s S]
//              [--quiet-limit-s S] [--probe PATH]
//   service-lb --print-rules N   (the iptables-restore input for N services)

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/service-lb/bench_env.h"
#include "bench/service-lb/berth_lb.h"
#include "bench/service-lb/iptables_lb.h"
#include "bench/service-lb/kube_rules.h"
#include "bench/service-lb/probe_client.h"
#include "bench/service-lb/service_set.h"
#include "bench/stats.h"
#include "common/file.h"
#include "common/strings.h"
#include "common/testing/test_namespaces.h"

namespace {

using berth::Result;
using berth::Status;
using namespace berth::bench;  // NOLINT(google-build-using-namespace): the bench's own parts

struct Options {
  std::vector<size_t> services = {10, 1000, 10000};
  uint64_t requests = 2000;
  int trials = 3;
  uint64_t concurrency = 1;
  bool berth = true;
  bool iptables = true;
  std::string iptables_restore = "iptables-restore";
  int iptables_timeout_s = 120;
  int quiet_limit_s = 30;
  std::string probe;
  size_t print_rules = 0;
};

// One mode at one service count, over the trials.
struct Series {
  std::vector<double> p50, p99, rps, program_ms, change_ms, change_full_ms, load_ms;
  uint64_t failed = 0;
  uint64_t peer_mismatch = 0;
  size_t min_backends = SIZE_MAX;
  std::string errors;
  std::string timed_out;  // the peer's full sync did not finish: skipped from then on
};

struct Results {
  std::map<size_t, Series> berth;
  std::map<size_t, Series> iptables;
  std::string berth_error;  // the first berth failure; berth stops then
};

std::string SelfDir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return berth::Dirname(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0));
}

std::optional<Options> ParseOptions(int argc, char** argv) {
  Options o;
  o.probe = SelfDir() + "/../../proxy-ebpf/testing/berth-lb-probe";
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return std::nullopt;
    std::string value = argv[++i];
    if (flag == "--services") {
      o.services.clear();
      for (const std::string& s : berth::SplitNonEmpty(value, ','))
        o.services.push_back(std::stoul(s));
    } else if (flag == "--requests") {
      o.requests = std::stoull(value);
    } else if (flag == "--trials") {
      o.trials = std::stoi(value);
    } else if (flag == "--concurrency") {
      o.concurrency = std::stoull(value);
    } else if (flag == "--mode") {
      o.berth = value != "iptables";
      o.iptables = value != "berth";
    } else if (flag == "--iptables-restore") {
      o.iptables_restore = value;
    } else if (flag == "--print-rules") {
      o.print_rules = std::stoul(value);
    } else if (flag == "--iptables-timeout-s") {
      o.iptables_timeout_s = std::stoi(value);
    } else if (flag == "--quiet-limit-s") {
      o.quiet_limit_s = std::stoi(value);
    } else if (flag == "--probe") {
      o.probe = value;
    } else {
      return std::nullopt;
    }
  }
  for (size_t n : o.services)
    if (n < 2) return std::nullopt;
  return o;
}

std::string VipOf(const ServiceSet& set) {
  return set.services[set.measured].vip + ":80";
}

// Before anything timed: the previous stage's netns teardown and the
// last restore's aftermath are done.
void Settle(const Options& o) {
  bool quiet = false;
  double waited = WaitQuiet(std::chrono::seconds(o.quiet_limit_s), &quiet);
  if (!quiet)
    std::fprintf(stderr, "  warning: CPUs still busy after %.0f s; measuring anyway\n", waited);
  else if (waited > 1)
    std::fprintf(stderr, "  waited %.1f s for the CPUs to go quiet\n", waited);
}

// Once the machine is quiet, a short warm-up (caches, conntrack, ARP),
// then the measured run.
Result<ProbeRun> Measure(const Options& o, const ServiceSet& set, const std::string& cgroup) {
  Settle(o);
  ProbeRequest request{o.probe, VipOf(set), std::min<uint64_t>(200, o.requests), o.concurrency,
                       cgroup};
  BERTH_TRY(RunProbe(request));
  request.count = o.requests;
  return RunProbe(request);
}

void Record(const char* mode, Series& s, const ProbeRun& run) {
  std::fprintf(stderr, "  %-8s p50 %.1f us, p99 %.1f us, %.0f req/s, %llu ok, %llu failed\n", mode,
               run.p50_us, run.p99_us, run.rps, static_cast<unsigned long long>(run.ok),
               static_cast<unsigned long long>(run.failed));
  s.p50.push_back(run.p50_us);
  s.p99.push_back(run.p99_us);
  s.rps.push_back(run.rps);
  s.failed += run.failed;
  s.peer_mismatch += run.peer_mismatch;
  s.min_backends = std::min(s.min_backends, run.backends);
  if (run.failed > 0) s.errors = run.errors;
}

Status RunIptables(const Options& o, const IptablesLb& ipt, const Backends& backends,
                   ServiceSet set, Series& s) {
  if (!s.timed_out.empty()) return berth::Ok();
  Settle(o);
  auto client = BERTH_TRY(ClientNetns::Create(backends));
  auto program = ipt.Program(set);
  if (!program.ok() && program.error().code() == berth::Errc::kDeadlineExceeded) {
    s.timed_out = program.error().str();
    return berth::Ok();
  }
  s.program_ms.push_back(BERTH_TRY(std::move(program)));
  s.change_ms.push_back(BERTH_TRY(ipt.Change(set, false)));
  s.change_full_ms.push_back(BERTH_TRY(ipt.Change(set, true)));
  Record("iptables", s, BERTH_TRY(Measure(o, set, "")));
  return berth::Ok();
}

Status RunBerth(const Options& o, const Backends& backends, const BpfMount& bpf,
                const BenchCgroup& cgroup, ServiceSet set, Series& s) {
  Settle(o);
  auto client = BERTH_TRY(ClientNetns::Create(backends));
  auto start = std::chrono::steady_clock::now();
  auto lb = BERTH_TRY(BerthLb::Open(bpf.dir() + "/berth-bench", cgroup.path()));
  s.load_ms.push_back(
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  s.program_ms.push_back(BERTH_TRY(lb->Program(set)));
  s.change_ms.push_back(BERTH_TRY(lb->Change(set)));
  Record("berth", s, BERTH_TRY(Measure(o, set, cgroup.path())));
  return berth::Ok();
}

// Alternates which mode goes first per trial, so drift hits both alike.
// The bench's fixed parts.
struct Env {
  const IptablesLb& ipt;
  const Backends& backends;
  const BpfMount& bpf;
  const BenchCgroup& cgroup;
};

Status RunTrial(const Options& o, int trial, const Env& env, Results& results) {
  for (size_t n : o.services) {
    ServiceSet set = MakeServiceSet(n);
    std::fprintf(stderr, "trial %d: %zu services (%zu endpoints), measured %s\n", trial + 1, n,
                 set.endpoints(), VipOf(set).c_str());
    for (int step = 0; step < 2; ++step) {
      bool berth_turn = (step == 0) == (trial % 2 == 1);
      if (berth_turn && o.berth && results.berth_error.empty()) {
        Status ok = RunBerth(o, env.backends, env.bpf, env.cgroup, set, results.berth[n]);
        if (!ok.ok()) results.berth_error = ok.error().str();
      } else if (!berth_turn && o.iptables) {
        BERTH_TRY(RunIptables(o, env.ipt, env.backends, set, results.iptables[n]));
      }
    }
  }
  return berth::Ok();
}

// ---- report -------------------------------------------------------------

double Med(const std::vector<double>& v) {
  return Percentile(v, 0.5);
}

std::string Cell(const std::vector<double>& v, const char* format = "%.1f") {
  if (v.empty()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, format, Med(v));
  return buf;
}

std::string Ratio(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.empty() || b.empty() || Med(b) == 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", Med(a) / Med(b));
  return buf;
}

void PrintLatency(const Options& o, const Results& r) {
  std::printf(
      "\nconnect+request to one ClusterIP, %llu requests x %d trials, concurrency %llu "
      "(median over trials)\n",
      static_cast<unsigned long long>(o.requests), o.trials,
      static_cast<unsigned long long>(o.concurrency));
  std::printf("%9s | %9s %9s %8s | %9s %9s %8s | %9s %9s\n", "services", "berth p50", "p99",
              "req/s", "ipt p50", "p99", "req/s", "p50 b/i", "p99 b/i");
  for (size_t n : o.services) {
    const Series& b = r.berth.count(n) ? r.berth.at(n) : Series{};
    const Series& i = r.iptables.count(n) ? r.iptables.at(n) : Series{};
    std::printf("%9zu | %9s %9s %8s | %9s %9s %8s | %9s %9s\n", n, Cell(b.p50).c_str(),
                Cell(b.p99).c_str(), Cell(b.rps, "%.0f").c_str(), Cell(i.p50).c_str(),
                Cell(i.p99).c_str(), Cell(i.rps, "%.0f").c_str(), Ratio(b.p50, i.p50).c_str(),
                Ratio(b.p99, i.p99).c_str());
  }
}

void PrintProgramming(const Options& o, const Results& r) {
  std::printf(
      "\nprogramming, ms (median): full sync from empty; one endpoint change of another "
      "service\n");
  std::printf("%9s %9s | %10s %10s %7s | %9s %11s %13s %7s | %9s\n", "services", "endpoints",
              "berth sync", "ipt sync", "b/i", "berth chg", "ipt chg", "ipt chg+SVCS", "b/i",
              "berth load");
  for (size_t n : o.services) {
    const Series& b = r.berth.count(n) ? r.berth.at(n) : Series{};
    const Series& i = r.iptables.count(n) ? r.iptables.at(n) : Series{};
    std::string ipt_sync = i.timed_out.empty() ? Cell(i.program_ms, "%.2f")
                                               : ">" + std::to_string(o.iptables_timeout_s * 1000);
    std::printf("%9zu %9zu | %10s %10s %7s | %9s %11s %13s %7s | %9s\n", n,
                n * kEndpointsPerService, Cell(b.program_ms, "%.2f").c_str(), ipt_sync.c_str(),
                Ratio(b.program_ms, i.program_ms).c_str(), Cell(b.change_ms, "%.3f").c_str(),
                Cell(i.change_ms, "%.2f").c_str(), Cell(i.change_full_ms, "%.2f").c_str(),
                Ratio(b.change_ms, i.change_ms).c_str(), Cell(b.load_ms, "%.1f").c_str());
  }
}

void PrintHealth(const char* mode, const std::map<size_t, Series>& series) {
  for (const auto& [n, s] : series) {
    if (!s.timed_out.empty())
      std::printf("NOTE %s at %zu services: full sync timed out, not measured: %s\n", mode, n,
                  s.timed_out.c_str());
    if (s.p50.empty()) continue;
    if (s.failed == 0 && s.peer_mismatch == 0 && s.min_backends == kEndpointsPerService) continue;
    std::printf(
        "WARNING %s at %zu services: %llu failed requests %s, %llu getpeername "
        "mismatches, as few as %zu of %d backends answered\n",
        mode, n, static_cast<unsigned long long>(s.failed), s.errors.c_str(),
        static_cast<unsigned long long>(s.peer_mismatch), s.min_backends, kEndpointsPerService);
  }
}

void Target(const char* what, std::optional<double> value, double limit, const char* unit) {
  if (!value) {
    std::printf("  n/a   %s (not measured in this run)\n", what);
    return;
  }
  std::printf("  %-5s %s: %.3f%s (target <= %.3f%s)\n", *value <= limit ? "PASS" : "MISS", what,
              *value, unit, limit, unit);
}

std::optional<double> MedianOf(const std::map<size_t, Series>& m, size_t n,
                               std::vector<double> Series::*field) {
  auto it = m.find(n);
  if (it == m.end() || (it->second.*field).empty()) return std::nullopt;
  return Med(it->second.*field);
}

void PrintTargets(const Options& o, const Results& r) {
  std::printf("\ntargets\n");
  auto b10 = MedianOf(r.berth, 10, &Series::p50);
  auto b10k = MedianOf(r.berth, 10000, &Series::p50);
  std::optional<double> flat;
  if (b10 && b10k && *b10 > 0) flat = *b10k / *b10;
  Target("berth p50 at 10,000 services / at 10", flat, 1.10, "x");
  auto b1k = MedianOf(r.berth, 1000, &Series::p50);
  auto i1k = MedianOf(r.iptables, 1000, &Series::p50);
  std::optional<double> vs;
  if (b1k && i1k && *i1k > 0) vs = *b1k / *i1k;
  Target("berth p50 / iptables p50 at 1,000 services", vs, 1.0, "x");
  size_t largest = o.services.empty() ? 0 : *std::max_element(o.services.begin(), o.services.end());
  std::string sync = "berth full sync of " + std::to_string(largest) + " services";
  Target(sync.c_str(), MedianOf(r.berth, largest, &Series::program_ms), 1000, " ms");
  std::string change = "berth one endpoint change at " + std::to_string(largest) + " services";
  Target(change.c_str(), MedianOf(r.berth, largest, &Series::change_ms), 10, " ms");
}

void PrintMachine(const std::string& iptables_version) {
  utsname u{};
  ::uname(&u);
  auto load = berth::ReadFile("/proc/loadavg");
  std::printf("machine: kernel %s, %ld cpus, loadavg %s", u.release,
              ::sysconf(_SC_NPROCESSORS_ONLN), load.ok() ? load->c_str() : "?\n");
  std::printf("peer: %s\n", iptables_version.c_str());
}

int Bench(const Options& o) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // interleaves with the progress on stderr
  InstallCleanupHandlers();
  if (Status ok = PrivateRun(); !ok.ok()) {
    std::fprintf(stderr, "%s\n", ok.error().str().c_str());
    return 1;
  }
  IptablesLb ipt(o.iptables_restore, std::chrono::seconds(o.iptables_timeout_s));
  auto version = ipt.Version();
  if (!version.ok()) {
    std::fprintf(stderr, "%s\n", version.error().str().c_str());
    return 1;
  }
  PrintMachine(*version);
  auto backends = Backends::Start(o.probe);
  auto cgroup = BenchCgroup::Create();
  auto bpf = BpfMount::Create();
  for (const Status& s : {backends.ok() ? Status() : Status(backends.error()),
                          cgroup.ok() ? Status() : Status(cgroup.error()),
                          bpf.ok() ? Status() : Status(bpf.error())}) {
    if (!s.ok()) {
      std::fprintf(stderr, "setup: %s\n", s.error().str().c_str());
      return 1;
    }
  }
  Results results;
  for (int t = 0; t < o.trials; ++t) {
    if (Status ok = RunTrial(o, t, Env{ipt, *backends, *bpf, *cgroup}, results); !ok.ok()) {
      std::fprintf(stderr, "trial %d: %s\n", t + 1, ok.error().str().c_str());
      return 1;
    }
  }
  PrintLatency(o, results);
  PrintProgramming(o, results);
  PrintHealth("berth", results.berth);
  PrintHealth("iptables", results.iptables);
  PrintTargets(o, results);
  if (!results.berth_error.empty()) {
    std::printf("\nberth FAILED (berth columns cover the runs before it): %s\n",
                results.berth_error.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Options> options;
  try {
    options = ParseOptions(argc, argv);
  } catch (const std::exception&) {  // a malformed number
    options.reset();
  }
  if (!options) {
    std::fprintf(stderr,
                 "usage: service-lb [--services 10,1000,10000] [--requests N] [--trials K]\n"
                 "                  [--concurrency C] [--mode both|berth|iptables]\n"
                 "                  [--iptables-restore PATH] [--iptables-timeout-s S]\n"
                 "                  [--quiet-limit-s S] [--probe PATH]\n"
                 "       service-lb --print-rules N\n"
                 "  (service counts >= 2)\n");
    return 2;
  }
  if (options->print_rules > 0) {  // the peer's input, for running iptables-restore by hand
    std::fputs(FullRestore(MakeServiceSet(options->print_rules)).c_str(), stdout);
    return 0;
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "service-lb: needs root (netns, cgroup, BPF)\n");
    return 2;
  }
  // Before any thread: the bench's own netns and mount ns.
  if (!berth::testing::EnterTestNamespaces()) return 1;
  return Bench(*options);
}

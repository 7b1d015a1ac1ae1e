// bench/pod-e2e: pod create -> Running with `berth server` and `berth
// agent` as processes of their own, the agent over berth's runtime in its
// process and over Debian's containerd 1.6 CRI socket, in the same run
// (issue 7, acceptance 10). Figures, watch-measured from the client side:
//   - one pod at a time (a warm-up, then --trials per node, the nodes
//     alternating pod by pod, the order flipping every trial): from the
//     POST to the watch showing phase Running with condition Ready True;
//     p50/p99, with the time to binding (scheduler) apart;
//   - --burst pods created at once from 10 clients: per-pod p50/p99 and the
//     time from the first POST until the last pod is Running and Ready;
//     the agent's (and containerd's) CPU time meanwhile;
//   - the agent's RSS idle (node Ready, no pods) and with the burst's pods
//     running; containerd's too; per pod beyond its app: the shim's and
//     the pause process's RSS and PSS;
// then berth/containerd ratios and the targets (1 pod p50 < 300 ms,
// 100 pods all Running within 10 s on 2 cores, agent RSS < 50 MiB).
//
// Root only. Before any thread the process moves into network and mount
// namespaces of its own (as integration/cri/cri_main.cc), with tmpfs over
// /run and /var/lib there (containerd's shim sockets, libcni's cache,
// iptables' lock), so nothing reaches the host. See bench/README.md.
//
//   pod-e2e [--trials N] [--burst M] [--runtime berth|containerd|both]
//           [--work-dir DIR] [--log-dir DIR] [--per-pod]

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "bench/pod_e2e_cluster.h"
#include "bench/pod_e2e_memory.h"
#include "bench/pod_e2e_watch.h"
#include "bench/stats.h"
#include "common/fd.h"
#include "common/file.h"
#include "common/time.h"

namespace {

namespace pe = berth::bench::pod_e2e;
using berth::Errc;
using berth::Error;
using berth::MonotonicNanos;
using berth::Ok;
using berth::Result;
using berth::Status;
using berth::bench::Mean;
using berth::bench::Percentile;
using namespace std::chrono_literals;

constexpr int kCreators = 10;
constexpr double kTargetOnePodP50Ms = 300;
constexpr double kTargetBurstSeconds = 10;
constexpr double kTargetAgentRssMib = 50;

struct Flags {
  int trials = 10;
  int burst = 100;
  std::string runtime = "both";
  std::string work_dir;
  std::string log_dir;
  bool per_pod = false;
};

constexpr char kUsage[] =
    "usage: pod-e2e [--trials N] [--burst M] [--runtime berth|containerd|both]\n"
    "               [--work-dir DIR] [--log-dir DIR] [--per-pod]\n";

Result<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--per-pod") {
      f.per_pod = true;
      continue;
    }
    if (i + 1 >= argc) return Error(Errc::kInvalidArgument, a + " needs a value");
    std::string v = argv[++i];
    if (a == "--trials") {
      f.trials = std::atoi(v.c_str());
    } else if (a == "--burst") {
      f.burst = std::atoi(v.c_str());
    } else if (a == "--runtime" && (v == "berth" || v == "containerd" || v == "both")) {
      f.runtime = v;
    } else if (a == "--work-dir") {
      f.work_dir = v;
    } else if (a == "--log-dir") {
      f.log_dir = v;
    } else {
      return Error(Errc::kInvalidArgument, "unknown flag or value: " + a + " " + v);
    }
  }
  if (f.trials < 1 || f.burst < 1) {
    return Error(Errc::kInvalidArgument, "--trials and --burst want at least 1");
  }
  return f;
}

// Before any thread: unshare(CLONE_NEWNS) fails in a threaded process.
Status EnterPrivateNamespaces() {
  if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
    return Error::Sys("unshare", "CLONE_NEWNET|CLONE_NEWNS");
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return Error::Sys("mount --make-rprivate", "/");
  }
  for (const char* dir : {"/run", "/var/lib"}) {
    if (::mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
      return Error::Sys("mount tmpfs", dir);
    }
  }
  berth::UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return Error::Sys("socket", "AF_INET");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) return Error::Sys("SIOCGIFFLAGS", "lo");
  ifr.ifr_flags |= IFF_UP;
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0) return Error::Sys("SIOCSIFFLAGS", "lo");
  return Ok();
}

double Ms(int64_t from, int64_t to) {
  return from > 0 && to > 0 ? static_cast<double>(to - from) / 1e6 : 0;
}

struct Sample {
  double total_ms = 0;  // POST -> Running and Ready
  double bind_ms = 0;   // POST -> bound
  double node_ms = 0;   // bound -> Running and Ready
};

Sample SampleOf(const pe::PodTimes& t) {
  return {Ms(t.create_sent, t.ready), Ms(t.create_sent, t.bound), Ms(t.bound, t.ready)};
}

struct NodeFigures {
  pe::Node* node = nullptr;
  Sample warm_up;
  std::vector<Sample> single;
  std::vector<Sample> burst;
  double burst_all_s = 0;  // first POST -> last pod Running and Ready
  // CPU seconds during the burst: the agent (its own threads, and the
  // children it waited for: CNI plugins), containerd, berth server.
  double burst_cpu_agent = 0, burst_cpu_agent_children = 0, burst_cpu_runtime = 0;
  double burst_cpu_server = 0;
  pe::ProcMemory agent_idle, agent_loaded, runtime_idle, runtime_loaded;
  pe::PodOverhead overhead;  // with the burst's pods running
};

std::vector<double> Field(const std::vector<Sample>& v, double Sample::*field) {
  std::vector<double> out;
  out.reserve(v.size());
  for (const Sample& s : v)
    out.push_back(s.*field);
  return out;
}

void PrintSample(const std::string& label, const pe::PodTimes& t) {
  Sample s = SampleOf(t);
  // The POST's CLOCK_MONOTONIC time, to line up with `perf record -k mono`.
  std::fprintf(stderr, "  %-28s total %8.1f ms  bound %7.1f  bound->ready %8.1f  (POST at %.6f)\n",
               label.c_str(), s.total_ms, s.bind_ms, s.node_ms,
               static_cast<double>(t.create_sent) / 1e9);
}

class Bench {
 public:
  Bench(const Flags& flags, pe::Cluster& cluster, pe::PodClock& clock)
      : flags_(flags), cluster_(cluster), clock_(clock) {}

  // Creates `name` on `node`, waits until it is Running and Ready, deletes
  // it and waits until it is gone from the API and the runtime.
  Result<Sample> OnePod(pe::Node& node, const std::string& name) {
    BERTH_TRY(clock_.Create(cluster_.api(), name, pe::DemoPod(name, node.name(), pe::kDemoImage)));
    bool ready = clock_.WaitReady({name}, MonotonicNanos() + 60'000'000'000);
    pe::PodTimes t = clock_.Times(name);
    if (!ready) {
      return Error(Errc::kDeadlineExceeded, "pod " + name + " on " + node.name() +
                                                " not Running and Ready within 60 s " + t.failure);
    }
    if (flags_.per_pod) PrintSample(name, t);
    BERTH_TRY(Delete(node, {name}));
    return SampleOf(t);
  }

  // --burst pods created at once from kCreators clients, each connected
  // beforehand; waits until all are Running and Ready, then reads memory.
  Status Burst(NodeFigures& fig) {
    pe::Node& node = *fig.node;
    std::vector<std::string> names;
    names.reserve(flags_.burst);
    for (int i = 0; i < flags_.burst; ++i)
      names.push_back("burst-" + node.runtime() + "-" + std::to_string(i));
    pe::CpuSeconds agent0 = BERTH_TRY(pe::ReadCpuSeconds(node.agent_pid()));
    pe::CpuSeconds runtime0;
    if (node.runtime_pid() > 0) runtime0 = BERTH_TRY(pe::ReadCpuSeconds(node.runtime_pid()));
    pe::CpuSeconds server0 = BERTH_TRY(pe::ReadCpuSeconds(cluster_.server_pid()));

    std::atomic<int> connected{0};
    std::atomic<bool> go{false};
    std::atomic<int> failures{0};
    std::vector<std::thread> creators;
    creators.reserve(kCreators);
    for (int c = 0; c < kCreators; ++c) {
      creators.emplace_back([&, c] {
        berth::controlplane::client::ApiClient api(cluster_.admin());
        (void)api.Do("GET", "/version");  // TLS handshake before the clock
        ++connected;
        while (!go.load())
          std::this_thread::yield();
        for (size_t i = c; i < names.size(); i += kCreators) {
          if (!clock_.Create(api, names[i], pe::DemoPod(names[i], node.name(), pe::kDemoImage))
                   .ok())
            ++failures;
        }
      });
    }
    while (connected.load() < kCreators)
      std::this_thread::sleep_for(1ms);
    go = true;
    for (std::thread& t : creators)
      t.join();
    bool ready = failures == 0 && clock_.WaitReady(names, MonotonicNanos() + 180'000'000'000);
    pe::CpuSeconds agent1 = BERTH_TRY(pe::ReadCpuSeconds(node.agent_pid()));
    fig.burst_cpu_agent = agent1.self - agent0.self;
    fig.burst_cpu_agent_children = agent1.children - agent0.children;
    fig.burst_cpu_server = BERTH_TRY(pe::ReadCpuSeconds(cluster_.server_pid())).self - server0.self;
    if (node.runtime_pid() > 0) {
      fig.burst_cpu_runtime =
          BERTH_TRY(pe::ReadCpuSeconds(node.runtime_pid())).self - runtime0.self;
    }
    int64_t first = 0, last = 0;
    int not_ready = 0;
    std::string failure;
    for (const std::string& n : names) {
      pe::PodTimes t = clock_.Times(n);
      if (t.ready == 0) {
        ++not_ready;
        if (failure.empty()) failure = n + ": " + t.failure;
        continue;
      }
      first = first == 0 ? t.create_sent : std::min(first, t.create_sent);
      last = std::max(last, t.ready);
      fig.burst.push_back(SampleOf(t));
      if (flags_.per_pod) PrintSample(n, t);
    }
    if (!ready || not_ready > 0) {
      return Error(Errc::kDeadlineExceeded,
                   std::to_string(not_ready) + " of " + std::to_string(names.size()) + " pods on " +
                       node.name() + " not Running and Ready within 180 s (" +
                       std::to_string(failures.load()) + " creates failed) " + failure);
    }
    fig.burst_all_s = Ms(first, last) / 1000;
    // Memory with the pods running, once their status has settled.
    std::this_thread::sleep_for(2s);
    fig.agent_loaded = BERTH_TRY(pe::ReadProcMemory(node.agent_pid()));
    if (node.runtime_pid() > 0)
      fig.runtime_loaded = BERTH_TRY(pe::ReadProcMemory(node.runtime_pid()));
    fig.overhead = pe::MeasurePodOverhead(node.shims());
    return Delete(node, names);
  }

 private:
  Status Delete(pe::Node& node, const std::vector<std::string>& names) {
    std::string base = std::string("/api/v1/namespaces/") + pe::kNamespace + "/pods/";
    for (const std::string& n : names) {
      Result<berth::controlplane::client::ApiResponse> r = cluster_.api().Do("DELETE", base + n);
      if (!r.ok()) return r.error();
    }
    if (!clock_.WaitGone(names, MonotonicNanos() + 120'000'000'000)) {
      return Error(Errc::kDeadlineExceeded,
                   "pods on " + node.name() + " not gone 120 s after deletion");
    }
    clock_.Forget(names);
    // The sandboxes stopped too (the agent removes the pod from the API
    // only after its containers stopped; the sandbox follows).
    for (int i = 0; i < 600; ++i) {
      Result<int> ready = node.ReadySandboxes();
      if (!ready.ok()) return ready.error();
      if (*ready == 0) return Ok();
      std::this_thread::sleep_for(50ms);
    }
    return Error(Errc::kDeadlineExceeded,
                 node.name() + ": sandboxes still ready 30 s after deletion");
  }

  const Flags& flags_;
  pe::Cluster& cluster_;
  pe::PodClock& clock_;
};

const char* Verdict(bool met) {
  return met ? "PASS" : "MISS";
}

double Ratio(double a, double b) {
  return b > 0 ? a / b : 0;
}

double Mib(int64_t kib) {
  return static_cast<double>(kib) / 1024;
}

void Report(const Flags& f, const std::vector<NodeFigures>& figs) {
  std::printf(
      "\npod-e2e: berth server + berth agent (own process) over berth's runtime "
      "(in the agent) vs over containerd 1.6 CRI; %ld cpus; image %s present\n",
      ::sysconf(_SC_NPROCESSORS_ONLN), pe::kDemoImage);
  std::printf(
      "\none pod at a time, create -> Running+Ready (watch), %d trials after 1 warm-up, ms:\n",
      f.trials);
  std::printf("  %-11s %8s %8s %8s %8s | %10s %14s | %8s\n", "node", "p50", "p99", "mean", "max",
              "bound p50", "bound->rdy p50", "warm-up");
  for (const NodeFigures& n : figs) {
    std::vector<double> total = Field(n.single, &Sample::total_ms);
    std::printf("  %-11s %8.1f %8.1f %8.1f %8.1f | %10.1f %14.1f | %8.1f\n",
                n.node->runtime().c_str(), Percentile(total, 0.5), Percentile(total, 0.99),
                Mean(total), Percentile(total, 1.0),
                Percentile(Field(n.single, &Sample::bind_ms), 0.5),
                Percentile(Field(n.single, &Sample::node_ms), 0.5), n.warm_up.total_ms);
  }
  std::printf("\n%d pods created at once (%d clients), create -> Running+Ready (watch):\n", f.burst,
              kCreators);
  std::printf("  %-11s %9s %9s %9s | %13s | CPU s: %6s %6s %6s %6s\n", "node", "p50 ms", "p99 ms",
              "bound p99", "all Running s", "agent", "+chld", "ctrd", "server");
  for (const NodeFigures& n : figs) {
    std::vector<double> total = Field(n.burst, &Sample::total_ms);
    std::printf("  %-11s %9.1f %9.1f %9.1f | %13.2f |        %6.2f %6.2f %6.2f %6.2f\n",
                n.node->runtime().c_str(), Percentile(total, 0.5), Percentile(total, 0.99),
                Percentile(Field(n.burst, &Sample::bind_ms), 0.99), n.burst_all_s,
                n.burst_cpu_agent, n.burst_cpu_agent_children, n.burst_cpu_runtime,
                n.burst_cpu_server);
  }
  std::printf("\nmemory, MiB (RSS; PSS in brackets):\n");
  std::printf("  %-11s %16s %16s %9s | %16s %16s\n", "node", "agent idle", "agent w/ pods",
              "agent HWM", "containerd idle", "containerd w/pods");
  for (const NodeFigures& n : figs) {
    std::printf("  %-11s %7.1f (%6.1f) %7.1f (%6.1f) %9.1f | %7.1f (%6.1f) %7.1f (%6.1f)\n",
                n.node->runtime().c_str(), Mib(n.agent_idle.rss_kib), Mib(n.agent_idle.pss_kib),
                Mib(n.agent_loaded.rss_kib), Mib(n.agent_loaded.pss_kib),
                Mib(n.agent_loaded.hwm_kib), Mib(n.runtime_idle.rss_kib),
                Mib(n.runtime_idle.pss_kib), Mib(n.runtime_loaded.rss_kib),
                Mib(n.runtime_loaded.pss_kib));
  }
  std::printf("\nper pod beyond the app, KiB (with the %d pods running):\n", f.burst);
  std::printf("  %-11s %6s %6s %6s | %9s %9s %9s | %9s %9s %9s\n", "node", "shims", "pauses",
              "apps", "shim RSS", "pause RSS", "sum RSS", "shim PSS", "pause PSS", "sum PSS");
  for (const NodeFigures& n : figs) {
    const pe::PodOverhead& o = n.overhead;
    double pods = std::max(1, f.burst);
    auto per = [&](int64_t kib) { return static_cast<double>(kib) / pods; };
    std::printf("  %-11s %6d %6d %6d | %9.0f %9.0f %9.0f | %9.0f %9.0f %9.0f\n",
                n.node->runtime().c_str(), o.shims, o.pauses, o.apps, per(o.shim.rss_kib),
                per(o.pause.rss_kib), per(o.shim.rss_kib + o.pause.rss_kib), per(o.shim.pss_kib),
                per(o.pause.pss_kib), per(o.shim.pss_kib + o.pause.pss_kib));
  }

  const NodeFigures* b = nullptr;
  const NodeFigures* c = nullptr;
  for (const NodeFigures& n : figs)
    (n.node->runtime() == "berth" ? b : c) = &n;
  if (b != nullptr && c != nullptr) {
    auto p = [](const std::vector<Sample>& v, double q) {
      return Percentile(Field(v, &Sample::total_ms), q);
    };
    std::printf("\nberth/containerd (lower is better for berth):\n");
    std::printf("  one pod        p50 %.3f  p99 %.3f\n",
                Ratio(p(b->single, 0.5), p(c->single, 0.5)),
                Ratio(p(b->single, 0.99), p(c->single, 0.99)));
    std::printf("  burst          p50 %.3f  p99 %.3f  all Running %.3f\n",
                Ratio(p(b->burst, 0.5), p(c->burst, 0.5)),
                Ratio(p(b->burst, 0.99), p(c->burst, 0.99)), Ratio(b->burst_all_s, c->burst_all_s));
    std::printf("  node daemons RSS w/ pods (agent incl. runtime vs agent + containerd) %.3f\n",
                Ratio(static_cast<double>(b->agent_loaded.rss_kib),
                      static_cast<double>(c->agent_loaded.rss_kib + c->runtime_loaded.rss_kib)));
    auto pod_rss = [&](const NodeFigures* n) {
      return static_cast<double>(n->overhead.shim.rss_kib + n->overhead.pause.rss_kib);
    };
    auto pod_pss = [&](const NodeFigures* n) {
      return static_cast<double>(n->overhead.shim.pss_kib + n->overhead.pause.pss_kib);
    };
    std::printf("  per pod beyond the app  RSS %.3f  PSS %.3f\n", Ratio(pod_rss(b), pod_rss(c)),
                Ratio(pod_pss(b), pod_pss(c)));
  }
  if (b != nullptr) {
    double p50 = Percentile(Field(b->single, &Sample::total_ms), 0.5);
    std::printf("\ntargets (berth agent over berth's runtime):\n");
    std::printf("  1 pod create -> Running p50 < %.0f ms: %.1f ms  %s\n", kTargetOnePodP50Ms, p50,
                Verdict(p50 < kTargetOnePodP50Ms));
    std::printf("  %d pods all Running within %.0f s on %ld cores: %.2f s  %s\n", f.burst,
                kTargetBurstSeconds, ::sysconf(_SC_NPROCESSORS_ONLN), b->burst_all_s,
                Verdict(b->burst_all_s < kTargetBurstSeconds));
    std::printf("  agent RSS < %.0f MiB: idle %.1f MiB  %s; with %d pods %.1f MiB  %s\n",
                kTargetAgentRssMib, Mib(b->agent_idle.rss_kib),
                Verdict(Mib(b->agent_idle.rss_kib) < kTargetAgentRssMib), f.burst,
                Mib(b->agent_loaded.rss_kib),
                Verdict(Mib(b->agent_loaded.rss_kib) < kTargetAgentRssMib));
  }
  std::fflush(stdout);
}

Status Measure(const Flags& f, pe::Cluster& cluster, std::vector<NodeFigures>& figs) {
  pe::PodClock clock(cluster.admin(), pe::kNamespace);
  BERTH_TRY(clock.Start());
  Bench bench(f, cluster, clock);
  // Idle: the node Ready a while, no pods.
  std::this_thread::sleep_for(5s);
  for (NodeFigures& n : figs) {
    n.agent_idle = BERTH_TRY(pe::ReadProcMemory(n.node->agent_pid()));
    if (n.node->runtime_pid() > 0) {
      n.runtime_idle = BERTH_TRY(pe::ReadProcMemory(n.node->runtime_pid()));
    }
  }
  std::fprintf(stderr, "pod-e2e: warm-up and %d single pods per node\n", f.trials);
  for (NodeFigures& n : figs)
    n.warm_up = BERTH_TRY(bench.OnePod(*n.node, "warm-" + n.node->runtime()));
  for (int i = 0; i < f.trials; ++i) {
    for (size_t k = 0; k < figs.size(); ++k) {
      NodeFigures& n = figs[i % 2 == 0 ? k : figs.size() - 1 - k];
      n.single.push_back(
          BERTH_TRY(bench.OnePod(*n.node, "one-" + n.node->runtime() + "-" + std::to_string(i))));
    }
  }
  for (NodeFigures& n : figs) {
    std::fprintf(stderr, "pod-e2e: burst of %d pods on %s\n", f.burst, n.node->name().c_str());
    BERTH_TRY(bench.Burst(n));
  }
  clock.Stop();
  return Ok();
}

int Run(const Flags& f) {
  std::fprintf(stderr, "pod-e2e: building the images, starting berth server\n");
  Result<std::unique_ptr<pe::Cluster>> cluster = pe::Cluster::Start();
  if (!cluster.ok()) {
    std::fprintf(stderr, "pod-e2e: %s\n", cluster.error().str().c_str());
    return 1;
  }
  std::vector<NodeFigures> figs;
  Status status = Ok();
  for (const char* runtime : {"berth", "containerd"}) {
    if (f.runtime != "both" && f.runtime != runtime) continue;
    std::fprintf(stderr, "pod-e2e: starting node %s\n", runtime);
    Result<pe::Node*> node = (*cluster)->StartNode(runtime);
    if (!node.ok()) {
      status = node.error();
      break;
    }
    NodeFigures fig;
    fig.node = *node;
    figs.push_back(std::move(fig));
  }
  if (status.ok()) status = Measure(f, **cluster, figs);
  if (status.ok()) Report(f, figs);
  std::fprintf(stderr, "pod-e2e: cleaning up\n");
  Status down = (*cluster)->Shutdown();
  (*cluster)->KeepLogs(f.log_dir);
  if (!status.ok()) std::fprintf(stderr, "pod-e2e: %s\n", status.error().str().c_str());
  if (!down.ok()) std::fprintf(stderr, "pod-e2e: cleanup: %s\n", down.error().str().c_str());
  return status.ok() && down.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Result<Flags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::fprintf(stderr, "pod-e2e: %s\n%s", flags.error().str().c_str(), kUsage);
    return 2;
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "pod-e2e: needs root (namespaces, mounts, containers)\n");
    return 2;
  }
  std::string missing = pe::MissingPrerequisites();
  if (!missing.empty()) {
    std::fprintf(stderr, "pod-e2e: missing: %s\n", missing.c_str());
    return 2;
  }
  if (!flags->work_dir.empty()) ::setenv("TMPDIR", flags->work_dir.c_str(), 1);
  if (Status s = EnterPrivateNamespaces(); !s.ok()) {
    std::fprintf(stderr, "pod-e2e: %s\n", s.error().str().c_str());
    return 1;
  }
  ::signal(SIGPIPE, SIG_IGN);
  return Run(*flags);
}

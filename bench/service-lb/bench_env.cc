// The bench's namespaces, veth, backend server, cgroup and bpffs
// (bench_env.h).
#include "bench/service-lb/bench_env.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench/service-lb/piped_child.h"
#include "bench/service-lb/service_set.h"
#include "common/fd.h"

namespace berth::bench {
namespace {

constexpr const char* kCgroupRoot = "/sys/fs/cgroup/unified";

// What the signal handler may touch: plain storage, no allocation.
char g_cgroup_path[256];
volatile sig_atomic_t g_probe_pid = 0;

Status Run(const std::vector<std::string>& argv) {
  Command cmd;
  cmd.argv = argv;
  cmd.timeout = std::chrono::seconds(30);
  auto result = RunCommand(cmd);
  if (!result.ok()) return std::move(result).error();
  if (!result->success()) {
    std::string line;
    for (const std::string& a : argv)
      line += (line.empty() ? "" : " ") + a;
    return Error(Errc::kInternal, "`" + line + "`: " + result->Describe() + ": " + result->err);
  }
  return Ok();
}

void HandleSignal(int sig) {
  if (pid_t pid = g_probe_pid; pid > 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  if (g_cgroup_path[0] != '\0') ::rmdir(g_cgroup_path);
  ::_exit(128 + sig);
}

// Blocks until the child's stdout says "ready" (or 10 s pass).
Status WaitReady(int fd) {
  std::string seen;
  for (int waited_ms = 0; waited_ms < 10000;) {
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, 100);
    waited_ms += 100;
    if (n <= 0) continue;
    char buf[64];
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r <= 0) return Error(Errc::kInternal, "berth-lb-probe serve exited before `ready`");
    seen.append(buf, static_cast<size_t>(r));
    if (seen.find("ready\n") != std::string::npos) return Ok();
  }
  return Error(Errc::kDeadlineExceeded, "berth-lb-probe serve: no `ready` within 10 s");
}

// Busy and total jiffies over all CPUs, from /proc/stat's first line.
bool CpuTimes(uint64_t* busy, uint64_t* total) {
  FILE* f = std::fopen("/proc/stat", "re");
  if (f == nullptr) return false;
  unsigned long long v[8] = {};
  int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                      &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (n < 5) return false;
  *total = 0;
  for (unsigned long long x : v)
    *total += x;
  *busy = *total - v[3] - v[4];  // less idle and iowait
  return true;
}

}  // namespace

double WaitQuiet(std::chrono::seconds limit, bool* quiet) {
  auto start = std::chrono::steady_clock::now();
  *quiet = false;
  uint64_t busy0 = 0;
  uint64_t total0 = 0;
  if (!CpuTimes(&busy0, &total0)) return 0;
  while (std::chrono::steady_clock::now() - start < limit) {
    ::usleep(250000);
    uint64_t busy1 = 0;
    uint64_t total1 = 0;
    if (!CpuTimes(&busy1, &total1)) return 0;
    if (total1 > total0 &&
        static_cast<double>(busy1 - busy0) < 0.15 * static_cast<double>(total1 - total0)) {
      *quiet = true;
      break;
    }
    busy0 = busy1;
    total0 = total1;
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Status PrivateRun() {
  if (::mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0)
    return Error::Sys("mount tmpfs", "/run");
  return Ok();
}

Result<Backends> Backends::Start(const std::string& probe) {
  Backends backends("berth-bench-be-" + std::to_string(::getpid()));
  BERTH_TRY(Run({"ip", "netns", "add", backends.netns_}));
  BERTH_TRY(backends.Wire());
  BERTH_TRY(backends.Serve(probe));
  return backends;
}

Backends::Backends(Backends&& o) noexcept
    : netns_(std::move(o.netns_)), server_(std::move(o.server_)) {
  o.netns_.clear();
}

Backends::~Backends() {
  if (netns_.empty()) return;
  if (server_.get() > 0) {
    ::kill(server_.get(), SIGTERM);
    (void)WaitPid(server_.release());
  }
  (void)Run({"ip", "netns", "del", netns_});
}

// The backends' addresses sit on a bridge; each client netns plugs a veth
// into it (ClientNetns).
Status Backends::Wire() {
  const std::string& ns = netns_;
  BERTH_TRY(Run({"ip", "-n", ns, "link", "add", "br0", "type", "bridge"}));
  for (const Endpoint& ep : RealEndpoints())
    BERTH_TRY(Run({"ip", "-n", ns, "addr", "add", ep.ip + "/24", "dev", "br0"}));
  BERTH_TRY(Run({"ip", "-n", ns, "link", "set", "br0", "up"}));
  BERTH_TRY(Run({"ip", "-n", ns, "link", "set", "lo", "up"}));
  return Ok();
}

Result<ClientNetns> ClientNetns::Create(const Backends& backends) {
  static int serial = 0;
  ++serial;
  std::string name = "berth-bench-cl-" + std::to_string(::getpid()) + "-" + std::to_string(serial);
  BERTH_TRY(Run({"ip", "netns", "add", name}));
  ClientNetns client(name);
  const std::string& be = backends.netns();
  std::string peer = "cb" + std::to_string(serial);
  BERTH_TRY(Run({"ip", "link", "add", "name", "c0", "netns", name, "type", "veth", "peer", "name",
                 peer, "netns", be}));
  BERTH_TRY(Run({"ip", "-n", be, "link", "set", peer, "master", "br0", "up"}));
  BERTH_TRY(Run({"ip", "-n", name, "addr", "add", "10.245.0.1/24", "dev", "c0"}));
  BERTH_TRY(Run({"ip", "-n", name, "link", "set", "c0", "up"}));
  BERTH_TRY(Run({"ip", "-n", name, "link", "set", "lo", "up"}));
  // As a node's default route would take it: iptables' DNAT comes after
  // the first route lookup.
  BERTH_TRY(Run({"ip", "-n", name, "route", "add", "10.96.0.0/16", "dev", "c0"}));
  BERTH_TRY(client.Enter());
  return client;
}

ClientNetns::ClientNetns(ClientNetns&& o) noexcept
    : name_(std::move(o.name_)), home_(std::move(o.home_)) {
  o.name_.clear();
}

Status ClientNetns::Enter() {
  UniqueFd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!home) return Error::Sys("open", "/proc/thread-self/ns/net");
  std::string path = "/run/netns/" + name_;
  UniqueFd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!target) return Error::Sys("open", path);
  if (::setns(target.get(), CLONE_NEWNET) != 0) return Error::Sys("setns", path);
  home_ = std::move(home);
  return Ok();
}

ClientNetns::~ClientNetns() {
  if (name_.empty()) return;
  if (home_ && ::setns(home_.get(), CLONE_NEWNET) != 0)
    std::fprintf(stderr, "warning: setns back to the bench netns: %s\n", std::strerror(errno));
  (void)Run({"ip", "netns", "del", name_});  // takes the veth pair and conntrack with it
}

Status Backends::Serve(const std::string& probe) {
  std::string listen;
  for (const Endpoint& ep : RealEndpoints())
    listen += (listen.empty() ? "" : ",") + ep.str();
  PipedChild child = BERTH_TRY(SpawnPiped(
      {probe, "serve", "--tcp", "--wait-close", "--listen", listen}, "/run/netns/" + netns_, ""));
  server_ = ChildGuard(child.pid);
  return WaitReady(child.out.get());
}

Result<BenchCgroup> BenchCgroup::Create() {
  std::string path = std::string(kCgroupRoot) + "/berth-bench-" + std::to_string(::getpid());
  if (::mkdir(path.c_str(), 0755) != 0) return Error::Sys("mkdir", path);
  std::snprintf(g_cgroup_path, sizeof g_cgroup_path, "%s", path.c_str());
  return BenchCgroup(path);
}

BenchCgroup::~BenchCgroup() {
  if (path_.empty()) return;
  if (::rmdir(path_.c_str()) != 0)
    std::fprintf(stderr, "warning: rmdir %s: %s\n", path_.c_str(), std::strerror(errno));
  g_cgroup_path[0] = '\0';
}

Result<BpfMount> BpfMount::Create() {
  char tmpl[] = "/tmp/berth-bench-bpf-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return Error::Sys("mkdtemp", tmpl);
  if (::mount("bpf", tmpl, "bpf", 0, "mode=0700") != 0) {
    Error error = Error::Sys("mount bpffs", tmpl);
    ::rmdir(tmpl);
    return error;
  }
  return BpfMount(tmpl);
}

BpfMount::~BpfMount() {
  if (dir_.empty()) return;
  ::umount2(dir_.c_str(), MNT_DETACH);
  ::rmdir(dir_.c_str());
}

void InstallCleanupHandlers() {
  struct sigaction sa {};
  sa.sa_handler = HandleSignal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);
}

void SetRunningProbe(pid_t pid) {
  g_probe_pid = pid;
}

}  // namespace berth::bench

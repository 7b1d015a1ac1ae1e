#pragma once
// The service-lb bench's world, all of it made and removed by the bench:
// the backend netns (`ip netns add`, under a tmpfs /run private to the
// bench's mount namespace) with the 10 real endpoints served by
// `berth-lb-probe serve` on a bridge; a fresh client netns per stage; the cgroup
// the berth client runs in; a private bpffs as berth's pin root.
// Call EnterTestNamespaces() first: nothing here touches the host's netns.

#include <sys/types.h>

#include <chrono>
#include <string>

#include "common/error.h"
#include "common/fd.h"
#include "common/process.h"

namespace berth::bench {

// The backend netns, its bridge and the probe server in it.
class Backends {
 public:
  // `probe` is the berth-lb-probe binary.
  static Result<Backends> Start(const std::string& probe);
  Backends(Backends&&) noexcept;
  Backends& operator=(Backends&&) = delete;
  ~Backends();
  const std::string& netns() const { return netns_; }

 private:
  explicit Backends(std::string netns) : netns_(std::move(netns)) {}
  Status Wire();
  Status Serve(const std::string& probe);

  std::string netns_;
  ChildGuard server_;
};

// A fresh client netns plugged into the backends' bridge (10.245.0.1,
// route to 10.96.0.0/16), entered by the calling thread for its lifetime:
// every stage measures in one, so that no conntrack entry, nat table or
// neighbour state of an earlier stage is left to skew it. The bench is
// single-threaded, so its children inherit it.
class ClientNetns {
 public:
  static Result<ClientNetns> Create(const Backends& backends);
  ClientNetns(ClientNetns&&) noexcept;
  ClientNetns& operator=(ClientNetns&&) = delete;
  ~ClientNetns();  // back to the bench's netns; the netns is deleted

 private:
  explicit ClientNetns(std::string name) : name_(std::move(name)) {}
  Status Enter();

  std::string name_;
  UniqueFd home_;
};

// /sys/fs/cgroup/unified/berth-bench-<pid>, removed on destruction (and by
// RemoveBenchCgroupOnSignal from a signal handler).
class BenchCgroup {
 public:
  static Result<BenchCgroup> Create();
  BenchCgroup(BenchCgroup&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  BenchCgroup& operator=(BenchCgroup&&) = delete;
  ~BenchCgroup();
  const std::string& path() const { return path_; }

 private:
  explicit BenchCgroup(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// A bpffs mounted on a fresh temp dir (in the bench's mount namespace).
class BpfMount {
 public:
  static Result<BpfMount> Create();
  BpfMount(BpfMount&& o) noexcept : dir_(std::move(o.dir_)) { o.dir_.clear(); }
  BpfMount& operator=(BpfMount&&) = delete;
  ~BpfMount();
  const std::string& dir() const { return dir_; }

 private:
  explicit BpfMount(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

// Mounts a tmpfs on /run, so that `ip netns`, the xtables lock and
// whatever else lands there stay in the bench's mount namespace.
Status PrivateRun();

// Waits (up to `limit`) until the machine's CPUs are at least 85% idle
// over a quarter second: a deleted netns is torn down by a kernel worker
// afterwards (with 100,000 iptables rules and their conntrack entries, for
// seconds), and a measurement that overlaps it reads that, not the
// dataplane. Returns the seconds waited; `quiet` false when it gave up.
double WaitQuiet(std::chrono::seconds limit, bool* quiet);

// SIGINT/SIGTERM: kill the running probe client (if any), remove the bench
// cgroup, exit. Everything else dies with the bench's namespaces.
void InstallCleanupHandlers();
void SetRunningProbe(pid_t pid);

}  // namespace berth::bench

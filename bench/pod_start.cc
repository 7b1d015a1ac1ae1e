// bench/pod-start: pod start latency over CRI, `berth cri` against Debian's
// containerd 1.6 (CRI plugin, runc shim v2) on the same machine, in the same
// run, through the same gRPC client code (our stubs, runtime/cri/proto).
//
// A pod start is RunPodSandbox + CreateContainer + StartContainer of busybox
// `sleep 3600`, image present, timed together (wall clock around the three
// calls). Per runtime: one warm-up pod (reported apart), then --pods pods one
// after another, then --concurrent pods at once (one thread each, released
// together); after each phase every pod is stopped and removed (untimed).
// With the sequential pods still running, the per-pod shims' memory is read
// from /proc (VmRSS, and PSS from smaps_rollup). Both daemons run at once
// and the sequential pods alternate between them (berth, containerd,
// containerd, berth, ...), so that other load on the machine hits both
// alike; --no-interleave runs one runtime after the other instead.
//
// Setup, untimed: the bench moves into network and mount namespaces of its
// own before any thread exists (as integration/cri/cri_main.cc does) and
// hides the host's /run and /var/lib under tmpfs there, so that containerd's
// shim sockets (hard-coded /run/containerd/s), libcni's result cache
// (/var/lib/cni) and iptables' lock stay in the bench. A docker-registry on
// 127.0.0.1 serves two images built with umoci from the busybox fixture
// rootfs: busybox (Cmd /bin/sh) and a pause image (the rootfs plus
// berth-pause as /pause, Cmd /pause) for containerd's sandbox_image; berth
// uses its built-in berth-pause. Both runtimes get the same registry
// hosts.toml and the same CNI chain (Debian's bridge + host-local + portmap
// + loopback from /usr/lib/cni), each on its own bridge and subnet, and a
// relative linux.cgroup_parent (so pods' cgroups land under the bench's own
// cgroup in every hierarchy; removed at the end), and their volatile state
// (berth's run root, containerd's state dir) on a tmpfs, as /run is on a
// node. Both pull the images through the CRI ImageService before timing.
//
// Not a test: the figures are the ratios (targets: berth at most 0.3x
// containerd's latency; berth-shim at most 1 MiB RSS per pod).
//
//   pod-start [--pods N] [--concurrent M] [--runtime berth|containerd|both]
//             [--rounds R] [--work-dir DIR] [--log-dir DIR] [--per-pod]
//             [--no-interleave] [--state-on-disk]

#include <grpcpp/grpcpp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <latch>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench/stats.h"
#include "cgroups/cgroups.h"
#include "common/fd.h"
#include "common/file.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/testing/testkit.h"
#include "common/time.h"
#include "integration/containerd/containerd_daemon.h"
#include "integration/cri/cri_daemon.h"
#include "integration/fixtures/image_layout.h"
#include "runtime/cri/proto/api.grpc.pb.h"
#include "runtime/image/registry/tests/registry_process.h"

namespace {

using berth::bench::Mean;
using berth::bench::Percentile;

namespace v1 = ::runtime::v1;
using berth::Errc;
using berth::Error;
using berth::Ok;
using berth::Result;
using berth::Status;
using berth::image::registry::testing::RegistryProcess;

constexpr char kCniBinDir[] = "/usr/lib/cni";
constexpr char kContainerd[] = "/usr/bin/containerd";
constexpr char kRunc[] = "/usr/bin/runc";

// ---------------------------------------------------------------------------
// Flags.

struct Flags {
  int pods = 50;
  int concurrent = 20;
  std::string runtime = "both";
  int rounds = 1;
  std::string work_parent = "/tmp";
  std::string log_dir;         // "" = daemons' logs go with the work dir
  bool per_pod = false;        // every pod's times on stderr
  bool interleave = true;      // both runtimes up at once, sequential pods alternating
  bool state_on_disk = false;  // run root / state dir not on a tmpfs
};

Result<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--per-pod") {
      f.per_pod = true;
    } else if (flag == "--no-interleave") {
      f.interleave = false;
    } else if (flag == "--state-on-disk") {
      f.state_on_disk = true;
    } else if (i + 1 >= argc) {
      return Error(Errc::kInvalidArgument, "unknown flag or missing value: " + flag);
    } else if (std::string value = argv[++i]; flag == "--pods") {
      f.pods = BERTH_TRY(berth::ParseInt<int>(value, "--pods"));
    } else if (flag == "--concurrent") {
      f.concurrent = BERTH_TRY(berth::ParseInt<int>(value, "--concurrent"));
    } else if (flag == "--rounds") {
      f.rounds = BERTH_TRY(berth::ParseInt<int>(value, "--rounds"));
    } else if (flag == "--runtime") {
      f.runtime = value;
    } else if (flag == "--work-dir") {
      f.work_parent = value;
    } else if (flag == "--log-dir") {
      f.log_dir = value;
    } else {
      return Error(Errc::kInvalidArgument, "unknown flag: " + flag);
    }
  }
  if (f.pods <= 0 || f.concurrent <= 0 || f.rounds <= 0) {
    return Error(Errc::kInvalidArgument,
                 "--pods, --concurrent and --rounds want positive integers");
  }
  if (f.runtime != "berth" && f.runtime != "containerd" && f.runtime != "both") {
    return Error(Errc::kInvalidArgument, "--runtime wants berth, containerd or both");
  }
  return f;
}

// ---------------------------------------------------------------------------
// Namespaces: before any thread (unshare(CLONE_NEWNS) fails in a threaded
// process), as integration/cri/cri_main.cc.

Status EnterPrivateNamespaces() {
  if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
    return Error::Sys("unshare", "CLONE_NEWNET|CLONE_NEWNS");
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return Error::Sys("mount --make-rprivate", "/");
  }
  // containerd's shims bind /run/containerd/s/<hash> whatever its state dir;
  // libcni (in containerd) caches results in /var/lib/cni; iptables locks
  // /run/xtables.lock. Fresh tmpfs here: nothing reaches the host's.
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

// ---------------------------------------------------------------------------
// Images and shared configuration.

struct Images {
  std::unique_ptr<RegistryProcess> registry;
  std::string busybox;    // 127.0.0.1:<port>/bench/busybox:latest
  std::string pause;      // 127.0.0.1:<port>/bench/pause:latest
  std::string certs_dir;  // hosts.toml per registry, for both runtimes
};

// The busybox fixture rootfs plus berth-pause as /pause.
Status MakePauseRootfs(const std::string& busybox_rootfs, const std::string& out) {
  BERTH_TRY(berth::integration::RunTool({"cp", "-a", busybox_rootfs, out}));
  std::string pause = BERTH_TRY(berth::ReadFile(berth::testing::BuiltBinary("pause/berth-pause")));
  return berth::WriteFile(out + "/pause", pause, 0755);
}

Result<Images> PrepareImages(const std::string& work) {
  std::string rootfs = berth::testing::BuiltBinary("integration/fixtures/busybox-rootfs");
  if (!berth::PathExists(rootfs + "/bin/busybox")) {
    return Error(Errc::kFailedPrecondition,
                 "no fixture rootfs at " + rootfs + " (build target berth_fixture_rootfs)");
  }
  Images images;
  BERTH_TRY(berth::MkdirAll(work + "/registry"));
  images.registry = BERTH_TRY(RegistryProcess::Start(work + "/registry"));
  std::string host = images.registry->host();

  BERTH_TRY(berth::MkdirAll(work + "/busybox-image"));
  std::string layout =
      BERTH_TRY(berth::integration::BuildOciLayout(rootfs, work + "/busybox-image", {"/bin/sh"}));
  images.busybox = host + "/bench/busybox:latest";
  BERTH_TRY(berth::image::registry::testing::PushLayout(layout, "latest", images.busybox));

  BERTH_TRY(MakePauseRootfs(rootfs, work + "/pause-rootfs"));
  BERTH_TRY(berth::MkdirAll(work + "/pause-image"));
  layout = BERTH_TRY(berth::integration::BuildOciLayout(work + "/pause-rootfs",
                                                        work + "/pause-image", {"/pause"}));
  images.pause = host + "/bench/pause:latest";
  BERTH_TRY(berth::image::registry::testing::PushLayout(layout, "latest", images.pause));
  for (const char* tmp : {"/busybox-image", "/pause-rootfs", "/pause-image"})
    (void)berth::RemoveAll(work + tmp);

  // Plain HTTP to the local registry, in the containerd hosts.toml format
  // both runtimes read.
  images.certs_dir = work + "/certs.d";
  BERTH_TRY(berth::MkdirAll(images.certs_dir + "/" + host));
  BERTH_TRY(berth::WriteFile(images.certs_dir + "/" + host + "/hosts.toml",
                             "server = \"http://" + host + "\"\n[host.\"http://" + host +
                                 "\"]\n  capabilities = [\"pull\", \"resolve\"]\n"));
  return images;
}

// The pod network: the same plugin chain for both runtimes, on a bridge and
// subnet of each runtime's own.
std::string Conflist(const std::string& bridge, const std::string& subnet,
                     const std::string& ipam_dir) {
  return R"({"cniVersion":"1.0.0","name":"bench-pods","plugins":[
  {"type":"bridge","bridge":")" +
         bridge + R"(","isGateway":true,"ipMasq":false,"hairpinMode":true,
   "ipam":{"type":"host-local","ranges":[[{"subnet":")" +
         subnet + R"("}]],"routes":[{"dst":"0.0.0.0/0"}],"dataDir":")" + ipam_dir + R"("}},
  {"type":"portmap","capabilities":{"portMappings":true}},
  {"type":"loopback"}]}
)";
}

// ---------------------------------------------------------------------------
// The CRI client, the same for both runtimes.

struct Sample {
  double total_ms = 0, run_ms = 0, create_ms = 0, start_ms = 0;
};

struct PodPlan {
  v1::PodSandboxConfig sandbox;
  v1::ContainerConfig container;
};

struct PodOutcome {
  std::string sandbox_id;  // set once RunPodSandbox succeeded: owed a removal
  Sample sample;
  std::optional<Error> error;
};

double MsSince(int64_t start) {
  return static_cast<double>(berth::MonotonicNanos() - start) / 1e6;
}

Error GrpcError(const std::string& what, const grpc::Status& s) {
  return Error(Errc::kInternal,
               what + ": gRPC " + std::to_string(s.error_code()) + ": " + s.error_message());
}

class CriClient {
 public:
  explicit CriClient(const std::string& socket) {
    auto channel = grpc::CreateChannel("unix://" + socket, grpc::InsecureChannelCredentials());
    runtime_ = v1::RuntimeService::NewStub(channel);
    images_ = v1::ImageService::NewStub(channel);
  }

  // Until Status reports RuntimeReady and NetworkReady (containerd loads the
  // CNI configuration a moment after it answers).
  Status WaitReady() {
    std::string last = "no answer";
    for (int i = 0; i < 300; ++i) {
      grpc::ClientContext ctx;
      Deadline(ctx, std::chrono::seconds(2));
      v1::StatusResponse resp;
      grpc::Status s = runtime_->Status(&ctx, v1::StatusRequest(), &resp);
      if (s.ok()) {
        int ready = 0;
        for (const v1::RuntimeCondition& c : resp.status().conditions()) {
          if ((c.type() == "RuntimeReady" || c.type() == "NetworkReady") && c.status()) ++ready;
          if (!c.status()) last = c.type() + ": " + c.reason() + " " + c.message();
        }
        if (ready == 2) return Ok();
      } else {
        last = s.error_message();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return Error(Errc::kDeadlineExceeded, "CRI Status not ready within 30 s: " + last);
  }

  Status Pull(const std::string& ref) {
    grpc::ClientContext ctx;
    Deadline(ctx, std::chrono::seconds(300));
    v1::PullImageRequest req;
    req.mutable_image()->set_image(ref);
    v1::PullImageResponse resp;
    grpc::Status s = images_->PullImage(&ctx, req, &resp);
    if (!s.ok()) return GrpcError("PullImage " + ref, s);
    return Ok();
  }

  // The timed part: RunPodSandbox + CreateContainer + StartContainer.
  PodOutcome StartPod(const PodPlan& plan) {
    PodOutcome out;
    int64_t t0 = berth::MonotonicNanos();
    {
      grpc::ClientContext ctx;
      Deadline(ctx, kCallTimeout);
      v1::RunPodSandboxRequest req;
      *req.mutable_config() = plan.sandbox;
      v1::RunPodSandboxResponse resp;
      grpc::Status s = runtime_->RunPodSandbox(&ctx, req, &resp);
      if (!s.ok()) return Failed(out, GrpcError("RunPodSandbox", s));
      out.sandbox_id = resp.pod_sandbox_id();
    }
    int64_t t1 = berth::MonotonicNanos();
    std::string container_id;
    {
      grpc::ClientContext ctx;
      Deadline(ctx, kCallTimeout);
      v1::CreateContainerRequest req;
      req.set_pod_sandbox_id(out.sandbox_id);
      *req.mutable_config() = plan.container;
      *req.mutable_sandbox_config() = plan.sandbox;
      v1::CreateContainerResponse resp;
      grpc::Status s = runtime_->CreateContainer(&ctx, req, &resp);
      if (!s.ok()) return Failed(out, GrpcError("CreateContainer", s));
      container_id = resp.container_id();
    }
    int64_t t2 = berth::MonotonicNanos();
    {
      grpc::ClientContext ctx;
      Deadline(ctx, kCallTimeout);
      v1::StartContainerRequest req;
      req.set_container_id(container_id);
      v1::StartContainerResponse resp;
      grpc::Status s = runtime_->StartContainer(&ctx, req, &resp);
      if (!s.ok()) return Failed(out, GrpcError("StartContainer", s));
    }
    int64_t t3 = berth::MonotonicNanos();
    auto ms = [](int64_t a, int64_t b) { return static_cast<double>(b - a) / 1e6; };
    out.sample = {ms(t0, t3), ms(t0, t1), ms(t1, t2), ms(t2, t3)};
    return out;
  }

  // StopPodSandbox (kills the containers) + RemovePodSandbox, as kubelet.
  Status RemovePod(const std::string& id) {
    {
      grpc::ClientContext ctx;
      Deadline(ctx, kCallTimeout);
      v1::StopPodSandboxRequest req;
      req.set_pod_sandbox_id(id);
      v1::StopPodSandboxResponse resp;
      grpc::Status s = runtime_->StopPodSandbox(&ctx, req, &resp);
      if (!s.ok()) return GrpcError("StopPodSandbox " + id, s);
    }
    grpc::ClientContext ctx;
    Deadline(ctx, kCallTimeout);
    v1::RemovePodSandboxRequest req;
    req.set_pod_sandbox_id(id);
    v1::RemovePodSandboxResponse resp;
    grpc::Status s = runtime_->RemovePodSandbox(&ctx, req, &resp);
    if (!s.ok()) return GrpcError("RemovePodSandbox " + id, s);
    return Ok();
  }

  // Every sandbox the runtime knows: for the final sweep.
  std::vector<std::string> ListPods() {
    grpc::ClientContext ctx;
    Deadline(ctx, kCallTimeout);
    v1::ListPodSandboxResponse resp;
    std::vector<std::string> ids;
    if (!runtime_->ListPodSandbox(&ctx, v1::ListPodSandboxRequest(), &resp).ok()) return ids;
    for (const v1::PodSandbox& p : resp.items())
      ids.push_back(p.id());
    return ids;
  }

 private:
  static constexpr std::chrono::seconds kCallTimeout{120};

  static void Deadline(grpc::ClientContext& ctx, std::chrono::seconds timeout) {
    ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  }
  static PodOutcome& Failed(PodOutcome& out, Error e) {
    out.error = std::move(e);
    return out;
  }

  std::unique_ptr<v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<v1::ImageService::Stub> images_;
};

// ---------------------------------------------------------------------------
// Process memory.

struct ProcMem {
  pid_t pid = -1;
  int64_t rss_kib = 0;       // VmRSS
  int64_t pss_kib = 0;       // smaps_rollup Pss
  int64_t pss_anon_kib = 0;  // Pss_Anon
  int64_t pss_file_kib = 0;  // Pss_File
  int64_t private_kib = 0;   // Private_Clean + Private_Dirty (USS)
};

// The value of "<key>:   123 kB" in /proc text.
int64_t KibField(const std::string& text, const std::string& key) {
  size_t at = text.find("\n" + key + ":");
  if (at == std::string::npos && text.starts_with(key + ":")) at = 0;
  if (at == std::string::npos) return 0;
  at = text.find(':', at) + 1;
  return std::atoll(text.c_str() + at);
}

Result<ProcMem> ReadProcMem(pid_t pid) {
  std::string proc = "/proc/" + std::to_string(pid);
  std::string status = BERTH_TRY(berth::ReadFile(proc + "/status"));
  std::string rollup = BERTH_TRY(berth::ReadFile(proc + "/smaps_rollup"));
  ProcMem m;
  m.pid = pid;
  m.rss_kib = KibField(status, "VmRSS");
  m.pss_kib = KibField(rollup, "Pss");
  m.pss_anon_kib = KibField(rollup, "Pss_Anon");
  m.pss_file_kib = KibField(rollup, "Pss_File");
  m.private_kib = KibField(rollup, "Private_Clean") + KibField(rollup, "Private_Dirty");
  return m;
}

std::vector<std::string> Cmdline(pid_t pid) {
  Result<std::string> raw = berth::ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  return raw.ok() ? berth::SplitNonEmpty(*raw, '\0') : std::vector<std::string>{};
}

// `pid` runs berth-shim with --dir `dir`.
bool ServesDir(pid_t pid, const std::string& dir) {
  std::vector<std::string> argv = Cmdline(pid);
  if (argv.empty() || berth::Basename(argv[0]) != "berth-shim") return false;
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == "--dir" && argv[i + 1] == dir) return true;
  }
  return false;
}

std::vector<pid_t> AllPids() {
  std::vector<pid_t> out;
  for (const std::string& name : berth::ListDir("/proc").value_or(std::vector<std::string>{})) {
    Result<pid_t> pid = berth::ParseInt<pid_t>(name, "pid");
    if (pid.ok()) out.push_back(*pid);
  }
  return out;
}

struct MemReport {
  std::string shim_name;
  int pods = 0;
  std::vector<ProcMem> shims;
  std::optional<ProcMem> daemon;
};

// ---------------------------------------------------------------------------
// The runtimes under test.

class Target {
 public:
  virtual ~Target() = default;
  const std::string& name() const { return name_; }
  const std::string& dir() const { return dir_; }
  // A relative cgroup parent: beneath the bench's own cgroup in every
  // hierarchy (berth: below its cgroup root = its own cgroup; runc: relative
  // cgroupsPath = below the shim's own cgroup = containerd's = ours).
  std::string cgroup_parent() const {
    return "berth-bench-pods-" + std::to_string(::getpid()) + "-" + name_;
  }
  std::string log_root() const { return dir_ + "/pod-logs"; }

  virtual Status Start(const Images& images, const Flags& f) = 0;
  virtual std::string socket() const = 0;
  virtual std::vector<std::string> ImagesToPull(const Images& images) const = 0;
  virtual std::string shim_name() const = 0;
  virtual std::vector<pid_t> ShimPids() const = 0;
  virtual pid_t DaemonPid() const = 0;
  virtual std::string LogPath() const = 0;
  // Stops the daemon by pid; kills, by pid, shims it started that are
  // still there; detaches mounts left under the directory.
  virtual void Stop() = 0;

 protected:
  Target(std::string name, std::string dir) : name_(std::move(name)), dir_(std::move(dir)) {}
  Status WriteNetwork(const std::string& bridge, const std::string& subnet) const {
    BERTH_TRY(berth::MkdirAll(dir_ + "/net.d"));
    BERTH_TRY(berth::MkdirAll(dir_ + "/ipam"));
    return berth::WriteFile(dir_ + "/net.d/10-bench.conflist",
                            Conflist(bridge, subnet, dir_ + "/ipam"));
  }
  // The runtime's volatile state (berth's run root, containerd's state dir)
  // on a tmpfs of its own, as /run is on a node: both fsync little there
  // and berth's atomic writes there cost no disk flush. With
  // --state-on-disk it stays on the work dir's filesystem.
  Status VolatileState(const std::string& sub, bool on_disk) const {
    std::string path = dir_ + "/" + sub;
    BERTH_TRY(berth::MkdirAll(path, 0711));
    if (on_disk) return Ok();
    if (::mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0711") != 0) {
      return Error::Sys("mount tmpfs", path);
    }
    return Ok();
  }
  void DetachMounts() const {
    Status s = berth::integration::UnmountUnder(dir_);
    if (!s.ok()) std::fprintf(stderr, "pod-start: %s\n", s.error().str().c_str());
  }

  std::string name_;
  std::string dir_;
};

class BerthTarget : public Target {
 public:
  explicit BerthTarget(const std::string& dir) : Target("berth", dir) {}

  Status Start(const Images& images, const Flags& f) override {
    BERTH_TRY(WriteNetwork("cni-bench-b0", "10.88.10.0/24"));
    BERTH_TRY(VolatileState("run", f.state_on_disk));
    berth::integration::CriDaemonOptions o;
    o.dir = dir_;
    o.cni_conf_dir = dir_ + "/net.d";
    o.cni_bin_dirs = {kCniBinDir};
    o.registry_config_dir = images.certs_dir;
    cri_ = BERTH_TRY(berth::integration::CriDaemon::Start(o));
    return Ok();
  }
  std::string socket() const override { return dir_ + "/cri.sock"; }
  std::vector<std::string> ImagesToPull(const Images& images) const override {
    return {images.busybox};  // the sandbox runs the built-in berth-pause
  }
  std::string shim_name() const override { return "berth-shim"; }

  // <run-root>/s/<pod>/shim.pid, checked against the process's argv
  // (berth-shim --dir <that dir>); without pid files, every berth-shim
  // whose --dir is under this run root.
  std::vector<pid_t> ShimPids() const override {
    std::string shims = dir_ + "/run/s";
    std::set<pid_t> out;
    for (const std::string& d : berth::ListDir(shims).value_or(std::vector<std::string>{})) {
      std::string text = berth::ReadFile(shims + "/" + d + "/shim.pid").value_or("");
      Result<pid_t> pid = berth::ParseInt<pid_t>(berth::Trim(text), "shim.pid");
      if (pid.ok() && ServesDir(*pid, shims + "/" + d)) out.insert(*pid);
    }
    if (out.empty()) {
      for (pid_t pid : AllPids()) {
        std::vector<std::string> argv = Cmdline(pid);
        for (size_t i = 0; i + 1 < argv.size(); ++i) {
          if (argv[i] == "--dir" && argv[i + 1].starts_with(shims + "/") &&
              ServesDir(pid, argv[i + 1])) {
            out.insert(pid);
          }
        }
      }
    }
    return {out.begin(), out.end()};
  }
  pid_t DaemonPid() const override { return cri_ ? cri_->pid() : -1; }
  std::string LogPath() const override { return dir_ + "/cri.log"; }

  void Stop() override {
    if (cri_) cri_->Stop();
    cri_.reset();
    for (pid_t pid : ShimPids()) {
      std::fprintf(stderr, "pod-start: berth-shim %d outlived its pod; killing it\n", pid);
      ::kill(pid, SIGKILL);
    }
    DetachMounts();
  }

 private:
  std::unique_ptr<berth::integration::CriDaemon> cri_;
};

class ContainerdTarget : public Target {
 public:
  explicit ContainerdTarget(const std::string& dir) : Target("containerd", dir) {}

  // integration/containerd's kit with the CRI plugin on: the sandbox image
  // from the local registry, runc, CNI from /usr/lib/cni and our conf dir;
  // log level info (berth cri logs little at debug).
  Status Start(const Images& images, const Flags& f) override {
    BERTH_TRY(WriteNetwork("cni-bench-c0", "10.88.11.0/24"));
    BERTH_TRY(VolatileState("state", f.state_on_disk));
    berth::integration::ContainerdOptions o;
    o.dir = dir_;
    o.ns = "k8s.io";
    o.log_level = "info";
    berth::integration::ContainerdCri& cri = o.cri.emplace();
    cri.sandbox_image = images.pause;
    cri.runc_binary = kRunc;
    cri.cni_bin_dir = kCniBinDir;
    cri.cni_conf_dir = dir_ + "/net.d";
    cri.registry_config_path = images.certs_dir;
    containerd_ = BERTH_TRY(berth::integration::Containerd::Start(o));
    return Ok();
  }
  std::string socket() const override { return dir_ + "/containerd.sock"; }
  std::vector<std::string> ImagesToPull(const Images& images) const override {
    return {images.pause, images.busybox};
  }
  std::string shim_name() const override { return "containerd-shim-runc-v2"; }

  // containerd-shim-runc-v2 processes serving this containerd (-address
  // <our socket>): one per pod, as containerd 1.6 groups a pod's containers
  // in its sandbox's shim.
  std::vector<pid_t> ShimPids() const override {
    std::vector<pid_t> out;
    for (pid_t pid : AllPids()) {
      std::vector<std::string> argv = Cmdline(pid);
      if (argv.empty() || berth::Basename(argv[0]) != "containerd-shim-runc-v2") continue;
      for (size_t i = 0; i + 1 < argv.size(); ++i) {
        if (argv[i] == "-address" && argv[i + 1] == socket()) out.push_back(pid);
      }
    }
    return out;
  }
  pid_t DaemonPid() const override { return containerd_ ? containerd_->pid() : -1; }
  std::string LogPath() const override { return dir_ + "/containerd.log"; }

  void Stop() override {
    if (containerd_) {
      Status s = containerd_->Stop();
      if (!s.ok()) std::fprintf(stderr, "pod-start: %s\n", s.error().str().c_str());
    }
    containerd_.reset();
    berth::integration::KillShims(dir_);  // by the pids in shim.pid; none after a clean run
    DetachMounts();
  }

 private:
  std::unique_ptr<berth::integration::Containerd> containerd_;
};

// ---------------------------------------------------------------------------
// Phases.

struct TargetResult {
  std::string name;
  std::vector<Sample> sequential, concurrent;
  std::vector<double> warmup_ms;
  std::vector<double> concurrent_wall_ms;
  std::optional<MemReport> memory;  // the last round's
  int failures = 0;
};

PodPlan MakePlan(const Target& t, const Images& images, const std::string& name) {
  PodPlan p;
  v1::PodSandboxMetadata* m = p.sandbox.mutable_metadata();
  m->set_name(name);
  m->set_namespace_("bench");
  m->set_uid(name + "-" + t.name() + "-" + std::to_string(::getpid()));
  m->set_attempt(0);
  p.sandbox.set_hostname(name);
  p.sandbox.set_log_directory(t.log_root() + "/bench_" + name + "_" + m->uid());
  (*p.sandbox.mutable_labels())["bench"] = "pod-start";
  p.sandbox.mutable_linux()->set_cgroup_parent(t.cgroup_parent());

  p.container.mutable_metadata()->set_name("sleep");
  p.container.mutable_metadata()->set_attempt(0);
  p.container.mutable_image()->set_image(images.busybox);
  p.container.add_args("sleep");
  p.container.add_args("3600");
  p.container.set_log_path("sleep/0.log");
  return p;
}

// What kubelet does before it calls the runtime: the pod's log directory
// and the container's below it.
Status PrepareLogDirs(const PodPlan& p) {
  return berth::MkdirAll(p.sandbox.log_directory() + "/sleep");
}

void Report(const Flags& f, const std::string& runtime, const std::string& pod, const PodOutcome& o,
            TargetResult& r) {
  if (f.per_pod && !o.error) {
    std::fprintf(stderr, "pod-start: %s %s: %.1f ms (run %.1f, create %.1f, start %.1f)\n",
                 runtime.c_str(), pod.c_str(), o.sample.total_ms, o.sample.run_ms,
                 o.sample.create_ms, o.sample.start_ms);
  }
  if (!o.error) return;
  ++r.failures;
  std::fprintf(stderr, "pod-start: %s: %s\n", runtime.c_str(), o.error->str().c_str());
}

void RemovePods(CriClient& cri, const std::string& runtime, std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    Status s = cri.RemovePod(id);
    if (!s.ok())
      std::fprintf(stderr, "pod-start: %s: %s\n", runtime.c_str(), s.error().str().c_str());
  }
  ids.clear();
}

MemReport MeasureMemory(const Target& t, int pods) {
  MemReport m;
  m.shim_name = t.shim_name();
  m.pods = pods;
  for (pid_t pid : t.ShimPids()) {
    Result<ProcMem> mem = ReadProcMem(pid);
    if (mem.ok()) m.shims.push_back(*mem);
  }
  if (t.DaemonPid() > 0) {
    Result<ProcMem> mem = ReadProcMem(t.DaemonPid());
    if (mem.ok()) m.daemon = *mem;
  }
  return m;
}

// One runtime in one round: its daemon, the client, and the pods it owes a
// removal. Whatever fails, the destructor removes every pod the runtime
// still lists and then stops the daemon (and strays) by pid.
class Session {
 public:
  Session(std::unique_ptr<Target> t, TargetResult& r, const Images& images, const Flags& f)
      : t_(std::move(t)), r_(r), images_(images), f_(f) {}
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() {
    if (cri_) {
      RemoveAll();
      std::vector<std::string> left = cri_->ListPods();
      RemovePods(*cri_, t_->name(), left);
    }
    t_->Stop();
  }

  Target& target() { return *t_; }

  // Daemon up, images pulled, one untimed-in-the-phases warm-up pod.
  Status Open(const std::string& prefix) {
    BERTH_TRY_CTX(t_->Start(images_, f_), "start " + t_->name());
    cri_ = std::make_unique<CriClient>(t_->socket());
    BERTH_TRY_CTX(cri_->WaitReady(), t_->name());
    for (const std::string& ref : t_->ImagesToPull(images_))
      BERTH_TRY_CTX(cri_->Pull(ref), t_->name());
    PodPlan warm = MakePlan(*t_, images_, prefix + "-warm");
    BERTH_TRY(PrepareLogDirs(warm));
    PodOutcome w = Start(warm);
    if (w.error) return Error(*w.error).Wrap(t_->name() + ": warm-up pod");
    r_.warmup_ms.push_back(w.sample.total_ms);
    RemoveAll();
    return Ok();
  }

  // One pod of the sequential phase.
  Status Sequential(const std::string& name) {
    PodPlan plan = MakePlan(*t_, images_, name);
    BERTH_TRY(PrepareLogDirs(plan));
    PodOutcome o = Start(plan);
    Report(f_, t_->name(), name, o, r_);
    if (!o.error) r_.sequential.push_back(o.sample);
    return Ok();
  }

  void MeasureMemoryNow() { r_.memory = MeasureMemory(*t_, static_cast<int>(ids_.size())); }

  void RemoveAll() { RemovePods(*cri_, t_->name(), ids_); }

  // --concurrent pods released together, one thread each; then removed.
  Status Concurrent(const std::string& prefix) {
    std::fprintf(stderr, "pod-start: %s: %d pods at once\n", t_->name().c_str(), f_.concurrent);
    std::vector<PodPlan> plans;
    for (int i = 0; i < f_.concurrent; ++i) {
      plans.push_back(MakePlan(*t_, images_, prefix + "-con-" + std::to_string(i)));
      BERTH_TRY(PrepareLogDirs(plans.back()));
    }
    std::vector<PodOutcome> outcomes(plans.size());
    std::latch go(static_cast<std::ptrdiff_t>(plans.size()) + 1);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < plans.size(); ++i) {
      threads.emplace_back([&, i] {
        go.arrive_and_wait();
        outcomes[i] = cri_->StartPod(plans[i]);
      });
    }
    go.arrive_and_wait();
    int64_t start = berth::MonotonicNanos();
    for (std::thread& th : threads)
      th.join();
    r_.concurrent_wall_ms.push_back(MsSince(start));
    for (size_t i = 0; i < outcomes.size(); ++i) {
      const PodOutcome& o = outcomes[i];
      if (!o.sandbox_id.empty()) ids_.push_back(o.sandbox_id);
      Report(f_, t_->name(), plans[i].sandbox.metadata().name(), o, r_);
      if (!o.error) r_.concurrent.push_back(o.sample);
    }
    RemoveAll();
    return Ok();
  }

 private:
  PodOutcome Start(const PodPlan& plan) {
    PodOutcome o = cri_->StartPod(plan);
    if (!o.sandbox_id.empty()) ids_.push_back(o.sandbox_id);
    return o;
  }

  std::unique_ptr<Target> t_;
  TargetResult& r_;
  const Images& images_;
  const Flags& f_;
  std::unique_ptr<CriClient> cri_;
  std::vector<std::string> ids_;
};

// One round over `sessions` (one runtime, or both interleaved): open each;
// the sequential pods, alternating between runtimes pod by pod (the order
// flips every pod) so that drift in the machine's load hits both alike;
// memory with those pods running; remove; then each runtime's concurrent
// phase in turn.
Status RunRound(const std::vector<Session*>& sessions, const Flags& f, int round) {
  std::string prefix = "r" + std::to_string(round);
  for (Session* s : sessions)
    BERTH_TRY(s->Open(prefix));
  std::fprintf(stderr, "pod-start: %d pods one after another per runtime%s\n", f.pods,
               sessions.size() > 1 ? ", interleaved" : "");
  for (int i = 0; i < f.pods; ++i) {
    for (size_t k = 0; k < sessions.size(); ++k) {
      Session* s = sessions[i % 2 == 0 ? k : sessions.size() - 1 - k];
      BERTH_TRY(s->Sequential(prefix + "-seq-" + std::to_string(i)));
    }
  }
  for (Session* s : sessions)
    s->MeasureMemoryNow();
  for (Session* s : sessions)
    s->RemoveAll();
  for (Session* s : sessions)
    BERTH_TRY(s->Concurrent(prefix));
  return Ok();
}

// ---------------------------------------------------------------------------
// Output.

std::vector<double> Field(const std::vector<Sample>& s, double Sample::*field) {
  std::vector<double> out;
  out.reserve(s.size());
  for (const Sample& x : s)
    out.push_back(x.*field);
  return out;
}

void PrintPhase(const std::string& runtime, const std::string& phase,
                const std::vector<Sample>& s) {
  if (s.empty()) {
    std::printf("%-11s %-15s %5s\n", runtime.c_str(), phase.c_str(), "0");
    return;
  }
  std::vector<double> total = Field(s, &Sample::total_ms);
  std::printf("%-11s %-15s %5zu %8.1f %8.1f %8.1f | %8.1f %8.1f %8.1f\n", runtime.c_str(),
              phase.c_str(), s.size(), Percentile(total, 0.5), Percentile(total, 0.99), Mean(total),
              Percentile(Field(s, &Sample::run_ms), 0.5),
              Percentile(Field(s, &Sample::create_ms), 0.5),
              Percentile(Field(s, &Sample::start_ms), 0.5));
}

void PrintRatio(const std::string& phase, const std::vector<Sample>& b,
                const std::vector<Sample>& c) {
  if (b.empty() || c.empty()) {
    std::printf("berth/containerd %-11s n/a\n", phase.c_str());
    return;
  }
  std::vector<double> bt = Field(b, &Sample::total_ms), ct = Field(c, &Sample::total_ms);
  double p50 = Percentile(bt, 0.5) / Percentile(ct, 0.5);
  double p99 = Percentile(bt, 0.99) / Percentile(ct, 0.99);
  auto met = [](double r) { return r <= 0.3 ? "met" : "not met"; };
  std::printf(
      "berth/containerd %-11s p50 %.3f  p99 %.3f  mean %.3f   (target <= 0.30: p50 %s, p99 %s)\n",
      phase.c_str(), p50, p99, Mean(bt) / Mean(ct), met(p50), met(p99));
}

void PrintMemory(const MemReport& m, bool target) {
  if (m.shims.empty()) {
    std::printf("  %s: no shim processes found\n", m.shim_name.c_str());
    return;
  }
  std::vector<double> rss, pss, anon, file, priv;
  for (const ProcMem& p : m.shims) {
    rss.push_back(static_cast<double>(p.rss_kib));
    pss.push_back(static_cast<double>(p.pss_kib));
    anon.push_back(static_cast<double>(p.pss_anon_kib));
    file.push_back(static_cast<double>(p.pss_file_kib));
    priv.push_back(static_cast<double>(p.private_kib));
  }
  double n = static_cast<double>(m.shims.size());
  double pods = std::max(1, m.pods);
  std::printf("  %-24s %zu processes for %d pods\n", m.shim_name.c_str(), m.shims.size(), m.pods);
  std::printf("    VmRSS per shim   KiB: mean %7.0f  min %7.0f  max %7.0f\n", Mean(rss),
              *std::min_element(rss.begin(), rss.end()), *std::max_element(rss.begin(), rss.end()));
  std::printf("    PSS per shim     KiB: mean %7.0f  (anon %.0f, file %.0f)  USS %.0f\n", Mean(pss),
              Mean(anon), Mean(file), Mean(priv));
  std::printf("    per pod          KiB: RSS %7.0f  PSS %7.0f  (shims' total / pods)\n",
              Mean(rss) * n / pods, Mean(pss) * n / pods);
  if (target) {
    std::printf("    target RSS <= 1024 KiB per pod: %s\n",
                Mean(rss) * n / pods <= 1024 ? "met" : "not met");
  }
  if (m.daemon) {
    std::printf("    daemon (pid %d)  KiB: RSS %7lld  PSS %7lld\n", m.daemon->pid,
                static_cast<long long>(m.daemon->rss_kib),
                static_cast<long long>(m.daemon->pss_kib));
  }
}

void PrintResults(const Flags& f, const std::vector<TargetResult>& results) {
  std::printf(
      "pod-start: RunPodSandbox + CreateContainer + StartContainer of busybox `sleep 3600` "
      "(image present), CNI bridge + host-local + portmap + loopback; %d round(s) of %d "
      "sequential + %d concurrent pods per runtime\n",
      f.rounds, f.pods, f.concurrent);
  std::printf("%-11s %-15s %5s %8s %8s %8s | %8s %8s %8s\n", "runtime", "phase", "pods", "p50 ms",
              "p99 ms", "mean ms", "run p50", "crt p50", "start50");
  for (const TargetResult& r : results) {
    PrintPhase(r.name, "sequential", r.sequential);
    PrintPhase(r.name, "concurrent/" + std::to_string(f.concurrent), r.concurrent);
  }
  for (const TargetResult& r : results) {
    std::printf(
        "%-11s warm-up pod %.1f ms; concurrent phase wall %.1f ms (median of rounds); "
        "%d failed\n",
        r.name.c_str(), Percentile(r.warmup_ms, 0.5), Percentile(r.concurrent_wall_ms, 0.5),
        r.failures);
  }
  if (results.size() == 2) {
    PrintRatio("sequential", results[0].sequential, results[1].sequential);
    PrintRatio("concurrent", results[0].concurrent, results[1].concurrent);
  }
  std::printf("memory with the %d sequential pods running (last round):\n", f.pods);
  for (const TargetResult& r : results) {
    if (r.memory) PrintMemory(*r.memory, r.name == "berth");
  }
}

// ---------------------------------------------------------------------------
// Cleanup.

// The cgroup parents, beneath our own cgroup in every hierarchy: runtimes
// remove their pods' cgroups but not the parent. rmdir only (never kills).
void RemoveCgroupParents(const std::vector<std::string>& parents) {
  Result<berth::cgroups::Layout> layout = berth::cgroups::Detect();
  if (!layout.ok()) return;
  for (const std::string& parent : parents) {
    berth::cgroups::ResolveOptions where;
    where.cgroups_path = parent;
    where.container_id = parent;
    Result<berth::cgroups::Placement> placement = berth::cgroups::Resolve(*layout, where);
    if (!placement.ok()) continue;
    for (const auto& [hierarchy, dir] : placement->paths) {
      if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
        std::fprintf(stderr, "pod-start: rmdir %s: %s\n", dir.c_str(), std::strerror(errno));
      }
    }
  }
}

// Everything the bench made, removed also when a step failed.
struct WorkDir {
  std::string path;
  ~WorkDir() {
    if (path.empty()) return;
    Status s = berth::integration::UnmountUnder(path);
    if (!s.ok()) std::fprintf(stderr, "pod-start: %s\n", s.error().str().c_str());
    (void)berth::RemoveAll(path);
  }
};

void KeepLog(const Flags& f, const std::string& runtime, const std::string& path, int round) {
  if (f.log_dir.empty()) return;
  Result<std::string> log = berth::ReadFile(path);
  if (!log.ok()) return;
  std::string to = f.log_dir + "/" + runtime + "-round" + std::to_string(round) + ".log";
  if (berth::MkdirAll(f.log_dir).ok() && berth::WriteFile(to, *log).ok()) {
    std::fprintf(stderr, "pod-start: %s's log kept in %s\n", runtime.c_str(), to.c_str());
  }
}

int Run(const Flags& f) {
  std::string tmpl = f.work_parent + "/berth-bench-pods-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("pod-start: mkdtemp");
    return 1;
  }
  WorkDir work{tmpl};
  int64_t start = berth::MonotonicNanos();
  Result<Images> images = PrepareImages(work.path);
  if (!images.ok()) {
    std::fprintf(stderr, "pod-start: preparing images: %s\n", images.error().str().c_str());
    return 1;
  }
  std::fprintf(stderr, "pod-start: images %s and %s pushed in %.1f s\n", images->busybox.c_str(),
               images->pause.c_str(), MsSince(start) / 1000);

  std::vector<TargetResult> results;
  std::vector<std::string> names;
  if (f.runtime != "containerd") names.emplace_back("berth");
  if (f.runtime != "berth") names.emplace_back("containerd");
  results.reserve(names.size());
  for (const std::string& n : names)
    results.push_back(TargetResult{n, {}, {}, {}, {}, {}, 0});
  std::vector<std::string> cgroup_parents;
  bool broken = false;
  for (int round = 0; round < f.rounds && !broken; ++round) {
    // The order alternates per round, so drift affects both alike.
    std::vector<size_t> order;
    for (size_t k = 0; k < names.size(); ++k)
      order.push_back(round % 2 == 0 ? k : names.size() - 1 - k);
    // Interleaved: every runtime of the round at once; else one at a time.
    std::vector<std::vector<size_t>> groups;
    if (f.interleave) {
      groups.push_back(order);
    } else {
      for (size_t i : order)
        groups.push_back({i});
    }
    for (const std::vector<size_t>& group : groups) {
      if (broken) break;
      std::vector<std::unique_ptr<Session>> sessions;
      std::vector<Session*> running;
      for (size_t i : group) {
        std::string dir = work.path + "/" + names[i] + "-" + std::to_string(round);
        std::unique_ptr<Target> t;
        if (names[i] == "berth")
          t = std::make_unique<BerthTarget>(dir);
        else
          t = std::make_unique<ContainerdTarget>(dir);
        cgroup_parents.push_back(t->cgroup_parent());
        sessions.push_back(std::make_unique<Session>(std::move(t), results[i], *images, f));
        running.push_back(sessions.back().get());
      }
      Status s = RunRound(running, f, round);
      if (!s.ok()) {
        std::fprintf(stderr, "pod-start: %s\n", s.error().str().c_str());
        broken = true;
      }
      std::vector<std::pair<std::string, std::string>> logs;  // runtime, path
      for (Session* session : running) {
        logs.emplace_back(session->target().name(), session->target().LogPath());
        if (!broken) continue;
        std::string log = berth::ReadFile(logs.back().second).value_or("");
        if (log.size() > 6000) log = "..." + log.substr(log.size() - 6000);
        std::fprintf(stderr, "pod-start: %s's log (tail):\n%s\n", logs.back().first.c_str(),
                     log.c_str());
      }
      sessions.clear();  // pods removed, daemons stopped
      for (const auto& [name, path] : logs)
        KeepLog(f, name, path, round);
    }
  }
  RemoveCgroupParents(cgroup_parents);
  PrintResults(f, results);
  return broken ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Result<Flags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::fprintf(stderr,
                 "pod-start: %s\nusage: pod-start [--pods N] [--concurrent M] "
                 "[--runtime berth|containerd|both] [--rounds R] [--work-dir DIR] "
                 "[--log-dir DIR] [--per-pod] [--no-interleave] [--state-on-disk]\n",
                 flags.error().str().c_str());
    return 2;
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "pod-start: needs root (namespaces, mounts, cgroups, CNI)\n");
    return 2;
  }
  for (const char* tool :
       {berth::image::registry::testing::kRegistryBinary, berth::image::registry::testing::kSkopeo,
        "/usr/bin/umoci", kContainerd, "/usr/bin/ctr", kRunc, "/usr/lib/cni/bridge"}) {
    if (::access(tool, X_OK) != 0) {
      std::fprintf(stderr,
                   "pod-start: %s is missing (apt-get install docker-registry skopeo umoci "
                   "containerd runc containernetworking-plugins)\n",
                   tool);
      return 2;
    }
  }
  // First, while the process has one thread.
  Status ns = EnterPrivateNamespaces();
  if (!ns.ok()) {
    std::fprintf(stderr, "pod-start: %s\n", ns.error().str().c_str());
    return 1;
  }
  return Run(*flags);
}

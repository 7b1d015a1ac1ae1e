#include "agent/pods/pod_worker.h"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <future>

#include "agent/container/environment.h"
#include "agent/pods/container_config.h"
#include "agent/pods/container_gc.h"
#include "agent/pods/pod_cgroups.h"
#include "agent/pods/pod_spec.h"
#include "agent/pods/sandbox_config.h"
#include "agent/pods/static_pods.h"
#include "agent/probes/lifecycle.h"
#include "agent/probes/prober_manager.h"
#include "common/file.h"
#include "common/log.h"
#include "common/time.h"
#include "controlplane/client/api_util.h"
#include "volumes/remove_tree.h"
#include "volumes/volume_manager.h"

namespace berth::agent {

using controlplane::client::StatusMessage;
using controlplane::client::StringAt;
using controlplane::client::ValueAt;
using namespace std::chrono_literals;

namespace {

// How soon a failed step (API, runtime, mount) is tried again, growing.
constexpr auto kRetryMin = 500ms;
constexpr auto kRetryMax = 10s;

int64_t NowUnixNanos() {
  timespec ts = WallClockNow();
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool Exited(const v1::ContainerStatus* c) {
  return c != nullptr && c->state() == v1::CONTAINER_EXITED;
}
bool Running(const v1::ContainerStatus* c) {
  return c != nullptr && c->state() == v1::CONTAINER_RUNNING;
}

// Whether restartPolicy lets an exited container run again.
bool PolicyRestarts(const std::string& policy, int exit_code) {
  return policy == "Always" || (policy == "OnFailure" && exit_code != 0);
}

}  // namespace

PodWorker::PodWorker(PodDeps& deps, bj::object pod)
    : deps_(deps), pod_(std::move(pod)), uid_(IdOf(pod_).uid), wake_at_(Clock::now()) {
  std::lock_guard lock(mu_);
  StartThreadLocked();
}

PodWorker::~PodWorker() {
  std::thread thread;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    thread = std::move(thread_);
  }
  pull_cancel_.Cancel();
  cv_.notify_all();
  if (thread.joinable()) thread.join();
}

void PodWorker::StartThreadLocked() {
  if (running_ || stopping_ || done_) return;
  // A parked thread has left Run (and mu_) already: this join is short.
  if (thread_.joinable()) thread_.join();
  running_ = true;
  thread_ = std::thread([this] { Run(); });
}

bool PodWorker::Busy() const {
  std::lock_guard lock(mu_);
  return running_;
}

void PodWorker::WakeIfDue() {
  std::lock_guard lock(mu_);
  // wake_at_ belongs to the worker's thread; with none running it rests.
  if (!running_ && Clock::now() >= wake_at_) StartThreadLocked();
}

void PodWorker::Update(bj::object pod) {
  bool terminating = BeingDeleted(pod);
  {
    std::lock_guard lock(mu_);
    if (ResourceVersionOlder(pod, pod_)) return;  // its newer self is here already
    bool sync = UpdateNeedsSync(pod_, pod, own_status_.empty() ? nullptr : &own_status_);
    pod_ = std::move(pod);
    if (sync) {
      pending_ = true;
      StartThreadLocked();
    }
  }
  // Upstream cancels the running sync when the pod becomes terminating.
  if (terminating) pull_cancel_.Cancel();
  cv_.notify_all();
}

void PodWorker::Removed() {
  {
    std::lock_guard lock(mu_);
    removed_ = true;
    pending_ = true;
    StartThreadLocked();
  }
  pull_cancel_.Cancel();
  cv_.notify_all();
}

void PodWorker::Poke() {
  {
    std::lock_guard lock(mu_);
    pending_ = true;
    StartThreadLocked();
  }
  cv_.notify_all();
}

void PodWorker::KillForProbe(const std::string& container, const std::string& message) {
  {
    std::lock_guard lock(mu_);
    probe_kills_[container] = message;
    pending_ = true;
    StartThreadLocked();
  }
  cv_.notify_all();
}

bool PodWorker::Done() const {
  std::lock_guard lock(mu_);
  return done_;
}

bj::object PodWorker::Pod() const {
  std::lock_guard lock(mu_);
  return pod_;
}

void PodWorker::WakeIn(Clock::duration d) {
  wake_at_ = std::min(wake_at_, Clock::now() + d);
}

void PodWorker::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_ && !done_) {
    Clock::time_point idle_until = Clock::now() + deps_.options->worker_idle;
    bool woken =
        cv_.wait_until(lock, std::min(wake_at_, idle_until), [&] { return stopping_ || pending_; });
    if (stopping_) break;
    if (!woken && wake_at_ > Clock::now()) {
      // Idle, and the next timer is a while off: the thread goes; a Poke,
      // an update or the manager's WakeIfDue starts another.
      break;
    }
    pending_ = false;
    wake_at_ = Clock::now() + deps_.options->sync_frequency;
    lock.unlock();
    Sync();
    lock.lock();
  }
  running_ = false;
}

void PodWorker::Event(const bj::object& pod, const std::string& container, const std::string& type,
                      const std::string& reason, const std::string& message) {
  if (deps_.events == nullptr) return;
  deps_.events->Record(container.empty() ? PodRef(pod) : ContainerRef(pod, container), type, reason,
                       message);
}

void PodWorker::Sync() {
  bj::object pod;
  bool removed = false;
  {
    std::lock_guard lock(mu_);
    pod = pod_;
    removed = removed_;
  }
  Result<RuntimePod> rt = InspectPod(*deps_.cri, uid_);
  bool terminating = removed || BeingDeleted(pod);
  Status s = !rt.ok()      ? Status(rt.error())
             : terminating ? Terminate(pod, *rt, removed)
                           : SyncRunning(pod, *rt);
  if (s.ok()) {
    retry_ = {};
    return;
  }
  if (!terminating && s.error().code() == Errc::kCancelled && pull_cancel_.cancelled()) {
    // The pod started terminating mid-sync; the next sync terminates it.
    BLOG(kInfo) << "pod " << IdOf(pod).namespace_ << "/" << IdOf(pod).name << ": "
                << s.error().str();
    return;
  }
  retry_ = retry_ == Clock::duration{} ? Clock::duration(kRetryMin)
                                       : std::min<Clock::duration>(retry_ * 2, kRetryMax);
  WakeIn(retry_);
  PodId id = IdOf(pod);
  BLOG(kWarn) << "pod " << id.namespace_ << "/" << id.name << ": " << s.error().str();
}

Status PodWorker::SyncRunning(const bj::object& pod, RuntimePod& rt) {
  PodId id = IdOf(pod);
  std::string phase = Phase(pod);
  // A pod that finished stays finished: nothing is started again.
  bool terminal = IsTerminalPhase(phase);
  if (!admitted_ && !terminal) {
    if (rt.sandboxes.empty() && deps_.admit) {
      auto [reason, message] = deps_.admit(pod);
      if (!reason.empty()) {
        rejected_reason_ = reason;
        rejected_message_ = message;
        Event(pod, "", "Warning", reason, message);
        return WriteStatus(pod, rt, true);
      }
    }
    admitted_ = true;
  }
  if (!rejected_reason_.empty()) return WriteStatus(pod, rt, true);

  // activeDeadlineSeconds, counted from the pod's startTime.
  if (const bj::value* ads = ValueAt(pod, {"spec", "activeDeadlineSeconds"});
      ads != nullptr && ads->is_int64() && !terminal) {
    std::string start = StringAt(pod, {"status", "startTime"});
    std::tm tm{};
    if (!start.empty() && ::strptime(start.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) != nullptr) {
      int64_t elapsed = std::time(nullptr) - ::timegm(&tm);
      if (elapsed >= ads->get_int64()) {
        rejected_reason_ = "DeadlineExceeded";
        rejected_message_ = "Pod was active on the node longer than the specified deadline";
        Event(pod, "", "Normal", rejected_reason_, rejected_message_);
        for (const v1::ContainerStatus& c : rt.containers) {
          if (Running(&c)) BERTH_TRY(StopContainer(pod, c, GracePeriodSeconds(pod), ""));
        }
        BERTH_TRY(StopSandbox(rt));
        rt = BERTH_TRY(InspectPod(*deps_.cri, uid_));
        return WriteStatus(pod, rt, true);
      }
      WakeIn(std::chrono::seconds(ads->get_int64() - elapsed));
    }
  }

  if (terminal) {
    // Finished: make sure nothing of it runs, keep the rest for logs.
    for (const v1::ContainerStatus& c : rt.containers) {
      if (Running(&c)) BERTH_TRY(StopContainer(pod, c, GracePeriodSeconds(pod), ""));
    }
    return StopSandbox(rt);
  }

  // Volumes first: containers mount them.
  Result<std::map<std::string, volumes::MountedVolume>> mounted = deps_.volumes->SetUp(pod);
  if (!mounted.ok()) {
    std::string message = mounted.error().message();
    if (message != last_mount_error_) Event(pod, "", "Warning", "FailedMount", message);
    last_mount_error_ = message;
    for (const bj::value& c : Containers(pod))
      if (c.is_object()) waiting_[StringAt(c.get_object(), {"name"})] = {"ContainerCreating", ""};
    BERTH_TRY(WriteStatus(pod, rt, false));
    return mounted.error();
  }
  last_mount_error_.clear();
  volumes_.clear();
  volume_read_only_.clear();
  for (const auto& [name, v] : *mounted) {
    volumes_[name] = v.host_path;
    volume_read_only_[name] = v.read_only;
  }

  BERTH_TRY(EnsureSandbox(pod, rt));
  std::string policy = RestartPolicy(pod);

  // Containers a probe condemned are stopped before anything else.
  std::map<std::string, std::string> kills;
  {
    std::lock_guard lock(mu_);
    kills.swap(probe_kills_);
  }
  for (const auto& [name, message] : kills) {
    const v1::ContainerStatus* c = rt.Current(name);
    if (!Running(c)) continue;
    Event(pod, name, "Normal", "Killing", message);
    BERTH_TRY(StopContainer(pod, *c, GracePeriodSeconds(pod), message));
  }
  if (!kills.empty()) rt = BERTH_TRY(InspectPod(*deps_.cri, uid_));

  // Init containers, in order; sidecars keep running beside the rest.
  bool initialized = true;
  for (const bj::value& v : InitContainers(pod)) {
    if (!v.is_object()) continue;
    const bj::object& spec = v.get_object();
    std::string name = StringAt(spec, {"name"});
    const v1::ContainerStatus* c = rt.Current(name);
    if (IsSidecar(spec)) {
      if (Running(c)) {
        waiting_.erase(name);
        TrackProbes(pod, rt, *c);
        std::optional<ProbeResult> started =
            deps_.probers != nullptr ? deps_.probers->Result(uid_, name, ProbeKind::kStartup)
                                     : std::nullopt;
        if (started && *started != ProbeResult::kSuccess) {
          initialized = false;
          break;
        }
        continue;
      }
      if (c == nullptr) {
        BERTH_TRY(StartContainer(
            pod, rt, spec,
            rt.Instances(name).empty() ? 0 : Attempt(*rt.Instances(name).front()) + 1));
      } else if (Exited(c) && RestartAllowed(pod, *c)) {
        BERTH_TRY(StartContainer(pod, rt, spec, Attempt(*rt.Instances(name).front()) + 1));
      }
      initialized = false;
      break;
    }
    if (Exited(c) && c->exit_code() == 0) continue;
    initialized = false;
    if (Running(c) || (c != nullptr && c->state() == v1::CONTAINER_CREATED)) break;
    if (c == nullptr) {
      std::vector<const v1::ContainerStatus*> all = rt.Instances(name);
      BERTH_TRY(StartContainer(pod, rt, spec, all.empty() ? 0 : Attempt(*all.front()) + 1));
      break;
    }
    // Failed: Never fails the pod; otherwise retried with backoff.
    if (policy == "Never") break;
    if (RestartAllowed(pod, *c)) BERTH_TRY(StartContainer(pod, rt, spec, Attempt(*c) + 1));
    break;
  }

  if (initialized) {
    for (const bj::value& v : Containers(pod)) {
      if (!v.is_object()) continue;
      const bj::object& spec = v.get_object();
      std::string name = StringAt(spec, {"name"});
      const v1::ContainerStatus* c = rt.Current(name);
      if (Running(c) || (c != nullptr && c->state() == v1::CONTAINER_CREATED)) {
        waiting_.erase(name);
        if (Running(c)) TrackProbes(pod, rt, *c);
        continue;
      }
      if (c == nullptr) {
        std::vector<const v1::ContainerStatus*> all = rt.Instances(name);
        Status started = StartContainer(pod, rt, spec, all.empty() ? 0 : Attempt(*all.front()) + 1);
        if (!started.ok()) WakeIn(retry_ == Clock::duration{} ? kRetryMin : retry_);
        continue;
      }
      if (!PolicyRestarts(policy, c->exit_code())) {
        waiting_.erase(name);
        continue;
      }
      if (RestartAllowed(pod, *c)) {
        Status started = StartContainer(pod, rt, spec, Attempt(*c) + 1);
        if (!started.ok()) WakeIn(kRetryMin);
      }
    }
  }
  rt = BERTH_TRY(InspectPod(*deps_.cri, uid_));
  BERTH_TRY(WriteStatus(pod, rt, false));
  // Done here rather than on a timer, so a removal never races a start.
  // A failure leaves the pod as it is; the next sync tries again.
  if (deps_.options != nullptr) {
    Status collected = CollectContainerGarbage(
        *deps_.cri, rt, deps_.options->root_dir + "/pods/" + uid_ + "/containers");
    if (!collected.ok()) {
      BLOG(kWarn) << "pod " << IdOf(pod).namespace_ << "/" << IdOf(pod).name
                  << ": container garbage collection: " << collected.error().str();
    }
  }
  return Ok();
}

Status PodWorker::EnsureSandbox(const bj::object& pod, RuntimePod& rt) {
  // Upstream SyncPod: the QoS and pod cgroups before the sandbox.
  if (Status made = deps_.cgroups ? deps_.cgroups->EnsurePod(pod) : Ok(); !made.ok()) {
    Event(pod, "", "Warning", "FailedCreatePodContainer",
          "unable to ensure pod container exists: " + made.error().str());
    return made;
  }
  if (rt.SandboxReady()) return Ok();
  uint32_t attempt = 0;
  if (const v1::PodSandboxStatus* old = rt.Sandbox()) {
    attempt = old->metadata().attempt() + 1;
    Event(pod, "", "Normal", "SandboxChanged",
          "Pod sandbox changed, it will be killed and re-created.");
    for (const v1::ContainerStatus& c : rt.containers) {
      if (Running(&c)) BERTH_TRY(StopContainer(pod, c, GracePeriodSeconds(pod), ""));
    }
  }
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = BERTH_TRY(BuildSandboxConfig(pod, *deps_.options, attempt));
  BERTH_TRY(MkdirAll(req.config().log_directory(), 0755));
  v1::RunPodSandboxResponse resp;
  Status ran = deps_.cri->Call(&v1::RuntimeService::Stub::RunPodSandbox, req, &resp,
                               "RunPodSandbox for pod " + IdOf(pod).FullName());
  if (!ran.ok()) {
    Event(pod, "", "Warning", "FailedCreatePodSandBox",
          "Failed to create pod sandbox: " + ran.error().str());
    return ran;
  }
  rt = BERTH_TRY(InspectPod(*deps_.cri, uid_));
  return Ok();
}

// Upstream's doBackOff: the first restart is immediate; each later one
// waits, counted from the exit, 10 s doubling to 5 min; the delay starts
// over once exits are more than twice the maximum apart.
bool PodWorker::RestartAllowed(const bj::object& pod, const v1::ContainerStatus& last) {
  std::string name = last.metadata().name();
  Backoff& b = backoff_[name];
  int64_t finished = last.finished_at();
  auto since_exit = std::chrono::nanoseconds(NowUnixNanos() - finished);
  if (b.delay != Clock::duration{} && since_exit < b.delay) {
    PodId id = IdOf(pod);
    std::string who = id.name + "_" + id.namespace_ + "(" + uid_ + ")";
    std::string message =
        "back-off " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(b.delay).count()) +
        "s restarting failed container=" + name + " pod=" + who;
    if (waiting_[name].reason != "CrashLoopBackOff" || b.reported_at != finished) {
      Event(pod, name, "Warning", "BackOff",
            "Back-off restarting failed container " + name + " in pod " + who);
      b.reported_at = finished;
    }
    waiting_[name] = {"CrashLoopBackOff", message};
    WakeIn(std::chrono::duration_cast<Clock::duration>(b.delay - since_exit));
    return false;
  }
  auto since_last = std::chrono::nanoseconds(finished - b.last_finished_at);
  if (b.delay == Clock::duration{} || since_last > 2 * deps_.options->backoff_max) {
    b.delay = deps_.options->backoff_initial;
  } else {
    b.delay = std::min<Clock::duration>(b.delay * 2, deps_.options->backoff_max);
  }
  b.last_finished_at = finished;
  return true;
}

Status PodWorker::StartContainer(const bj::object& pod, const RuntimePod& rt,
                                 const bj::object& spec, uint32_t attempt) {
  std::string name = StringAt(spec, {"name"});
  std::string image = StringAt(spec, {"image"});
  // A terminating pod starts nothing more.
  if (pull_cancel_.cancelled()) {
    return Error(Errc::kCancelled, "container " + name + ": not started, the pod is terminating");
  }
  // Image pull, with its own backoff (ImagePullBackOff).
  Backoff& pb = pull_backoff_[name];
  if (pb.delay != Clock::duration{} &&
      std::chrono::nanoseconds(NowUnixNanos() - pb.last_finished_at) < pb.delay) {
    if (waiting_[name].reason != "ImagePullBackOff") {
      Event(pod, name, "Normal", "BackOff", "Back-off pulling image \"" + image + "\"");
    }
    waiting_[name] = {"ImagePullBackOff", "Back-off pulling image \"" + image + "\""};
    WakeIn(pb.delay - std::chrono::nanoseconds(NowUnixNanos() - pb.last_finished_at));
    return Ok();
  }
  Result<std::string> image_ref = deps_.images->EnsureImage(pod, spec, &pull_cancel_);
  if (!image_ref.ok() && image_ref.error().code() == Errc::kCancelled && pull_cancel_.cancelled()) {
    return image_ref.error();  // no ErrImagePull, no backoff: the pod is going
  }
  if (!image_ref.ok()) {
    bool never = image_ref.error().code() == Errc::kFailedPrecondition;
    waiting_[name] = {never ? "ErrImageNeverPull" : "ErrImagePull", image_ref.error().message()};
    pb.delay = pb.delay == Clock::duration{}
                   ? Clock::duration(deps_.options->backoff_initial)
                   : std::min<Clock::duration>(pb.delay * 2, deps_.options->backoff_max);
    pb.last_finished_at = NowUnixNanos();
    WakeIn(pb.delay);
    return Ok();
  }
  pb = {};

  EnvContext env_ctx;
  env_ctx.pod = &pod;
  env_ctx.node_name = deps_.options->node_name;
  env_ctx.host_ips = deps_.host_ips ? deps_.host_ips() : std::vector<std::string>{};
  env_ctx.pod_ips = HostNetwork(pod) ? env_ctx.host_ips : rt.PodIps();
  if (deps_.allocatable) env_ctx.node = deps_.allocatable();
  env_ctx.config_map = deps_.config_map;
  env_ctx.secret = deps_.secret;
  // Upstream makeEnvironmentVariables: an API pod waits for the Service
  // informer's first list, or it would miss KUBERNETES_SERVICE_HOST.
  if (deps_.services_synced && !IsStaticPod(pod) && !deps_.services_synced()) {
    std::string message = "services have not yet been read at least once, cannot construct envvars";
    if (waiting_[name].message != message)
      Event(pod, name, "Warning", "Failed", "Error: " + message);
    waiting_[name] = {"CreateContainerConfigError", message};
    WakeIn(1s);
    return Ok();
  }
  if (deps_.services) env_ctx.services = deps_.services(IdOf(pod).namespace_);
  // The downward API reads status.podIP(s) and hostIP(s) from the object.
  bj::object pod_with_ips = pod;
  bj::object& status = pod_with_ips["status"].is_object() ? pod_with_ips["status"].get_object()
                                                          : pod_with_ips["status"].emplace_object();
  if (!env_ctx.pod_ips.empty()) {
    status["podIP"] = env_ctx.pod_ips.front();
    bj::array ips;
    for (const std::string& ip : env_ctx.pod_ips)
      ips.push_back(bj::object{{"ip", ip}});
    status["podIPs"] = std::move(ips);
  }
  if (!env_ctx.host_ips.empty()) {
    status["hostIP"] = env_ctx.host_ips.front();
    bj::array ips;
    for (const std::string& ip : env_ctx.host_ips)
      ips.push_back(bj::object{{"ip", ip}});
    status["hostIPs"] = std::move(ips);
  }
  env_ctx.pod = &pod_with_ips;
  Result<std::vector<EnvVar>> env = MakeEnvironment(spec, env_ctx);
  if (!env.ok()) {
    if (waiting_[name].message != env.error().message())
      Event(pod, name, "Warning", "Failed", "Error: " + env.error().message());
    waiting_[name] = {"CreateContainerConfigError", env.error().message()};
    WakeIn(2s);
    return Ok();
  }

  ContainerInputs in;
  in.pod = &pod;
  in.container = &spec;
  in.attempt = attempt;
  in.image_ref = *image_ref;
  in.env = std::move(*env);
  for (const auto& [volume, path] : volumes_)
    in.volumes[volume] = {path, volume_read_only_[volume]};
  std::string messages_dir = deps_.options->root_dir + "/pods/" + uid_ + "/containers/" + name;
  BERTH_TRY(MkdirAll(messages_dir, 0750));
  in.termination_message_host_path = messages_dir + "/" + std::to_string(attempt);
  BERTH_TRY(WriteFileAtomic(in.termination_message_host_path, "", 0666));
  if (deps_.allocatable) in.memory_capacity = deps_.allocatable().memory;
  in.seccomp_root = deps_.options->root_dir + "/seccomp";
  Result<v1::ContainerConfig> config = BuildContainerConfig(in);
  if (!config.ok()) {
    if (waiting_[name].message != config.error().message())
      Event(pod, name, "Warning", "Failed", "Error: " + config.error().message());
    waiting_[name] = {"CreateContainerConfigError", config.error().message()};
    WakeIn(2s);
    return Ok();
  }
  v1::CreateContainerRequest create;
  create.set_pod_sandbox_id(rt.Sandbox()->id());
  *create.mutable_config() = std::move(*config);
  *create.mutable_sandbox_config() =
      BERTH_TRY(BuildSandboxConfig(pod, *deps_.options, rt.Sandbox()->metadata().attempt()));
  v1::CreateContainerResponse created;
  Status made = deps_.cri->Call(&v1::RuntimeService::Stub::CreateContainer, create, &created,
                                "CreateContainer " + name);
  if (!made.ok()) {
    Event(pod, name, "Warning", "Failed", "Error: " + made.error().message());
    waiting_[name] = {"CreateContainerError", made.error().message()};
    return made;
  }
  Event(pod, name, "Normal", "Created", "Created container: " + name);
  v1::StartContainerRequest start;
  start.set_container_id(created.container_id());
  v1::StartContainerResponse started;
  Status ran = deps_.cri->Call(&v1::RuntimeService::Stub::StartContainer, start, &started,
                               "StartContainer " + name);
  if (!ran.ok()) {
    Event(pod, name, "Warning", "Failed", "Error: " + ran.error().message());
    waiting_[name] = {"RunContainerError", ran.error().message()};
    return ran;
  }
  Event(pod, name, "Normal", "Started", "Started container " + name);
  waiting_.erase(name);

  ProbeTarget target;
  std::vector<std::string> ips = HostNetwork(pod) ? env_ctx.host_ips : rt.PodIps();
  target.pod_ip = ips.empty() ? "" : ips.front();
  target.container_id = created.container_id();
  target.container = &spec;
  target.cri = deps_.cri;
  target.pod = &pod;
  target.events = deps_.events;
  if (const bj::value* hook = ValueAt(spec, {"lifecycle", "postStart"});
      hook != nullptr && hook->is_object()) {
    Status hooked = RunLifecycleHandler(hook->get_object(), target, Clock::time_point::max());
    if (!hooked.ok()) {
      Event(pod, name, "Warning", "FailedPostStartHook", hooked.error().message());
      v1::ContainerStatus c;
      c.set_id(created.container_id());
      c.mutable_metadata()->set_name(name);
      Event(pod, name, "Normal", "Killing", "FailedPostStartHook");
      return StopContainer(pod, c, GracePeriodSeconds(pod), "");
    }
  }
  if (deps_.probers != nullptr) {
    deps_.probers->AddContainer(pod, name, created.container_id(), target.pod_ip);
  }
  return Ok();
}

Status PodWorker::StopContainer(const bj::object& pod, const v1::ContainerStatus& c,
                                int64_t grace_seconds, const std::string& reason_message) {
  std::string name = c.metadata().name();
  auto deadline = Clock::now() + std::chrono::seconds(grace_seconds);
  const bj::object* spec = FindContainer(pod, name);
  if (spec != nullptr && grace_seconds > 0) {
    if (const bj::value* hook = ValueAt(*spec, {"lifecycle", "preStop"});
        hook != nullptr && hook->is_object()) {
      ProbeTarget target;
      target.container_id = c.id();
      target.container = spec;
      target.cri = deps_.cri;
      target.pod = &pod;
      target.events = deps_.events;
      target.pod_ip = StringAt(pod, {"status", "podIP"});
      Status hooked = RunLifecycleHandler(hook->get_object(), target, deadline);
      if (!hooked.ok() && hooked.error().code() != Errc::kDeadlineExceeded) {
        Event(pod, name, "Warning", "FailedPreStopHook", "PreStopHook failed");
      }
    }
  }
  // What is left of the grace period, at least 2 s as upstream
  // (minimumGracePeriodInSeconds) unless the caller asked for none.
  int64_t left = std::chrono::duration_cast<std::chrono::seconds>(deadline - Clock::now()).count();
  if (grace_seconds > 0) left = std::max<int64_t>(left, 2);
  v1::StopContainerRequest req;
  req.set_container_id(c.id());
  req.set_timeout(std::max<int64_t>(left, 0));
  v1::StopContainerResponse resp;
  Status stopped =
      deps_.cri->Call(&v1::RuntimeService::Stub::StopContainer, req, &resp, "StopContainer " + name,
                      std::chrono::seconds(std::max<int64_t>(left, 0) + 30));
  if (deps_.probers != nullptr) deps_.probers->RemoveContainer(uid_, name);
  return stopped;
}

void PodWorker::TrackProbes(const bj::object& pod, const RuntimePod& rt,
                            const v1::ContainerStatus& c) {
  if (deps_.probers == nullptr) return;
  std::vector<std::string> ips =
      HostNetwork(pod) && deps_.host_ips ? deps_.host_ips() : rt.PodIps();
  auto started = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(c.started_at())));
  deps_.probers->AddContainer(pod, c.metadata().name(), c.id(), ips.empty() ? "" : ips.front(),
                              started);
}

Status PodWorker::StopSandbox(const RuntimePod& rt) {
  for (const v1::PodSandboxStatus& sandbox : rt.sandboxes) {
    if (sandbox.state() != v1::SANDBOX_READY) continue;
    v1::StopPodSandboxRequest req;
    req.set_pod_sandbox_id(sandbox.id());
    v1::StopPodSandboxResponse resp;
    BERTH_TRY(deps_.cri->Call(&v1::RuntimeService::Stub::StopPodSandbox, req, &resp,
                              "StopPodSandbox " + sandbox.id()));
  }
  return Ok();
}

Status PodWorker::Terminate(const bj::object& pod, RuntimePod& rt, bool removed) {
  // Force deletion (the object is gone) kills at once; otherwise the
  // pod's grace period applies, preStop hooks included.
  // A static pod whose manifest went keeps its grace period.
  int64_t grace = removed && !IsStaticPod(pod) ? 0 : GracePeriodSeconds(pod);
  if (deps_.probers != nullptr) deps_.probers->PodTerminating(uid_);
  std::vector<std::future<Status>> stops;
  for (const v1::ContainerStatus& c : rt.containers) {
    if (!Running(&c)) continue;
    Event(pod, c.metadata().name(), "Normal", "Killing",
          "Stopping container " + c.metadata().name());
    stops.push_back(std::async(
        std::launch::async, [this, &pod, c, grace] { return StopContainer(pod, c, grace, ""); }));
  }
  Status first;
  for (std::future<Status>& f : stops) {
    Status s = f.get();
    if (!s.ok() && first.ok()) first = s;
  }
  BERTH_TRY(first);
  BERTH_TRY(StopSandbox(rt));
  if (deps_.probers != nullptr) deps_.probers->RemovePod(uid_);
  rt = BERTH_TRY(InspectPod(*deps_.cri, uid_));
  if (!removed) {
    BERTH_TRY(WriteStatus(pod, rt, true));
    BERTH_TRY(DeleteObject(pod));
  }
  BERTH_TRY(Cleanup(rt));
  // Nothing can read the logs of a pod that is gone (upstream's container
  // GC evicts such log directories too).
  if (deps_.options != nullptr) {
    std::string dir = PodLogDirectory(pod, *deps_.options);
    BERTH_TRY(volumes::RemoveTreeOnOneFilesystem(deps_.options->pod_logs_dir,
                                                 dir.substr(dir.rfind('/') + 1)));
  }
  std::lock_guard lock(mu_);
  done_ = true;
  return Ok();
}

Status PodWorker::Cleanup(const RuntimePod& rt) {
  for (const v1::ContainerStatus& c : rt.containers) {
    v1::RemoveContainerRequest req;
    req.set_container_id(c.id());
    v1::RemoveContainerResponse resp;
    BERTH_TRY(deps_.cri->Call(&v1::RuntimeService::Stub::RemoveContainer, req, &resp,
                              "RemoveContainer " + c.id()));
  }
  for (const v1::PodSandboxStatus& sandbox : rt.sandboxes) {
    v1::RemovePodSandboxRequest req;
    req.set_pod_sandbox_id(sandbox.id());
    v1::RemovePodSandboxResponse resp;
    BERTH_TRY(deps_.cri->Call(&v1::RuntimeService::Stub::RemovePodSandbox, req, &resp,
                              "RemovePodSandbox " + sandbox.id()));
  }
  if (deps_.cgroups != nullptr) BERTH_TRY(deps_.cgroups->RemovePod(uid_));
  return deps_.volumes->TearDown(uid_);
}

Status PodWorker::DeleteObject(const bj::object& pod) {
  PodId id = IdOf(pod);
  std::string target = "/api/v1/namespaces/" + id.namespace_ + "/pods/" + id.name;
  bj::object options{{"kind", "DeleteOptions"},
                     {"apiVersion", "v1"},
                     {"gracePeriodSeconds", 0},
                     {"preconditions", bj::object{{"uid", id.uid}}}};
  Result<controlplane::client::ApiResponse> r =
      deps_.api->Do("DELETE", target, bj::serialize(options));
  if (!r.ok()) return r.error();
  // Gone already, or a new pod of the same name (uid precondition): fine.
  if (r->status == 200 || r->status == 202 || r->status == 404 || r->status == 409) return Ok();
  return Error(Errc::kUnavailable, StatusMessage(*r, "DELETE", target));
}

Status PodWorker::WriteStatus(const bj::object& pod, const RuntimePod& rt, bool terminated) {
  StatusInputs in;
  in.pod = &pod;
  in.runtime = &rt;
  in.waiting = waiting_;
  ProberManager* probers = deps_.probers;
  std::string uid = uid_;
  in.ready = [probers, uid](const std::string& name) -> std::optional<bool> {
    if (probers == nullptr) return std::nullopt;
    std::optional<ProbeResult> r = probers->Result(uid, name, ProbeKind::kReadiness);
    if (!r) return std::nullopt;
    return *r == ProbeResult::kSuccess;
  };
  in.started = [probers, uid](const std::string& name) -> std::optional<bool> {
    if (probers == nullptr) return std::nullopt;
    std::optional<ProbeResult> r = probers->Result(uid, name, ProbeKind::kStartup);
    if (!r) return std::nullopt;
    return *r == ProbeResult::kSuccess;
  };
  if (deps_.host_ips) in.host_ips = deps_.host_ips();
  in.runtime_name = deps_.runtime_name;
  in.termination_messages_dir = deps_.options->root_dir + "/pods/" + uid_ + "/containers";
  in.terminated = terminated;
  in.reason = rejected_reason_;
  in.message = rejected_message_;
  bj::object status = ComputePodStatus(in);
  // Unchanged apart from the times it carries: nothing to write.
  if (status == last_status_) return Ok();
  PodId id = IdOf(pod);
  std::string target = "/api/v1/namespaces/" + id.namespace_ + "/pods/" + id.name + "/status";
  // The uid guards against writing to a newer pod of the same name; a
  // static pod's status goes to its mirror, which has a uid of its own.
  bj::object patch{{"status", status}};
  if (!IsStaticPod(pod)) patch["metadata"] = bj::object{{"uid", id.uid}};
  Result<controlplane::client::ApiResponse> r =
      deps_.api->Do("PATCH", target, bj::serialize(patch), "application/merge-patch+json");
  if (!r.ok()) return r.error();
  if (r->status == 404) return Ok();  // deleted meanwhile; the watch will say
  if (r->status != 200) return Error(Errc::kUnavailable, StatusMessage(*r, "PATCH", target));
  last_status_ = std::move(status);
  // Later syncs compare against what the server now has.
  bj::value now = r->Json();
  if (now.is_object()) {
    std::lock_guard lock(mu_);
    // The watch brings this status back (for a static pod, on its mirror):
    // that echo needs no sync.
    if (const bj::value* written = now.get_object().if_contains("status");
        written != nullptr && written->is_object()) {
      own_status_ = written->get_object();
    }
    if (StringAt(now.get_object(), {"metadata", "uid"}) == uid_ &&
        (StringAt(pod_, {"metadata", "resourceVersion"}).empty() ||
         ResourceVersionOlder(pod_, now.get_object()))) {
      pod_ = now.get_object();
    }
  }
  return Ok();
}

namespace {

// The object without what changes on every write of it.
bj::object WithoutStatusAndVersion(bj::object pod) {
  pod.erase("status");
  if (bj::value* meta = pod.if_contains("metadata"); meta != nullptr && meta->is_object()) {
    meta->get_object().erase("resourceVersion");
    meta->get_object().erase("managedFields");
  }
  return pod;
}

}  // namespace

bool ResourceVersionOlder(const bj::object& a, const bj::object& b) {
  // Decimal revisions (etcd's, berth's): shorter is older.
  std::string rv_a = StringAt(a, {"metadata", "resourceVersion"});
  std::string rv_b = StringAt(b, {"metadata", "resourceVersion"});
  if (rv_a.empty() || rv_b.empty()) return false;
  return rv_a.size() < rv_b.size() || (rv_a.size() == rv_b.size() && rv_a < rv_b);
}

bool UpdateNeedsSync(const bj::object& have, const bj::object& now, const bj::object* own_status) {
  if (WithoutStatusAndVersion(have) != WithoutStatusAndVersion(now)) return true;
  const bj::value* status = now.if_contains("status");
  const bj::value* had = have.if_contains("status");
  if (status == nullptr || had == nullptr) return status != had;
  if (*status == *had) return false;
  if (own_status != nullptr && status->is_object() && status->get_object() == *own_status)
    return false;
  // Someone else changed the status (a readiness gate's condition, say):
  // the agent, its source of truth, looks again.
  return true;
}

}  // namespace berth::agent

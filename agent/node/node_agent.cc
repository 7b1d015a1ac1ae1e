#include "agent/node/node_agent.h"

#include <random>

#include "agent/node/node_addresses.h"
#include "agent/node/node_registration.h"
#include "agent/node/node_status.h"
#include "agent/node/pressure.h"
#include "common/log.h"
#include "common/time.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using Clock = std::chrono::steady_clock;
using controlplane::client::ApiResponse;

constexpr int kStatusUpdateRetries = 5;  // upstream nodeStatusUpdateRetry
// Without a successful runtime status check for this long the runtime is
// "down" (upstream maxWaitForContainerRuntime).
constexpr auto kRuntimeSyncThreshold = std::chrono::seconds(30);
// How long after Start the runtime is watched closely until Ready.
constexpr auto kFastStatusWindow = std::chrono::minutes(2);
constexpr auto kFastStatusInterval = std::chrono::milliseconds(100);
constexpr auto kCriTimeout = std::chrono::seconds(5);

std::string Why(const ApiResponse& r) {
  bj::value v = r.Json();
  const bj::value* m = v.is_object() ? v.as_object().if_contains("message") : nullptr;
  return "HTTP " + std::to_string(r.status) + ": " +
         (m != nullptr && m->is_string() ? std::string(m->as_string()) : r.body);
}

std::string Str(const bj::value& v, std::initializer_list<std::string_view> path) {
  const bj::value* cur = &v;
  for (std::string_view key : path) {
    if (!cur->is_object()) return "";
    cur = cur->as_object().if_contains(key);
    if (cur == nullptr) return "";
  }
  return cur->is_string() ? std::string(cur->as_string()) : "";
}

// A CRI RuntimeCondition as upstream prints one (RuntimeCondition.String).
std::string ConditionText(const ::runtime::v1::RuntimeCondition* c) {
  if (c == nullptr) return "<nil>";
  return c->type() + "=" + (c->status() ? "true" : "false") + " reason:" + c->reason() +
         " message:" + c->message();
}

const ::runtime::v1::RuntimeCondition* FindCondition(const ::runtime::v1::StatusResponse& s,
                                                     const std::string& type) {
  for (const auto& c : s.status().conditions())
    if (c.type() == type) return &c;
  return nullptr;
}

// Keys of `before` that are not kubelet's (extended resources) survive;
// kubelet's own are replaced by `ours`, stale huge page sizes dropped.
bj::object MergeResources(const bj::value* before, const bj::object& ours) {
  bj::object out;
  if (before != nullptr && before->is_object()) {
    for (const auto& kv : before->as_object()) {
      std::string_view k = kv.key();
      bool kubelets = k == "cpu" || k == "memory" || k == "pods" || k == "ephemeral-storage" ||
                      k.starts_with("hugepages-");
      if (!kubelets) out[k] = kv.value();
    }
  }
  for (const auto& kv : ours)
    out[kv.key()] = kv.value();
  return out;
}

}  // namespace

void ApplyKubeletConfig(const KubeletConfig& c, NodeOptions& o) {
  o.kubelet_port = c.port;
  o.max_pods = c.max_pods;
  o.pod_cidr = c.pod_cidr;
  o.system_reserved = c.system_reserved;
  o.kube_reserved = c.kube_reserved;
  o.eviction_hard = c.eviction_hard;
  o.pressure_transition_period = c.eviction_pressure_transition_period;
  o.status_update_frequency = c.node_status_update_frequency;
  o.status_report_frequency = c.node_status_report_frequency;
  o.lease_duration = std::chrono::seconds(c.node_lease_duration_seconds);
  o.max_images = c.node_status_max_images;
  o.register_node = c.register_node;
  if (!c.register_with_taints.empty()) o.taints = c.register_with_taints;
}

NodeAgent::NodeAgent(controlplane::client::ApiClient& api, CriClient& cri, NodeOptions options)
    : api_(api),
      cri_(cri),
      options_(std::move(options)),
      lease_(api, options_.node_name, static_cast<int>(options_.lease_duration.count())) {
  if (!options_.node_ips.empty()) {
    Result<std::vector<std::string>> ips = ParseNodeIps(options_.node_ips);
    if (ips.ok()) {
      node_ips_ = *ips;
    } else {
      options_error_ = ips.error();
    }
  } else if (Result<std::string> ip = DefaultNodeIp(options_.node_name, options_.machine.proc);
             ip.ok()) {
    node_ips_ = {*ip};
  }
  if (Result<Reservation> r = SumReserved(options_.system_reserved, options_.kube_reserved);
      !r.ok() && !options_error_) {
    options_error_ = r.error();
  }
  // The resource view is there before the first status is posted.
  ComputeStatus({});
}

NodeAgent::~NodeAgent() {
  Stop();
}

timespec NodeAgent::Now() const {
  return options_.wall_clock ? options_.wall_clock() : WallClockNow();
}

void NodeAgent::AddHealthCheck(std::string name,
                               std::function<std::optional<std::string>()> check) {
  std::lock_guard lock(mu_);
  health_checks_.emplace_back(std::move(name), std::move(check));
}

bj::object NodeAgent::Capacity() const {
  std::lock_guard lock(mu_);
  return capacity_;
}

bj::object NodeAgent::Allocatable() const {
  std::lock_guard lock(mu_);
  return allocatable_;
}

std::vector<std::string> NodeAgent::NodeIPs() const {
  std::lock_guard lock(mu_);
  return node_ips_;
}

bool NodeAgent::Registered() const {
  std::lock_guard lock(mu_);
  return registered_;
}

void NodeAgent::Poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

Status NodeAgent::CheckOptions() {
  std::lock_guard lock(mu_);
  if (options_error_) return *options_error_;
  if (options_.node_name.empty()) return Error(Errc::kInvalidArgument, "node: no node name");
  return Ok();
}

void NodeAgent::UpdateRuntimeState() {
  ::runtime::v1::StatusRequest req;
  ::runtime::v1::StatusResponse status;
  Status s = cri_.Call(&::runtime::v1::RuntimeService::Stub::Status, req, &status, "CRI Status",
                       kCriTimeout);
  ::runtime::v1::VersionRequest vreq;
  ::runtime::v1::VersionResponse version;
  Status v = cri_.Call(&::runtime::v1::RuntimeService::Stub::Version, vreq, &version, "CRI Version",
                       kCriTimeout);
  std::lock_guard lock(mu_);
  if (v.ok()) runtime_version_ = version.runtime_name() + "://" + version.runtime_version();
  if (!s.ok()) {
    // As upstream: nothing learnt; after a while the runtime counts as down.
    BLOG(kWarn) << "node " << options_.node_name << ": " << s.error().str();
    return;
  }
  const auto* network = FindCondition(status, "NetworkReady");
  network_error_ = network != nullptr && network->status()
                       ? ""
                       : "container runtime network not ready: " + ConditionText(network);
  const auto* runtime = FindCondition(status, "RuntimeReady");
  if (runtime == nullptr || !runtime->status()) {
    runtime_error_ = "container runtime not ready: " + ConditionText(runtime);
    return;
  }
  runtime_error_.clear();
  runtime_handlers_.clear();
  for (const auto& h : status.runtime_handlers()) {
    runtime_handlers_.push_back(bj::object{
        {"name", h.name()},
        {"features",
         bj::object{{"recursiveReadOnlyMounts", h.features().recursive_read_only_mounts()},
                    {"userNamespaces", h.features().user_namespaces()}}}});
  }
  supplemental_groups_policy_ = status.features().supplemental_groups_policy();
  last_runtime_sync_ = Clock::now();
}

std::vector<std::string> NodeAgent::RuntimeErrors() {
  std::vector<std::pair<std::string, std::function<std::optional<std::string>()>>> checks;
  std::vector<std::string> errors;
  {
    std::lock_guard lock(mu_);
    checks = health_checks_;
    if (!last_runtime_sync_) {
      errors.emplace_back("container runtime status check may not have completed yet");
    } else if (Clock::now() - *last_runtime_sync_ > kRuntimeSyncThreshold) {
      errors.emplace_back("container runtime is down");
    }
  }
  for (const auto& [name, check] : checks)
    if (std::optional<std::string> e = check()) errors.push_back(name + " is not healthy: " + *e);
  std::lock_guard lock(mu_);
  if (!runtime_error_.empty()) errors.push_back(runtime_error_);
  if (!network_error_.empty()) errors.push_back(network_error_);
  return errors;
}

bool NodeAgent::RuntimeReadyNow() {
  UpdateRuntimeState();
  std::lock_guard lock(mu_);
  return last_runtime_sync_ && runtime_error_.empty() && network_error_.empty();
}

NodeAgent::Computed NodeAgent::ComputeStatus(const bj::object& previous) {
  Computed out;
  out.status = previous;
  bj::object& status = out.status;
  Clock::time_point now = Clock::now();
  std::string now_text = FormatRfc3339(Now().tv_sec);

  // Machine and resources.
  NodeResources resources;
  resources.pods = options_.max_pods;
  Result<MachineInfo> machine = ReadMachineInfo(options_.machine);
  if (machine.ok()) {
    resources.milli_cpu = machine->milli_cpu;
    resources.memory = machine->memory_bytes;
    resources.hugepages = machine->hugepages;
  } else {
    BLOG(kWarn) << "node " << options_.node_name << ": machine info: " << machine.error().str();
  }
  Result<FsStats> nodefs = StatFs(options_.root_dir);
  if (nodefs.ok()) resources.ephemeral_storage = nodefs->capacity_bytes;
  bj::object capacity = CapacityJson(resources);
  Reservation reserved =
      SumReserved(options_.system_reserved, options_.kube_reserved).value_or(Reservation{});
  bj::object allocatable = AllocatableJson(resources, reserved, options_.eviction_hard);
  status["capacity"] = MergeResources(status.if_contains("capacity"), capacity);
  bj::object merged_allocatable = MergeResources(status.if_contains("allocatable"), allocatable);
  // Extended resources are allocatable as they are.
  for (const auto& kv : status["capacity"].as_object())
    if (!merged_allocatable.contains(kv.key())) merged_allocatable[kv.key()] = kv.value();
  status["allocatable"] = merged_allocatable;

  // Addresses.
  std::vector<std::string> ips;
  {
    std::lock_guard lock(mu_);
    ips = node_ips_;
  }
  if (ips.empty() && options_.node_ips.empty()) {
    Result<std::string> ip = DefaultNodeIp(options_.node_name, options_.machine.proc);
    if (ip.ok()) {
      ips = {*ip};
    } else {
      std::lock_guard lock(mu_);
      if (ip.error().str() != address_warning_) {
        address_warning_ = ip.error().str();
        BLOG(kWarn) << "node " << options_.node_name << ": " << address_warning_;
      }
    }
  }
  if (!ips.empty()) {
    bj::array addresses;
    for (const std::string& ip : ips)
      addresses.push_back(bj::object{{"type", "InternalIP"}, {"address", ip}});
    addresses.push_back(bj::object{{"type", "Hostname"}, {"address", options_.node_name}});
    status["addresses"] = std::move(addresses);
  }

  // Runtime: readiness, version, images, filesystems.
  UpdateRuntimeState();
  ::runtime::v1::ListImagesRequest images_req;
  ::runtime::v1::ListImagesResponse images;
  if (Status s = cri_.Call(&::runtime::v1::ImageService::Stub::ListImages, images_req, &images,
                           "CRI ListImages", kCriTimeout);
      s.ok()) {
    status["images"] = ImagesJson(images, options_.max_images);
  } else {
    BLOG(kWarn) << "node " << options_.node_name << ": " << s.error().str();
  }
  Observations observed;
  if (Result<MemoryStats> m = ReadMemoryStats(options_.machine); m.ok()) observed.memory = *m;
  if (nodefs.ok()) observed.nodefs = *nodefs;
  if (Result<PidStats> p = ReadPidStats(options_.machine); p.ok()) observed.pids = *p;
  ::runtime::v1::ImageFsInfoRequest fs_req;
  ::runtime::v1::ImageFsInfoResponse fs;
  if (cri_.Call(&::runtime::v1::ImageService::Stub::ImageFsInfo, fs_req, &fs, "CRI ImageFsInfo",
                kCriTimeout)
          .ok()) {
    if (fs.image_filesystems_size() > 0) {
      Result<FsStats> s = StatFs(fs.image_filesystems(0).fs_id().mountpoint());
      if (s.ok()) observed.imagefs = *s;
    }
    if (fs.container_filesystems_size() > 0) {
      Result<FsStats> s = StatFs(fs.container_filesystems(0).fs_id().mountpoint());
      if (s.ok()) observed.containerfs = *s;
    }
  }
  Pressure pressure = UnderPressure(options_.eviction_hard, observed);

  // nodeInfo, daemon endpoints, runtime handlers and features.
  // Built apart and stored at the end: a reference into `status` would
  // not survive the insertions below.
  bj::object info;
  if (const bj::value* before = status.if_contains("nodeInfo"); before && before->is_object()) {
    info = before->as_object();
  }
  if (machine.ok()) {
    info["machineID"] = machine->machine_id;
    info["systemUUID"] = machine->system_uuid;
    info["bootID"] = machine->boot_id;
    info["kernelVersion"] = machine->kernel_version;
    info["osImage"] = machine->os_image;
    info["architecture"] = machine->architecture;
  }
  info["operatingSystem"] = "linux";
  info["kubeletVersion"] = options_.kubelet_version;
  info["kubeProxyVersion"] = "";  // no longer reported (DisableNodeKubeProxyVersion)
  status["daemonEndpoints"] =
      bj::object{{"kubeletEndpoint", bj::object{{"Port", options_.kubelet_port}}}};

  ConditionInputs conditions;
  conditions.not_ready = RuntimeErrors();
  {
    std::lock_guard lock(mu_);
    if (!runtime_version_.empty()) info["containerRuntimeVersion"] = runtime_version_;
    if (!runtime_handlers_.empty()) status["runtimeHandlers"] = runtime_handlers_;
    if (supplemental_groups_policy_) {
      status["features"] = bj::object{{"supplementalGroupsPolicy", *supplemental_groups_policy_}};
    }
    // A pressure holds for the transition period after it was last seen.
    auto hold = [&](bool seen, std::optional<Clock::time_point>& at) {
      if (seen) at = now;
      return at && now - *at < options_.pressure_transition_period;
    };
    conditions.memory_pressure = hold(pressure.memory, memory_pressure_at_);
    conditions.disk_pressure = hold(pressure.disk, disk_pressure_at_);
    conditions.pid_pressure = hold(pressure.pid, pid_pressure_at_);
    capacity_ = status["capacity"].as_object();
    allocatable_ = status["allocatable"].as_object();
    if (!ips.empty()) node_ips_ = ips;
  }
  std::vector<std::string> missing;
  for (const char* r : {"cpu", "memory", "pods", "ephemeral-storage"})
    if (!capacity.contains(r)) missing.emplace_back(r);
  if (!missing.empty()) {
    std::string list;
    for (const std::string& m : missing)
      list += (list.empty() ? "" : ", ") + m;
    conditions.not_ready.push_back("missing node capacity for resources: " + list);
  }
  status["nodeInfo"] = std::move(info);
  out.events = SetConditions(status, conditions, now_text);
  return out;
}

void NodeAgent::RecordEvents(const std::vector<std::string>& reasons) {
  if (options_.events == nullptr) return;
  // kubelet's node reference: the node's name as its UID too, which is how
  // `kubectl describe node` finds these events.
  controlplane::client::ObjectRef node{"v1", "Node", "", options_.node_name, options_.node_name};
  for (const std::string& reason : reasons) {
    options_.events->Record(node, "Normal", reason,
                            "Node " + options_.node_name + " status is now: " + reason);
  }
}

Status NodeAgent::Register() {
  BERTH_TRY(CheckOptions());
  std::string name = options_.node_name;
  if (!options_.register_node) {
    {
      std::lock_guard lock(mu_);
      registered_ = true;  // nothing to register: from now on, status updates
    }
    return SyncStatus(true);
  }
  bj::object node = InitialNode(name, options_.labels, options_.taints);
  Computed computed = ComputeStatus({});
  node["status"] = computed.status;
  auto created = api_.Do("POST", "/api/v1/nodes", bj::serialize(node));
  if (!created.ok()) return std::move(created).error().Wrap("register node " + name);
  if (created->status == 201) {
    BLOG(kInfo) << "node " << name << ": registered";
    RecordEvents(computed.events);
    return PostCreated(created->Json().is_object() ? created->Json().as_object() : bj::object{});
  }
  if (created->status != 409) {
    return Error(Errc::kUnavailable, "register node " + name + ": " + Why(*created));
  }
  auto existing = api_.Do("GET", "/api/v1/nodes/" + name);
  if (!existing.ok()) return std::move(existing).error().Wrap("register node " + name);
  if (existing->status != 200 || !existing->Json().is_object()) {
    return Error(Errc::kUnavailable, "register node " + name + ": get: " + Why(*existing));
  }
  bj::object current = existing->Json().as_object();
  if (std::optional<bj::object> patch = ReconcilePatch(node, current)) {
    auto patched = api_.Do("PATCH", "/api/v1/nodes/" + name, bj::serialize(*patch),
                           "application/merge-patch+json");
    if (!patched.ok()) return std::move(patched).error().Wrap("reconcile node " + name);
    if (patched->status != 200) {
      return Error(Errc::kUnavailable, "reconcile node " + name + ": " + Why(*patched));
    }
  }
  BLOG(kInfo) << "node " << name << ": was registered before";
  {
    std::lock_guard lock(mu_);
    node_uid_ = Str(current, {"metadata", "uid"});
    registered_ = true;
  }
  return SyncStatus(true);
}

// After the create: the server kept the status (as upstream's does) or,
// if it did not, the status is posted now.
Status NodeAgent::PostCreated(const bj::object& created) {
  {
    std::lock_guard lock(mu_);
    node_uid_ = Str(created, {"metadata", "uid"});
    registered_ = true;
  }
  const bj::value* status = created.if_contains("status");
  std::string ready =
      status != nullptr && status->is_object() ? ConditionStatus(status->as_object(), "Ready") : "";
  if (ready.empty()) return SyncStatus(true);
  std::lock_guard lock(mu_);
  last_report_ = Clock::now();
  last_ready_ = ready;
  return Ok();
}

Status NodeAgent::SyncStatus(bool force) {
  std::string path = "/api/v1/nodes/" + options_.node_name;
  for (int attempt = 0; attempt < kStatusUpdateRetries; ++attempt) {
    auto got = api_.Do("GET", path);
    if (!got.ok()) return std::move(got).error().Wrap("update node status");
    if (got->status != 200 || !got->Json().is_object()) {
      return Error(got->status == 404 ? Errc::kNotFound : Errc::kUnavailable,
                   "update node status: get node " + options_.node_name + ": " + Why(*got));
    }
    bj::object node = got->Json().as_object();
    bj::object before;
    if (const bj::value* s = node.if_contains("status"); s != nullptr && s->is_object()) {
      before = s->as_object();
    }
    Computed computed = ComputeStatus(before);
    bool changed = StatusChanged(before, computed.status);
    {
      std::lock_guard lock(mu_);
      node_uid_ = Str(node, {"metadata", "uid"});
      bool report_due = Clock::now() - last_report_ >= options_.status_report_frequency;
      if (!force && !changed && !report_due) return Ok();
    }
    std::string ready = ConditionStatus(computed.status, "Ready");
    node["status"] = std::move(computed.status);
    auto put = api_.Do("PUT", path + "/status", bj::serialize(node));
    if (!put.ok()) return std::move(put).error().Wrap("update node status");
    if (put->status == 409) continue;  // changed meanwhile: read it again
    if (put->status != 200) {
      return Error(Errc::kUnavailable, "update node status: " + Why(*put));
    }
    RecordEvents(computed.events);
    std::lock_guard lock(mu_);
    last_report_ = Clock::now();
    last_ready_ = ready;
    return Ok();
  }
  return Error(Errc::kAborted, "update node status: still conflicting after " +
                                   std::to_string(kStatusUpdateRetries) + " attempts");
}

void NodeAgent::Start() {
  std::lock_guard lock(mu_);
  if (status_thread_.joinable()) return;
  stopping_ = false;
  started_ = Clock::now();
  status_thread_ = std::thread([this] { StatusLoop(); });
  lease_thread_ = std::thread([this] { LeaseLoop(); });
}

void NodeAgent::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (status_thread_.joinable()) status_thread_.join();
  if (lease_thread_.joinable()) lease_thread_.join();
}

bool NodeAgent::Sleep(Clock::time_point deadline, bool fast) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (stopping_) return false;
    if (poked_) {
      poked_ = false;
      return true;
    }
    if (Clock::now() >= deadline) return true;
    bool watch_runtime =
        fast && last_ready_ != "True" && registered_ && Clock::now() - started_ < kFastStatusWindow;
    if (!watch_runtime) {
      cv_.wait_until(lock, deadline);
      continue;
    }
    cv_.wait_for(lock, kFastStatusInterval);
    if (stopping_ || poked_) continue;
    lock.unlock();
    bool ready = RuntimeReadyNow();
    lock.lock();
    if (ready) return true;  // post Ready now rather than at the next tick
  }
}

void NodeAgent::StatusLoop() {
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    bool registered = Registered();
    Status s = registered ? SyncStatus(false) : Register();
    Clock::time_point next = Clock::now() + options_.status_update_frequency;
    if (!s.ok()) {
      BLOG(kWarn) << "node " << options_.node_name << ": " << s.error().str();
      if (!registered) {
        next = Clock::now() + backoff;
        backoff = std::min(backoff * 2, std::chrono::milliseconds(7000));
      }
    }
    if (!Sleep(next, true)) return;
  }
}

void NodeAgent::LeaseLoop() {
  std::mt19937 random(std::random_device{}());
  auto interval =
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.lease_duration) / 4;
  auto backoff = std::chrono::milliseconds(200);
  for (;;) {
    std::string uid;
    {
      std::lock_guard lock(mu_);
      uid = node_uid_;
    }
    Status s = lease_.Renew(uid, Now());
    Clock::time_point next;
    if (s.ok()) {
      backoff = std::chrono::milliseconds(200);
      // JitterUntil with a jitter factor of 0.04, as upstream.
      double jitter = std::uniform_real_distribution<double>(0, 0.04)(random);
      next = Clock::now() + interval +
             std::chrono::duration_cast<std::chrono::milliseconds>(interval * jitter);
    } else {
      BLOG(kWarn) << "node " << options_.node_name << ": " << s.error().str();
      next = Clock::now() + backoff;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(7000));
    }
    std::unique_lock lock(mu_);
    if (cv_.wait_until(lock, next, [this] { return stopping_; })) return;
  }
}

}  // namespace berth::agent

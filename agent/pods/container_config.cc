#include "agent/pods/container_config.h"

#include <algorithm>

#include "agent/pods/pod_spec.h"
#include "agent/pods/sandbox_config.h"
#include "controlplane/client/api_util.h"
#include "volumes/subpath.h"

namespace berth::agent {

using controlplane::client::StringAt;
using controlplane::client::ValueAt;

namespace {

// Upstream's defaults for a container that is not privileged
// (securitycontext.defaultMaskedPaths / defaultReadonlyPaths).
const char* const kMaskedPaths[] = {"/proc/asound",
                                    "/proc/acpi",
                                    "/proc/kcore",
                                    "/proc/keys",
                                    "/proc/latency_stats",
                                    "/proc/timer_list",
                                    "/proc/timer_stats",
                                    "/proc/sched_debug",
                                    "/proc/scsi",
                                    "/sys/firmware",
                                    "/sys/devices/virtual/powercap"};
const char* const kReadonlyPaths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                      "/proc/sysrq-trigger"};

constexpr int64_t kCpuPeriod = 100000;  // 100 ms, kubelet's quota period
constexpr int64_t kMinShares = 2;
constexpr int64_t kMaxShares = 262144;
constexpr int64_t kMinQuota = 1000;

const bj::value* Field(const bj::object& obj, std::string_view key) {
  const bj::value* v = obj.if_contains(key);
  return v != nullptr && !v->is_null() ? v : nullptr;
}

std::optional<bool> BoolField(const bj::object* obj, std::string_view key) {
  if (obj == nullptr) return std::nullopt;
  const bj::value* v = Field(*obj, key);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->get_bool();
}

std::optional<int64_t> IntField(const bj::object* obj, std::string_view key) {
  if (obj == nullptr) return std::nullopt;
  const bj::value* v = Field(*obj, key);
  if (v == nullptr || !v->is_int64()) return std::nullopt;
  return v->get_int64();
}

const bj::object* ObjectField(const bj::object& obj, std::initializer_list<std::string_view> path) {
  const bj::value* v = ValueAt(obj, path);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

Status AddMounts(const ContainerInputs& in, const bj::object& c, v1::ContainerConfig& out) {
  const bj::value* mounts = Field(c, "volumeMounts");
  if (mounts != nullptr && mounts->is_array()) {
    for (const bj::value& mv : mounts->get_array()) {
      if (!mv.is_object()) continue;
      const bj::object& m = mv.get_object();
      std::string name = StringAt(m, {"name"});
      auto it = in.volumes.find(name);
      if (it == in.volumes.end()) {
        return Error(Errc::kNotFound, "volumeMounts: volume \"" + name +
                                          "\" is not a volume of the pod or is not ready");
      }
      std::string host_path = it->second.host_path;
      std::string sub_path = StringAt(m, {"subPath"});
      std::string sub_path_expr = StringAt(m, {"subPathExpr"});
      if (!sub_path_expr.empty()) sub_path = BERTH_TRY(ExpandSubPathExpr(sub_path_expr, in.env));
      if (!sub_path.empty()) host_path = BERTH_TRY(volumes::SubPathHostPath(host_path, sub_path));
      v1::Mount* mount = out.add_mounts();
      mount->set_container_path(StringAt(m, {"mountPath"}));
      mount->set_host_path(host_path);
      mount->set_readonly(BoolField(&m, "readOnly").value_or(false) || it->second.read_only);
      std::string propagation = StringAt(m, {"mountPropagation"});
      mount->set_propagation(propagation == "Bidirectional"     ? v1::PROPAGATION_BIDIRECTIONAL
                             : propagation == "HostToContainer" ? v1::PROPAGATION_HOST_TO_CONTAINER
                                                                : v1::PROPAGATION_PRIVATE);
    }
  }
  if (!in.termination_message_host_path.empty()) {
    std::string path = StringAt(c, {"terminationMessagePath"});
    if (path.empty()) path = "/dev/termination-log";
    v1::Mount* mount = out.add_mounts();
    mount->set_container_path(path);
    mount->set_host_path(in.termination_message_host_path);
  }
  return Ok();
}

void SetResources(const ContainerInputs& in, const bj::object& c, v1::LinuxContainerResources& r) {
  std::optional<int64_t> cpu_request = ResourceQuantity(c, "requests", "cpu");
  std::optional<int64_t> cpu_limit = ResourceQuantity(c, "limits", "cpu");
  // A request defaults to the limit (API defaulting does it too).
  if (!cpu_request && cpu_limit) cpu_request = cpu_limit;
  int64_t shares =
      cpu_request ? std::clamp(*cpu_request * 1024 / 1000, kMinShares, kMaxShares) : kMinShares;
  r.set_cpu_shares(shares);
  if (cpu_limit) {
    r.set_cpu_period(kCpuPeriod);
    r.set_cpu_quota(std::max(*cpu_limit * kCpuPeriod / 1000, kMinQuota));
  }
  if (std::optional<int64_t> mem = ResourceQuantity(c, "limits", "memory"))
    r.set_memory_limit_in_bytes(*mem);
  r.set_oom_score_adj(OomScoreAdjust(*in.pod, c, in.memory_capacity));
}

void SetSecurityContext(const ContainerInputs& in, const bj::object& c,
                        v1::LinuxContainerSecurityContext& sc) {
  const bj::object* pod_sc = ObjectField(*in.pod, {"spec", "securityContext"});
  const bj::object* csc = ObjectField(c, {"securityContext"});
  auto effective = [&](std::string_view key) {
    std::optional<int64_t> v = IntField(csc, key);
    return v ? v : IntField(pod_sc, key);
  };
  if (std::optional<int64_t> uid = effective("runAsUser"))
    sc.mutable_run_as_user()->set_value(*uid);
  if (std::optional<int64_t> gid = effective("runAsGroup"))
    sc.mutable_run_as_group()->set_value(*gid);
  if (pod_sc != nullptr) {
    if (const bj::value* groups = Field(*pod_sc, "supplementalGroups");
        groups != nullptr && groups->is_array()) {
      for (const bj::value& g : groups->get_array())
        if (g.is_int64()) sc.add_supplemental_groups(g.get_int64());
    }
    if (std::optional<int64_t> fs_group = IntField(pod_sc, "fsGroup"))
      sc.add_supplemental_groups(*fs_group);
  }
  bool privileged = BoolField(csc, "privileged").value_or(false);
  sc.set_privileged(privileged);
  sc.set_readonly_rootfs(BoolField(csc, "readOnlyRootFilesystem").value_or(false));
  std::optional<bool> escalation = BoolField(csc, "allowPrivilegeEscalation");
  sc.set_no_new_privs(escalation.has_value() && !*escalation);
  if (csc != nullptr) {
    const bj::object* caps = ObjectField(*csc, {"capabilities"});
    for (std::string_view kind : {"add", "drop"}) {
      const bj::value* list = caps != nullptr ? Field(*caps, kind) : nullptr;
      if (list == nullptr || !list->is_array()) continue;
      for (const bj::value& cap : list->get_array()) {
        if (!cap.is_string()) continue;
        std::string name(cap.get_string());
        if (kind == "add") {
          sc.mutable_capabilities()->add_add_capabilities(name);
        } else {
          sc.mutable_capabilities()->add_drop_capabilities(name);
        }
      }
    }
  }
  auto profile = [&](const bj::object* from) -> const bj::object* {
    return from != nullptr ? ObjectField(*from, {"seccompProfile"}) : nullptr;
  };
  const bj::object* seccomp = profile(csc) != nullptr ? profile(csc) : profile(pod_sc);
  std::string type = seccomp != nullptr ? StringAt(*seccomp, {"type"}) : "";
  v1::SecurityProfile* sp = sc.mutable_seccomp();
  if (type == "RuntimeDefault") {
    sp->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  } else if (type == "Localhost") {
    sp->set_profile_type(v1::SecurityProfile::Localhost);
    sp->set_localhost_ref(in.seccomp_root + "/" + StringAt(*seccomp, {"localhostProfile"}));
  } else {
    sp->set_profile_type(v1::SecurityProfile::Unconfined);
  }
  v1::NamespaceOption* ns = sc.mutable_namespace_options();
  auto flag = [&](std::string_view field) {
    const bj::value* v = ValueAt(*in.pod, {"spec", field});
    return v != nullptr && v->is_bool() && v->get_bool();
  };
  ns->set_network(HostNetwork(*in.pod) ? v1::NODE : v1::POD);
  ns->set_pid(flag("hostPID") ? v1::NODE : flag("shareProcessNamespace") ? v1::POD : v1::CONTAINER);
  ns->set_ipc(flag("hostIPC") ? v1::NODE : v1::POD);
  if (!privileged && StringAt(c, {"securityContext", "procMount"}) != "Unmasked") {
    for (const char* p : kMaskedPaths)
      sc.add_masked_paths(p);
    for (const char* p : kReadonlyPaths)
      sc.add_readonly_paths(p);
  }
}

}  // namespace

int64_t OomScoreAdjust(const bj::object& pod, const bj::object& container,
                       int64_t memory_capacity) {
  constexpr int64_t kGuaranteed = -997;
  constexpr int64_t kBestEffort = 1000;
  std::string qos = QosClass(pod);
  // Node-critical pods (kube-proxy, CNI daemons) are protected as
  // Guaranteed ones.
  if (qos == "Guaranteed" ||
      StringAt(pod, {"spec", "priorityClassName"}) == "system-node-critical") {
    return kGuaranteed;
  }
  if (qos == "BestEffort") return kBestEffort;
  auto adjust_for = [&](const bj::object& c) -> int64_t {
    std::optional<int64_t> request = ResourceQuantity(c, "requests", "memory");
    if (!request) request = ResourceQuantity(c, "limits", "memory");
    if (memory_capacity <= 0) return kBestEffort - 1;
    int64_t adjust = 1000 - (1000 * request.value_or(0)) / memory_capacity;
    // Keep burstable containers strictly between the two other classes.
    if (adjust < 1000 + kGuaranteed) return 1000 + kGuaranteed;
    if (adjust == kBestEffort) return kBestEffort - 1;
    return adjust;
  };
  int64_t adjust = adjust_for(container);
  // A sidecar is killed no sooner than the regular container that asked
  // for the least memory.
  if (IsSidecar(container)) {
    const bj::object* smallest = nullptr;
    int64_t lowest = 0;
    for (const bj::value& c : Containers(pod)) {
      if (!c.is_object()) continue;
      int64_t r = ResourceQuantity(c.get_object(), "requests", "memory").value_or(0);
      if (smallest == nullptr || r < lowest) {
        smallest = &c.get_object();
        lowest = r;
      }
    }
    if (smallest != nullptr) adjust = std::min(adjust, adjust_for(*smallest));
  }
  return adjust;
}

Result<v1::ContainerConfig> BuildContainerConfig(const ContainerInputs& in) {
  const bj::object& c = *in.container;
  PodId id = IdOf(*in.pod);
  std::string name = StringAt(c, {"name"});
  v1::ContainerConfig out;
  out.mutable_metadata()->set_name(name);
  out.mutable_metadata()->set_attempt(in.attempt);
  out.mutable_image()->set_image(in.image_ref);
  out.mutable_image()->set_user_specified_image(StringAt(c, {"image"}));
  for (std::string_view field : {"command", "args"}) {
    const bj::value* v = Field(c, field);
    if (v == nullptr || !v->is_array()) continue;
    for (std::string& arg : ExpandAll(v->get_array(), in.env)) {
      if (field == "command") {
        out.add_command(std::move(arg));
      } else {
        out.add_args(std::move(arg));
      }
    }
  }
  out.set_working_dir(StringAt(c, {"workingDir"}));
  for (const EnvVar& e : in.env) {
    v1::KeyValue* kv = out.add_envs();
    kv->set_key(e.name);
    kv->set_value(e.value);
  }
  BERTH_TRY(AddMounts(in, c, out));
  auto& labels = *out.mutable_labels();
  labels[kPodNameLabel] = id.name;
  labels[kPodNamespaceLabel] = id.namespace_;
  labels[kPodUidLabel] = id.uid;
  labels[kContainerNameLabel] = name;
  auto& annotations = *out.mutable_annotations();
  annotations[kRestartCountAnnotation] = std::to_string(in.attempt);
  std::string message_path = StringAt(c, {"terminationMessagePath"});
  annotations[kTerminationMessagePathAnnotation] =
      message_path.empty() ? "/dev/termination-log" : message_path;
  std::string policy = StringAt(c, {"terminationMessagePolicy"});
  annotations[kTerminationMessagePolicyAnnotation] = policy.empty() ? "File" : policy;
  annotations[kPodTerminationGraceAnnotation] = std::to_string(GracePeriodSeconds(*in.pod));
  out.set_log_path(name + "/" + std::to_string(in.attempt) + ".log");
  out.set_stdin(BoolField(&c, "stdin").value_or(false));
  out.set_stdin_once(BoolField(&c, "stdinOnce").value_or(false));
  out.set_tty(BoolField(&c, "tty").value_or(false));
  SetResources(in, c, *out.mutable_linux()->mutable_resources());
  SetSecurityContext(in, c, *out.mutable_linux()->mutable_security_context());
  return out;
}

}  // namespace berth::agent

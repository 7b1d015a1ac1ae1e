#include "runtime/cri/spec/container_spec.h"

#include <unistd.h>

#include <algorithm>

#include "runtime/cri/spec/annotations.h"
#include "runtime/cri/spec/capabilities.h"
#include "runtime/cri/spec/devices.h"
#include "runtime/cri/spec/mounts.h"
#include "runtime/cri/spec/resources.h"
#include "runtime/cri/spec/seccomp_profile.h"
#include "runtime/cri/spec/spec_common.h"
#include "runtime/cri/spec/user.h"
#include "runtime/image/container_config.h"

namespace berth::cri {
namespace {

namespace bj = boost::json;
namespace v1 = ::runtime::v1;
using detail::NamespaceJson;
using detail::Strings;

const v1::LinuxContainerSecurityContext& Security(const ContainerSpecInput& in) {
  return in.config->linux().security_context();
}

Status CheckInput(const ContainerSpecInput& in) {
  auto missing = [](const char* what) {
    return Error(Errc::kInvalidArgument, std::string("container spec: no ") + what);
  };
  if (in.config == nullptr) return missing("container config");
  if (in.sandbox == nullptr) return missing("sandbox config");
  if (in.image == nullptr) return missing("image config");
  if (in.container_id.empty()) return missing("container id");
  if (in.sandbox_id.empty()) return missing("sandbox id");
  if (in.rootfs.empty() || in.rootfs[0] != '/') {
    return Error(Errc::kInvalidArgument, "container spec: rootfs must be an absolute path");
  }
  const v1::LinuxContainerSecurityContext& sc = Security(in);
  if (sc.privileged() && !in.sandbox->linux().security_context().privileged()) {
    return Error(Errc::kInvalidArgument,
                 "privileged: no privileged container allowed in a sandbox that is not "
                 "privileged");
  }
  if (detail::WantsPodUserNamespace(sc.namespace_options()) ||
      detail::WantsPodUserNamespace(detail::SandboxNamespaces(*in.sandbox))) {
    return Error(Errc::kUnimplemented,
                 "namespace_options.userns_options: pod user namespaces (hostUsers: false) are "
                 "not supported by berth");
  }
  return Ok();
}

// Entrypoint [""] means "no entrypoint" (Docker's reset), as containerd reads it.
image::ImageConfig ImageWithoutEmptyEntrypoint(const image::ImageConfig& image) {
  image::ImageConfig copy = image;
  if (copy.entrypoint.size() == 1 && copy.entrypoint[0].empty()) copy.entrypoint.clear();
  return copy;
}

Result<image::ContainerProcess> MergeProcess(const ContainerSpecInput& in) {
  const v1::ContainerConfig& c = *in.config;
  image::ContainerOverrides o;
  o.command.assign(c.command().begin(), c.command().end());
  o.args.assign(c.args().begin(), c.args().end());
  for (const v1::KeyValue& kv : c.envs())
    o.env.emplace_back(kv.key(), kv.value());
  o.working_dir = c.working_dir();
  std::string image_name = in.image_ref.empty() ? c.image().image() : in.image_ref;
  return image::MergeImageConfig(ImageWithoutEmptyEntrypoint(*in.image), o, image_name);
}

std::string EnvKey(const std::string& entry) {
  return entry.substr(0, entry.find('='));
}

// containerd's replaceOrAppendEnvValues: same key replaces in place, a
// bare KEY (no '=') unsets it.
void ReplaceOrAppend(std::vector<std::string>& env, const std::vector<std::string>& overrides) {
  for (const std::string& value : overrides) {
    std::string key = EnvKey(value);
    auto it = std::find_if(env.begin(), env.end(),
                           [&](const std::string& e) { return EnvKey(e) == key; });
    if (value.find('=') == std::string::npos) {
      if (it != env.end()) env.erase(it);
    } else if (it != env.end()) {
      *it = value;
    } else {
      env.push_back(value);
    }
  }
}

std::string Hostname(const ContainerSpecInput& in) {
  if (!in.hostname.empty()) return in.hostname;
  if (!in.sandbox->hostname().empty()) return in.sandbox->hostname();
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

std::vector<std::string> Env(const ContainerSpecInput& in, const image::ContainerProcess& p) {
  std::vector<std::string> env = {image::kDefaultPath};
  if (in.config->tty()) env.push_back("TERM=xterm");
  env.push_back("HOSTNAME=" + Hostname(in));
  ReplaceOrAppend(env, p.env);
  return env;
}

Result<bj::object> Process(const ContainerSpecInput& in, const CapabilityPlan& caps) {
  const v1::LinuxContainerSecurityContext& sc = Security(in);
  image::ContainerProcess merged = BERTH_TRY(MergeProcess(in));
  ProcessUser user = BERTH_TRY(ResolveContainerUser(sc, in.image->user, in.rootfs));
  bj::object p;
  if (in.config->tty()) p["terminal"] = true;
  p["user"] = UserJson(user);
  p["args"] = Strings(merged.args);
  p["env"] = Strings(Env(in, merged));
  p["cwd"] = merged.cwd;
  p["capabilities"] = CapabilitiesJson(caps);
  if (sc.no_new_privs()) p["noNewPrivileges"] = true;
  if (in.config->linux().has_resources()) {
    int64_t adj = in.config->linux().resources().oom_score_adj();
    if (adj < -1000 || adj > 1000) {
      return Error(Errc::kInvalidArgument,
                   "resources.oom_score_adj: " + std::to_string(adj) + " is outside [-1000, 1000]");
    }
    p["oomScoreAdj"] = ClampOomScoreAdj(static_cast<int>(adj), in.oom_score_adj_floor);
  }
  return p;
}

v1::Mount FileMount(const std::string& dst, const std::string& src, bool readonly) {
  v1::Mount m;
  m.set_container_path(dst);
  m.set_host_path(src);
  m.set_readonly(readonly);
  return m;
}

// containerd's containerMounts: the sandbox's files.
std::vector<v1::Mount> SandboxFileMounts(const ContainerSpecInput& in) {
  bool ro = Security(in).readonly_rootfs();
  std::vector<v1::Mount> out;
  if (!in.hostname_file.empty()) out.push_back(FileMount("/etc/hostname", in.hostname_file, ro));
  if (!in.hosts_file.empty()) out.push_back(FileMount("/etc/hosts", in.hosts_file, ro));
  if (!in.resolv_conf.empty()) out.push_back(FileMount("/etc/resolv.conf", in.resolv_conf, ro));
  bool host_ipc = detail::SandboxNamespaces(*in.sandbox).ipc() == v1::NODE ||
                  Security(in).namespace_options().ipc() == v1::NODE;
  std::string shm = host_ipc ? "/dev/shm" : in.shm_path;
  if (!shm.empty()) out.push_back(FileMount("/dev/shm", shm, false));
  return out;
}

struct DevicePlan {
  bj::array devices;
  bj::array rules;
};

Result<std::string> Access(const std::string& permissions, const std::string& field) {
  if (permissions.empty()) return std::string("rwm");
  if (permissions.find_first_not_of("rwm") != std::string::npos) {
    return Error(Errc::kInvalidArgument, field + ".permissions: \"" + permissions +
                                             "\" is not a combination of r, w and m");
  }
  return permissions;
}

Result<DevicePlan> Devices(const ContainerSpecInput& in, bool privileged) {
  DevicePlan plan;
  if (privileged) {
    if (!in.host_dev_dir.empty()) {
      for (const DeviceNode& d : BERTH_TRY(HostDevices(in.host_dev_dir)))
        plan.devices.emplace_back(DeviceJson(d));
    }
    plan.rules.emplace_back(bj::object{{"allow", true}, {"access", "rwm"}});
    return plan;
  }
  plan.rules.emplace_back(bj::object{{"allow", false}, {"access", "rwm"}});
  for (int i = 0; i < in.config->devices_size(); ++i) {
    const v1::Device& dev = in.config->devices(i);
    std::string field = "devices[" + std::to_string(i) + "]";
    std::string access = BERTH_TRY(Access(dev.permissions(), field));
    for (const DeviceNode& d :
         BERTH_TRY(DevicesFromPath(dev.host_path(), dev.container_path(), field))) {
      plan.devices.emplace_back(DeviceJson(d));
      plan.rules.emplace_back(DeviceRuleJson(d, access));
    }
  }
  return plan;
}

Result<std::string> SandboxNs(const ContainerSpecInput& in, const char* name) {
  if (in.sandbox_pid <= 0) {
    return Error(Errc::kInvalidArgument,
                 "container spec: sandbox_pid is required to join the pod's namespaces");
  }
  return "/proc/" + std::to_string(in.sandbox_pid) + "/ns/" + name;
}

Result<std::optional<bj::object>> PidNamespace(const ContainerSpecInput& in) {
  v1::NamespaceMode mode = Security(in).namespace_options().pid();
  if (mode == v1::POD && detail::SandboxNamespaces(*in.sandbox).pid() == v1::NODE) {
    mode = v1::NODE;  // the sandbox's pid namespace is the host's
  }
  switch (mode) {
    case v1::NODE:
      return std::optional<bj::object>();
    case v1::CONTAINER:
      return std::optional<bj::object>(NamespaceJson("pid"));
    case v1::TARGET:
      if (in.target_pid <= 0) {
        return Error(Errc::kInvalidArgument,
                     "namespace_options.pid: TARGET needs the target container's pid (target_id `" +
                         Security(in).namespace_options().target_id() + "`)");
      }
      return std::optional<bj::object>(
          NamespaceJson("pid", "/proc/" + std::to_string(in.target_pid) + "/ns/pid"));
    default:
      return std::optional<bj::object>(NamespaceJson("pid", BERTH_TRY(SandboxNs(in, "pid"))));
  }
}

Result<bj::array> Namespaces(const ContainerSpecInput& in, bool privileged) {
  const v1::NamespaceOption& pod = detail::SandboxNamespaces(*in.sandbox);
  bool host_network = pod.network() == v1::NODE;
  bj::array out;
  if (auto pid = BERTH_TRY(PidNamespace(in))) out.emplace_back(std::move(*pid));
  if (pod.ipc() != v1::NODE)
    out.emplace_back(NamespaceJson("ipc", BERTH_TRY(SandboxNs(in, "ipc"))));
  if (!host_network) out.emplace_back(NamespaceJson("uts", BERTH_TRY(SandboxNs(in, "uts"))));
  out.emplace_back(NamespaceJson("mount"));
  if (!host_network) {
    std::string net = !in.netns_path.empty() ? in.netns_path : BERTH_TRY(SandboxNs(in, "net"));
    out.emplace_back(NamespaceJson("network", net));
  }
  if (in.cgroup_namespace && !privileged) out.emplace_back(NamespaceJson("cgroup"));
  return out;
}

bj::object Annotations(const ContainerSpecInput& in) {
  namespace a = annotations;
  bj::object out = detail::SortedObject(in.config->annotations());
  out[a::kContainerType] = a::kContainerTypeContainer;
  out[a::kSandboxId] = in.sandbox_id;
  out[a::kSandboxNamespace] = in.sandbox->metadata().namespace_();
  out[a::kSandboxUid] = in.sandbox->metadata().uid();
  out[a::kSandboxName] = in.sandbox->metadata().name();
  out[a::kContainerName] = in.config->metadata().name();
  out[a::kImageName] = in.image_ref.empty() ? in.config->image().image() : in.image_ref;
  return out;
}

Result<bj::object> Linux(const ContainerSpecInput& in, const CapabilityPlan& caps,
                         const std::string& rootfs_propagation) {
  const v1::LinuxContainerSecurityContext& sc = Security(in);
  bool privileged = sc.privileged();
  DevicePlan devices = BERTH_TRY(Devices(in, privileged));
  bj::object resources{{"devices", std::move(devices.rules)}};
  if (in.config->linux().has_resources()) {
    AddContainerResources(in.config->linux().resources(), in.swap_accounting, resources);
  }
  SeccompChoice choice =
      BERTH_TRY(ChooseSeccomp(sc.has_seccomp() ? &sc.seccomp() : nullptr,
                              detail::LegacySeccompPath(sc), privileged, in.seccomp_profile_root));
  auto seccomp = BERTH_TRY(SeccompJson(choice, caps.bounding));

  bj::object out;
  out["resources"] = std::move(resources);
  if (!in.cgroups_path.empty()) out["cgroupsPath"] = in.cgroups_path;
  out["namespaces"] = BERTH_TRY(Namespaces(in, privileged));
  if (!devices.devices.empty()) out["devices"] = std::move(devices.devices);
  if (seccomp) out["seccomp"] = std::move(*seccomp);
  if (!rootfs_propagation.empty()) out["rootfsPropagation"] = rootfs_propagation;
  if (!privileged) {
    out["maskedPaths"] = sc.masked_paths_size() != 0 ? Strings(sc.masked_paths())
                                                     : Strings(detail::DefaultMaskedPaths());
    out["readonlyPaths"] = sc.readonly_paths_size() != 0 ? Strings(sc.readonly_paths())
                                                         : Strings(detail::DefaultReadonlyPaths());
  }
  return out;
}

}  // namespace

Result<boost::json::object> BuildContainerSpec(const ContainerSpecInput& in) {
  BERTH_TRY(CheckInput(in));
  const v1::LinuxContainerSecurityContext& sc = Security(in);
  CapabilityPlan caps = BERTH_TRY(
      PlanCapabilities(sc.has_capabilities() ? &sc.capabilities() : nullptr, sc.privileged()));
  MountPlan mounts =
      BERTH_TRY(PlanContainerMounts(*in.config, SandboxFileMounts(in), sc.privileged()));
  bj::object spec;
  spec["ociVersion"] = detail::kOciVersion;
  spec["process"] = BERTH_TRY(Process(in, caps));
  bj::object root{{"path", in.rootfs}};
  if (sc.readonly_rootfs()) root["readonly"] = true;
  spec["root"] = std::move(root);
  spec["mounts"] = std::move(mounts.mounts);
  spec["annotations"] = Annotations(in);
  spec["linux"] = BERTH_TRY(Linux(in, caps, mounts.rootfs_propagation));
  return spec;
}

}  // namespace berth::cri

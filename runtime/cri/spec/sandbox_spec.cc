#include "runtime/cri/spec/sandbox_spec.h"

#include "runtime/cri/spec/annotations.h"
#include "runtime/cri/spec/capabilities.h"
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

// containerd's DefaultSandboxCPUshares.
constexpr uint64_t kSandboxCpuShares = 2;

Status CheckInput(const SandboxSpecInput& in) {
  if (in.config == nullptr) return Error(Errc::kInvalidArgument, "sandbox spec: no config");
  if (in.sandbox_id.empty()) return Error(Errc::kInvalidArgument, "sandbox spec: no sandbox id");
  if (in.rootfs.empty() || in.rootfs[0] != '/') {
    return Error(Errc::kInvalidArgument, "sandbox spec: rootfs must be an absolute path");
  }
  if (in.pause_args.empty()) return Error(Errc::kInvalidArgument, "sandbox spec: no pause args");
  if (detail::WantsPodUserNamespace(detail::SandboxNamespaces(*in.config))) {
    return Error(Errc::kUnimplemented,
                 "namespace_options.userns_options: pod user namespaces (hostUsers: false) are "
                 "not supported by berth");
  }
  return Ok();
}

Result<bj::object> Process(const SandboxSpecInput& in) {
  const v1::LinuxSandboxSecurityContext& sc = in.config->linux().security_context();
  ProcessUser user = BERTH_TRY(ResolveSandboxUser(sc, in.rootfs));
  CapabilityPlan caps = BERTH_TRY(PlanCapabilities(nullptr, false));
  return bj::object{{"user", UserJson(user)},
                    {"args", Strings(in.pause_args)},
                    {"env", bj::array{image::kDefaultPath}},
                    {"cwd", "/"},
                    {"capabilities", CapabilitiesJson(caps)},
                    {"noNewPrivileges", true},
                    {"oomScoreAdj", ClampOomScoreAdj(in.oom_score_adj, in.oom_score_adj_floor)}};
}

bj::array Namespaces(const SandboxSpecInput& in) {
  const v1::NamespaceOption& nso = detail::SandboxNamespaces(*in.config);
  bool host_network = nso.network() == v1::NODE;
  bj::array out;
  if (nso.pid() != v1::NODE) out.emplace_back(NamespaceJson("pid"));
  if (nso.ipc() != v1::NODE) out.emplace_back(NamespaceJson("ipc"));
  if (!host_network) out.emplace_back(NamespaceJson("uts"));
  out.emplace_back(NamespaceJson("mount"));
  if (!host_network) out.emplace_back(NamespaceJson("network", in.netns_path));
  return out;
}

bj::object Annotations(const SandboxSpecInput& in) {
  const v1::PodSandboxConfig& config = *in.config;
  bj::object out = detail::SortedObject(config.annotations());
  namespace a = annotations;
  out[a::kContainerType] = a::kContainerTypeSandbox;
  out[a::kSandboxId] = in.sandbox_id;
  out[a::kSandboxNamespace] = config.metadata().namespace_();
  out[a::kSandboxUid] = config.metadata().uid();
  out[a::kSandboxName] = config.metadata().name();
  out[a::kSandboxLogDir] = config.log_directory();
  if (config.linux().has_resources()) {
    const v1::LinuxContainerResources& r = config.linux().resources();
    out[a::kSandboxCpuPeriod] = std::to_string(r.cpu_period());
    out[a::kSandboxCpuQuota] = std::to_string(r.cpu_quota());
    out[a::kSandboxCpuShares] = std::to_string(r.cpu_shares());
    out[a::kSandboxMemory] = std::to_string(r.memory_limit_in_bytes());
  }
  return out;
}

Result<bj::object> Linux(const SandboxSpecInput& in) {
  const v1::LinuxPodSandboxConfig& linux = in.config->linux();
  const v1::LinuxSandboxSecurityContext& sc = linux.security_context();
  const v1::NamespaceOption& nso = sc.namespace_options();
  BERTH_TRY(CheckSysctls(linux.sysctls(), nso.network() == v1::NODE, nso.ipc() == v1::NODE));
  SeccompChoice choice = BERTH_TRY(ChooseSeccomp(sc.has_seccomp() ? &sc.seccomp() : nullptr,
                                                 detail::LegacySeccompPath(sc), sc.privileged(),
                                                 in.seccomp_profile_root));
  auto seccomp = BERTH_TRY(SeccompJson(choice, DefaultCapabilities()));

  bj::object out;
  if (!linux.sysctls().empty()) out["sysctl"] = detail::SortedObject(linux.sysctls());
  out["resources"] =
      bj::object{{"devices", bj::array{bj::object{{"allow", false}, {"access", "rwm"}}}},
                 {"cpu", bj::object{{"shares", kSandboxCpuShares}}}};
  if (!in.cgroups_path.empty()) out["cgroupsPath"] = in.cgroups_path;
  out["namespaces"] = Namespaces(in);
  if (seccomp) out["seccomp"] = std::move(*seccomp);
  out["maskedPaths"] = Strings(detail::DefaultMaskedPaths());
  out["readonlyPaths"] = Strings(detail::DefaultReadonlyPaths());
  return out;
}

}  // namespace

Result<boost::json::object> BuildSandboxSpec(const SandboxSpecInput& in) {
  BERTH_TRY(CheckInput(in));
  bj::object spec;
  spec["ociVersion"] = detail::kOciVersion;
  spec["process"] = BERTH_TRY(Process(in));
  spec["root"] = bj::object{{"path", in.rootfs}, {"readonly", true}};
  bool host_network = detail::SandboxNamespaces(*in.config).network() == v1::NODE;
  if (!host_network && !in.hostname.empty()) spec["hostname"] = in.hostname;
  std::vector<std::pair<std::string, std::string>> binds;
  if (!in.shm_path.empty()) binds.emplace_back("/dev/shm", in.shm_path);
  if (!in.resolv_conf.empty()) binds.emplace_back("/etc/resolv.conf", in.resolv_conf);
  spec["mounts"] = SandboxMounts(binds);
  spec["annotations"] = Annotations(in);
  spec["linux"] = BERTH_TRY(Linux(in));
  return spec;
}

}  // namespace berth::cri

// Semantic checks on a parsed Spec: the rules runc's validator enforces, with
// errors that name the config.json field.

#include <sys/stat.h>

#include "common/file.h"
#include "runtime/oci/spec.h"

namespace berth::runtime::oci {
namespace {

Error Invalid(std::string_view field, std::string_view why) {
  return Error(Errc::kInvalidArgument, std::string(field) + ": " + std::string(why));
}

// Which namespace a sysctl belongs to (namespaces(7), and runc's table).
std::optional<ns::Kind> SysctlNamespace(const std::string& key) {
  static constexpr const char* kIpc[] = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
                                         "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
                                         "kernel.shmmni", "kernel.shm_rmid_forced"};
  for (const char* k : kIpc) {
    if (key == k) return ns::Kind::kIpc;
  }
  if (key.starts_with("fs.mqueue.")) return ns::Kind::kIpc;
  if (key.starts_with("net.")) return ns::Kind::kNetwork;
  if (key == "kernel.hostname" || key == "kernel.domainname") return ns::Kind::kUts;
  return std::nullopt;
}

Status ValidateSysctl(const LinuxConfig& l) {
  for (const auto& [key, value] : l.sysctl) {
    std::string field = "linux.sysctl." + key;
    if (key.find("..") != std::string::npos || key.find('/') != std::string::npos) {
      return Invalid(field, "invalid sysctl name");
    }
    std::optional<ns::Kind> kind = SysctlNamespace(key);
    if (!kind) return Invalid(field, "sysctl is not in a separate kernel namespace");
    if (!l.CreatesNew(*kind) && !(l.Has(*kind) && *kind == ns::Kind::kNetwork)) {
      return Invalid(field,
                     "sysctl requires a private " + std::string(ns::OciName(*kind)) + " namespace");
    }
  }
  return Ok();
}

Status ValidateUserNamespace(const LinuxConfig& l) {
  bool has_maps = !l.uid_mappings.empty() || !l.gid_mappings.empty();
  if (l.CreatesNew(ns::Kind::kUser)) {
    if (l.uid_mappings.empty())
      return Invalid("linux.uidMappings", "a new user namespace needs uid mappings");
    if (l.gid_mappings.empty())
      return Invalid("linux.gidMappings", "a new user namespace needs gid mappings");
  } else if (has_maps && !l.Has(ns::Kind::kUser)) {
    return Invalid("linux.uidMappings", "id mappings need a user namespace in linux.namespaces");
  }
  return Ok();
}

Status ValidateNamespaces(const LinuxConfig& l) {
  for (size_t i = 0; i < l.namespaces.size(); ++i) {
    const Namespace& n = l.namespaces[i];
    std::string field = "linux.namespaces[" + std::to_string(i) + "]";
    if (n.kind == ns::Kind::kTime)
      return Invalid(field + ".type", "time namespaces are not supported by berth");
    if (!n.path.empty() && !PathExists(n.path)) {
      return Invalid(field + ".path", "namespace path `" + n.path + "` does not exist");
    }
    if (!PathExists(ns::ProcPath(getpid(), n.kind))) {
      return Invalid(field + ".type",
                     "this kernel has no " + std::string(ns::OciName(n.kind)) + " namespaces");
    }
  }
  return Ok();
}

Status ValidateRootfs(const Spec& spec, const std::string& bundle) {
  if (spec.root_path.empty()) return Invalid("root.path", "required field missing");
  std::string rootfs = RootfsPath(spec, bundle);
  struct stat st {};
  if (::stat(rootfs.c_str(), &st) != 0) {
    return Error::Sys("stat", rootfs).Wrap("root.path: rootfs `" + rootfs + "` is not usable");
  }
  if (!S_ISDIR(st.st_mode))
    return Invalid("root.path", "rootfs `" + rootfs + "` is not a directory");
  return Ok();
}

}  // namespace

std::string RootfsPath(const Spec& spec, const std::string& bundle) {
  if (!spec.root_path.empty() && spec.root_path[0] == '/') return CleanPath(spec.root_path);
  return CleanPath(PathJoin(bundle, spec.root_path));
}

Status ValidateProcess(const Process& p, std::string_view field) {
  std::string f(field);
  if (p.args.empty()) return Invalid(f + ".args", "must not be empty");
  if (p.cwd.empty()) return Invalid(f + ".cwd", "required field missing");
  if (p.cwd[0] != '/')
    return Invalid(f + ".cwd", "must be an absolute path, got \"" + p.cwd + "\"");
  if (!p.apparmor_profile.empty()) {
    return Invalid(f + ".apparmorProfile", "AppArmor is not supported by berth");
  }
  if (!p.selinux_label.empty())
    return Invalid(f + ".selinuxLabel", "SELinux is not supported by berth");
  for (const std::string& e : p.env) {
    if (e.find('=') == std::string::npos)
      return Invalid(f + ".env", "entry \"" + e + "\" is not KEY=value");
  }
  return Ok();
}

Status Validate(const Spec& spec, const std::string& bundle) {
  const LinuxConfig& l = spec.linux_config;
  BERTH_TRY(ValidateRootfs(spec, bundle));
  if (!spec.process) return Invalid("process", "required field missing");
  BERTH_TRY(ValidateProcess(*spec.process, "process"));
  if (!spec.hostname.empty() && !l.CreatesNew(ns::Kind::kUts)) {
    return Invalid("hostname", "setting the hostname needs a private UTS namespace");
  }
  if (!spec.domainname.empty() && !l.CreatesNew(ns::Kind::kUts)) {
    return Invalid("domainname", "setting the domainname needs a private UTS namespace");
  }
  if (!l.mount_label.empty())
    return Invalid("linux.mountLabel", "SELinux is not supported by berth");
  BERTH_TRY(ValidateNamespaces(l));
  BERTH_TRY(ValidateUserNamespace(l));
  BERTH_TRY(ValidateSysctl(l));
  if (!l.Has(ns::Kind::kMount)) {
    return Invalid("linux.namespaces",
                   "a mount namespace is required (berth sets up the rootfs in it)");
  }
  const std::string& prop = l.rootfs_propagation;
  if (!prop.empty() && prop != "private" && prop != "rprivate" && prop != "slave" &&
      prop != "rslave" && prop != "shared" && prop != "rshared" && prop != "unbindable" &&
      prop != "runbindable") {
    return Invalid("linux.rootfsPropagation", "unknown propagation \"" + prop + "\"");
  }
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const Mount& m = spec.mounts[i];
    if (!m.uid_mappings.empty() || !m.gid_mappings.empty()) {
      return Invalid("mounts[" + std::to_string(i) + "].uidMappings",
                     "idmapped mounts are not supported by berth");
    }
  }
  return Ok();
}

}  // namespace berth::runtime::oci

#include "runtime/cri/spec/mounts.h"

#include <algorithm>
#include <set>

#include "common/file.h"

namespace berth::cri {
namespace {

namespace bj = boost::json;
namespace v1 = ::runtime::v1;

bj::object MountJson(const std::string& dst, const std::string& type, const std::string& src,
                     std::initializer_list<const char*> options) {
  bj::array opts;
  for (const char* o : options)
    opts.emplace_back(o);
  return {{"destination", dst}, {"type", type}, {"source", src}, {"options", std::move(opts)}};
}

size_t Depth(const std::string& path) {
  std::string clean = CleanPath(path);
  return static_cast<size_t>(std::count(clean.begin(), clean.end(), '/'));
}

bool Covered(const std::string& destination, const std::set<std::string>& covered) {
  std::string dst = CleanPath(destination);
  if (covered.count(dst) != 0) return true;
  return covered.count("/dev") != 0 && dst.rfind("/dev/", 0) == 0;
}

Status CheckMount(const v1::Mount& m, const std::string& field) {
  if (m.container_path().empty() || m.container_path()[0] != '/') {
    return Error(
        Errc::kInvalidArgument,
        field + ".container_path: must be an absolute path, got \"" + m.container_path() + "\"");
  }
  if (m.host_path().empty()) {
    if (m.has_image() && !m.image().image().empty()) {
      return Error(Errc::kUnimplemented, field + ": image volumes are not supported by berth");
    }
    return Error(Errc::kInvalidArgument, field + ".host_path: required");
  }
  if (m.uidmappings_size() != 0 || m.gidmappings_size() != 0) {
    return Error(Errc::kUnimplemented,
                 field + ": idmapped mounts are not supported, but were requested for `" +
                     m.host_path() + "`");
  }
  if (m.recursive_read_only() && (!m.readonly() || m.propagation() != v1::PROPAGATION_PRIVATE)) {
    return Error(Errc::kInvalidArgument,
                 field + ": recursive_read_only needs readonly and PROPAGATION_PRIVATE");
  }
  return Ok();
}

bj::object BindJson(const v1::Mount& m, std::string& rootfs_propagation) {
  bj::array options{"rbind"};
  switch (m.propagation()) {
    case v1::PROPAGATION_BIDIRECTIONAL:
      options.emplace_back("rshared");
      rootfs_propagation = "rshared";
      break;
    case v1::PROPAGATION_HOST_TO_CONTAINER:
      options.emplace_back("rslave");
      if (rootfs_propagation != "rshared") rootfs_propagation = "rslave";
      break;
    default:  // PRIVATE, and unknown values as containerd does
      options.emplace_back("rprivate");
      break;
  }
  options.emplace_back(m.recursive_read_only() ? "rro" : m.readonly() ? "ro" : "rw");
  return {{"destination", m.container_path()},
          {"type", "bind"},
          {"source", m.host_path()},
          {"options", std::move(options)}};
}

}  // namespace

std::vector<boost::json::object> DefaultMounts(bool cgroup, bool privileged) {
  const char* sys_mode = privileged ? "rw" : "ro";
  std::vector<bj::object> out = {
      MountJson("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      MountJson("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      MountJson("/dev/pts", "devpts", "devpts",
                {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      MountJson("/dev/shm", "tmpfs", "shm",
                {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      MountJson("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      MountJson("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", sys_mode}),
  };
  if (cgroup) {
    out.push_back(MountJson("/sys/fs/cgroup", "cgroup", "cgroup",
                            {"nosuid", "noexec", "nodev", "relatime", sys_mode}));
  }
  return out;
}

Result<MountPlan> PlanContainerMounts(const v1::ContainerConfig& config,
                                      const std::vector<v1::Mount>& extra, bool privileged) {
  std::vector<v1::Mount> mounts;
  std::set<std::string> covered;
  for (int i = 0; i < config.mounts_size(); ++i) {
    const v1::Mount& m = config.mounts(i);
    BERTH_TRY(CheckMount(m, "mounts[" + std::to_string(i) + "]"));
    mounts.push_back(m);
    covered.insert(CleanPath(m.container_path()));
  }
  for (const v1::Mount& e : extra) {
    if (covered.count(CleanPath(e.container_path())) == 0) mounts.push_back(e);
  }
  for (const v1::Mount& m : mounts)
    covered.insert(CleanPath(m.container_path()));
  std::stable_sort(mounts.begin(), mounts.end(), [](const v1::Mount& a, const v1::Mount& b) {
    return Depth(a.container_path()) < Depth(b.container_path());
  });

  MountPlan plan;
  for (bj::object& d : DefaultMounts(true, privileged)) {
    if (!Covered(bj::value_to<std::string>(d.at("destination")), covered)) {
      plan.mounts.emplace_back(std::move(d));
    }
  }
  for (const v1::Mount& m : mounts)
    plan.mounts.emplace_back(BindJson(m, plan.rootfs_propagation));
  return plan;
}

boost::json::array SandboxMounts(const std::vector<std::pair<std::string, std::string>>& binds) {
  std::set<std::string> covered;
  for (const auto& [dst, src] : binds)
    covered.insert(CleanPath(dst));
  bj::array out;
  for (bj::object& d : DefaultMounts(false, false)) {
    if (!Covered(bj::value_to<std::string>(d.at("destination")), covered)) {
      out.emplace_back(std::move(d));
    }
  }
  for (const auto& [dst, src] : binds) {
    out.emplace_back(bj::object{{"destination", dst},
                                {"type", "bind"},
                                {"source", src},
                                {"options", bj::array{"rbind", "ro"}}});
  }
  return out;
}

}  // namespace berth::cri

// A mount of type "cgroup" (or "cgroup2"): the container's own cgroups at the
// destination, as runc presents them.
//   v1/hybrid: a tmpfs with one read-only bind per hierarchy of the
//              container's cgroup dir (or, in a cgroup namespace, a fresh
//              cgroup mount per hierarchy), and symlinks for comounted
//              controllers ("cpu" -> "cpu,cpuacct").
//   v2:        cgroup2 itself in a cgroup namespace, else a bind of the
//              container's cgroup dir.

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/file.h"
#include "common/strings.h"
#include "runtime/oci/init/in_root.h"
#include "runtime/oci/init/rootfs.h"
#include "runtime/oci/mount_options.h"

namespace berth::runtime::oci {
namespace {

struct Hierarchy {
  std::string mount_dir;      // /sys/fs/cgroup/cpu,cpuacct
  std::string container_dir;  // the container's cgroup in it
  std::vector<std::string> controllers;
};

// Position of each mount point in /proc/self/mountinfo: runc binds the
// hierarchies in mount order, and so do we, so the container's mountinfo
// matches.
std::map<std::string, size_t> MountOrder() {
  std::map<std::string, size_t> order;
  Result<std::string> text = ReadFile("/proc/self/mountinfo");
  if (!text.ok()) return order;
  size_t index = 0;
  for (const std::string& line : Split(*text, '\n')) {
    std::vector<std::string> f = SplitNonEmpty(line, ' ');
    if (f.size() > 4) order.emplace(f[4], index++);
  }
  return order;
}

std::vector<Hierarchy> V1Hierarchies(const InitPlan& plan) {
  std::map<std::string, Hierarchy> by_dir;
  for (const auto& [controller, dir] : plan.cgroup_layout.v1_mounts) {
    Hierarchy& h = by_dir[dir];
    h.mount_dir = dir;
    h.controllers.push_back(controller);
    auto it = plan.cgroup_placement.paths.find(controller);
    if (it != plan.cgroup_placement.paths.end()) h.container_dir = it->second;
  }
  std::vector<Hierarchy> out;
  for (auto& [dir, h] : by_dir) {
    if (!h.container_dir.empty()) out.push_back(std::move(h));
  }
  std::map<std::string, size_t> order = MountOrder();
  auto position = [&order](const Hierarchy& h) {
    auto it = order.find(h.mount_dir);
    return it == order.end() ? order.size() : it->second;
  };
  std::sort(out.begin(), out.end(),
            [&](const Hierarchy& a, const Hierarchy& b) { return position(a) < position(b); });
  return out;
}

Status MountV1(const InitPlan& plan, int root_fd, const std::string& dest, const MountOptions& opts,
               const std::string& what) {
  UniqueFd dir = BERTH_TRY(MkdirAllInRoot(root_fd, dest));
  unsigned long tmpfs_flags = opts.flags & ~MS_RDONLY;
  BERTH_TRY(
      DoMount("tmpfs", FdPath(dir.get()), "tmpfs", tmpfs_flags, "mode=755", what + " (tmpfs)"));
  for (const Hierarchy& h : V1Hierarchies(plan)) {
    std::string name = Basename(h.mount_dir);
    std::string sub = dest + "/" + name;
    UniqueFd target = BERTH_TRY(MkdirAllInRoot(root_fd, sub));
    if (plan.new_cgroup_ns) {
      // In a cgroup namespace the fresh mount shows the namespace root.
      std::string data;
      for (const std::string& c : h.controllers) {
        if (!data.empty()) data += ',';
        data += c;  // "name=systemd" passes through as the named hierarchy
      }
      BERTH_TRY(
          DoMount("cgroup", FdPath(target.get()), "cgroup", opts.flags, data, "cgroup on " + sub));
    } else {
      BERTH_TRY(DoMount(h.container_dir.c_str(), FdPath(target.get()), nullptr, MS_BIND | MS_REC,
                        "", "bind " + h.container_dir + " on " + sub));
      UniqueFd top = BERTH_TRY(OpenInRoot(root_fd, sub, O_PATH));
      BERTH_TRY(BindRemount(FdPath(top.get()), opts.flags, "cgroup on " + sub));
    }
    for (const std::string& c : h.controllers) {
      std::string link = c.starts_with("name=") ? c.substr(5) : c;
      if (link == name) continue;
      UniqueFd parent = BERTH_TRY(OpenInRoot(root_fd, dest, O_PATH | O_DIRECTORY));
      if (::symlinkat(name.c_str(), parent.get(), link.c_str()) != 0 && errno != EEXIST) {
        return Error::Sys("symlink", dest + "/" + link);
      }
    }
  }
  return Ok();
}

Status MountV2(const InitPlan& plan, int root_fd, const std::string& dest, const MountOptions& opts,
               const std::string& what) {
  UniqueFd dir = BERTH_TRY(MkdirAllInRoot(root_fd, dest));
  if (plan.new_cgroup_ns) {
    if (::mount("cgroup2", FdPath(dir.get()).c_str(), "cgroup2", opts.flags, nullptr) == 0)
      return Ok();
    if (errno != EPERM && errno != EBUSY) return Error::Sys("mount", what);
  }
  auto it = plan.cgroup_placement.paths.find("unified");
  if (it == plan.cgroup_placement.paths.end()) {
    return Error(Errc::kFailedPrecondition, what + ": the container has no cgroup v2 directory");
  }
  BERTH_TRY(DoMount(it->second.c_str(), FdPath(dir.get()), nullptr, MS_BIND | MS_REC, "", what));
  UniqueFd top = BERTH_TRY(OpenInRoot(root_fd, dest, O_PATH));
  return BindRemount(FdPath(top.get()), opts.flags, what);
}

}  // namespace

Status MountCgroupFs(const InitPlan& plan, int root_fd, size_t index) {
  const Mount& m = plan.spec->mounts[index];
  std::string dest = CleanPath("/" + m.destination);
  std::string what = "cgroup on " + dest;
  MountOptions opts = ParseMountOptions(m.options);
  opts.flags &= ~(MS_BIND | MS_REC | MS_REMOUNT);
  if (!plan.has_cgroup) {
    return Error(Errc::kFailedPrecondition, what + ": the container has no cgroup to show");
  }
  if (plan.cgroup_layout.mode == cgroups::Mode::kV2)
    return MountV2(plan, root_fd, dest, opts, what);
  return MountV1(plan, root_fd, dest, opts, what);
}

}  // namespace berth::runtime::oci

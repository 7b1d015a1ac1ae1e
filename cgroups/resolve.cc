// Resolve: where one container's cgroup lives in every mounted hierarchy.
//
// Per hierarchy: berth root = own cgroup (default), an absolute hierarchy
// path, or a path relative to the own cgroup; the container's cgroup =
// berth root + cleaned cgroups path (relative and absolute alike, so ".."
// can never climb out of the berth root); its directory = the mount point +
// that path taken relative to the mount's root (mountinfo field 4).

#include <unistd.h>

#include "cgroups/cgroupfs.h"
#include "cgroups/cgroups.h"
#include "common/file.h"
#include "common/strings.h"

namespace berth::cgroups {

Result<std::map<std::string, std::string>> ParseProcCgroup(std::string_view text) {
  std::map<std::string, std::string> out;
  for (const std::string& line : Split(text, '\n')) {
    if (Trim(line).empty()) continue;
    size_t a = line.find(':');
    size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) {
      return Error(Errc::kInvalidArgument, "/proc/<pid>/cgroup: malformed line \"" + line + "\"");
    }
    std::string id = line.substr(0, a);
    std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (controllers.empty()) {
      if (id == "0") out[kUnified] = path;
      continue;
    }
    for (const std::string& c : SplitNonEmpty(controllers, ','))
      out[c] = path;
  }
  return out;
}

namespace {

struct Hierarchy {
  std::string key;
  std::string mount;       // mount point directory
  std::string mount_root;  // the cgroup shown at the mount point
};

std::vector<Hierarchy> Hierarchies(const Layout& layout) {
  std::vector<Hierarchy> out;
  if (layout.mode != Mode::kV2) {
    for (const auto& [key, mount] : layout.v1_mounts) {
      auto root = layout.v1_mount_roots.find(key);
      out.push_back({key, mount, root == layout.v1_mount_roots.end() ? "/" : root->second});
    }
  }
  if (!layout.unified_mount.empty()) {
    out.push_back({kUnified, layout.unified_mount,
                   layout.unified_mount_root.empty() ? "/" : layout.unified_mount_root});
  }
  return out;
}

// Confines a user-supplied path: "a/../../b" -> "/b".
std::string Confined(const std::string& path) {
  return CleanPath("/" + path);
}

Result<std::string> BerthRoot(const Hierarchy& h, const ResolveOptions& options,
                              const std::map<std::string, std::string>& own) {
  if (!options.berth_root.empty() && options.berth_root.front() == '/') {
    return CleanPath(options.berth_root);
  }
  auto it = own.find(h.key);
  if (it == own.end()) {
    return Error(Errc::kNotFound, "resolve cgroup: the own cgroup of hierarchy `" + h.key +
                                      "` is not listed in /proc/<pid>/cgroup");
  }
  if (options.berth_root.empty()) return CleanPath(it->second);
  return CleanPath(it->second + Confined(options.berth_root));
}

Result<std::string> ContainerPath(const std::string& root, const ResolveOptions& options) {
  std::string leaf;
  if (!options.cgroups_path.empty()) {
    leaf = Confined(options.cgroups_path);
  } else {
    const std::string& id = options.container_id;
    if (id.empty() || id == "." || id == ".." || id.find('/') != std::string::npos) {
      return Error(Errc::kInvalidArgument,
                   "resolve cgroup: no cgroups path and no usable container id (\"" + id + "\")");
    }
    leaf = "/" + id;
  }
  if (leaf == "/") {
    return Error(Errc::kInvalidArgument, "resolve cgroup: cgroups path \"" + options.cgroups_path +
                                             "\" names the berth root itself");
  }
  return CleanPath(root + leaf);
}

// Hierarchy path -> directory, through the mount point.
Result<std::string> DirOf(const Hierarchy& h, const std::string& cgroup) {
  if (!IsWithin(cgroup, h.mount_root)) {
    return Error(Errc::kFailedPrecondition, "resolve cgroup: `" + cgroup + "` is outside the `" +
                                                h.key + "` mount at `" + h.mount +
                                                "` (which shows `" + h.mount_root + "`)");
  }
  std::string rest = cgroup.substr(h.mount_root == "/" ? 0 : h.mount_root.size());
  return CleanPath(h.mount + "/" + rest);
}

}  // namespace

Result<Placement> Resolve(const Layout& layout, const ResolveOptions& options,
                          const std::string& proc_self_cgroup) {
  std::map<std::string, std::string> own = BERTH_TRY(ParseProcCgroup(proc_self_cgroup));
  Placement placement;
  placement.mode = layout.mode;
  for (const Hierarchy& h : Hierarchies(layout)) {
    std::string root = BERTH_TRY(BerthRoot(h, options, own));
    std::string cgroup = BERTH_TRY(ContainerPath(root, options));
    placement.relative[h.key] = cgroup;
    placement.paths[h.key] = BERTH_TRY(DirOf(h, cgroup));
    placement.roots[h.key] = BERTH_TRY(DirOf(h, root));
  }
  if (placement.paths.empty()) {
    return Error(Errc::kNotFound,
                 "resolve cgroup: no hierarchy is mounted under `" + layout.mount_root + "`");
  }
  return placement;
}

Result<Placement> Resolve(const Layout& layout, const ResolveOptions& options) {
  pid_t pid = options.self_pid == 0 ? ::getpid() : options.self_pid;
  std::string text = BERTH_TRY(ReadFile("/proc/" + std::to_string(pid) + "/cgroup"));
  return Resolve(layout, options, text);
}

}  // namespace berth::cgroups

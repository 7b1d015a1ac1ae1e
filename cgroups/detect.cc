// Detect: which cgroup hierarchies are mounted under the mount root, from
// /proc/self/mountinfo (proc(5)): pure v2, hybrid (v1 controllers plus an
// unified hierarchy for membership) or pure v1.

#include <set>

#include "cgroups/cgroupfs.h"
#include "cgroups/cgroups.h"
#include "common/file.h"
#include "common/strings.h"

namespace berth::cgroups {

const char* ModeName(Mode mode) {
  switch (mode) {
    case Mode::kV1:
      return "v1";
    case Mode::kHybrid:
      return "hybrid";
    case Mode::kV2:
      return "v2";
  }
  return "unknown";
}

Result<Mode> ModeFromName(std::string_view name) {
  if (name == "v1") return Mode::kV1;
  if (name == "hybrid") return Mode::kHybrid;
  if (name == "v2") return Mode::kV2;
  return Error(Errc::kInvalidArgument, "unknown cgroup mode \"" + std::string(name) + "\"");
}

namespace {

// The v1 subsystems a kernel can bind to a hierarchy (the first column of
// /proc/cgroups); anything else in the super options is a mount flag.
const std::set<std::string, std::less<>> kV1Controllers = {
    "blkio", "cpu",     "cpuacct",  "cpuset",     "devices", "freezer", "hugetlb", "memory",
    "misc",  "net_cls", "net_prio", "perf_event", "pids",    "rdma",    "debug"};

struct MountEntry {
  std::string root;  // the cgroup shown at the mount point
  std::string mountpoint;
  std::string fstype;
  std::string super_options;
};

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto octal = [&](size_t j) { return j < s.size() && s[j] >= '0' && s[j] <= '7'; };
    if (s[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3) && s[i + 1] <= '3') {
      int v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');
      out.push_back(static_cast<char>(v));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// "36 35 0:29 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu"
Result<MountEntry> ParseMountLine(const std::string& line) {
  std::vector<std::string> f = SplitNonEmpty(line, ' ');
  size_t sep = 6;
  while (sep < f.size() && f[sep] != "-")
    ++sep;
  if (sep + 2 >= f.size()) {
    return Error(Errc::kInvalidArgument, "mountinfo: malformed line \"" + line + "\"");
  }
  MountEntry e;
  e.root = Unescape(f[3]);
  e.mountpoint = Unescape(f[4]);
  e.fstype = f[sep + 1];
  e.super_options = sep + 3 < f.size() ? f[sep + 3] : "";
  return e;
}

// The controllers (and "name=" hierarchies) of a v1 mount's super options.
std::vector<std::string> V1Keys(const std::string& super_options) {
  std::vector<std::string> keys;
  for (const std::string& opt : Split(super_options, ',')) {
    if (kV1Controllers.count(opt) != 0 || opt.rfind("name=", 0) == 0) keys.push_back(opt);
  }
  return keys;
}

void AddV1Mount(Layout* layout, const MountEntry& e) {
  for (const std::string& key : V1Keys(e.super_options)) {
    // A hierarchy bind-mounted twice is seen at the first place listed.
    if (layout->v1_mounts.count(key) != 0) continue;
    layout->v1_mounts[key] = e.mountpoint;
    layout->v1_mount_roots[key] = e.root;
  }
}

Mode ModeOf(const Layout& layout) {
  if (!layout.unified_mount.empty() && layout.unified_mount == CleanPath(layout.mount_root)) {
    return Mode::kV2;
  }
  if (layout.v1_mounts.empty()) return Mode::kV2;
  return layout.unified_mount.empty() ? Mode::kV1 : Mode::kHybrid;
}

}  // namespace

Result<Layout> ParseLayout(std::string_view mountinfo, const std::string& mount_root) {
  Layout layout;
  layout.mount_root = CleanPath(mount_root);
  for (const std::string& line : Split(mountinfo, '\n')) {
    if (Trim(line).empty()) continue;
    MountEntry e = BERTH_TRY(ParseMountLine(line));
    if (!IsWithin(e.mountpoint, layout.mount_root)) continue;
    if (e.fstype == "cgroup2") {
      if (layout.unified_mount.empty()) {
        layout.unified_mount = e.mountpoint;
        layout.unified_mount_root = e.root;
      }
    } else if (e.fstype == "cgroup") {
      AddV1Mount(&layout, e);
    }
  }
  if (layout.v1_mounts.empty() && layout.unified_mount.empty()) {
    return Error(Errc::kNotFound, "detect cgroups: no cgroup hierarchy is mounted under `" +
                                      layout.mount_root + "`");
  }
  layout.mode = ModeOf(layout);
  if (layout.mode == Mode::kV2) {
    layout.v1_mounts.clear();
    layout.v1_mount_roots.clear();
  }
  return layout;
}

Result<Layout> Detect(const std::string& mount_root) {
  std::string mountinfo = BERTH_TRY(ReadFile("/proc/self/mountinfo"));
  return ParseLayout(mountinfo, mount_root);
}

}  // namespace berth::cgroups

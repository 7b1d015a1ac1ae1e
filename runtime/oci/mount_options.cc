#include "runtime/oci/mount_options.h"

#include <linux/mount.h>
#include <sys/mount.h>

#include <algorithm>
#include <string_view>

namespace berth::runtime::oci {
namespace {

struct FlagOption {
  std::string_view name;
  bool clear;
  unsigned long flag;
};

constexpr FlagOption kFlagOptions[] = {
    {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},
    {"defaults", false, 0},
    {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},
    {"iversion", false, MS_I_VERSION},
    {"lazytime", false, MS_LAZYTIME},
    {"loud", true, MS_SILENT},
    {"mand", false, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},
    {"noiversion", true, MS_I_VERSION},
    {"nolazytime", true, MS_LAZYTIME},
    {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"silent", false, MS_SILENT},
    {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},
    {"symfollow", true, MS_NOSYMFOLLOW},
    {"sync", false, MS_SYNCHRONOUS},
};

struct PropagationOption {
  std::string_view name;
  unsigned long flags;
};

constexpr PropagationOption kPropagation[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

struct AttrOption {
  std::string_view name;
  bool clear;
  uint64_t attr;
};

// Recursive variants applied with mount_setattr(AT_RECURSIVE).
constexpr AttrOption kAttrOptions[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},
    {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},
    {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},
    {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},
    {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rrelatime", false, MOUNT_ATTR_RELATIME},
    {"rnorelatime", true, MOUNT_ATTR_RELATIME},
    {"rnoatime", false, MOUNT_ATTR_NOATIME},
    {"ratime", true, MOUNT_ATTR_NOATIME},
    {"rstrictatime", false, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", true, MOUNT_ATTR_STRICTATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

bool ApplyFlagOption(std::string_view opt, MountOptions& out) {
  for (const FlagOption& f : kFlagOptions) {
    if (f.name != opt) continue;
    if (f.clear) {
      out.flags &= ~f.flag;
    } else {
      out.flags |= f.flag;
    }
    return true;
  }
  return false;
}

bool ApplyPropagation(std::string_view opt, MountOptions& out) {
  for (const PropagationOption& p : kPropagation) {
    if (p.name != opt) continue;
    out.propagation.push_back(p.flags);
    return true;
  }
  return false;
}

bool ApplyAttr(std::string_view opt, MountOptions& out) {
  for (const AttrOption& a : kAttrOptions) {
    if (a.name != opt) continue;
    // The access-time attributes form one field; setting one clears the rest.
    if (!a.clear && (a.attr & MOUNT_ATTR__ATIME) != 0) out.attr_clr |= MOUNT_ATTR__ATIME;
    if (a.clear) {
      out.attr_clr |= a.attr;
      out.attr_set &= ~a.attr;
    } else {
      out.attr_set |= a.attr;
    }
    out.recursive_attrs = true;
    return true;
  }
  return false;
}

}  // namespace

bool MountOptions::bind() const {
  return (flags & MS_BIND) != 0;
}

MountOptions ParseMountOptions(const std::vector<std::string>& options) {
  MountOptions out;
  for (const std::string& opt : options) {
    if (ApplyFlagOption(opt, out) || ApplyPropagation(opt, out) || ApplyAttr(opt, out)) continue;
    if (opt == "tmpcopyup") {
      out.tmpcopyup = true;
      continue;
    }
    if (!out.data.empty()) out.data += ',';
    out.data += opt;
  }
  return out;
}

std::vector<std::string> KnownMountOptions() {
  std::vector<std::string> out;
  for (const FlagOption& f : kFlagOptions)
    out.emplace_back(f.name);
  for (const PropagationOption& p : kPropagation)
    out.emplace_back(p.name);
  for (const AttrOption& a : kAttrOptions)
    out.emplace_back(a.name);
  out.emplace_back("tmpcopyup");
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace berth::runtime::oci

#include "runtime/image/unpack/overlay.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <climits>

#include "common/fd.h"
#include "common/file.h"
#include "common/log.h"
#include "common/process.h"
#include "common/strings.h"

namespace berth::image {
namespace {

// mount(2) copies at most one page of options, NUL included.
constexpr size_t kMountDataLimit = 4096 - 1;

Result<std::string> Absolute(const std::string& path) {
  if (path.starts_with("/")) return CleanPath(path);
  std::array<char, PATH_MAX> cwd{};
  if (::getcwd(cwd.data(), cwd.size()) == nullptr) return Error::Sys("getcwd");
  return CleanPath(std::string(cwd.data()) + "/" + path);
}

// overlayfs splits the legacy options at ',' and lowerdir at ':', both
// honouring a backslash escape.
std::string Escape(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '\\' || c == ':' || c == ',') out += '\\';
    out += c;
  }
  return out;
}

std::string ComposeData(const std::vector<std::string>& lowers, const std::string& upper,
                        const std::string& work) {
  std::string data = "lowerdir=";
  for (size_t i = 0; i < lowers.size(); ++i) {
    if (i > 0) data += ':';
    data += Escape(lowers[i]);
  }
  if (!upper.empty()) {
    data += ",upperdir=" + Escape(upper) + ",workdir=" + Escape(work) + ",index=off";
  }
  return data;
}

std::string CommonAncestor(const std::vector<std::string>& paths) {
  std::vector<std::string> common = SplitNonEmpty(paths.front(), '/');
  for (const std::string& path : paths) {
    std::vector<std::string> parts = SplitNonEmpty(path, '/');
    size_t n = 0;
    while (n < common.size() && n < parts.size() && common[n] == parts[n])
      ++n;
    common.resize(n);
  }
  return "/" + Join(common, "/");
}

std::string RelativeTo(const std::string& base, const std::string& path) {
  if (path == base) return ".";
  return base == "/" ? path.substr(1) : path.substr(base.size() + 1);
}

// The messages the kernel logged on an fs_context fd ("e overlay: ...").
std::string KernelLog(int fs_fd) {
  std::string out;
  std::array<char, 1024> buf{};
  while (true) {
    ssize_t n = ::read(fs_fd, buf.data(), buf.size());
    if (n <= 0) break;
    std::string line(buf.data(), static_cast<size_t>(n));
    if (line.size() > 2 && line[1] == ' ') line = line.substr(2);
    if (!out.empty()) out += "; ";
    out += line;
  }
  return out;
}

Error FsError(const std::string& op, const std::string& object, int fs_fd) {
  Error err = Error::Sys(op, object);
  std::string log = KernelLog(fs_fd);
  if (!log.empty()) err.Wrap("kernel: " + log);
  return err;
}

Status SetString(int fs_fd, const char* key, const std::string& value) {
  if (::fsconfig(fs_fd, FSCONFIG_SET_STRING, key, value.c_str(), 0) != 0) {
    return FsError(std::string("fsconfig ") + key, value, fs_fd);
  }
  return Ok();
}

// Mounts with fsopen/fsconfig. false: this kernel lacks the new API or
// "lowerdir+" (before 6.8), and nothing was mounted.
Result<bool> MountNew(const std::vector<std::string>& lowers, const std::string& upper,
                      const std::string& work, const std::string& target, bool readonly) {
  UniqueFd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
  if (!fs) {
    if (errno == ENOSYS) return false;
    return Error::Sys("fsopen", "overlay");
  }
  BERTH_TRY(SetString(fs.get(), "source", "overlay"));
  for (size_t i = 0; i < lowers.size(); ++i) {
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "lowerdir+", lowers[i].c_str(), 0) == 0) {
      continue;
    }
    int err = errno;
    std::string log = KernelLog(fs.get());
    if (i == 0 && err == EINVAL && log.find("nknown parameter") != std::string::npos) return false;
    Error e = Error::Sys("fsconfig lowerdir+", lowers[i], err);
    if (!log.empty()) e.Wrap("kernel: " + log);
    return e;
  }
  if (!upper.empty()) {
    BERTH_TRY(SetString(fs.get(), "upperdir", upper));
    BERTH_TRY(SetString(fs.get(), "workdir", work));
    BERTH_TRY(SetString(fs.get(), "index", "off"));
  }
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    int err = errno;
    std::string log = KernelLog(fs.get());
    // Before Linux 6.5 overlayfs has no fs_context of its own: the VFS's
    // legacy context accepts every key (so "lowerdir+" passed above) and the
    // options are parsed only here, failing with EINVAL and nothing in the
    // context's log (dmesg: unrecognized mount option "lowerdir+=..."). Mount
    // with mount(2) instead, which reports its own error if it fails too.
    if (err == EINVAL && log.empty()) return false;
    Error e = Error::Sys("fsconfig create", "overlay at " + target, err);
    if (!log.empty()) e.Wrap("kernel: " + log);
    return e;
  }
  UniqueFd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, readonly ? MOUNT_ATTR_RDONLY : 0));
  if (!mnt) return FsError("fsmount", "overlay at " + target, fs.get());
  if (::move_mount(mnt.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    return Error::Sys("move_mount", target);
  }
  return true;
}

Status MountLegacy(const std::vector<std::string>& lowers, const std::string& upper,
                   const std::string& work, const std::string& target, bool readonly) {
  LegacyOverlayData opts = BERTH_TRY(LegacyOverlayOptions(lowers, upper, work, kMountDataLimit));
  unsigned long flags = readonly ? MS_RDONLY : 0;
  if (opts.chdir.empty()) {
    if (::mount("overlay", target.c_str(), "overlay", flags, opts.data.c_str()) != 0) {
      return Error::Sys("mount overlay", target);
    }
    return Ok();
  }
  // Relative lowerdirs resolve against the cwd of the mounting process:
  // chdir in a child, which only makes async-signal-safe calls after fork.
  pid_t pid = ::fork();
  if (pid < 0) return Error::Sys("fork");
  if (pid == 0) {
    if (::chdir(opts.chdir.c_str()) != 0) ::_exit(errno);
    if (::mount("overlay", target.c_str(), "overlay", flags, opts.data.c_str()) != 0) {
      ::_exit(errno);
    }
    ::_exit(0);
  }
  int status = BERTH_TRY(WaitPid(pid));
  if (!WIFEXITED(status)) return Error(Errc::kInternal, "overlay mount helper died");
  if (WEXITSTATUS(status) != 0) {
    return Error::Sys("mount overlay (lowerdirs relative to " + opts.chdir + ")", target,
                      WEXITSTATUS(status));
  }
  return Ok();
}

Status BindMount(const std::string& source, const std::string& target, bool readonly) {
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    return Error::Sys("mount bind", source + " to " + target);
  }
  if (readonly &&
      ::mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) {
    Error err = Error::Sys("remount read-only", target);
    ::umount2(target.c_str(), MNT_DETACH);
    return err;
  }
  return Ok();
}

}  // namespace

OverlayMount& OverlayMount::operator=(OverlayMount&& other) noexcept {
  if (this != &other) {
    (void)Unmount();
    target_ = other.release();
  }
  return *this;
}

OverlayMount::~OverlayMount() {
  Status status = Unmount();
  if (!status) BLOG(kError) << status.error().str();
}

Status OverlayMount::Unmount() {
  if (target_.empty()) return Ok();
  std::string target = release();
  if (::umount2(target.c_str(), UMOUNT_NOFOLLOW) == 0) return Ok();
  if (errno != EBUSY) return Error::Sys("umount", target);
  BLOG(kWarn) << "mount " << target << " is busy; detaching it lazily";
  if (::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0) {
    return Error::Sys("umount (detach)", target);
  }
  return Ok();
}

Result<LegacyOverlayData> LegacyOverlayOptions(const std::vector<std::string>& lower_dirs,
                                               const std::string& upper, const std::string& work,
                                               size_t limit) {
  std::string data = ComposeData(lower_dirs, upper, work);
  if (data.size() <= limit) return LegacyOverlayData{"", std::move(data)};
  std::vector<std::string> all = lower_dirs;
  if (!upper.empty()) {
    all.push_back(upper);
    all.push_back(work);
  }
  std::string base = CommonAncestor(all);
  std::vector<std::string> lowers;
  lowers.reserve(lower_dirs.size());
  for (const std::string& dir : lower_dirs)
    lowers.push_back(RelativeTo(base, dir));
  data = upper.empty() ? ComposeData(lowers, "", "")
                       : ComposeData(lowers, RelativeTo(base, upper), RelativeTo(base, work));
  if (data.size() > limit) {
    return Error(Errc::kResourceExhausted,
                 std::to_string(lower_dirs.size()) + " lowerdirs need " +
                     std::to_string(data.size()) + " bytes of mount options even relative to " +
                     base + " (limit " + std::to_string(limit) +
                     "); this kernel lacks overlayfs \"lowerdir+\" (Linux 6.8)");
  }
  return LegacyOverlayData{base, std::move(data)};
}

Result<OverlayMount> MountOverlay(const std::vector<std::string>& lower_dirs,
                                  const std::string& upper, const std::string& work,
                                  const std::string& target, bool readonly, MountApi api) {
  if (upper.empty() != work.empty()) {
    return Error(Errc::kInvalidArgument, "overlay at " + target + ": upper and work go together");
  }
  if (lower_dirs.empty() && upper.empty()) {
    return Error(Errc::kInvalidArgument, "overlay at " + target + ": no layers");
  }
  std::vector<std::string> lowers;
  lowers.reserve(lower_dirs.size());
  for (const std::string& dir : lower_dirs)
    lowers.push_back(BERTH_TRY(Absolute(dir)));
  std::string up = upper.empty() ? "" : BERTH_TRY(Absolute(upper));
  std::string wk = work.empty() ? "" : BERTH_TRY(Absolute(work));
  std::string at = BERTH_TRY(Absolute(target));

  if (lowers.empty()) {
    BERTH_TRY(BindMount(up, at, readonly));
    return OverlayMount(at);
  }
  if (lowers.size() == 1 && up.empty()) {
    BERTH_TRY(BindMount(lowers.front(), at, true));
    return OverlayMount(at);
  }
  if (api != MountApi::kLegacy) {
    if (BERTH_TRY(MountNew(lowers, up, wk, at, readonly))) return OverlayMount(at);
    if (api == MountApi::kNew) {
      return Error(Errc::kUnimplemented,
                   "overlay at " + at + ": the kernel lacks fsconfig \"lowerdir+\" (Linux 6.8)");
    }
    BLOG(kDebug) << "overlayfs lowerdir+ unsupported; mounting " << at << " with mount(2)";
  }
  BERTH_TRY(MountLegacy(lowers, up, wk, at, readonly));
  return OverlayMount(at);
}

}  // namespace berth::image

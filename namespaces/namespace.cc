#include "namespaces/namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "common/fd.h"

namespace berth::ns {
namespace {

struct KindInfo {
  Kind kind;
  std::string_view oci_name;   // runtime-spec config-linux.md
  std::string_view proc_name;  // /proc/<pid>/ns/<name>
  int clone_flag;
};

constexpr KindInfo kKinds[] = {
    {Kind::kPid, "pid", "pid", CLONE_NEWPID},
    {Kind::kNetwork, "network", "net", CLONE_NEWNET},
    {Kind::kMount, "mount", "mnt", CLONE_NEWNS},
    {Kind::kIpc, "ipc", "ipc", CLONE_NEWIPC},
    {Kind::kUts, "uts", "uts", CLONE_NEWUTS},
    {Kind::kUser, "user", "user", CLONE_NEWUSER},
    {Kind::kCgroup, "cgroup", "cgroup", CLONE_NEWCGROUP},
    {Kind::kTime, "time", "time", CLONE_NEWTIME},
};

const KindInfo& Info(Kind kind) {
  for (const KindInfo& info : kKinds) {
    if (info.kind == kind) return info;
  }
  return kKinds[0];  // unreachable: every Kind is in the table
}

}  // namespace

std::string_view OciName(Kind kind) {
  return Info(kind).oci_name;
}
std::string_view ProcName(Kind kind) {
  return Info(kind).proc_name;
}
int CloneFlag(Kind kind) {
  return Info(kind).clone_flag;
}

std::optional<Kind> FromOciName(std::string_view name) {
  for (const KindInfo& info : kKinds) {
    if (info.oci_name == name) return info.kind;
  }
  return std::nullopt;
}

std::string ProcPath(pid_t pid, Kind kind) {
  return "/proc/" + std::to_string(pid) + "/ns/" + std::string(ProcName(kind));
}

Status JoinFd(int fd, Kind kind, const std::string& what) {
  if (::setns(fd, CloneFlag(kind)) != 0) {
    return Error::Sys("setns", std::string(OciName(kind)) + " namespace " + what);
  }
  return Ok();
}

Status Join(const std::string& path, Kind kind) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::Sys("open", path);
  return JoinFd(fd.get(), kind, path);
}

Result<std::string> Identity(const std::string& path) {
  char buf[128];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  if (n < 0) return Error::Sys("readlink", path);
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace berth::ns

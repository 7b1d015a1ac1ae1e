#include "namespaces/namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "common/fd.h"

namespace berth::ns {

std::string_view OciName(Kind kind) {
  switch (kind) {
    case Kind::kPid: return "pid";
    case Kind::kNetwork: return "network";
    case Kind::kMount: return "mount";
    case Kind::kIpc: return "ipc";
    case Kind::kUts: return "uts";
    case Kind::kUser: return "user";
    case Kind::kCgroup: return "cgroup";
    case Kind::kTime: return "time";
  }
  return "";
}

std::optional<Kind> FromOciName(std::string_view name) {
  for (Kind kind : kAllKinds) {
    if (OciName(kind) == name) return kind;
  }
  return std::nullopt;
}

std::string_view ProcName(Kind kind) {
  switch (kind) {
    case Kind::kPid: return "pid";
    case Kind::kNetwork: return "net";
    case Kind::kMount: return "mnt";
    case Kind::kIpc: return "ipc";
    case Kind::kUts: return "uts";
    case Kind::kUser: return "user";
    case Kind::kCgroup: return "cgroup";
    case Kind::kTime: return "time";
  }
  return "";
}

int CloneFlag(Kind kind) {
  switch (kind) {
    case Kind::kPid: return CLONE_NEWPID;
    case Kind::kNetwork: return CLONE_NEWNET;
    case Kind::kMount: return CLONE_NEWNS;
    case Kind::kIpc: return CLONE_NEWIPC;
    case Kind::kUts: return CLONE_NEWUTS;
    case Kind::kUser: return CLONE_NEWUSER;
    case Kind::kCgroup: return CLONE_NEWCGROUP;
    case Kind::kTime: return CLONE_NEWTIME;
  }
  return 0;
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

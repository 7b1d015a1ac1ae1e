#include "runtime/cri/spec/devices.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/file.h"

namespace berth::cri {
namespace {

// Directories a walk of /dev leaves out (runc and containerd skip them:
// mounted separately, or not devices of the host).
bool SkippedDir(const std::string& name) {
  for (const char* skip : {"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"}) {
    if (name == skip) return true;
  }
  return false;
}

DeviceNode FromStat(const struct stat& st, const std::string& path) {
  DeviceNode d;
  d.path = path;
  d.type = S_ISBLK(st.st_mode) ? 'b' : 'c';
  d.major = major(st.st_rdev);
  d.minor = minor(st.st_rdev);
  d.file_mode = st.st_mode & 07777;
  d.uid = st.st_uid;
  d.gid = st.st_gid;
  return d;
}

bool IsDevice(const struct stat& st) {
  return S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode);
}

Status Walk(const std::string& dir, const std::string& container_dir,
            std::vector<DeviceNode>& out) {
  for (const std::string& name : BERTH_TRY(ListDir(dir))) {
    std::string host = PathJoin(dir, name);
    std::string inside = container_dir.empty() ? host : PathJoin(container_dir, name);
    struct stat st {};
    if (::lstat(host.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // gone meanwhile
      return Error::Sys("lstat", host);
    }
    if (S_ISDIR(st.st_mode)) {
      if (!SkippedDir(name)) BERTH_TRY(Walk(host, container_dir.empty() ? "" : inside, out));
      continue;
    }
    if (name == "console" || !IsDevice(st)) continue;
    out.push_back(FromStat(st, inside));
  }
  return Ok();
}

}  // namespace

Result<std::vector<DeviceNode>> DevicesFromPath(const std::string& host_path,
                                                const std::string& container_path,
                                                const std::string& field) {
  if (host_path.empty() || host_path[0] != '/') {
    return Error(Errc::kInvalidArgument,
                 field + ".host_path: must be an absolute path, got \"" + host_path + "\"");
  }
  std::string target = container_path.empty() ? host_path : container_path;
  if (target[0] != '/') {
    return Error(Errc::kInvalidArgument,
                 field + ".container_path: must be an absolute path, got \"" + target + "\"");
  }
  struct stat st {};
  if (::stat(host_path.c_str(), &st) != 0) return Error::Sys("stat", host_path).Wrap(field);
  std::vector<DeviceNode> out;
  if (S_ISDIR(st.st_mode)) {
    BERTH_TRY_CTX(Walk(host_path, target, out), field);
    return out;
  }
  if (!IsDevice(st)) {
    return Error(Errc::kInvalidArgument,
                 field + ": host_path `" + host_path + "` is not a device node");
  }
  out.push_back(FromStat(st, target));
  return out;
}

Result<std::vector<DeviceNode>> HostDevices(const std::string& dir) {
  std::vector<DeviceNode> out;
  BERTH_TRY(Walk(dir, "", out));
  return out;
}

boost::json::object DeviceJson(const DeviceNode& d) {
  return {{"path", d.path},   {"type", std::string(1, d.type)}, {"major", d.major},
          {"minor", d.minor}, {"fileMode", d.file_mode},        {"uid", d.uid},
          {"gid", d.gid}};
}

boost::json::object DeviceRuleJson(const DeviceNode& d, const std::string& access) {
  return {{"allow", true},
          {"type", std::string(1, d.type)},
          {"major", d.major},
          {"minor", d.minor},
          {"access", access}};
}

}  // namespace berth::cri

#include "cni/bridge/ipam_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/file.h"
#include "common/strings.h"

namespace berth::cni::bridge {
namespace {

constexpr const char* kLockFile = "lock";
constexpr const char* kLastReservedFile = "last_reserved_ip.0";

// "<id>\n<ifname>\n"; host-local's "<id>\r\n<ifname>" reads as well.
Allocation ParseAllocation(Ipv4 ip, const std::string& content) {
  Allocation a{ip, "", ""};
  std::vector<std::string> lines = Split(content, '\n');
  if (!lines.empty()) a.container_id = std::string(Trim(lines[0]));
  if (lines.size() > 1) a.ifname = std::string(Trim(lines[1]));
  return a;
}

bool Matches(const Allocation& a, const std::string& container_id, const std::string& ifname) {
  if (a.container_id != container_id) return false;
  return ifname.empty() || a.ifname.empty() || a.ifname == ifname;
}

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::Sys("write", path);
    off += static_cast<size_t>(n);
  }
  return Ok();
}

}  // namespace

IpamStore::IpamStore(std::string dir, IpamConfig config)
    : dir_(std::move(dir)), config_(std::move(config)) {}

IpamStore IpamStore::ForNetwork(const NetConf& conf) {
  return IpamStore(PathJoin(conf.ipam.data_dir, conf.name), conf.ipam);
}

Result<UniqueFd> IpamStore::Lock() {
  BERTH_TRY(MkdirAll(dir_, 0755));
  std::string path = PathJoin(dir_, kLockFile);
  UniqueFd fd = BERTH_TRY(Open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return Error::Sys("flock", path);
  }
  return fd;
}

bool IpamStore::Allocatable(Ipv4 ip) const {
  return ip != config_.gateway && ip != config_.subnet.network() &&
         ip != config_.subnet.broadcast() && config_.subnet.Contains(ip) &&
         ip >= config_.range_start && ip <= config_.range_end;
}

Result<std::vector<Allocation>> IpamStore::ListLocked() {
  std::vector<Allocation> out;
  for (const std::string& name : BERTH_TRY(ListDir(dir_))) {
    auto ip = ParseIpv4(name, name);
    if (!ip.ok()) continue;  // lock, last_reserved_ip.0, temp files
    auto content = ReadFile(PathJoin(dir_, name));
    if (!content.ok()) {
      if (content.error().sys_errno() == ENOENT) continue;
      return std::move(content).error();
    }
    out.push_back(ParseAllocation(*ip, *content));
  }
  return out;
}

Result<std::optional<Ipv4>> IpamStore::LastReserved() {
  std::string path = PathJoin(dir_, kLastReservedFile);
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (text.error().sys_errno() == ENOENT) return std::optional<Ipv4>();
    return std::move(text).error();
  }
  auto ip = ParseIpv4(Trim(*text), path);
  if (!ip.ok()) return std::optional<Ipv4>();  // unreadable hint: start over
  return std::optional<Ipv4>(*ip);
}

Result<bool> IpamStore::TryReserve(Ipv4 ip, const std::string& container_id,
                                   const std::string& ifname) {
  std::string path = PathJoin(dir_, ip.str());
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) {
    if (errno == EEXIST) return false;
    return Error::Sys("open", path);
  }
  Status written = WriteAll(fd.get(), container_id + "\n" + ifname + "\n", path);
  if (written.ok() && ::fsync(fd.get()) != 0) written = Error::Sys("fsync", path);
  if (!written.ok()) {
    ::unlink(path.c_str());
    return std::move(written).error();
  }
  return true;
}

Result<Ipv4> IpamStore::Allocate(const std::string& container_id, const std::string& ifname) {
  UniqueFd lock = BERTH_TRY(Lock());
  for (const Allocation& a : BERTH_TRY(ListLocked())) {
    if (a.container_id == container_id && a.ifname == ifname) {
      return Error(Errc::kAlreadyExists, "container " + container_id + " interface " + ifname +
                                             " already holds " + a.ip.str() + " in " + dir_);
    }
  }
  // Round robin: start after the last reserved address, wrap at rangeEnd.
  uint32_t first = config_.range_start.value;
  uint32_t count = config_.range_end.value - first + 1;
  auto last = BERTH_TRY(LastReserved());
  uint32_t offset = 0;
  if (last && last->value >= first && last->value <= config_.range_end.value) {
    offset = last->value - first + 1;
  }
  for (uint32_t i = 0; i < count; ++i) {
    Ipv4 ip{first + (offset + i) % count};
    if (!Allocatable(ip)) continue;
    if (!BERTH_TRY(TryReserve(ip, container_id, ifname))) continue;
    BERTH_TRY(WriteFileAtomic(PathJoin(dir_, kLastReservedFile), ip.str(), 0644));
    return ip;
  }
  return Error(Errc::kResourceExhausted, "no free IPv4 address in " + config_.range_start.str() +
                                             "-" + config_.range_end.str() + " (" + dir_ + ")");
}

Status IpamStore::Remove(Ipv4 ip) {
  std::string path = PathJoin(dir_, ip.str());
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Error::Sys("unlink", path);
  return Ok();
}

Result<std::vector<Ipv4>> IpamStore::Release(const std::string& container_id,
                                             const std::string& ifname) {
  std::vector<Ipv4> released;
  if (!PathExists(dir_)) return released;
  UniqueFd lock = BERTH_TRY(Lock());
  for (const Allocation& a : BERTH_TRY(ListLocked())) {
    if (!Matches(a, container_id, ifname)) continue;
    BERTH_TRY(Remove(a.ip));
    released.push_back(a.ip);
  }
  return released;
}

Result<std::optional<Ipv4>> IpamStore::Find(const std::string& container_id,
                                            const std::string& ifname) {
  if (!PathExists(dir_)) return std::optional<Ipv4>();
  UniqueFd lock = BERTH_TRY(Lock());
  for (const Allocation& a : BERTH_TRY(ListLocked())) {
    if (Matches(a, container_id, ifname)) return std::optional<Ipv4>(a.ip);
  }
  return std::optional<Ipv4>();
}

Result<std::vector<Allocation>> IpamStore::List() {
  if (!PathExists(dir_)) return std::vector<Allocation>();
  UniqueFd lock = BERTH_TRY(Lock());
  return ListLocked();
}

Result<std::vector<Allocation>> IpamStore::ReleaseAllExcept(const std::vector<Attachment>& keep) {
  std::vector<Allocation> released;
  if (!PathExists(dir_)) return released;
  UniqueFd lock = BERTH_TRY(Lock());
  for (const Allocation& a : BERTH_TRY(ListLocked())) {
    bool kept = false;
    for (const Attachment& k : keep)
      kept = kept || Matches(a, k.container_id, k.ifname);
    if (kept) continue;
    BERTH_TRY(Remove(a.ip));
    released.push_back(a);
  }
  return released;
}

Status IpamStore::CheckUsable() {
  UniqueFd lock = BERTH_TRY_CTX(Lock(), "IPAM store " + dir_);
  if (::access(dir_.c_str(), W_OK) != 0) return Error::Sys("access", dir_);
  return Ok();
}

}  // namespace berth::cni::bridge

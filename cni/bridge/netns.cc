#include "cni/bridge/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/vfs.h>

#include <cstdio>
#include <cstdlib>

#include "namespaces/namespace.h"

namespace berth::cni::bridge {

Result<UniqueFd> OpenNetns(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::Sys("open", path);
  struct statfs fs {};
  if (::fstatfs(fd.get(), &fs) != 0) return Error::Sys("fstatfs", path);
  if (fs.f_type != NSFS_MAGIC) {
    return Error(Errc::kInvalidArgument, path + ": not a network namespace file");
  }
  return fd;
}

Result<NetnsScope> NetnsScope::Enter(int netns_fd, const std::string& what) {
  UniqueFd original(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!original) return Error::Sys("open", "/proc/thread-self/ns/net");
  BERTH_TRY(ns::JoinFd(netns_fd, ns::Kind::kNetwork, what));
  return NetnsScope(std::move(original));
}

NetnsScope::~NetnsScope() {
  if (!original_) return;
  Status back = ns::JoinFd(original_.get(), ns::Kind::kNetwork, "original network namespace");
  if (!back.ok()) {
    std::fprintf(stderr, "berth-cni-bridge: %s\n", back.error().str().c_str());
    std::abort();
  }
}

Result<NetlinkSocket> OpenNetlinkIn(int netns_fd, int bus, const std::string& what) {
  NetnsScope scope = BERTH_TRY(NetnsScope::Enter(netns_fd, what));
  return NetlinkSocket::Open(bus);
}

}  // namespace berth::cni::bridge

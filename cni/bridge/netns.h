#pragma once
// Working on a pod's network namespace from the host's.
//
// The plugin never moves itself into the pod's netns for more than a
// moment: NetnsScope switches the calling thread in, a netlink socket is
// opened there (sockets stay in the netns they were created in), and the
// destructor switches back. Every later operation on the pod goes through
// that socket.

#include <string>

#include "cni/bridge/netlink_socket.h"
#include "common/error.h"
#include "common/fd.h"

namespace berth::cni::bridge {

// Opens a network namespace file (/run/netns/x, /proc/<pid>/ns/net),
// checking that it is one. A missing path is kNotFound.
Result<UniqueFd> OpenNetns(const std::string& path);

// Moves the calling thread into a network namespace until destroyed.
class NetnsScope {
 public:
  static Result<NetnsScope> Enter(int netns_fd, const std::string& what);
  NetnsScope(NetnsScope&& other) noexcept : original_(std::move(other.original_)) {}
  NetnsScope& operator=(NetnsScope&&) = delete;
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;
  // Returns to the original netns; failing to is fatal (the thread would
  // go on working in the wrong namespace).
  ~NetnsScope();

 private:
  explicit NetnsScope(UniqueFd original) : original_(std::move(original)) {}
  UniqueFd original_;
};

// A netlink socket on `bus` inside the netns `netns_fd` refers to.
Result<NetlinkSocket> OpenNetlinkIn(int netns_fd, int bus, const std::string& what);

}  // namespace berth::cni::bridge

#pragma once
// What the privileged bridge tests need around the plugin: network
// namespaces the test creates and always removes, sockets opened inside
// them, and the plugin run the way a runtime runs it (exec with CNI_* and
// the configuration on stdin) inside the test's "host" netns.

#include <netinet/in.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "common/error.h"
#include "common/fd.h"
#include "common/process.h"

namespace berth::cni::bridge::testing {

// A named netns (ip netns add), deleted on destruction.
class TestNetns {
 public:
  static Result<TestNetns> Create(std::string name);
  TestNetns(TestNetns&& other) noexcept : name_(std::move(other.name_)) { other.name_.clear(); }
  TestNetns& operator=(TestNetns&&) = delete;
  TestNetns(const TestNetns&) = delete;
  TestNetns& operator=(const TestNetns&) = delete;
  ~TestNetns() { Remove(); }

  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }
  void Remove();

 private:
  explicit TestNetns(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

// A socket of `type` (SOCK_STREAM, SOCK_DGRAM) created inside `netns_path`.
Result<UniqueFd> SocketIn(const std::string& netns_path, int type);
// Runs `argv` inside `netns_path` (ip netns exec semantics not needed:
// nsenter --net). Output captured.
Result<CommandResult> RunIn(const std::string& netns_path, std::vector<std::string> argv);

// A listening TCP socket on 0.0.0.0:port inside the netns.
Result<UniqueFd> ListenTcp(const std::string& netns_path, uint16_t port);
// A bound UDP socket on 0.0.0.0:port inside the netns.
Result<UniqueFd> BindUdp(const std::string& netns_path, uint16_t port);

// Connects from inside `netns_path` to ip:port, and has `listener` accept
// it; returns the peer address the listener saw. A timeout or refusal is
// an error.
Result<sockaddr_in> ConnectAndAccept(const std::string& netns_path, const std::string& ip,
                                     uint16_t port, int listener);
// Sends a datagram from inside `netns_path` and reads it on `bound`.
Result<sockaddr_in> SendAndReceiveUdp(const std::string& netns_path, const std::string& ip,
                                      uint16_t port, int bound);

std::string AddrString(const sockaddr_in& a);

// One plugin execution.
struct PluginRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

struct PluginCall {
  std::string binary;
  std::string host_netns;  // the netns the plugin runs in
  std::string command;
  std::string container_id;
  std::string pod_netns;  // may be empty (DEL)
  std::string ifname = "eth0";
  std::string config;
};
Result<PluginRun> RunPluginBinary(const PluginCall& call);

}  // namespace berth::cni::bridge::testing

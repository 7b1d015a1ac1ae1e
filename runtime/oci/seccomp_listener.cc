#include "runtime/oci/seccomp_listener.h"

#include <boost/json.hpp>

#include "common/unix_socket.h"

namespace berth::runtime::oci {

std::string ContainerProcessStateJson(pid_t pid, const std::string& metadata,
                                      const std::string& state_json) {
  boost::json::object o;
  o["ociVersion"] = "1.1.0";
  o["fds"] = boost::json::array{"seccompFd"};
  o["pid"] = pid;
  if (!metadata.empty()) o["metadata"] = metadata;
  o["state"] = boost::json::parse(state_json);
  return boost::json::serialize(o);
}

Status SendSeccompListener(const security::SeccompProfile& profile, int listener_fd, pid_t pid,
                           const std::string& state_json) {
  UniqueFd socket = BERTH_TRY_CTX(ConnectUnix(profile.listener_path, "seccomp listener socket"),
                                  "linux.seccomp.listenerPath");
  std::string message = ContainerProcessStateJson(pid, profile.listener_metadata, state_json);
  Status sent = SendMessage(socket.get(), message, listener_fd, "seccomp listener socket");
  if (!sent.ok()) return std::move(sent).error().Wrap("linux.seccomp.listenerPath");
  return Ok();
}

}  // namespace berth::runtime::oci

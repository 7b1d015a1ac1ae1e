#pragma once
// The real distribution registry (Debian's /usr/bin/docker-registry) as a
// child process on 127.0.0.1, and skopeo pushes into it: for the registry
// integration test and bench/image-pull. The registry is killed by pid when
// its RegistryProcess goes (and with its parent, PR_SET_PDEATHSIG).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/process.h"

namespace berth::image::registry::testing {

inline constexpr char kRegistryBinary[] = "/usr/bin/docker-registry";
inline constexpr char kSkopeo[] = "/usr/bin/skopeo";

// docker-registry serving <dir>/data on 127.0.0.1:<free port>; config and
// log in <dir>. With `htpasswd` (a file), basic auth is required.
class RegistryProcess {
 public:
  static Result<std::unique_ptr<RegistryProcess>> Start(const std::string& dir,
                                                        const std::string& htpasswd = "");

  uint16_t port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string Log() const;

 private:
  RegistryProcess() = default;
  Status Spawn(const std::string& config);
  Status WaitReady();

  uint16_t port_ = 0;
  std::string log_;
  ChildGuard child_;  // SIGKILLed and reaped by pid on destruction
};

// Runs argv (120 s limit); an error names `what` and the tool's output.
Result<CommandResult> RunTool(std::vector<std::string> argv, const std::string& what);

// skopeo copy oci:<layout_dir>:<tag> docker://<dest> (plain HTTP, no TLS
// verification); `all`: every manifest of an index; `creds`: user:password.
Status PushLayout(const std::string& layout_dir, const std::string& tag, const std::string& dest,
                  bool all = false, const std::string& creds = "");

}  // namespace berth::image::registry::testing

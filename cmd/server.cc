// `berth server`: the bundled control plane (controlplane/): apiserver,
// scheduler and controller manager.

#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cmd/control_plane.h"
#include "cmd/signals_wait.h"
#include "common/log.h"

namespace berth::cli {

int RunServer(const std::vector<std::string>& args) {
  ControlPlaneOptions o;
  FlagSet flags("server");
  AddControlPlaneFlags(flags, o);
  Result<std::vector<std::string>> rest = flags.Parse(args);
  if (!rest.ok()) {
    std::fprintf(stderr, "berth server: %s\n%s", rest.error().str().c_str(), flags.Usage().c_str());
    return 2;
  }
  if (!rest->empty()) {
    std::fprintf(stderr, "berth server: unexpected argument \"%s\"\n", rest->front().c_str());
    return 2;
  }
  log::Configure({log::Level::kInfo, log::Format::kText, 2, false});
  ::signal(SIGPIPE, SIG_IGN);
  StopSignals stop;  // before any thread starts, so that every thread inherits the mask
  Result<std::unique_ptr<ControlPlane>> cp = ControlPlane::Start(o);
  if (!cp.ok()) {
    std::fprintf(stderr, "berth server: %s\n", cp.error().str().c_str());
    return 1;
  }
  std::printf("berth server: serving on https://%s:%u\nadmin kubeconfig: %s\n",
              o.server.bind_address.c_str(), (*cp)->server().port(),
              (*cp)->server().admin_kubeconfig().c_str());
  std::fflush(stdout);
  stop.Wait();
  (*cp)->Stop();
  return 0;
}

}  // namespace berth::cli

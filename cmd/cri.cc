// `berth cri`: the CRI runtime.v1 RuntimeService and ImageService on a unix
// socket, for kubelet, crictl or berth's own agent.

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "cmd/flags.h"
#include "cmd/self_path.h"
#include "common/file.h"
#include "common/log.h"
#include "common/strings.h"
#include "runtime/cri/embedded/embedded_runtime.h"

namespace berth::cli {
namespace {

Status Serve(const cri::CriOptions& options) {
  if (options.listen.empty()) return Error(Errc::kInvalidArgument, "--listen is empty");
  auto runtime = BERTH_TRY(cri::EmbeddedRuntime::Start(options));
  // SIGTERM/SIGINT: stop taking requests, finish the ones in flight.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop, &sig);
    BLOG(kInfo) << "berth cri: signal " << sig << ", shutting down";
    runtime->Shutdown();
  });
  runtime->Wait();
  waiter.join();
  return Ok();
}

}  // namespace

int RunCri(const std::vector<std::string>& args) {
  cri::CriOptions o;
  std::string cni_bin_dir = Join(o.cni_bin_dirs, ":");
  std::string log_level = "info";
  FlagSet flags("cri");
  flags.String("listen", &o.listen, "where to serve CRI (unix:///path)");
  flags.String("root", &o.root, "state directory (images, sandboxes, containers)");
  flags.String("run-root", &o.run_root, "runtime state directory (shims, netns, runc state)");
  flags.String("cni-conf-dir", &o.cni_conf_dir, "CNI network configuration directory");
  flags.String("cni-bin-dir", &cni_bin_dir, "CNI plugin directories, ':' separated");
  flags.String("cni-cache-dir", &o.cni_cache_dir, "CNI result cache (default <root>/cni/results)");
  flags.String("registry-config-dir", &o.registry_config_dir, "hosts.toml directory");
  flags.String("cgroup-root", &o.cgroup_root, "berth's cgroup root (default: its own cgroup)");
  flags.String("stream-address", &o.stream_address, "exec/attach/port-forward server address");
  flags.String("shim", &o.shim_binary, "path of berth-shim");
  flags.String("pause", &o.pause_binary, "path of berth-pause");
  flags.String("log-level", &log_level, "debug, info, warn or error");
  Result<std::vector<std::string>> rest = flags.Parse(args);
  if (!rest.ok()) {
    std::fprintf(stderr, "berth cri: %s\n%s", rest.error().str().c_str(), flags.Usage().c_str());
    return 2;
  }
  if (!rest->empty()) {
    std::fprintf(stderr, "berth cri: unexpected argument \"%s\"\n", rest->front().c_str());
    return 2;
  }
  o.cni_bin_dirs = SplitNonEmpty(cni_bin_dir, ':');
  // Writes to a closed stream or plugin pipe are errors to handle, not deaths.
  ::signal(SIGPIPE, SIG_IGN);
  if (o.shim_binary.empty()) o.shim_binary = NextToSelf("berth-shim");
  if (o.pause_binary.empty()) o.pause_binary = NextToSelf("berth-pause");
  log::Level level = log_level == "debug"   ? log::Level::kDebug
                     : log_level == "warn"  ? log::Level::kWarn
                     : log_level == "error" ? log::Level::kError
                                            : log::Level::kInfo;
  log::Configure({level, log::Format::kText, 2, false});
  Status served = Serve(o);
  if (!served.ok()) {
    std::fprintf(stderr, "berth cri: %s\n", served.error().str().c_str());
    return 1;
  }
  return 0;
}

}  // namespace berth::cli

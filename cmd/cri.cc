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
#include "common/file.h"
#include "common/log.h"
#include "common/strings.h"
#include "runtime/cri/images/image_service.h"
#include "runtime/cri/server/runtime_service.h"

namespace berth::cli {
namespace {

std::string NextToSelf(const std::string& name) {
  char self[4096] = {};
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  std::string dir = n > 0 ? Dirname(std::string(self, static_cast<size_t>(n))) : ".";
  // The build tree keeps helpers in their own directories.
  for (const std::string& candidate :
       {dir + "/" + name, dir + "/../runtime/shim/" + name, dir + "/../pause/" + name}) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return dir + "/" + name;
}

Status Serve(const cri::CriOptions& options) {
  cri::ImageServiceOptions image_options;
  image_options.root = options.root + "/images";
  image_options.hosts.hosts_dir = options.registry_config_dir;
  auto images = BERTH_TRY(cri::ImageService::Open(image_options));
  cri::ImageService* image_service = images.get();
  auto resolver = [image_service](const std::string& ref) -> Result<cri::ContainerImage> {
    auto hold = std::make_shared<cri::GcGate::Hold>(image_service->HoldGc());
    cri::ResolvedImage resolved = BERTH_TRY(image_service->ResolveForContainer(ref));
    cri::ContainerImage out;
    out.gc_hold = std::move(hold);
    out.id = resolved.id;
    out.name = resolved.record.name;
    out.config = std::move(resolved.config);
    out.lower_dirs = std::move(resolved.lower_dirs);
    out.chain_id = resolved.chain_id.str();
    return out;
  };
  auto runtime = BERTH_TRY(cri::RuntimeService::Create(options, resolver));
  cri::RuntimeService* runtime_service = runtime.get();
  image_service->SetSnapshotsInUse([runtime_service] {
    std::vector<image::Digest> out;
    for (const std::string& id : runtime_service->SnapshotsInUse()) {
      Result<image::Digest> d = image::Digest::Parse(id, "snapshot chain id");
      if (d.ok()) out.push_back(*d);
    }
    return out;
  });

  std::string address = options.listen;
  if (address.starts_with("unix://")) {
    std::string path = address.substr(7);
    BERTH_TRY(MkdirAll(Dirname(path), 0711));
    ::unlink(path.c_str());
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials());
  builder.RegisterService(runtime.get());
  builder.RegisterService(images.get());
  builder.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  builder.SetMaxSendMessageSize(16 * 1024 * 1024);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return Error(Errc::kUnavailable, "cannot listen on " + address);
  BLOG(kInfo) << "berth cri serving on " << address;

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
    server->Shutdown();
  });
  server->Wait();
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

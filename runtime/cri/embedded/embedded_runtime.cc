#include "runtime/cri/embedded/embedded_runtime.h"

#include <unistd.h>

#include "common/file.h"
#include "common/log.h"

namespace berth::cri {

Result<std::unique_ptr<EmbeddedRuntime>> EmbeddedRuntime::Start(const CriOptions& options) {
  auto self = std::unique_ptr<EmbeddedRuntime>(new EmbeddedRuntime());
  ImageServiceOptions image_options;
  image_options.root = options.root + "/images";
  image_options.hosts.hosts_dir = options.registry_config_dir;
  self->images_ = BERTH_TRY(ImageService::Open(image_options));
  ImageService* image_service = self->images_.get();
  auto resolver = [image_service](const std::string& ref) -> Result<ContainerImage> {
    auto hold = std::make_shared<GcGate::Hold>(image_service->HoldGc());
    ResolvedImage resolved = BERTH_TRY(image_service->ResolveForContainer(ref));
    ContainerImage out;
    out.gc_hold = std::move(hold);
    out.id = resolved.id;
    out.name = resolved.record.name;
    out.config = std::move(resolved.config);
    out.lower_dirs = std::move(resolved.lower_dirs);
    out.chain_id = resolved.chain_id.str();
    return out;
  };
  self->runtime_ = BERTH_TRY(RuntimeService::Create(options, resolver));
  RuntimeService* runtime_service = self->runtime_.get();
  image_service->SetSnapshotsInUse([runtime_service] {
    std::vector<image::Digest> out;
    for (const std::string& id : runtime_service->SnapshotsInUse()) {
      Result<image::Digest> d = image::Digest::Parse(id, "snapshot chain id");
      if (d.ok()) out.push_back(*d);
    }
    return out;
  });

  grpc::ServerBuilder builder;
  const std::string& address = options.listen;
  if (!address.empty()) {
    if (address.starts_with("unix://")) {
      std::string path = address.substr(7);
      BERTH_TRY(MkdirAll(Dirname(path), 0711));
      ::unlink(path.c_str());
    }
    builder.AddListeningPort(address, grpc::InsecureServerCredentials());
  }
  builder.RegisterService(self->runtime_.get());
  builder.RegisterService(self->images_.get());
  builder.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  builder.SetMaxSendMessageSize(16 * 1024 * 1024);
  self->server_ = builder.BuildAndStart();
  if (!self->server_) {
    return Error(Errc::kUnavailable,
                 "CRI server: cannot listen on " + (address.empty() ? "(in-process)" : address));
  }
  if (!address.empty()) BLOG(kInfo) << "berth cri serving on " << address;
  return self;
}

EmbeddedRuntime::~EmbeddedRuntime() {
  Shutdown();
}

std::shared_ptr<grpc::Channel> EmbeddedRuntime::InProcessChannel() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  return server_->InProcessChannel(args);
}

void EmbeddedRuntime::Shutdown() {
  if (!server_ || shut_down_) return;
  shut_down_ = true;
  server_->Shutdown();
}

void EmbeddedRuntime::Wait() {
  if (server_) server_->Wait();
}

}  // namespace berth::cri

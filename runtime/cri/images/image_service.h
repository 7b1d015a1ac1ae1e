#pragma once
// The CRI ImageService (runtime.v1) over berth's image root, answering as
// containerd's CRI plugin does (see README.md for the few differences):
//
//   ListImages    every image (records grouped by config digest); a filter's
//                 image spec narrows it to the image that spec resolves to
//   StreamImages  the same, one image per message
//   ImageStatus   the image a name, repo digest or id resolves to; absent:
//                 empty response, no error; verbose: info["info"] JSON
//   PullImage     pull + unpack for the configured platform; returns the
//                 image id (config digest)
//   RemoveImage   by tag: that tag only while the image has other tags;
//                 by id, digest or last tag: every record of the image;
//                 then garbage collection; absent: success
//   ImageFsInfo   du of the snapshots directory, cached for fs_usage_ttl
//
// Errors map 1:1 from berth::Error categories (grpc_status.h): an invalid
// reference is INVALID_ARGUMENT naming it, a registry's 401 UNAUTHENTICATED
// with the registry's message, a missing tag NOT_FOUND.
//
// Thread-safe: gRPC calls the methods concurrently. Pulls run in parallel
// without a lock (the content store serializes writers per digest, so
// concurrent pulls of one image fetch each blob once); removals are
// serialized; GC waits for pulls and unpacks in flight (gc.h). The
// ServerContext may be null for in-process calls.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/cri/images/catalog.h"
#include "runtime/cri/images/disk_usage.h"
#include "runtime/cri/images/gc.h"
#include "runtime/cri/proto/api.grpc.pb.h"
#include "runtime/image/image_root.h"
#include "runtime/image/pull.h"
#include "runtime/image/registry/credentials.h"
#include "runtime/image/registry/hosts.h"
#include "runtime/image/registry/http_client.h"

namespace berth::cri {

inline img::registry::HostsOptions DefaultRegistryHosts() {
  img::registry::HostsOptions hosts;
  hosts.hosts_dir = "/etc/berth/certs.d";  // as `berth image pull`
  return hosts;
}

struct ImageServiceOptions {
  std::string root = img::kDefaultImageRoot;  // content/, images/, snapshots/
  img::registry::HostsOptions hosts = DefaultRegistryHosts();
  // Docker config.json consulted for hosts the request's AuthConfig does
  // not cover ("" = none; a missing file is empty).
  std::string docker_config;
  img::Platform platform = img::HostPlatform();
  int max_concurrent_downloads = 3;
  std::chrono::milliseconds fs_usage_ttl{5000};
  // Images reported with pinned=true (kubelet's GC leaves them): references
  // (normalized like any query) or image ids, e.g. the sandbox image.
  std::vector<std::string> pinned_images;
};

// An image as the RuntimeService needs it to create a container.
struct ResolvedImage {
  std::string id;  // config digest: Container.image_id, ContainerStatus.image_ref
  img::ImageRecord record;
  img::ImageConfig config;
  img::Digest chain_id;                 // top layer's snapshot; report it as in use
  std::vector<std::string> lower_dirs;  // overlay lowerdirs, top-most first
  std::vector<std::string> repo_tags;
  std::vector<std::string> repo_digests;
};

class ImageService final : public ::runtime::v1::ImageService::Service {
 public:
  static Result<std::unique_ptr<ImageService>> Open(ImageServiceOptions options);
  ImageService(img::ImageRoot root, ImageServiceOptions options);
  ~ImageService() override;
  ImageService(const ImageService&) = delete;
  ImageService& operator=(const ImageService&) = delete;

  // runtime.v1.ImageService
  grpc::Status ListImages(grpc::ServerContext* context,
                          const ::runtime::v1::ListImagesRequest* request,
                          ::runtime::v1::ListImagesResponse* response) override;
  grpc::Status StreamImages(
      grpc::ServerContext* context, const ::runtime::v1::StreamImagesRequest* request,
      grpc::ServerWriter<::runtime::v1::StreamImagesResponse>* writer) override;
  grpc::Status ImageStatus(grpc::ServerContext* context,
                           const ::runtime::v1::ImageStatusRequest* request,
                           ::runtime::v1::ImageStatusResponse* response) override;
  grpc::Status PullImage(grpc::ServerContext* context,
                         const ::runtime::v1::PullImageRequest* request,
                         ::runtime::v1::PullImageResponse* response) override;
  grpc::Status RemoveImage(grpc::ServerContext* context,
                           const ::runtime::v1::RemoveImageRequest* request,
                           ::runtime::v1::RemoveImageResponse* response) override;
  grpc::Status ImageFsInfo(grpc::ServerContext* context,
                           const ::runtime::v1::ImageFsInfoRequest* request,
                           ::runtime::v1::ImageFsInfoResponse* response) override;

  // The RPCs' cores, for in-process callers and tests.
  // Pulls `image` (a reference); returns the image id. `cancelled`
  // (optional) is asked as the pull goes: true stops it with kCancelled,
  // nothing recorded (img::PullOptions::cancelled).
  Result<std::string> Pull(const std::string& image,
                           const std::optional<img::registry::AuthConfig>& auth,
                           std::function<bool()> cancelled = nullptr);
  Status Remove(const std::string& image);
  Result<std::vector<::runtime::v1::Image>> List(const std::string& filter);

  // For CreateContainer: the image `image_ref` names (an id, as PullImage
  // returned, or a reference), unpacked if its snapshots are missing.
  // NotFound when there is no such image. Take a HoldGc() across this call
  // and the recording of the container, so that a concurrent RemoveImage's
  // GC cannot collect the snapshots before they are reported in use.
  Result<ResolvedImage> ResolveForContainer(const std::string& image_ref);
  // The image `image_ref` names, not unpacked (nullopt when absent):
  // for ContainerStatus's image and image_ref.
  Result<std::optional<CatalogImage>> Lookup(const std::string& image_ref);

  // Snapshot chain IDs that running or created containers use (ancestors
  // are implied); GC keeps them. Called during each collection, in the
  // thread that runs it: RemoveImage's, RequestGc's, or that of the last
  // pull or GcGate::Hold to finish. It must not wait for a lock its caller
  // may hold while calling into this service.
  using InUseFn = std::function<std::vector<img::Digest>()>;
  void SetSnapshotsInUse(InUseFn in_use);
  GcGate::Hold HoldGc() { return gate_.Enter(); }
  // Runs a collection now, or when the pulls in flight are done.
  void RequestGc() { gate_.Request(); }

  img::ImageRoot& root() { return root_; }

 private:
  Result<Catalog> Load() { return LoadCatalog(root_, meta_); }
  bool Pinned(const CatalogImage& image) const;
  img::PullOptions PullOptionsFor(const img::Reference& ref,
                                  const std::optional<img::registry::AuthConfig>& auth) const;
  void Collect();

  img::ImageRoot root_;
  const ImageServiceOptions options_;
  std::shared_ptr<const img::registry::DockerConfig> docker_config_;
  std::shared_ptr<img::registry::HttpClient> http_;  // connections shared by pulls
  std::set<std::string> pinned_;                     // normalized references and ids
  MetaCache meta_;
  CachedUsage usage_;
  std::mutex remove_mu_;  // one removal at a time (read records, then delete)
  std::mutex in_use_mu_;
  InUseFn in_use_;
  GcGate gate_;  // last: its collection uses the members above
};

}  // namespace berth::cri

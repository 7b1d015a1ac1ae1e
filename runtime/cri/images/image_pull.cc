// PullImage: containerd's CRI normalizes the reference (a tag next to a
// digest is dropped), pulls and unpacks for its platform, records the repo
// tag and the repo digest, and answers with the image id (config digest).

#include "common/log.h"
#include "runtime/cri/images/grpc_status.h"
#include "runtime/cri/images/image_service.h"

namespace berth::cri {
namespace {

namespace v1 = ::runtime::v1;

img::registry::AuthConfig FromCri(const v1::AuthConfig& a) {
  img::registry::AuthConfig out;
  out.username = a.username();
  out.password = a.password();
  out.auth = a.auth();
  out.server_address = a.server_address();
  out.identity_token = a.identity_token();
  out.registry_token = a.registry_token();
  return out;
}

}  // namespace

img::PullOptions ImageService::PullOptionsFor(
    const img::Reference& ref, const std::optional<img::registry::AuthConfig>& auth) const {
  img::PullOptions options;
  options.platform = options_.platform;
  options.parallel = options_.max_concurrent_downloads;
  options.client.hosts = options_.hosts;
  options.client.http = http_;
  options.client.credentials = img::registry::MakeCredentials(ref.domain, auth, docker_config_);
  return options;
}

Result<std::string> ImageService::Pull(const std::string& image,
                                       const std::optional<img::registry::AuthConfig>& auth,
                                       std::function<bool()> cancelled) {
  img::Reference ref = BERTH_TRY(NormalizeReference(image));
  img::PullOptions options = PullOptionsFor(ref, auth);
  options.cancelled = std::move(cancelled);
  std::shared_ptr<const ImageMeta> meta;
  {
    // No lock across the transfer: only the GC is kept out.
    GcGate::Hold hold = gate_.Enter();
    img::ImageRecord record = BERTH_TRY(img::Pull(root_, ref, options));
    if (!ref.digest) {
      // The repo digest as its own record (containerd's too): the image
      // stays listed, untagged, when the tag moves to another image.
      img::ImageRecord by_digest = record;
      by_digest.name = ref.Name() + "@" + record.target.digest.str();
      BERTH_TRY(root_.images().Put(by_digest));
    }
    meta = BERTH_TRY(meta_.Get(root_.content(), record));
  }
  usage_.Invalidate();
  BLOG(kInfo) << "pulled " << ref.String() << ": image " << meta->id;
  return meta->id;
}

grpc::Status ImageService::PullImage(grpc::ServerContext* context,
                                     const v1::PullImageRequest* request,
                                     v1::PullImageResponse* response) {
  std::optional<img::registry::AuthConfig> auth;
  if (request->has_auth()) auth = FromCri(request->auth());
  // A client that gives up (kubelet cancels the pull of a pod being
  // deleted; a deadline) stops the download: nobody waits for it.
  std::function<bool()> cancelled;
  if (context != nullptr) cancelled = [context] { return context->IsCancelled(); };
  // sandbox_config carries nothing that changes the pull (no platform).
  Result<std::string> id = Pull(request->image().image(), auth, std::move(cancelled));
  if (!id.ok()) {
    if (id.error().code() == Errc::kCancelled && context != nullptr && context->IsCancelled()) {
      BLOG(kInfo) << "PullImage " << request->image().image() << ": cancelled by the client";
      return ToGrpcStatus(id.error());
    }
    BLOG(kWarn) << "PullImage " << request->image().image() << ": " << id.error().str();
    return ToGrpcStatus(id.error());
  }
  response->set_image_ref(*id);
  return grpc::Status::OK;
}

}  // namespace berth::cri

// RemoveImage: idempotent. A tag of an image that has other tags is
// untagged; an id, a repo digest or an image's last tag removes every
// record of the image. Then the unreferenced content and snapshots are
// collected, as containerd's synchronous delete of the last reference does.

#include "runtime/cri/images/grpc_status.h"
#include "runtime/cri/images/image_service.h"

namespace berth::cri {

Status ImageService::Remove(const std::string& image) {
  {
    std::lock_guard<std::mutex> lock(remove_mu_);
    Catalog catalog = BERTH_TRY(Load());
    std::optional<Match> match = BERTH_TRY(catalog.Resolve(image));
    if (!match) return Ok();
    std::vector<std::string> names;
    if (match->kind == MatchKind::kTag && match->image->repo_tags.size() > 1) {
      names.push_back(match->record);
    } else {
      for (const img::ImageRecord& r : match->image->records)
        names.push_back(r.name);
    }
    for (const std::string& name : names) {
      Status s = root_.images().Remove(name);
      if (!s.ok() && s.error().code() != Errc::kNotFound) {
        return std::move(s).error().Wrap("remove image " + image);
      }
    }
  }
  gate_.Request();
  usage_.Invalidate();
  return Ok();
}

grpc::Status ImageService::RemoveImage(grpc::ServerContext* /*context*/,
                                       const ::runtime::v1::RemoveImageRequest* request,
                                       ::runtime::v1::RemoveImageResponse* /*response*/) {
  return ToGrpcStatus(Remove(request->image().image()));
}

}  // namespace berth::cri

// ImageStatus: the image the spec resolves to, or an empty response (no
// error) when there is none; verbose adds info["info"].

#include "runtime/cri/images/cri_convert.h"
#include "runtime/cri/images/grpc_status.h"
#include "runtime/cri/images/image_service.h"

namespace berth::cri {

grpc::Status ImageService::ImageStatus(grpc::ServerContext* /*context*/,
                                       const ::runtime::v1::ImageStatusRequest* request,
                                       ::runtime::v1::ImageStatusResponse* response) {
  Result<Catalog> catalog = Load();
  if (!catalog.ok()) return ToGrpcStatus(catalog.error());
  Result<std::optional<Match>> match = catalog->Resolve(request->image().image());
  if (!match.ok()) return ToGrpcStatus(match.error());
  if (!*match) return grpc::Status::OK;
  const CatalogImage& image = *(*match)->image;
  FillCriImage(image, Pinned(image), response->mutable_image());
  if (request->verbose()) (*response->mutable_info())["info"] = VerboseInfo(image);
  return grpc::Status::OK;
}

}  // namespace berth::cri

// ListImages and StreamImages. containerd lists everything and ignores the
// filter; CRI-O and crictl read a filter's image spec as "the image this
// names", which is what berth does (an invalid or unknown name: no images).

#include "runtime/cri/images/cri_convert.h"
#include "runtime/cri/images/grpc_status.h"
#include "runtime/cri/images/image_service.h"

namespace berth::cri {

namespace v1 = ::runtime::v1;

Result<std::vector<v1::Image>> ImageService::List(const std::string& filter) {
  Catalog catalog = BERTH_TRY(Load());
  std::vector<v1::Image> out;
  auto add = [&](const CatalogImage& image) {
    FillCriImage(image, Pinned(image), &out.emplace_back());
  };
  if (filter.empty()) {
    for (const CatalogImage& image : catalog.images())
      add(image);
    return out;
  }
  Result<std::optional<Match>> match = catalog.Resolve(filter);
  if (match.ok() && *match) add(*(*match)->image);
  return out;
}

grpc::Status ImageService::ListImages(grpc::ServerContext* /*context*/,
                                      const v1::ListImagesRequest* request,
                                      v1::ListImagesResponse* response) {
  Result<std::vector<v1::Image>> images = List(request->filter().image().image());
  if (!images.ok()) return ToGrpcStatus(images.error());
  for (v1::Image& image : *images)
    *response->add_images() = std::move(image);
  return grpc::Status::OK;
}

grpc::Status ImageService::StreamImages(grpc::ServerContext* context,
                                        const v1::StreamImagesRequest* request,
                                        grpc::ServerWriter<v1::StreamImagesResponse>* writer) {
  Result<std::vector<v1::Image>> images = List(request->filter().image().image());
  if (!images.ok()) return ToGrpcStatus(images.error());
  // One image per message, as CRI-O streams them (KEP-5825).
  for (v1::Image& image : *images) {
    if (context != nullptr && context->IsCancelled()) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "StreamImages: cancelled by the client");
    }
    v1::StreamImagesResponse message;
    *message.add_images() = std::move(image);
    if (!writer->Write(message)) break;  // the client went away
  }
  return grpc::Status::OK;
}

}  // namespace berth::cri

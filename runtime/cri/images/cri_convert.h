#pragma once
// CatalogImage -> runtime.v1.Image and the verbose status info, as
// containerd's CRI plugin fills them (toCRIImage, toCRIImageInfo).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/cri/images/catalog.h"
#include "runtime/cri/proto/api.pb.h"

namespace berth::cri {

// The image config's User as CRI reports it: the part before ':'; a
// numeric value (Go's strconv.ParseInt) is the uid, anything else the
// username; "" sets neither.
struct ImageUser {
  std::optional<int64_t> uid;
  std::string username;
};
ImageUser UserFromImage(std::string_view user);

void FillCriImage(const CatalogImage& image, bool pinned, ::runtime::v1::Image* out);

// ImageStatus's verbose info["info"]: {"chainID": ..., "imageSpec": the
// OCI image config (its image-spec fields, as containerd re-encodes it)}.
std::string VerboseInfo(const CatalogImage& image);

}  // namespace berth::cri

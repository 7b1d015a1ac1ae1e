#pragma once
// `berth image import`: images from a tarball, the way a machine without a
// registry gets them. Two formats, told apart by their content:
//  - an OCI image layout archive (oci-layout + index.json + blobs/), e.g.
//    `skopeo copy ... oci-archive:x.tar:tag` or `ctr image export`;
//  - a `docker save` archive (manifest.json + config + layer tars), e.g.
//    `skopeo copy ... docker-archive:x.tar:name:tag`.
// Every blob is verified as it enters the content store; an image record is
// written only once all its content is there.

#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/image/store/content_store.h"
#include "runtime/image/store/image_store.h"

namespace berth::image {

struct ImportOptions {
  // Names an image the archive names only by tag (OCI ref.name "v1") or not
  // at all: "<name>:<tag>", or "<name>" itself.
  std::string base_name;
};

// Returns the records written.
Result<std::vector<ImageRecord>> ImportArchive(const ContentStore& content,
                                               const ImageStore& images, const std::string& path,
                                               const ImportOptions& options);

// `berth image export`: an OCI image layout archive of `records` (only the
// content present; a docker manifest.json is not written).
Status ExportArchive(const ContentStore& content, const std::vector<ImageRecord>& records,
                     const std::string& path);

}  // namespace berth::image

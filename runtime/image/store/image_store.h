#pragma once
// Image records: a name ("docker.io/library/busybox:latest", or
// "<name>@sha256:..." for an image pulled by digest) pointing at a manifest
// or index in the content store. One JSON file per name under
// <root>/images/, written atomically; the name's SHA-256 is the file name.
// What images reference (blobs, snapshots) is computed from these records,
// so an image's removal is one unlink and prune is a mark-and-sweep.

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/image/manifest.h"

namespace berth::image {

struct ImageRecord {
  std::string name;
  Descriptor target;     // an index or a manifest
  std::string created;   // RFC 3339, when the record was written
  std::string platform;  // what the pull selected ("linux/amd64"); "" = host
};

class ImageStore {
 public:
  static Result<ImageStore> Open(const std::string& root);

  Status Put(const ImageRecord& record) const;
  // NotFound when there is no such image.
  Result<ImageRecord> Get(const std::string& name) const;
  Result<std::vector<ImageRecord>> List() const;
  // NotFound when there is no such image.
  Status Remove(const std::string& name) const;

 private:
  explicit ImageStore(std::string dir) : dir_(std::move(dir)) {}
  std::string PathFor(const std::string& name) const;
  std::string dir_;
};

}  // namespace berth::image

#pragma once
// Pulling an image: resolve the reference, fetch the index/manifest and the
// config, download the layers in parallel into the content store, unpack
// them into snapshots in order as they arrive, and record the image.
// Content already in the store is not downloaded again; two pulls of the
// same image (in one or two processes) download each blob once.

#include <cstdint>
#include <functional>
#include <string>

#include "common/error.h"
#include "runtime/image/image_root.h"
#include "runtime/image/reference.h"
#include "runtime/image/registry/client.h"

namespace berth::image {

// Receives progress; called from the download threads (synchronize).
class PullProgress {
 public:
  virtual ~PullProgress() = default;
  virtual void Resolved(const Reference& ref, const Descriptor& manifest) {}
  // `done` of `total` bytes of a layer (already present: done == total).
  virtual void Layer(const Descriptor& layer, uint64_t done, bool finished) {}
  virtual void Unpacked(const Descriptor& layer) {}
};

struct PullOptions {
  Platform platform = HostPlatform();
  registry::ClientOptions client;
  int parallel = 3;  // concurrent layer downloads
  bool unpack = true;
  PullProgress* progress = nullptr;
  // Asked between steps and as layer data arrives (from several threads):
  // true stops the pull with kCancelled. Nothing is recorded then, a blob
  // being written is dropped, and what completed stays for a later pull.
  std::function<bool()> cancelled;
};

Result<ImageRecord> Pull(ImageRoot& root, const Reference& ref, const PullOptions& options);

}  // namespace berth::image

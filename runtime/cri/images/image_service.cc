#include "runtime/cri/images/image_service.h"

#include <algorithm>

#include "common/log.h"

namespace berth::cri {

Result<std::unique_ptr<ImageService>> ImageService::Open(ImageServiceOptions options) {
  img::ImageRoot root = BERTH_TRY(img::ImageRoot::Open(options.root));
  auto service = std::make_unique<ImageService>(std::move(root), std::move(options));
  if (!service->options_.docker_config.empty()) {
    img::registry::DockerConfig config =
        BERTH_TRY(img::registry::DockerConfig::Load(service->options_.docker_config));
    service->docker_config_ =
        std::make_shared<const img::registry::DockerConfig>(std::move(config));
  }
  return service;
}

ImageService::ImageService(img::ImageRoot root, ImageServiceOptions options)
    : root_(std::move(root)),
      options_(std::move(options)),
      http_(std::make_shared<img::registry::HttpClient>()),
      usage_(root_.snapshots().root(), options_.fs_usage_ttl),
      gate_([this] { Collect(); }) {
  for (const std::string& p : options_.pinned_images) {
    Result<img::Reference> ref = NormalizeReference(p);
    pinned_.insert(ref.ok() ? ref->String() : p);
  }
}

ImageService::~ImageService() = default;

bool ImageService::Pinned(const CatalogImage& image) const {
  if (pinned_.empty()) return false;
  if (pinned_.count(image.id())) return true;
  for (const auto* names : {&image.repo_tags, &image.repo_digests}) {
    for (const std::string& n : *names) {
      if (pinned_.count(n)) return true;
    }
  }
  return false;
}

void ImageService::SetSnapshotsInUse(InUseFn in_use) {
  std::lock_guard<std::mutex> lock(in_use_mu_);
  in_use_ = std::move(in_use);
}

void ImageService::Collect() {
  InUseFn in_use_fn;
  {
    std::lock_guard<std::mutex> lock(in_use_mu_);
    in_use_fn = in_use_;
  }
  std::vector<img::Digest> in_use;
  if (in_use_fn) in_use = in_use_fn();
  Result<img::PruneReport> report = CollectGarbage(root_, in_use);
  usage_.Invalidate();
  if (!report.ok()) {
    BLOG(kWarn) << "image gc: " << report.error().str();
    return;
  }
  BLOG(kInfo) << "image gc: removed " << report->blobs.size() << " blobs and "
              << report->snapshots.size() << " snapshots, " << report->bytes << " bytes";
}

Result<std::optional<CatalogImage>> ImageService::Lookup(const std::string& image_ref) {
  Catalog catalog = BERTH_TRY(Load());
  std::optional<Match> match = BERTH_TRY(catalog.Resolve(image_ref));
  if (!match) return std::optional<CatalogImage>();
  return std::optional<CatalogImage>(*match->image);
}

Result<ResolvedImage> ImageService::ResolveForContainer(const std::string& image_ref) {
  GcGate::Hold hold = gate_.Enter();
  std::optional<CatalogImage> image = BERTH_TRY(Lookup(image_ref));
  if (!image) return Error(Errc::kNotFound, "image \"" + image_ref + "\" not found");
  const img::ImageRecord& record = image->records.front();
  img::Platform platform = BERTH_TRY(img::RecordPlatform(record));
  img::UnpackedImage unpacked =
      BERTH_TRY_CTX(root_.Unpack(record, platform), "unpack image " + image->id());
  ResolvedImage out;
  out.id = image->id();
  out.record = record;
  out.config = std::move(unpacked.config);
  out.chain_id = image->meta->chain_id;
  out.lower_dirs = std::move(unpacked.lower_dirs);
  out.repo_tags = image->repo_tags;
  out.repo_digests = image->repo_digests;
  return out;
}

}  // namespace berth::cri

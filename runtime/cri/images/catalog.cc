#include "runtime/cri/images/catalog.h"

#include <algorithm>

#include "common/log.h"
#include "runtime/image/content_walk.h"

namespace berth::cri {
namespace {

constexpr size_t kMinIdPrefix = 6;

bool IsLowerHex(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

void SortUnique(std::vector<std::string>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

// Adds `record`'s repo tag and repo digest to `image`.
void AddNames(const img::ImageRecord& record, CatalogImage* image) {
  Result<img::Reference> ref = img::Reference::Parse(record.name, "image record");
  if (!ref.ok()) return;  // not a reference: reachable by id only
  if (ref->digest) {
    image->repo_digests.push_back(ref->Name() + "@" + ref->digest->str());
    return;
  }
  image->repo_tags.push_back(ref->String());
  image->repo_digests.push_back(ref->Name() + "@" + record.target.digest.str());
}

}  // namespace

Result<img::Reference> NormalizeReference(std::string_view text) {
  img::Reference ref = BERTH_TRY(img::Reference::Parse(text, "image reference"));
  if (ref.digest) ref.tag.clear();
  return ref;
}

Result<ImageMeta> ReadImageMeta(const img::ContentStore& content, const img::ImageRecord& record) {
  img::Platform platform = BERTH_TRY(img::RecordPlatform(record));
  img::Descriptor m = BERTH_TRY(img::SelectStoredManifest(content, record.target, platform));
  img::Manifest manifest = BERTH_TRY(
      img::ParseManifest(BERTH_TRY(content.Read(m.digest)), "manifest " + m.digest.str()));
  ImageMeta meta;
  meta.id = manifest.config.digest.str();
  meta.manifest = m.digest;
  meta.config_json = BERTH_TRY(content.Read(manifest.config.digest));
  meta.config = BERTH_TRY(img::ParseImageConfig(meta.config_json, "config " + meta.id));
  std::vector<img::Digest> chain = img::ChainIds(meta.config.diff_ids);
  if (!chain.empty()) meta.chain_id = chain.back();
  // containerd: CalculateImageUsage limited to one manifest of the platform.
  int64_t size = m.size + manifest.config.size;
  if (!(record.target.digest == m.digest)) size += record.target.size;
  for (const img::Descriptor& layer : manifest.layers)
    size += layer.size;
  meta.size = static_cast<uint64_t>(std::max<int64_t>(size, 0));
  return meta;
}

std::string MetaCache::Key(const img::ImageRecord& record) {
  return record.target.digest.str() + "|" + record.platform;
}

Result<std::shared_ptr<const ImageMeta>> MetaCache::Get(const img::ContentStore& content,
                                                        const img::ImageRecord& record) {
  std::string key = Key(record);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) return it->second;
  }
  // Read outside the lock: two readers of one new image both compute the
  // same immutable result.
  auto meta = std::make_shared<const ImageMeta>(BERTH_TRY(ReadImageMeta(content, record)));
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.emplace(key, std::move(meta)).first->second;
}

void MetaCache::Retain(const std::set<std::string>& keys) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(entries_, [&](const auto& e) { return keys.count(e.first) == 0; });
}

Result<Catalog> LoadCatalog(const img::ImageRoot& root, MetaCache& cache) {
  std::vector<img::ImageRecord> records = BERTH_TRY(root.images().List());
  std::sort(records.begin(), records.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::map<std::string, CatalogImage> by_id;
  std::set<std::string> keys;
  for (img::ImageRecord& record : records) {
    Result<std::shared_ptr<const ImageMeta>> meta = cache.Get(root.content(), record);
    if (!meta.ok()) {
      // A removal racing with this listing, or content gone missing.
      BLOG(kWarn) << "image " << record.name << ": " << meta.error().str();
      continue;
    }
    keys.insert(MetaCache::Key(record));
    CatalogImage& image = by_id[(*meta)->id];
    if (!image.meta) image.meta = *meta;
    AddNames(record, &image);
    image.records.push_back(std::move(record));
  }
  cache.Retain(keys);
  std::vector<CatalogImage> images;
  images.reserve(by_id.size());
  for (auto& [id, image] : by_id) {
    SortUnique(&image.repo_tags);
    SortUnique(&image.repo_digests);
    images.push_back(std::move(image));
  }
  return Catalog(std::move(images));
}

std::optional<Match> Catalog::FindId(std::string_view query,
                                     std::optional<Error>* ambiguous) const {
  std::string_view hex = query;
  if (hex.substr(0, 7) == "sha256:") hex.remove_prefix(7);
  if (!IsLowerHex(hex) || hex.size() < kMinIdPrefix || hex.size() > 64) return std::nullopt;
  const CatalogImage* found = nullptr;
  for (const CatalogImage& image : images_) {
    std::string_view id = image.id();
    if (id.substr(0, 7) != "sha256:" || id.substr(7, hex.size()) != hex) continue;
    if (found) {
      *ambiguous = Error(Errc::kInvalidArgument,
                         "image id prefix \"" + std::string(query) + "\" matches several images");
      return std::nullopt;
    }
    found = &image;
  }
  if (!found) return std::nullopt;
  return Match{found, MatchKind::kId, {}};
}

Result<std::optional<Match>> Catalog::Resolve(std::string_view query) const {
  Result<img::Reference> ref = NormalizeReference(query);
  if (ref.ok()) {
    std::string name = ref->String();
    for (const CatalogImage& image : images_) {
      for (const img::ImageRecord& r : image.records) {
        if (r.name != name) continue;
        return std::optional<Match>(
            Match{&image, ref->digest ? MatchKind::kDigest : MatchKind::kTag, r.name});
      }
      if (ref->digest &&
          std::binary_search(image.repo_digests.begin(), image.repo_digests.end(), name)) {
        return std::optional<Match>(Match{&image, MatchKind::kDigest, {}});
      }
    }
  }
  std::optional<Error> ambiguous;
  std::optional<Match> by_id = FindId(query, &ambiguous);
  if (ambiguous) return std::move(*ambiguous);
  if (by_id) return by_id;
  bool looks_like_id = query.substr(0, 7) == "sha256:" || IsLowerHex(query);
  if (!ref.ok() && !looks_like_id) return std::move(ref).error();
  return std::optional<Match>();
}

}  // namespace berth::cri

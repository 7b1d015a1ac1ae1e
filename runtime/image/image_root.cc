#include "runtime/image/image_root.h"

#include <algorithm>
#include <set>

#include "common/file.h"
#include "runtime/image/content_walk.h"
#include "runtime/image/reference.h"
#include "runtime/image/unpack/apply.h"

namespace berth::image {

Result<ImageRoot> ImageRoot::Open(const std::string& root) {
  BERTH_TRY(MkdirAll(root, 0700));
  BERTH_TRY(MkdirAll(root + "/snapshots", 0700));
  ContentStore content = BERTH_TRY(ContentStore::Open(root + "/content"));
  ImageStore images = BERTH_TRY(ImageStore::Open(root));
  return ImageRoot(root, std::move(content), std::move(images));
}

Result<Platform> RecordPlatform(const ImageRecord& record) {
  if (record.platform.empty()) return HostPlatform();
  return ParsePlatform(record.platform, "image " + record.name + " platform");
}

Result<ImageRecord> ImageRoot::Find(const std::string& name) const {
  Result<Reference> ref = Reference::Parse(name);
  if (ref.ok()) {
    Result<ImageRecord> r = images_.Get(ref->String());
    if (r.ok() || r.error().code() != Errc::kNotFound) return r;
  }
  // By target digest, or a prefix of its hex as `ls` shows it.
  std::string hex = name.rfind("sha256:", 0) == 0 ? name.substr(7) : name;
  if (hex.size() >= 6 && hex.find_first_not_of("0123456789abcdef") == std::string::npos) {
    std::vector<ImageRecord> hits;
    for (ImageRecord& r : BERTH_TRY(images_.List())) {
      if (r.target.digest.hex().rfind(hex, 0) == 0) hits.push_back(std::move(r));
    }
    if (hits.size() == 1) return hits.front();
    if (hits.size() > 1) {
      return Error(Errc::kInvalidArgument,
                   "\"" + name + "\" matches " + std::to_string(hits.size()) + " images");
    }
  }
  if (!ref.ok()) return std::move(ref).error();
  return Error(Errc::kNotFound, "image \"" + name + "\" not found");
}

Result<UnpackedImage> ImageRoot::Unpack(const ImageRecord& record, const Platform& platform,
                                        const LayerReady& ready) {
  UnpackedImage out;
  out.record = record;
  out.manifest = BERTH_TRY(SelectStoredManifest(content_, record.target, platform));
  std::string what = "manifest " + out.manifest.digest.str();
  Manifest m = BERTH_TRY(ParseManifest(BERTH_TRY(content_.Read(out.manifest.digest)), what));
  out.config = BERTH_TRY(ParseImageConfig(BERTH_TRY(content_.Read(m.config.digest)),
                                          "config " + m.config.digest.str()));
  if (out.config.diff_ids.size() != m.layers.size()) {
    return Error(Errc::kInvalidArgument,
                 what + ": " + std::to_string(m.layers.size()) + " layers but the config lists " +
                     std::to_string(out.config.diff_ids.size()) + " diff_ids");
  }
  std::vector<Digest> chain = ChainIds(out.config.diff_ids);
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const Descriptor& layer = m.layers[i];
    if (ready) BERTH_TRY(ready(i));
    if (!content_.Has(layer.digest)) {
      return Error(Errc::kFailedPrecondition,
                   what + ": layer " + layer.digest.str() + " is not in the content store");
    }
    Digest parent = i == 0 ? Digest() : chain[i - 1];
    auto apply = [&](const std::string& dir, const std::vector<std::string>& lowers) -> Status {
      ApplyOptions opts;
      opts.lower_dirs = lowers;
      opts.layer_name = layer.digest.str();
      opts.expected_diff_id = out.config.diff_ids[i];
      Result<ApplyResult> applied = ApplyLayer(content_.BlobPath(layer.digest), dir, opts);
      if (!applied.ok()) return std::move(applied).error();
      return Ok();
    };
    BERTH_TRY(snapshots_.Ensure(chain[i], parent, apply));
  }
  if (!chain.empty()) out.lower_dirs = BERTH_TRY(snapshots_.LowerDirs(chain.back()));
  return out;
}

Result<PruneReport> ImageRoot::Prune() {
  std::set<Digest> blobs, snapshots;
  for (const ImageRecord& r : BERTH_TRY(images_.List())) {
    ImageContent walk = BERTH_TRY(WalkImage(content_, r.target));
    for (const auto* list : {&walk.documents, &walk.configs, &walk.layers, &walk.missing}) {
      for (const Descriptor& d : *list)
        blobs.insert(d.digest);
    }
    for (const Descriptor& c : walk.configs) {
      ImageConfig config = BERTH_TRY(
          ParseImageConfig(BERTH_TRY(content_.Read(c.digest)), "config " + c.digest.str()));
      for (const Digest& id : ChainIds(config.diff_ids))
        snapshots.insert(id);
    }
  }
  PruneReport report;
  BERTH_TRY(content_.CleanIngest());
  for (const Digest& d : BERTH_TRY(content_.List())) {
    if (blobs.count(d)) continue;
    report.bytes += static_cast<uint64_t>(content_.Size(d).value_or(0));
    BERTH_TRY(content_.Delete(d));
    report.blobs.push_back(d);
  }
  // Children before parents: a snapshot named as parent cannot go first.
  std::vector<SnapshotInfo> left;
  for (SnapshotInfo& s : BERTH_TRY(snapshots_.List())) {
    if (!snapshots.count(s.chain_id)) left.push_back(std::move(s));
  }
  while (!left.empty()) {
    size_t before = left.size();
    for (auto it = left.begin(); it != left.end();) {
      bool is_parent = std::any_of(left.begin(), left.end(),
                                   [&](const SnapshotInfo& o) { return o.parent == it->chain_id; });
      if (is_parent) {
        ++it;
        continue;
      }
      BERTH_TRY(snapshots_.Remove(it->chain_id));
      report.bytes += it->size;
      report.snapshots.push_back(it->chain_id);
      it = left.erase(it);
    }
    if (left.size() == before) {
      return Error(Errc::kFailedPrecondition,
                   "prune: snapshot " + left.front().chain_id.str() +
                       " is the parent of a snapshot an image still uses");
    }
  }
  return report;
}

}  // namespace berth::image

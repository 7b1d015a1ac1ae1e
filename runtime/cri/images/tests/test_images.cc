#include "runtime/cri/images/tests/test_images.h"

#include "common/file.h"
#include "common/json.h"
#include "common/time.h"

namespace berth::cri::testing {
namespace {

namespace bj = ::boost::json;

Result<img::Descriptor> PutJson(const img::ContentStore& content, std::string_view media_type,
                                const bj::value& doc) {
  std::string text = bj::serialize(doc);
  img::Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = img::Sha256Of(text);
  d.size = static_cast<int64_t>(text.size());
  BERTH_TRY(content.Put(d.digest, text));
  return d;
}

bj::object DescriptorJson(const img::Descriptor& d) {
  return bj::object{{"mediaType", d.media_type}, {"digest", d.digest.str()}, {"size", d.size}};
}

}  // namespace

Result<TestImage> AddImage(const img::ImageRoot& root, const std::string& seed, int layers_n,
                           bool index, const std::string& user) {
  const img::ContentStore& content = root.content();
  TestImage image;
  bj::array diff_ids, layers, history;
  for (int i = 0; i < layers_n; ++i) {
    std::string data = "layer " + std::to_string(i) + " of image " + seed;
    img::Descriptor layer;
    layer.media_type = std::string(img::media::kOciLayerGzip);
    layer.digest = img::Sha256Of(data);
    layer.size = static_cast<int64_t>(data.size());
    BERTH_TRY(content.Put(layer.digest, data));
    image.layers.push_back(layer);
    image.diff_ids.push_back(img::Sha256Of("diff " + data));
    diff_ids.push_back(bj::value(image.diff_ids.back().str()));
    layers.push_back(DescriptorJson(layer));
    history.push_back(bj::object{{"created_by", "layer " + std::to_string(i)}});
  }
  img::Platform host = img::HostPlatform();
  bj::object config_doc{{"architecture", host.architecture},
                        {"os", host.os},
                        {"created", "2024-01-02T03:04:05Z"},
                        {"config", bj::object{{"User", user}, {"Cmd", bj::array{"/bin/sh"}}}},
                        {"rootfs", bj::object{{"type", "layers"}, {"diff_ids", diff_ids}}},
                        {"history", history},
                        {"container_config", bj::object{{"Hostname", seed}}}};
  image.config = BERTH_TRY(PutJson(content, img::media::kOciConfig, config_doc));
  bj::object manifest_doc{{"schemaVersion", 2},
                          {"mediaType", img::media::kOciManifest},
                          {"config", DescriptorJson(image.config)},
                          {"layers", layers}};
  image.manifest = BERTH_TRY(PutJson(content, img::media::kOciManifest, manifest_doc));
  image.target = image.manifest;
  if (index) {
    bj::object entry = DescriptorJson(image.manifest);
    entry["platform"] = bj::object{{"architecture", host.architecture}, {"os", host.os}};
    if (!host.variant.empty()) entry["platform"].as_object()["variant"] = host.variant;
    bj::object index_doc{{"schemaVersion", 2},
                         {"mediaType", img::media::kOciIndex},
                         {"manifests", bj::array{entry}}};
    image.target = BERTH_TRY(PutJson(content, img::media::kOciIndex, index_doc));
  }
  return image;
}

Status Tag(const img::ImageRoot& root, const std::string& name, const img::Descriptor& target) {
  img::ImageRecord r;
  r.name = name;
  r.target = target;
  r.created = FormatRfc3339Nano(WallClockNow());
  r.platform = img::HostPlatform().String();
  return root.images().Put(r);
}

Status MakeSnapshots(img::ImageRoot& root, const TestImage& image) {
  std::vector<img::Digest> chain = img::ChainIds(image.diff_ids);
  for (size_t i = 0; i < chain.size(); ++i) {
    img::Digest parent = i == 0 ? img::Digest() : chain[i - 1];
    auto apply = [&](const std::string& dir, const std::vector<std::string>&) -> Status {
      return WriteFile(dir + "/file" + std::to_string(i), std::string(10000, 'x'));
    };
    BERTH_TRY(root.snapshots().Ensure(chain[i], parent, apply));
  }
  return Ok();
}

}  // namespace berth::cri::testing

// `berth image ls [-q] [--format table|json]` and `berth image inspect REF`.

#include <cstdio>

#include "cmd/image/cli.h"
#include "common/json.h"
#include "runtime/image/content_walk.h"

namespace berth::cli::image {
namespace {

// Bytes of the blobs an image has in the store.
uint64_t StoredSize(const img::ContentStore& content, const img::ImageRecord& r) {
  Result<img::ImageContent> walk = img::WalkImage(content, r.target);
  if (!walk.ok()) return 0;
  uint64_t total = 0;
  for (const auto* list : {&walk->documents, &walk->configs, &walk->layers}) {
    for (const img::Descriptor& d : *list)
      total += static_cast<uint64_t>(d.size);
  }
  return total;
}

}  // namespace

int List(Context& ctx, const Args& args) {
  bool quiet = false;
  std::string format = "table";
  FlagSet flags("ls");
  flags.Bool("quiet,q", &quiet, "only names");
  flags.String("format", &format, "table or json");
  Result<Args> pos = flags.Parse(args);
  if (!pos.ok()) return Fail("ls", pos.error());
  Result<img::ImageRoot> root = OpenRoot(ctx);
  if (!root.ok()) return Fail("ls", root.error());
  Result<std::vector<img::ImageRecord>> all = root->images().List();
  if (!all.ok()) return Fail("ls", all.error());
  if (format == "json") {
    json::bj::array out;
    for (const img::ImageRecord& r : *all) {
      out.push_back(json::bj::object{{"name", r.name},
                                     {"digest", r.target.digest.str()},
                                     {"mediaType", r.target.media_type},
                                     {"size", StoredSize(root->content(), r)},
                                     {"platform", r.platform},
                                     {"created", r.created}});
    }
    std::printf("%s\n", json::bj::serialize(out).c_str());
    return 0;
  }
  if (format != "table") {
    return Fail("ls", Error(Errc::kInvalidArgument,
                            "--format: want table or json, got \"" + format + "\""));
  }
  if (!quiet) std::printf("%-50s %-19s %-12s %s\n", "NAME", "DIGEST", "SIZE", "PLATFORM");
  for (const img::ImageRecord& r : *all) {
    if (quiet) {
      std::printf("%s\n", r.name.c_str());
      continue;
    }
    std::printf("%-50s %-19.19s %-12s %s\n", r.name.c_str(), r.target.digest.hex().c_str(),
                HumanSize(StoredSize(root->content(), r)).c_str(),
                r.platform.empty() ? "-" : r.platform.c_str());
  }
  return 0;
}

int Inspect(Context& ctx, const Args& args) {
  FlagSet flags("inspect");
  Result<Args> pos = flags.Parse(args);
  if (!pos.ok()) return Fail("inspect", pos.error());
  if (pos->size() != 1) {
    return Fail("inspect", Error(Errc::kInvalidArgument, "usage: berth image inspect REF"));
  }
  Result<img::ImageRoot> root = OpenRoot(ctx);
  if (!root.ok()) return Fail("inspect", root.error());
  auto inspect = [&]() -> Result<json::bj::object> {
    img::ImageRecord r = BERTH_TRY(root->Find(pos->front()));
    img::Platform platform = BERTH_TRY(img::RecordPlatform(r));
    img::Descriptor m = BERTH_TRY(img::SelectStoredManifest(root->content(), r.target, platform));
    std::string manifest_text = BERTH_TRY(root->content().Read(m.digest));
    img::Manifest manifest =
        BERTH_TRY(img::ParseManifest(manifest_text, "manifest " + m.digest.str()));
    std::string config_text = BERTH_TRY(root->content().Read(manifest.config.digest));
    json::bj::object out;
    out["name"] = r.name;
    out["target"] = json::bj::parse(img::DescriptorToJson(r.target));
    out["created"] = r.created;
    out["platform"] = r.platform;
    out["manifestDigest"] = m.digest.str();
    out["manifest"] = json::bj::parse(manifest_text);
    out["config"] = json::bj::parse(config_text);
    out["size"] = StoredSize(root->content(), r);
    return out;
  };
  Result<json::bj::object> out = inspect();
  if (!out.ok()) return Fail("inspect", out.error());
  std::printf("%s\n", json::bj::serialize(*out).c_str());
  return 0;
}

}  // namespace berth::cli::image

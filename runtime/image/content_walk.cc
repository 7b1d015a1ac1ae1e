#include "runtime/image/content_walk.h"

namespace berth::image {
namespace {

Status Walk(const ContentStore& store, const Descriptor& d, bool from_index, ImageContent& out,
            int depth) {
  if (depth > 4)
    return Error(Errc::kInvalidArgument, "index " + d.digest.str() + ": nested too deeply");
  if (!store.Has(d.digest)) {
    if (!from_index) out.missing.push_back(d);
    return Ok();
  }
  if (media::IsIndex(d.media_type)) {
    out.documents.push_back(d);
    Index idx = BERTH_TRY(ParseIndex(BERTH_TRY(store.Read(d.digest)), "index " + d.digest.str()));
    for (const Descriptor& m : idx.manifests)
      BERTH_TRY(Walk(store, m, true, out, depth + 1));
    return Ok();
  }
  if (media::IsManifest(d.media_type)) {
    out.documents.push_back(d);
    Manifest m =
        BERTH_TRY(ParseManifest(BERTH_TRY(store.Read(d.digest)), "manifest " + d.digest.str()));
    (store.Has(m.config.digest) ? out.configs : out.missing).push_back(m.config);
    for (const Descriptor& l : m.layers)
      (store.Has(l.digest) ? out.layers : out.missing).push_back(l);
    return Ok();
  }
  return Error(Errc::kInvalidArgument, "descriptor " + d.digest.str() +
                                           ": unsupported media type \"" + d.media_type + "\"");
}

}  // namespace

Result<ImageContent> WalkImage(const ContentStore& store, const Descriptor& target) {
  ImageContent out;
  BERTH_TRY(Walk(store, target, false, out, 0));
  return out;
}

Result<Descriptor> SelectStoredManifest(const ContentStore& store, const Descriptor& target,
                                        const Platform& platform) {
  if (media::IsManifest(target.media_type)) return target;
  if (!media::IsIndex(target.media_type)) {
    return Error(Errc::kInvalidArgument, "descriptor " + target.digest.str() +
                                             ": unsupported media type \"" + target.media_type +
                                             "\"");
  }
  Index idx =
      BERTH_TRY(ParseIndex(BERTH_TRY(store.Read(target.digest)), "index " + target.digest.str()));
  std::string seen;
  for (const Descriptor& m : idx.manifests) {
    Platform p = m.platform.value_or(Platform{});
    if (!seen.empty()) seen += ", ";
    seen += p.String();
    if (m.platform && PlatformMatches(platform, p) && store.Has(m.digest)) {
      if (media::IsIndex(m.media_type)) return SelectStoredManifest(store, m, platform);
      return m;
    }
  }
  return Error(Errc::kNotFound, "index " + target.digest.str() + " has no stored manifest for " +
                                    platform.String() + " (it lists " + seen + ")");
}

}  // namespace berth::image

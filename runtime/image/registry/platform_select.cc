#include "runtime/image/registry/platform_select.h"

#include "common/strings.h"

namespace berth::image::registry {
namespace {

std::string NormalVariant(const Platform& p) {
  if (p.architecture == "arm64" && p.variant.empty()) return "v8";
  return p.variant;
}

// Lower is better.
int Rank(const Platform& want, const Platform& have) {
  if (NormalVariant(want) == NormalVariant(have)) return 0;
  // arm: v7 beats v6 beats v5 (all run on a v7 host); "" ranks last.
  if (have.variant.size() == 2 && have.variant[0] == 'v') return 10 - (have.variant[1] - '0');
  return 20;
}

}  // namespace

Result<Descriptor> SelectManifest(const Index& index, const Platform& want, std::string_view what) {
  const Descriptor* best = nullptr;
  int best_rank = 0;
  std::vector<std::string> available;
  for (const Descriptor& d : index.manifests) {
    if (!d.platform || !media::IsManifest(d.media_type)) continue;
    available.push_back(d.platform->String());
    if (!PlatformMatches(want, *d.platform)) continue;
    int rank = Rank(want, *d.platform);
    if (best == nullptr || rank < best_rank) {
      best = &d;
      best_rank = rank;
    }
  }
  if (best != nullptr) return *best;
  return Error(Errc::kNotFound,
               std::string(what) + ": no manifest for platform " + want.String() +
                   (available.empty() ? std::string(" (the index lists no platforms)")
                                      : "; available: " + Join(available, ", ")));
}

}  // namespace berth::image::registry

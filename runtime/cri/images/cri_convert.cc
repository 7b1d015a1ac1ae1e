#include "runtime/cri/images/cri_convert.h"

#include <array>
#include <charconv>

#include "common/json.h"

namespace berth::cri {
namespace {

// The members of image-spec's Image (config.md) that containerd's
// imagespec.Image struct carries; others (Docker's container_config...)
// are dropped by its JSON round trip, so they are here too.
constexpr std::array<std::string_view, 10> kImageSpecKeys = {
    "created",    "author",      "architecture", "variant", "os",
    "os.version", "os.features", "config",       "rootfs",  "history"};

}  // namespace

ImageUser UserFromImage(std::string_view user) {
  ImageUser out;
  user = user.substr(0, user.find(':'));
  if (user.empty()) return out;
  std::string_view digits = user;
  // Go's strconv.ParseInt takes one leading sign; from_chars only '-'.
  if (digits.size() > 1 && digits.front() == '+') digits.remove_prefix(1);
  int64_t uid = 0;
  const char* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, uid);
  if (ec == std::errc() && ptr == end) {
    out.uid = uid;
  } else {
    out.username = std::string(user);
  }
  return out;
}

void FillCriImage(const CatalogImage& image, bool pinned, ::runtime::v1::Image* out) {
  out->set_id(image.id());
  for (const std::string& t : image.repo_tags)
    out->add_repo_tags(t);
  for (const std::string& d : image.repo_digests)
    out->add_repo_digests(d);
  out->set_size(image.meta->size);
  ImageUser user = UserFromImage(image.meta->config.user);
  if (user.uid) out->mutable_uid()->set_value(*user.uid);
  out->set_username(user.username);
  out->mutable_spec()->set_image(image.id());
  out->set_pinned(pinned);
}

std::string VerboseInfo(const CatalogImage& image) {
  json::bj::object spec;
  Result<json::bj::value> config = json::Parse(image.meta->config_json, "config " + image.id());
  if (config.ok() && config->is_object()) {
    for (std::string_view key : kImageSpecKeys) {
      if (const json::bj::value* v = config->as_object().if_contains(key)) spec[key] = *v;
    }
  }
  json::bj::object info;
  info["chainID"] = image.meta->chain_id.empty() ? "" : image.meta->chain_id.str();
  info["imageSpec"] = std::move(spec);
  return json::bj::serialize(info);
}

}  // namespace berth::cri

#include "cni/client/cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/file.h"
#include "common/json.h"
#include "common/log.h"

namespace berth::cni {

namespace {

constexpr std::string_view kKind = "cniCacheV1";
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  size_t pos = kAlphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

Result<CniArgs> DecodeArgs(const json::Field& field) {
  CniArgs args;
  for (const json::Field& pair : BERTH_TRY(field.Items())) {
    std::vector<std::string> kv = BERTH_TRY(pair.StringArray());
    if (kv.size() != 2) return pair.Invalid("expected a [key, value] pair");
    args.emplace_back(kv[0], kv[1]);
  }
  return args;
}

Result<bj::object> OptObject(const json::Field& field) {
  if (!field.present()) return bj::object();
  if (!field.raw()->is_object()) return field.TypeError("object");
  return field.raw()->get_object();
}

}  // namespace

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  for (size_t i = 0; i < data.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(data[i]) << 16;
    if (i + 1 < data.size()) n |= static_cast<uint8_t>(data[i + 1]) << 8;
    if (i + 2 < data.size()) n |= static_cast<uint8_t>(data[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < data.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  auto bad = [] { return Error(Errc::kInvalidArgument, "invalid base64"); };
  if (text.size() % 4 != 0) return bad();
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = text[i + j];
      bool last_group = i + 4 == text.size();
      if (c == '=' && last_group && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return bad();  // data after padding
      v[j] = Base64Value(c);
      if (v[j] < 0) return bad();
    }
    uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>((n >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

std::string EncodeCacheEntry(const CacheEntry& e) {
  bj::object doc{{"kind", kKind},
                 {"containerId", e.container_id},
                 {"config", Base64Encode(e.config)},
                 {"ifName", e.ifname},
                 {"networkName", e.network_name}};
  if (!e.netns.empty()) doc["netns"] = e.netns;
  if (!e.cni_args.empty()) {
    bj::array args;
    for (const auto& [k, v] : e.cni_args)
      args.emplace_back(bj::array{bj::string(k), bj::string(v)});
    doc["cniArgs"] = std::move(args);
  }
  if (!e.capability_args.empty()) doc["capabilityArgs"] = e.capability_args;
  if (e.result) doc["result"] = *e.result;
  return bj::serialize(doc);
}

Result<CacheEntry> DecodeCacheEntry(std::string_view text, std::string_view what) {
  std::string ctx = "CNI cache entry `" + std::string(what) + "`";
  bj::value doc = BERTH_TRY(json::Parse(text, ctx));
  json::Field root(&doc, "");
  auto decode = [&]() -> Result<CacheEntry> {
    BERTH_TRY(root.ExpectObject());
    std::string kind = BERTH_TRY(root["kind"].String());
    if (kind != kKind) return root["kind"].Invalid("unknown kind \"" + kind + "\"");
    CacheEntry e;
    e.container_id = BERTH_TRY(root["containerId"].String());
    e.ifname = BERTH_TRY(root["ifName"].String());
    e.network_name = BERTH_TRY(root["networkName"].String());
    e.netns = BERTH_TRY(root["netns"].OptString()).value_or("");
    std::string config64 = BERTH_TRY(root["config"].String());
    Result<std::string> config = Base64Decode(config64);
    if (!config.ok()) return root["config"].Invalid(config.error().message());
    e.config = std::move(*config);
    e.cni_args = BERTH_TRY(DecodeArgs(root["cniArgs"]));
    e.capability_args = BERTH_TRY(OptObject(root["capabilityArgs"]));
    if (root["result"].present()) e.result = BERTH_TRY(OptObject(root["result"]));
    return e;
  };
  return BERTH_TRY_CTX(decode(), ctx);
}

std::string ResultCache::PathFor(std::string_view network, std::string_view container_id,
                                 std::string_view ifname) const {
  return PathJoin(
      dir_, std::string(network) + "-" + std::string(container_id) + "-" + std::string(ifname));
}

Status ResultCache::Put(const CacheEntry& entry) const {
  BERTH_TRY(MkdirAll(dir_, 0700));
  return WriteFileAtomic(PathFor(entry.network_name, entry.container_id, entry.ifname),
                         EncodeCacheEntry(entry), 0600, Durability::kPowerLoss);
}

Result<std::optional<CacheEntry>> ResultCache::Get(std::string_view network,
                                                   std::string_view container_id,
                                                   std::string_view ifname) const {
  std::string path = PathFor(network, container_id, ifname);
  if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) return std::optional<CacheEntry>();
  std::string text = BERTH_TRY(ReadFile(path));
  CacheEntry entry = BERTH_TRY(DecodeCacheEntry(text, path));
  return std::optional<CacheEntry>(std::move(entry));
}

Result<std::vector<CacheEntry>> ResultCache::Find(std::string_view container_id,
                                                  std::string_view ifname) const {
  std::vector<CacheEntry> out;
  if (::access(dir_.c_str(), F_OK) != 0 && errno == ENOENT) return out;
  std::vector<std::string> names = BERTH_TRY(ListDir(dir_));
  std::sort(names.begin(), names.end());
  std::string suffix = "-" + std::string(container_id) + "-" + std::string(ifname);
  for (const std::string& name : names) {
    if (name.empty() || name[0] == '.' || name.size() <= suffix.size() ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    std::string path = PathJoin(dir_, name);
    Result<std::string> text = ReadFile(path);
    Result<CacheEntry> entry =
        text.ok() ? DecodeCacheEntry(*text, path) : Result<CacheEntry>(text.error());
    if (!entry.ok()) {
      BLOG(kWarn) << "ignoring CNI cache entry: " << entry.error().str();
      continue;
    }
    if (entry->container_id == container_id && entry->ifname == ifname &&
        name == entry->network_name + suffix) {
      out.push_back(std::move(*entry));
    }
  }
  return out;
}

Status ResultCache::Remove(std::string_view network, std::string_view container_id,
                           std::string_view ifname) const {
  std::string path = PathFor(network, container_id, ifname);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Error::Sys("unlink", path);
  return Ok();
}

}  // namespace berth::cni

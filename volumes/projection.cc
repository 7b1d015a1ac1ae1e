#include "volumes/projection.h"

#include <string>
#include <vector>

#include "common/base64.h"
#include "common/file.h"
#include "volumes/field_ref.h"

namespace berth::volumes {
namespace {

namespace bj = boost::json;
using json::Field;

constexpr mode_t kDefaultMode = 0644;
constexpr int64_t kDefaultTokenExpirationSeconds = 3600;

const bj::object* ObjectAt(const bj::object* obj, std::string_view key) {
  if (obj == nullptr) return nullptr;
  const bj::value* v = obj->if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

std::string StringAt(const bj::object* obj, std::string_view key) {
  if (obj == nullptr) return {};
  const bj::value* v = obj->if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// defaultMode / mode: 0 to 0777, as the apiserver validates them.
Result<mode_t> ReadMode(const Field& f, mode_t fallback) {
  std::optional<int32_t> mode = BERTH_TRY(f.OptInt<int32_t>());
  if (!mode) return fallback;
  if (*mode < 0 || *mode > 0777) {
    return f.Invalid("must be a number between 0 and 0777 (octal), both inclusive");
  }
  return static_cast<mode_t>(*mode);
}

struct KeyToPath {
  std::string key;
  std::string path;
  std::optional<mode_t> mode;
};

Result<std::vector<KeyToPath>> ReadItems(const Field& items) {
  std::vector<KeyToPath> out;
  for (const Field& item : BERTH_TRY(items.Items())) {
    KeyToPath ktp{.key = BERTH_TRY(item["key"].String()),
                  .path = BERTH_TRY(item["path"].String()),
                  .mode = std::nullopt};
    if (item["mode"].present()) ktp.mode = BERTH_TRY(ReadMode(item["mode"], 0));
    out.push_back(std::move(ktp));
  }
  return out;
}

// The string-valued members of `obj[key]` (ConfigMap data), or their
// base64-decoded bytes (Secret data, ConfigMap binaryData).
Result<std::map<std::string, std::string>> DataMap(const bj::object& obj, std::string_view key,
                                                   bool base64, std::string_view what) {
  std::map<std::string, std::string> out;
  const bj::value* v = obj.if_contains(key);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_object()) {
    return Error(Errc::kInvalidArgument, std::string(what) + "." + std::string(key) +
                                             ": expected object, got " + json::KindName(*v));
  }
  for (const auto& [name, value] : v->get_object()) {
    if (!value.is_string()) {
      return Error(Errc::kInvalidArgument, std::string(what) + "." + std::string(key) + "." +
                                               std::string(name) + ": expected string");
    }
    std::string text(value.get_string());
    if (base64) {
      std::optional<std::string> decoded = Base64Decode(text);
      if (!decoded) {
        return Error(Errc::kInvalidArgument, std::string(what) + "." + std::string(key) + "." +
                                                 std::string(name) + ": invalid base64");
      }
      text = std::move(*decoded);
    }
    out.emplace(std::string(name), std::move(text));
  }
  return out;
}

// Files for the keys of `data`: every key under its own name with
// `default_mode` when there are no items, else the items' keys at their
// paths. A missing item key is skipped when the source is optional and
// `missing_key(key)` otherwise.
template <class MissingKey>
Result<Payload> KeysToFiles(const std::map<std::string, std::string>& data,
                            const std::vector<KeyToPath>& items, mode_t default_mode, bool optional,
                            MissingKey missing_key) {
  Payload payload;
  if (items.empty()) {
    for (const auto& [key, value] : data)
      payload[key] = FileProjection{.data = value, .mode = default_mode, .fs_user = std::nullopt};
    return payload;
  }
  for (const KeyToPath& item : items) {
    auto it = data.find(item.key);
    if (it == data.end()) {
      if (optional) continue;
      return missing_key(item.key);
    }
    payload[item.path] = FileProjection{
        .data = it->second, .mode = item.mode.value_or(default_mode), .fs_user = std::nullopt};
  }
  return payload;
}

// One error as itself, several as upstream's aggregate prints them.
Error Aggregate(std::vector<Error> errors) {
  if (errors.size() == 1) return std::move(errors.front());
  std::string text = "[";
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i > 0) text += ", ";
    text += errors[i].str();
  }
  return Error(errors.front().code(), text + "]");
}

void Merge(Payload& into, Payload&& from) {
  for (auto& [path, file] : from)
    into[path] = std::move(file);
}

// The object a Source function returned, an empty one for a missing
// optional source, or the error a FailedMount event shows.
Result<bj::object> Fetch(
    const std::function<Result<bj::object>(const std::string&, const std::string&)>& source,
    std::string_view kind, const std::string& ns, const std::string& name, bool optional) {
  if (!source) return Error(Errc::kUnimplemented, "no source of " + std::string(kind) + "s");
  Result<bj::object> object = source(ns, name);
  if (object.ok()) return object;
  if (object.error().code() != Errc::kNotFound) return std::move(object).error();
  if (optional) return bj::object();
  return Error(Errc::kNotFound, std::string(kind) + " \"" + name + "\" not found");
}

}  // namespace

Projector::Projector(const Sources& sources, TokenCache& tokens, const bj::object& pod,
                     std::optional<uid_t> fs_user, std::optional<gid_t> fs_group)
    : sources_(sources), tokens_(tokens), pod_(pod), fs_user_(fs_user), fs_group_(fs_group) {}

Result<Payload> Projector::ConfigMapPayload(const Field& source, const std::string& name,
                                            mode_t default_mode) {
  bool optional = BERTH_TRY(source["optional"].Bool(false));
  std::vector<KeyToPath> items = BERTH_TRY(ReadItems(source["items"]));
  std::string ns = StringAt(ObjectAt(&pod_, "metadata"), "namespace");
  bj::object config_map = BERTH_TRY(Fetch(sources_.config_map, "configmap", ns, name, optional));
  std::map<std::string, std::string> data =
      BERTH_TRY(DataMap(config_map, "data", false, "configmap " + name));
  for (auto& [key, value] : BERTH_TRY(DataMap(config_map, "binaryData", true, "configmap " + name)))
    data.emplace(key, std::move(value));
  return KeysToFiles(data, items, default_mode, optional, [](const std::string& key) {
    return Error(Errc::kNotFound, "configmap references non-existent config key: " + key);
  });
}

Result<Payload> Projector::SecretPayload(const Field& source, const std::string& name,
                                         mode_t default_mode) {
  bool optional = BERTH_TRY(source["optional"].Bool(false));
  std::vector<KeyToPath> items = BERTH_TRY(ReadItems(source["items"]));
  std::string ns = StringAt(ObjectAt(&pod_, "metadata"), "namespace");
  bj::object secret = BERTH_TRY(Fetch(sources_.secret, "secret", ns, name, optional));
  std::map<std::string, std::string> data =
      BERTH_TRY(DataMap(secret, "data", true, "secret " + name));
  return KeysToFiles(data, items, default_mode, optional, [](const std::string& key) {
    return Error(Errc::kNotFound, "references non-existent secret key: " + key);
  });
}

Result<std::string> Projector::ResourceValue(const Field& ref) {
  std::string container_name = BERTH_TRY(ref["containerName"].String());
  std::string resource = BERTH_TRY(ref["resource"].String());
  std::string divisor;
  if (const bj::value* d = ref["divisor"].raw(); d != nullptr && !d->is_null()) {
    divisor = d->is_string() ? std::string(d->get_string()) : bj::serialize(*d);
  }
  const bj::object* spec = ObjectAt(&pod_, "spec");
  for (std::string_view list : {"containers", "initContainers"}) {
    const bj::value* containers = spec != nullptr ? spec->if_contains(list) : nullptr;
    if (containers == nullptr || !containers->is_array()) continue;
    for (const bj::value& c : containers->get_array()) {
      if (c.is_object() && StringAt(&c.get_object(), "name") == container_name) {
        return ResourceFieldValue(c.get_object(), resource, divisor, sources_.node);
      }
    }
  }
  return Error(Errc::kInvalidArgument, "container " + container_name + " not found");
}

Result<Payload> Projector::DownwardApiPayload(const Field& items, mode_t default_mode) {
  Payload payload;
  std::vector<Error> errors;
  for (const Field& item : BERTH_TRY(items.Items())) {
    std::string path = BERTH_TRY(item["path"].String());
    FileProjection file;
    file.mode = BERTH_TRY(ReadMode(item["mode"], default_mode));
    Result<std::string> value = Error(Errc::kInvalidArgument, item.path() +
                                                                  ": needs fieldRef or "
                                                                  "resourceFieldRef");
    if (item["fieldRef"].present()) {
      std::string field_path = BERTH_TRY(item["fieldRef"]["fieldPath"].String());
      value = PodFieldValue(pod_, field_path);
    } else if (item["resourceFieldRef"].present()) {
      value = ResourceValue(item["resourceFieldRef"]);
    }
    if (value.ok()) {
      file.data = std::move(value).value();
    } else {
      errors.push_back(std::move(value).error());
    }
    payload[CleanPath(path)] = std::move(file);
  }
  if (!errors.empty()) return Aggregate(std::move(errors));
  return payload;
}

Result<Payload> Projector::TokenPayload(const Field& source, mode_t default_mode) {
  const bj::object* metadata = ObjectAt(&pod_, "metadata");
  TokenKey key{
      .ns = StringAt(metadata, "namespace"),
      .service_account = StringAt(ObjectAt(&pod_, "spec"), "serviceAccountName"),
      .audience = BERTH_TRY(source["audience"].OptString()).value_or(""),
      .expiration_seconds = BERTH_TRY(source["expirationSeconds"].OptInt<int64_t>())
                                .value_or(kDefaultTokenExpirationSeconds),
      .pod_name = StringAt(metadata, "name"),
      .pod_uid = StringAt(metadata, "uid"),
  };
  if (key.service_account.empty()) key.service_account = "default";
  std::string path = BERTH_TRY(source["path"].String());
  std::string token = BERTH_TRY(tokens_.Get(key, sources_.token));
  // With an fsUser or fsGroup the token is 0600 and ownership (0640 with
  // the group) opens it to the pod's user.
  mode_t mode = fs_user_ || fs_group_ ? 0600 : default_mode;
  Payload payload;
  payload[path] = FileProjection{.data = std::move(token), .mode = mode, .fs_user = fs_user_};
  return payload;
}

Result<Payload> Projector::ConfigMap(const Field& source) {
  mode_t mode = BERTH_TRY(ReadMode(source["defaultMode"], kDefaultMode));
  return ConfigMapPayload(source, BERTH_TRY(source["name"].String()), mode);
}

Result<Payload> Projector::Secret(const Field& source) {
  mode_t mode = BERTH_TRY(ReadMode(source["defaultMode"], kDefaultMode));
  return SecretPayload(source, BERTH_TRY(source["secretName"].String()), mode);
}

Result<Payload> Projector::DownwardApi(const Field& source) {
  mode_t mode = BERTH_TRY(ReadMode(source["defaultMode"], kDefaultMode));
  return DownwardApiPayload(source["items"], mode);
}

Result<Payload> Projector::Projected(const Field& source) {
  mode_t mode = BERTH_TRY(ReadMode(source["defaultMode"], kDefaultMode));
  Payload payload;
  std::vector<Error> errors;
  for (const Field& projection : BERTH_TRY(source["sources"].Items())) {
    Result<Payload> part = Error(Errc::kInvalidArgument, projection.path() + ": no source");
    if (projection["configMap"].present()) {
      Field cm = projection["configMap"];
      part = ConfigMapPayload(cm, BERTH_TRY(cm["name"].String()), mode);
    } else if (projection["secret"].present()) {
      Field secret = projection["secret"];
      part = SecretPayload(secret, BERTH_TRY(secret["name"].String()), mode);
    } else if (projection["downwardAPI"].present()) {
      part = DownwardApiPayload(projection["downwardAPI"]["items"], mode);
    } else if (projection["serviceAccountToken"].present()) {
      part = TokenPayload(projection["serviceAccountToken"], mode);
    } else {
      for (std::string_view kind : {"clusterTrustBundle", "podCertificate"}) {
        if (projection[kind].present()) {
          part = Error(Errc::kUnimplemented,
                       "projected " + std::string(kind) + " sources are not supported by berth");
        }
      }
    }
    if (part.ok()) {
      Merge(payload, std::move(part).value());
    } else {
      errors.push_back(std::move(part).error());
    }
  }
  if (!errors.empty()) return Aggregate(std::move(errors));
  return payload;
}

}  // namespace berth::volumes

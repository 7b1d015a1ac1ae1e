#include "volumes/field_ref.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

#include "common/quantity.h"
#include "common/strings.h"

namespace berth::volumes {
namespace {

namespace bj = boost::json;

const bj::object* ObjectAt(const bj::object& obj, std::string_view key) {
  const bj::value* v = obj.if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

std::string StringAt(const bj::object* obj, std::string_view key) {
  if (obj == nullptr) return {};
  const bj::value* v = obj->if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->get_string());
}

// The "ip" members of a status.podIPs / status.hostIPs list; when the list
// is absent, the single field (status.podIP / status.hostIP).
std::vector<std::string> IpList(const bj::object& pod, std::string_view list_key,
                                std::string_view single_key) {
  std::vector<std::string> ips;
  const bj::object* status = ObjectAt(pod, "status");
  if (status == nullptr) return ips;
  if (const bj::value* list = status->if_contains(list_key); list != nullptr && list->is_array()) {
    for (const bj::value& item : list->get_array()) {
      if (const bj::object* o = item.if_object()) {
        std::string ip = StringAt(o, "ip");
        if (!ip.empty()) ips.push_back(std::move(ip));
      }
    }
  }
  if (ips.empty()) {
    std::string ip = StringAt(status, single_key);
    if (!ip.empty()) ips.push_back(std::move(ip));
  }
  return ips;
}

std::string JoinComma(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

// A UTF-8 sequence at s[i]: its code point and length, or length 0 when the
// bytes are not valid UTF-8.
std::pair<char32_t, size_t> DecodeUtf8(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = byte(i);
  size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
  if (len == 0 || i + len > s.size()) return {0, 0};
  if (len == 1) return {b, 1};
  char32_t cp = b & (0x7f >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return {0, 0};
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return {0, 0};
  return {cp, len};
}

// Go's strconv.Quote (what fmt's %q prints for a string). Non-ASCII code
// points count as printable except the C1 controls; Go's unicode tables
// are finer, which matters only for exotic label values.
std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    auto [cp, len] = DecodeUtf8(s, i);
    if (len == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(s[i]));
      out += buf;
      ++i;
      continue;
    }
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (cp < 0x20 || cp == 0x7f) {
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
          out += buf;
        } else if (cp >= 0x80 && cp < 0xa0) {
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
          out += buf;
        } else {
          out.append(s.substr(i, len));
        }
    }
    i += len;
  }
  out += '"';
  return out;
}

bool IsAlnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

// The name part of a qualified name: 1-63 of [-A-Za-z0-9_.], alphanumeric
// at both ends.
bool IsQualifiedNamePart(std::string_view name) {
  if (name.empty() || name.size() > 63 || !IsAlnum(name.front()) || !IsAlnum(name.back()))
    return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

// A DNS-1123 subdomain: lowercase labels of [a-z0-9-] joined by dots.
bool IsDnsSubdomain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_alnum(name.front()) || !lower_alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return lower_alnum(c) || c == '-' || c == '.'; });
}

// apimachinery's IsQualifiedName: [prefix/]name.
bool IsQualifiedName(std::string_view key) {
  size_t slash = key.find('/');
  if (slash == std::string_view::npos) return IsQualifiedNamePart(key);
  return IsDnsSubdomain(key.substr(0, slash)) && IsQualifiedNamePart(key.substr(slash + 1));
}

// "metadata.labels['k']" -> ("metadata.labels", "k"), as upstream's
// SplitMaybeSubscriptedPath.
bool SplitSubscript(std::string_view path, std::string_view& base, std::string_view& key) {
  if (path.size() < 2 || path.substr(path.size() - 2) != "']") return false;
  std::string_view s = path.substr(0, path.size() - 2);
  size_t open = s.find("['");
  if (open == std::string_view::npos || open == 0) return false;
  base = s.substr(0, open);
  key = s.substr(open + 2);
  return true;
}

Error Unsupported(std::string_view field_path) {
  return Error(Errc::kInvalidArgument, "unsupported fieldPath: " + std::string(field_path));
}

Result<std::string> SubscriptedValue(const bj::object& pod, std::string_view field_path,
                                     std::string_view base, std::string_view key) {
  std::string_view map_name;
  std::string checked(key);
  if (base == "metadata.labels") {
    map_name = "labels";
  } else if (base == "metadata.annotations") {
    map_name = "annotations";
    // Annotation keys are checked case-insensitively upstream.
    std::transform(checked.begin(), checked.end(), checked.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  } else {
    return Error(Errc::kInvalidArgument,
                 "fieldPath \"" + std::string(field_path) + "\" does not support subscript");
  }
  if (!IsQualifiedName(checked)) {
    return Error(Errc::kInvalidArgument, "invalid key subscript in " + std::string(field_path) +
                                             ": \"" + std::string(key) +
                                             "\" is not a qualified name");
  }
  const bj::object* metadata = ObjectAt(pod, "metadata");
  return StringAt(metadata != nullptr ? ObjectAt(*metadata, map_name) : nullptr, key);
}

// A resources.limits / resources.requests entry, in milli units for cpu and
// whole units otherwise; nullopt when unset.
Result<std::optional<int64_t>> ContainerQuantity(const bj::object& container, std::string_view list,
                                                 std::string_view name, bool milli) {
  const bj::object* resources = ObjectAt(container, "resources");
  const bj::object* entries = resources != nullptr ? ObjectAt(*resources, list) : nullptr;
  const bj::value* v = entries != nullptr ? entries->if_contains(name) : nullptr;
  if (v == nullptr || v->is_null()) return std::optional<int64_t>();
  std::string text = v->is_string() ? std::string(v->get_string()) : bj::serialize(*v);
  Result<int64_t> q = ParseQuantity(text, milli);
  if (!q.ok()) {
    return Error(Errc::kInvalidArgument, "resources." + std::string(list) + "." +
                                             std::string(name) + ": " + q.error().message());
  }
  return std::optional<int64_t>(*q);
}

int64_t CeilDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) == (b < 0))) ? q + 1 : q;
}

}  // namespace

std::string FormatStringMap(const bj::object& map) {
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& [key, value] : map) {
    entries.emplace_back(std::string(key),
                         value.is_string() ? std::string(value.get_string()) : std::string());
  }
  std::sort(entries.begin(), entries.end());
  std::string out;
  for (const auto& [key, value] : entries) {
    if (!out.empty()) out += '\n';
    out += key + "=" + GoQuote(value);
  }
  return out;
}

Result<std::string> PodFieldValue(const bj::object& pod, std::string_view field_path) {
  std::string_view base;
  std::string_view key;
  if (SplitSubscript(field_path, base, key)) return SubscriptedValue(pod, field_path, base, key);

  const bj::object* metadata = ObjectAt(pod, "metadata");
  const bj::object* spec = ObjectAt(pod, "spec");
  if (field_path == "metadata.name") return StringAt(metadata, "name");
  if (field_path == "metadata.namespace") return StringAt(metadata, "namespace");
  if (field_path == "metadata.uid") return StringAt(metadata, "uid");
  if (field_path == "metadata.labels" || field_path == "metadata.annotations") {
    const bj::object* map = metadata != nullptr
                                ? ObjectAt(*metadata, field_path.substr(sizeof("metadata.") - 1))
                                : nullptr;
    return map != nullptr ? FormatStringMap(*map) : std::string();
  }
  if (field_path == "spec.nodeName") return StringAt(spec, "nodeName");
  if (field_path == "spec.serviceAccountName") return StringAt(spec, "serviceAccountName");
  if (field_path == "status.hostIP" || field_path == "status.podIP") {
    std::vector<std::string> ips = field_path == "status.hostIP" ? IpList(pod, "hostIPs", "hostIP")
                                                                 : IpList(pod, "podIPs", "podIP");
    return ips.empty() ? std::string() : ips.front();
  }
  if (field_path == "status.hostIPs") return JoinComma(IpList(pod, "hostIPs", "hostIP"));
  if (field_path == "status.podIPs") return JoinComma(IpList(pod, "podIPs", "podIP"));
  return Unsupported(field_path);
}

Result<std::string> ResourceFieldValue(const bj::object& container, std::string_view resource,
                                       std::string_view divisor, const NodeAllocatable& node) {
  size_t dot = resource.find('.');
  std::string_view list = dot == std::string_view::npos ? resource : resource.substr(0, dot);
  std::string_view name = dot == std::string_view::npos ? "" : resource.substr(dot + 1);
  int64_t node_value = 0;
  if (name == "cpu") {
    node_value = node.cpu_milli;
  } else if (name == "memory") {
    node_value = node.memory;
  } else if (name == "ephemeral-storage") {
    node_value = node.ephemeral_storage;
  } else {
    return Error(Errc::kInvalidArgument,
                 "unsupported container resource : " + std::string(resource));
  }
  if (list != "limits" && list != "requests") {
    return Error(Errc::kInvalidArgument,
                 "unsupported container resource : " + std::string(resource));
  }
  const bool cpu = name == "cpu";

  std::optional<int64_t> limit = BERTH_TRY(ContainerQuantity(container, "limits", name, cpu));
  int64_t value = 0;
  if (list == "requests") {
    std::optional<int64_t> request = BERTH_TRY(ContainerQuantity(container, "requests", name, cpu));
    value = request.value_or(limit.value_or(0));
  } else {
    // kubelet's MergeContainerResourceLimits: an unset or zero limit is
    // the node's allocatable.
    value = (!limit || *limit == 0) && node_value > 0 ? node_value : limit.value_or(0);
  }

  // An empty or zero divisor is the Quantity's zero value: "1".
  int64_t by = cpu ? 1000 : 1;
  std::string divisor_text(Trim(divisor));
  if (!divisor_text.empty()) {
    Result<int64_t> d = ParseQuantity(divisor_text, cpu);
    if (!d.ok()) {
      return Error(Errc::kInvalidArgument, "resourceFieldRef divisor: " + d.error().message());
    }
    if (*d < 0) {
      return Error(Errc::kInvalidArgument,
                   "resourceFieldRef divisor \"" + divisor_text + "\" must not be negative");
    }
    if (*d != 0) by = *d;
  }
  return std::to_string(CeilDiv(value, by));
}

}  // namespace berth::volumes

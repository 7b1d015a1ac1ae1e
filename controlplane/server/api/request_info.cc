#include "controlplane/server/api/request_info.h"

#include <cctype>
#include <vector>

#include "common/strings.h"

namespace berth::controlplane::api {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsTrue(const Query& query, std::string_view key) {
  auto it = query.find(key);
  return it != query.end() && (it->second == "true" || it->second == "1");
}

}  // namespace

std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

Query ParseQuery(std::string_view query) {
  Query out;
  for (const std::string& pair : SplitNonEmpty(query, '&')) {
    size_t eq = pair.find('=');
    std::string key = PercentDecode(std::string_view(pair).substr(0, eq));
    std::string value = eq == std::string::npos ? "" : PercentDecode(pair.substr(eq + 1));
    out.emplace(std::move(key), std::move(value));
  }
  return out;
}

RequestInfo ParseRequestInfo(std::string_view method, std::string_view path, const Query& query) {
  RequestInfo info;
  info.path = std::string(path);
  info.verb = Lower(method);
  std::vector<std::string> parts = SplitNonEmpty(path, '/');
  size_t i = 0;
  if (parts.size() >= 2 && parts[0] == "api") {
    info.version = parts[1];
    i = 2;
  } else if (parts.size() >= 3 && parts[0] == "apis") {
    info.group = parts[1];
    info.version = parts[2];
    i = 3;
  } else {
    return info;
  }
  if (i == parts.size()) return info;  // group-version discovery
  info.is_resource_request = true;
  // Deprecated /watch/ paths: the verb is watch whatever the method.
  bool watch_path = false;
  if (parts[i] == "watch") {
    watch_path = true;
    ++i;
  }
  std::vector<std::string> rest(parts.begin() + static_cast<long>(i), parts.end());
  // namespaces/<ns>/<resource>..., except a namespace's own subresources
  // (namespaces/<ns>/status, namespaces/<ns>/finalize).
  if (rest.size() >= 3 && rest[0] == "namespaces" &&
      !(rest.size() == 3 && (rest[2] == "status" || rest[2] == "finalize"))) {
    info.namespace_ = rest[1];
    rest.erase(rest.begin(), rest.begin() + 2);
  } else if (rest.size() >= 2 && rest[0] == "namespaces") {
    // A namespace itself: its name is the namespace of the request, as
    // upstream reports it to authorizers.
    info.namespace_ = rest[1];
  }
  if (!rest.empty()) info.resource = rest[0];
  if (rest.size() >= 2) info.name = rest[1];
  if (rest.size() >= 3) info.subresource = rest[2];
  if (rest.size() > 3) info.is_resource_request = false;  // no such shape

  const std::string& m = info.verb;
  if (watch_path) {
    info.verb = "watch";
  } else if (m == "get" || m == "head") {
    if (info.name.empty()) {
      info.verb = IsTrue(query, "watch") ? "watch" : "list";
    } else {
      info.verb = "get";
    }
  } else if (m == "post") {
    info.verb = "create";
  } else if (m == "put") {
    info.verb = "update";
  } else if (m == "patch") {
    info.verb = "patch";
  } else if (m == "delete") {
    info.verb = info.name.empty() ? "deletecollection" : "delete";
  }
  // A list or watch pinned to one name is authorized as on that name, as
  // upstream does (resourceNames rules, the node authorizer).
  if ((info.verb == "list" || info.verb == "watch") && info.name.empty()) {
    auto it = query.find("fieldSelector");
    if (it != query.end() && it->second.starts_with("metadata.name=") &&
        it->second.find(',') == std::string::npos) {
      info.name = it->second.substr(std::string_view("metadata.name=").size());
    }
  }
  return info;
}

}  // namespace berth::controlplane::api

#include "runtime/image/reference.h"

#include <cctype>
#include <vector>

#include "common/strings.h"

namespace berth::image {
namespace {

constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxTagLength = 128;

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// path-component: [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
bool ValidComponent(std::string_view c) {
  size_t i = 0;
  auto alnum_run = [&] {
    size_t start = i;
    while (i < c.size() && IsLowerAlnum(c[i]))
      ++i;
    return i > start;
  };
  if (!alnum_run()) return false;
  while (i < c.size()) {
    if (c[i] == '.') {
      ++i;
    } else if (c[i] == '_') {
      ++i;
      if (i < c.size() && c[i] == '_') ++i;
    } else if (c[i] == '-') {
      while (i < c.size() && c[i] == '-')
        ++i;
    } else {
      return false;
    }
    if (!alnum_run()) return false;
  }
  return true;
}

// domain: host components of [a-zA-Z0-9-] separated by '.', an optional
// :port, or a bracketed IPv6 address.
bool ValidDomain(std::string_view d) {
  std::string_view host = d;
  size_t colon = d.rfind(':');
  if (!d.empty() && d[0] == '[') {
    size_t close = d.find(']');
    if (close == std::string_view::npos) return false;
    host = d.substr(0, close + 1);
    std::string_view rest = d.substr(close + 1);
    if (!rest.empty() && (rest[0] != ':' || rest.size() == 1)) return false;
    for (char c : rest.substr(rest.empty() ? 0 : 1)) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
  }
  if (colon != std::string_view::npos) {
    host = d.substr(0, colon);
    std::string_view port = d.substr(colon + 1);
    if (port.empty()) return false;
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
  }
  if (host.empty()) return false;
  for (const std::string& label : Split(host, '.')) {
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
  }
  return true;
}

// tag: [\w][\w.-]{0,127}
bool ValidTag(std::string_view t) {
  if (t.empty() || t.size() > kMaxTagLength) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(t[0])) return false;
  for (char c : t) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

}  // namespace

Result<Reference> Reference::Parse(std::string_view text, std::string_view what) {
  auto invalid = [&](const std::string& why) {
    return Error(Errc::kInvalidArgument,
                 std::string(what) + " \"" + std::string(text) + "\": " + why);
  };
  if (text.empty()) return invalid("empty");
  Reference ref;
  std::string_view rest = text;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = BERTH_TRY(Digest::Parse(rest.substr(at + 1), std::string(what) + " digest"));
    rest = rest.substr(0, at);
  }
  // A tag follows the last ':' that comes after the last '/'.
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!ValidTag(ref.tag)) {
      return invalid("invalid tag \"" + ref.tag + "\" (letters, digits, '_', '.', '-'; at most " +
                     std::to_string(kMaxTagLength) + " characters, not starting with '.' or '-')");
    }
  }
  std::string_view remainder = rest;
  size_t first_slash = rest.find('/');
  if (first_slash != std::string_view::npos) {
    std::string_view first = rest.substr(0, first_slash);
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
        first.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos) {
      ref.domain = std::string(first);
      remainder = rest.substr(first_slash + 1);
    }
  }
  if (ref.domain.empty()) ref.domain = std::string(kDockerHub);
  if (ref.domain == "index.docker.io") ref.domain = std::string(kDockerHub);
  if (!ValidDomain(ref.domain)) return invalid("invalid registry host \"" + ref.domain + "\"");
  ref.path = std::string(remainder);
  if (ref.domain == kDockerHub && ref.path.find('/') == std::string::npos) {
    ref.path = "library/" + ref.path;
  }
  for (const std::string& component : Split(ref.path, '/')) {
    if (component.empty()) return invalid("empty path component");
    for (char c : component) {
      if (c >= 'A' && c <= 'Z') return invalid("repository name must be lowercase");
    }
    if (!ValidComponent(component)) {
      return invalid("invalid path component \"" + component +
                     "\" (lowercase letters and digits, separated by '.', '_', '__' or '-')");
    }
  }
  if (ref.Name().size() > kMaxNameLength) {
    return invalid("repository name longer than " + std::to_string(kMaxNameLength) + " characters");
  }
  if (ref.tag.empty() && !ref.digest) ref.tag = "latest";
  return ref;
}

std::string Reference::String() const {
  std::string out = Name();
  if (!tag.empty()) out += ":" + tag;
  if (digest) out += "@" + digest->str();
  return out;
}

std::string Reference::Familiar() const {
  std::string name = Name();
  if (domain == kDockerHub) {
    name = path;
    if (name.rfind("library/", 0) == 0 && name.find('/', 8) == std::string::npos) {
      name = name.substr(8);
    }
  }
  if (!tag.empty()) name += ":" + tag;
  if (digest) name += "@" + digest->str();
  return name;
}

}  // namespace berth::image

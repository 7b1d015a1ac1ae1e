#include "runtime/image/unpack/entry_path.h"

#include <vector>

namespace berth::image {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kAufsMetaPrefix = ".wh..wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

}  // namespace

Result<std::string> CleanEntryPath(std::string_view name) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t slash = name.find('/', pos);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view part = name.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return Error(Errc::kPermissionDenied, "path escapes the layer");
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (std::string_view part : parts) {
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

std::pair<std::string, std::string> SplitParent(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

Result<EntryPath> ParseEntryPath(std::string_view name) {
  std::string path = BERTH_TRY(CleanEntryPath(name));
  auto [dir, base] = SplitParent(path);
  if (base == kOpaqueMarker) return EntryPath{EntryKind::kOpaque, dir};
  // aufs keeps hard-link bookkeeping in ".wh..wh.plnk/" and the like: the
  // marker and anything beneath it is skipped.
  for (std::string_view rest = path; !rest.empty();) {
    size_t slash = rest.find('/');
    if (rest.substr(0, slash).starts_with(kAufsMetaPrefix)) {
      return EntryPath{EntryKind::kAufsMeta, path};
    }
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  if (base.starts_with(kWhiteoutPrefix)) {
    std::string victim = base.substr(kWhiteoutPrefix.size());
    if (victim.empty() || victim == "." || victim == "..") {
      return Error(Errc::kInvalidArgument, "whiteout names no file");
    }
    return EntryPath{EntryKind::kWhiteout, dir.empty() ? victim : dir + "/" + victim};
  }
  return EntryPath{EntryKind::kNormal, std::move(path)};
}

}  // namespace berth::image

#include "runtime/image/store/image_store.h"

#include <unistd.h>

#include <algorithm>

#include "common/file.h"
#include "common/json.h"

namespace berth::image {
namespace {

std::string ToJson(const ImageRecord& r) {
  json::bj::object o;
  o["name"] = r.name;
  o["target"] = json::bj::parse(DescriptorToJson(r.target));
  o["created"] = r.created;
  if (!r.platform.empty()) o["platform"] = r.platform;
  return json::bj::serialize(o);
}

Result<ImageRecord> FromJson(std::string_view text, const std::string& what) {
  json::bj::value doc = BERTH_TRY(json::Parse(text, what));
  json::Field root(&doc, "");
  auto parse = [&]() -> Result<ImageRecord> {
    ImageRecord r;
    r.name = BERTH_TRY(root["name"].String());
    r.target = BERTH_TRY(ParseDescriptor(root["target"]));
    r.created = BERTH_TRY(root["created"].OptString()).value_or("");
    r.platform = BERTH_TRY(root["platform"].OptString()).value_or("");
    return r;
  };
  Result<ImageRecord> r = parse();
  if (!r.ok()) return std::move(r).error().Wrap(what);
  return r;
}

}  // namespace

Result<ImageStore> ImageStore::Open(const std::string& root) {
  std::string dir = root + "/images";
  BERTH_TRY(MkdirAll(dir, 0700));
  return ImageStore(std::move(dir));
}

std::string ImageStore::PathFor(const std::string& name) const {
  return dir_ + "/" + Sha256Of(name).hex() + ".json";
}

Status ImageStore::Put(const ImageRecord& record) const {
  return WriteFileAtomic(PathFor(record.name), ToJson(record), 0600);
}

Result<ImageRecord> ImageStore::Get(const std::string& name) const {
  std::string path = PathFor(name);
  if (!PathExists(path)) return Error(Errc::kNotFound, "image \"" + name + "\" not found");
  return FromJson(BERTH_TRY(ReadFile(path)), path);
}

Result<std::vector<ImageRecord>> ImageStore::List() const {
  std::vector<ImageRecord> out;
  for (const std::string& file : BERTH_TRY(ListDir(dir_))) {
    if (file.size() < 5 || file.substr(file.size() - 5) != ".json") continue;
    std::string path = dir_ + "/" + file;
    Result<std::string> text = ReadFile(path);
    if (!text.ok()) {
      if (text.error().sys_errno() == ENOENT) continue;  // removed meanwhile
      return std::move(text).error();
    }
    out.push_back(BERTH_TRY(FromJson(*text, path)));
  }
  std::sort(out.begin(), out.end(),
            [](const ImageRecord& a, const ImageRecord& b) { return a.name < b.name; });
  return out;
}

Status ImageStore::Remove(const std::string& name) const {
  std::string path = PathFor(name);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return Error(Errc::kNotFound, "image \"" + name + "\" not found");
    return Error::Sys("unlink", path);
  }
  return Ok();
}

}  // namespace berth::image

#include "runtime/image/archive_import.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <map>
#include <memory>

#include "common/file.h"
#include "common/json.h"
#include "common/strings.h"
#include "common/time.h"
#include "runtime/image/reference.h"

namespace berth::image {
namespace {

using ArchivePtr = std::unique_ptr<archive, decltype(&archive_read_free)>;

// The archive's files, unpacked into a private directory that is removed
// when this goes away. Only regular files are written; symlinks (old
// `docker save` archives link duplicate layers) are remembered and
// resolved when a file is looked up, without ever touching the disk.
class Unpacked {
 public:
  explicit Unpacked(std::string dir) : dir_(std::move(dir)) {}
  ~Unpacked() { (void)RemoveAll(dir_); }
  Unpacked(const Unpacked&) = delete;
  Unpacked& operator=(const Unpacked&) = delete;

  Status Extract(const std::string& path);
  bool Has(const std::string& name) const { return Resolve(name).has_value(); }
  // The on-disk path of an archive member, following archive symlinks.
  Result<std::string> PathOf(const std::string& name) const;
  const std::string& dir() const { return dir_; }

 private:
  std::optional<std::string> Resolve(std::string name) const;
  std::string dir_;
  std::map<std::string, std::string> files_;     // member -> path on disk
  std::map<std::string, std::string> symlinks_;  // member -> member it names
};

// "./a/b" -> "a/b", "a/../b" -> "b"; nullopt when the name is empty or
// climbs out of the archive.
std::optional<std::string> MemberName(std::string_view raw) {
  std::vector<std::string> stack;
  for (const std::string& part : Split(raw, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (stack.empty()) return std::nullopt;
      stack.pop_back();
      continue;
    }
    stack.push_back(part);
  }
  if (stack.empty()) return std::nullopt;
  return Join(stack, "/");
}

Status Unpacked::Extract(const std::string& path) {
  ArchivePtr a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return Error(Errc::kInvalidArgument, "archive " + path + ": " + archive_error_string(a.get()));
  }
  static std::atomic<int> counter{0};
  archive_entry* entry = nullptr;
  while (true) {
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      return Error(Errc::kInvalidArgument,
                   "archive " + path + ": " + archive_error_string(a.get()));
    }
    const char* raw = archive_entry_pathname(entry);
    std::optional<std::string> name = MemberName(raw ? raw : "");
    if (!name) {
      if (raw && std::string_view(raw) != "./" && std::string_view(raw) != ".") {
        return Error(Errc::kInvalidArgument, "archive " + path + ": entry \"" + std::string(raw) +
                                                 "\" points outside the archive");
      }
      continue;
    }
    mode_t type = archive_entry_filetype(entry);
    if (type == AE_IFLNK) {
      std::string target = archive_entry_symlink(entry) ? archive_entry_symlink(entry) : "";
      std::optional<std::string> resolved =
          MemberName(target.empty() || target[0] == '/' ? target : Dirname(*name) + "/" + target);
      if (!resolved) {
        return Error(Errc::kInvalidArgument,
                     "archive " + path + ": symlink \"" + *name + "\" points outside the archive");
      }
      symlinks_[*name] = *resolved;
      continue;
    }
    if (type != AE_IFREG) continue;
    // Files are stored under generated names: no member name reaches the
    // filesystem.
    std::string disk = dir_ + "/" + std::to_string(counter++);
    UniqueFd out =
        BERTH_TRY(Open(disk, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    std::array<char, 1 << 16> buf{};
    while (true) {
      la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
      if (n < 0) {
        return Error(Errc::kInvalidArgument,
                     "archive " + path + ": " + *name + ": " + archive_error_string(a.get()));
      }
      if (n == 0) break;
      for (la_ssize_t off = 0; off < n;) {
        ssize_t w = ::write(out.get(), buf.data() + off, static_cast<size_t>(n - off));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return Error::Sys("write", disk);
        off += w;
      }
    }
    files_[*name] = disk;
  }
  return Ok();
}

std::optional<std::string> Unpacked::Resolve(std::string name) const {
  for (int hops = 0; hops < 16; ++hops) {
    if (files_.count(name)) return files_.at(name);
    auto link = symlinks_.find(name);
    if (link == symlinks_.end()) return std::nullopt;
    name = link->second;
  }
  return std::nullopt;
}

Result<std::string> Unpacked::PathOf(const std::string& name) const {
  std::optional<std::string> clean = MemberName(name);
  std::optional<std::string> disk = clean ? Resolve(*clean) : std::nullopt;
  if (!disk) return Error(Errc::kInvalidArgument, "the archive has no file \"" + name + "\"");
  return *disk;
}

// An annotation or RepoTags value -> a full image name.
Result<std::string> ImageName(const std::string& value, const ImportOptions& options,
                              const std::string& what) {
  std::string name = value;
  if (!value.empty() && value.find_first_of("/:@") == std::string::npos) {
    // A bare tag (OCI ref.name "v1"): the caller gives the repository.
    if (options.base_name.empty()) {
      return Error(Errc::kInvalidArgument,
                   what + " names only the tag \"" + value + "\"; give the image name with --name");
    }
    name = options.base_name + ":" + value;
  } else if (value.empty()) {
    if (options.base_name.empty()) {
      return Error(Errc::kInvalidArgument, what + " has no image name; give one with --name");
    }
    name = options.base_name;
  }
  Reference ref = BERTH_TRY(Reference::Parse(name, what + " image name"));
  return ref.String();
}

std::string_view LayerMediaType(const std::string& path) {
  std::array<unsigned char, 4> magic{};
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ssize_t n = fd ? ::read(fd.get(), magic.data(), magic.size()) : -1;
  if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) return media::kDockerLayerGzip;
  if (n >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) {
    return media::kOciLayerZstd;
  }
  return media::kDockerLayer;
}

Result<int64_t> FileSize(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error::Sys("stat", path);
  return static_cast<int64_t>(st.st_size);
}

// docker save: a member file becomes a blob; its digest is computed.
Result<Descriptor> PutMember(const ContentStore& content, const Unpacked& files,
                             const std::string& member, std::string_view media_type) {
  std::string disk = BERTH_TRY(files.PathOf(member));
  Descriptor d;
  d.media_type = std::string(media_type.empty() ? LayerMediaType(disk) : media_type);
  d.digest = BERTH_TRY(Sha256OfFile(disk));
  d.size = BERTH_TRY(FileSize(disk));
  BERTH_TRY(content.PutFile(d.digest, disk));
  return d;
}

// OCI layout: `d` and what it references, from blobs/<alg>/<hex>, each
// verified against its descriptor. An index's manifests that the archive
// does not carry (other platforms) are skipped.
Status PutOciBlob(const ContentStore& content, const Unpacked& files, const Descriptor& d,
                  const std::string& what, bool optional, int depth = 0) {
  std::string member = "blobs/" + d.digest.algorithm() + "/" + d.digest.hex();
  if (!files.Has(member)) {
    if (optional) return Ok();
    return Error(Errc::kInvalidArgument,
                 what + ": blob " + d.digest.str() + " is referenced but not in the archive");
  }
  std::string disk = BERTH_TRY(files.PathOf(member));
  int64_t size = BERTH_TRY(FileSize(disk));
  if (size != d.size) {
    return Error(Errc::kInvalidArgument, what + ": blob " + d.digest.str() + " is " +
                                             std::to_string(size) + " bytes, the descriptor says " +
                                             std::to_string(d.size));
  }
  Status put = content.PutFile(d.digest, disk);
  if (!put.ok()) return std::move(put).error().Wrap(what);
  if (depth > 4) return Error(Errc::kInvalidArgument, what + ": indexes nested too deeply");
  if (media::IsIndex(d.media_type)) {
    Index idx = BERTH_TRY(ParseIndex(BERTH_TRY(content.Read(d.digest)), what));
    for (const Descriptor& m : idx.manifests)
      BERTH_TRY(PutOciBlob(content, files, m, what, true, depth + 1));
  } else if (media::IsManifest(d.media_type)) {
    Manifest m = BERTH_TRY(ParseManifest(BERTH_TRY(content.Read(d.digest)), what));
    BERTH_TRY(PutOciBlob(content, files, m.config, what, false, depth + 1));
    for (const Descriptor& l : m.layers)
      BERTH_TRY(PutOciBlob(content, files, l, what, false, depth + 1));
  }
  return Ok();
}

Result<std::vector<ImageRecord>> ImportOci(const ContentStore& content, const Unpacked& files,
                                           const ImportOptions& options) {
  std::string index_text = BERTH_TRY(ReadFile(BERTH_TRY(files.PathOf("index.json"))));
  Index index = BERTH_TRY(ParseIndex(index_text, "index.json"));
  std::vector<ImageRecord> out;
  for (size_t i = 0; i < index.manifests.size(); ++i) {
    const Descriptor& d = index.manifests[i];
    std::string what = "index.json manifests[" + std::to_string(i) + "]";
    BERTH_TRY(PutOciBlob(content, files, d, what, false));
    auto annotation = [&](const char* key) {
      auto it = d.annotations.find(key);
      return it == d.annotations.end() ? std::string() : it->second;
    };
    std::string value = annotation("io.containerd.image.name");
    if (value.empty()) value = annotation("org.opencontainers.image.ref.name");
    ImageRecord r;
    r.name = BERTH_TRY(ImageName(value, options, what));
    r.target = d;
    r.target.annotations.clear();
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<ImageRecord>> ImportDocker(const ContentStore& content, const Unpacked& files,
                                              const ImportOptions& options) {
  std::string text = BERTH_TRY(ReadFile(BERTH_TRY(files.PathOf("manifest.json"))));
  json::bj::value doc = BERTH_TRY(json::Parse(text, "manifest.json"));
  json::Field root(&doc, "manifest.json");
  std::vector<ImageRecord> out;
  for (const json::Field& item : BERTH_TRY(root.Items())) {
    std::string config_member = BERTH_TRY(item["Config"].String());
    Descriptor config = BERTH_TRY(PutMember(content, files, config_member, media::kDockerConfig));
    json::bj::object manifest{{"schemaVersion", 2},
                              {"mediaType", std::string(media::kDockerManifest)}};
    manifest["config"] = json::bj::parse(DescriptorToJson(config));
    json::bj::array layers;
    for (const std::string& member : BERTH_TRY(item["Layers"].StringArray())) {
      Descriptor layer = BERTH_TRY(PutMember(content, files, member, {}));
      layers.push_back(json::bj::parse(DescriptorToJson(layer)));
    }
    manifest["layers"] = std::move(layers);
    std::string manifest_text = json::bj::serialize(manifest);
    Descriptor target;
    target.media_type = std::string(media::kDockerManifest);
    target.digest = Sha256Of(manifest_text);
    target.size = static_cast<int64_t>(manifest_text.size());
    BERTH_TRY(content.Put(target.digest, manifest_text));
    std::vector<std::string> tags = BERTH_TRY(item["RepoTags"].StringArray());
    if (tags.empty()) tags.emplace_back();
    for (const std::string& tag : tags) {
      ImageRecord r;
      r.name = BERTH_TRY(ImageName(tag, options, item.path() + ".RepoTags"));
      r.target = target;
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace

Result<std::vector<ImageRecord>> ImportArchive(const ContentStore& content,
                                               const ImageStore& images, const std::string& path,
                                               const ImportOptions& options) {
  static std::atomic<int> counter{0};
  std::string dir = content.root() + "/ingest/import-" + std::to_string(::getpid()) + "-" +
                    std::to_string(counter++);
  BERTH_TRY(MkdirAll(dir, 0700));
  Unpacked files(dir);
  BERTH_TRY(files.Extract(path));
  Result<std::vector<ImageRecord>> records = [&]() -> Result<std::vector<ImageRecord>> {
    if (files.Has("index.json")) return ImportOci(content, files, options);
    if (files.Has("manifest.json")) return ImportDocker(content, files, options);
    return Error(Errc::kInvalidArgument,
                 "neither an OCI image layout (no index.json) nor a docker save archive (no "
                 "manifest.json)");
  }();
  if (!records.ok()) return std::move(records).error().Wrap("import " + path);
  std::string now = FormatRfc3339Nano(WallClockNow());
  for (ImageRecord& r : *records) {
    r.created = now;
    BERTH_TRY(images.Put(r));
  }
  return records;
}

}  // namespace berth::image

// ExportArchive (declared in archive_import.h): an OCI image layout, as tar.

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <memory>
#include <set>

#include "common/file.h"
#include "common/json.h"
#include "runtime/image/archive_import.h"
#include "runtime/image/content_walk.h"
#include "runtime/image/reference.h"

namespace berth::image {
namespace {

using WriterPtr = std::unique_ptr<archive, decltype(&archive_write_free)>;

class TarWriter {
 public:
  explicit TarWriter(std::string path) : path_(std::move(path)) {}

  Status Open() {
    archive_write_set_format_pax_restricted(a_.get());
    if (archive_write_open_filename(a_.get(), path_.c_str()) != ARCHIVE_OK) return Fail();
    return Ok();
  }

  Status AddBytes(const std::string& name, std::string_view data) {
    BERTH_TRY(Header(name, static_cast<int64_t>(data.size())));
    if (archive_write_data(a_.get(), data.data(), data.size()) < 0) return Fail();
    return Ok();
  }

  Status AddFile(const std::string& name, const std::string& disk, int64_t size) {
    BERTH_TRY(Header(name, size));
    UniqueFd in = BERTH_TRY(berth::Open(disk, O_RDONLY | O_CLOEXEC));
    std::array<char, 1 << 16> buf{};
    while (true) {
      ssize_t n = ::read(in.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error::Sys("read", disk);
      if (n == 0) break;
      if (archive_write_data(a_.get(), buf.data(), static_cast<size_t>(n)) < 0) return Fail();
    }
    return Ok();
  }

  Status Close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) return Fail();
    return Ok();
  }

 private:
  Status Header(const std::string& name, int64_t size) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(),
                                                                    archive_entry_free);
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_size(e.get(), size);
    if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK) return Fail();
    return Ok();
  }
  Error Fail() {
    const char* why = archive_error_string(a_.get());
    return Error(Errc::kInternal, "write " + path_ + ": " + (why ? why : "libarchive error"));
  }

  std::string path_;
  WriterPtr a_{archive_write_new(), archive_write_free};
};

}  // namespace

Status ExportArchive(const ContentStore& content, const std::vector<ImageRecord>& records,
                     const std::string& path) {
  json::bj::array manifests;
  std::set<Digest> seen;
  std::vector<Descriptor> blobs;
  for (const ImageRecord& r : records) {
    ImageContent walk = BERTH_TRY(WalkImage(content, r.target));
    if (!walk.missing.empty()) {
      return Error(Errc::kFailedPrecondition, "export " + r.name + ": blob " +
                                                  walk.missing.front().digest.str() +
                                                  " is not in the content store");
    }
    for (const auto* list : {&walk.documents, &walk.configs, &walk.layers}) {
      for (const Descriptor& d : *list) {
        if (seen.insert(d.digest).second) blobs.push_back(d);
      }
    }
    Descriptor entry = r.target;
    entry.annotations["io.containerd.image.name"] = r.name;
    Reference ref = BERTH_TRY(Reference::Parse(r.name, "image name"));
    if (!ref.tag.empty()) entry.annotations["org.opencontainers.image.ref.name"] = ref.tag;
    manifests.push_back(json::bj::parse(DescriptorToJson(entry)));
  }
  json::bj::object index{{"schemaVersion", 2},
                         {"mediaType", std::string(media::kOciIndex)},
                         {"manifests", std::move(manifests)}};
  std::string temp = path + ".berth-tmp";
  TarWriter tar(temp);
  auto write = [&]() -> Status {
    BERTH_TRY(tar.Open());
    BERTH_TRY(tar.AddBytes("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
    BERTH_TRY(tar.AddBytes("index.json", json::bj::serialize(index)));
    for (const Descriptor& d : blobs) {
      BERTH_TRY(tar.AddFile("blobs/" + d.digest.algorithm() + "/" + d.digest.hex(),
                            content.BlobPath(d.digest), BERTH_TRY(content.Size(d.digest))));
    }
    return tar.Close();
  };
  Status s = write();
  if (!s.ok()) {
    ::unlink(temp.c_str());
    return s;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return Error::Sys("rename", temp + " to " + path);
  }
  return Ok();
}

}  // namespace berth::image

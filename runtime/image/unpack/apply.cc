#include "runtime/image/unpack/apply.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>

#include "common/fd.h"
#include "common/file.h"
#include "common/log.h"
#include "runtime/image/unpack/entry_path.h"
#include "runtime/image/unpack/entry_writer.h"
#include "runtime/image/unpack/layer_stream.h"
#include "runtime/image/unpack/lowers.h"

namespace berth::image {
namespace {

std::string LayerName(const std::string& blob_path, const ApplyOptions& opts) {
  if (!opts.layer_name.empty()) return opts.layer_name;
  Result<Digest> digest = Digest::Parse(Basename(Dirname(blob_path)) + ":" + Basename(blob_path));
  return digest.ok() ? digest->str() : blob_path;
}

EntryMeta MetaOf(archive_entry* e) {
  EntryMeta meta;
  meta.mode = archive_entry_perm(e) & 07777;
  meta.uid = static_cast<uid_t>(archive_entry_uid(e));
  meta.gid = static_cast<gid_t>(archive_entry_gid(e));
  if (archive_entry_mtime_is_set(e) != 0) {
    meta.mtime = timespec{archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
  }
  if (archive_entry_atime_is_set(e) != 0) {
    meta.atime = timespec{archive_entry_atime(e), archive_entry_atime_nsec(e)};
  }
  archive_entry_xattr_reset(e);
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    // pax archives may carry one xattr twice (SCHILY.xattr.* and
    // LIBARCHIVE.xattr.*); the last one read wins, set once.
    std::string v(static_cast<const char*>(value), size);
    auto same = std::find_if(meta.xattrs.begin(), meta.xattrs.end(),
                             [&](const auto& kv) { return kv.first == name; });
    if (same != meta.xattrs.end()) {
      same->second = std::move(v);
    } else {
      meta.xattrs.emplace_back(name, std::move(v));
    }
  }
  return meta;
}

// The member's name as raw bytes: the locale conversion libarchive may
// attempt can fail for UTF-8 names in the C locale.
Result<std::string> NameOf(archive_entry* e) {
  if (const char* name = archive_entry_pathname(e)) return std::string(name);
  if (const char* name = archive_entry_pathname_utf8(e)) return std::string(name);
  return Error(Errc::kInvalidArgument, "tar member without a name");
}

Status ApplyEntry(EntryWriter& writer, LayerStream& stream, archive_entry* e,
                  const std::string& name, uint64_t* file_bytes) {
  EntryPath entry = BERTH_TRY(ParseEntryPath(name));
  switch (entry.kind) {
    case EntryKind::kAufsMeta:
      return Ok();
    case EntryKind::kOpaque:
      return writer.Opaque(entry.path);
    case EntryKind::kWhiteout:
      return writer.Whiteout(entry.path, static_cast<uid_t>(archive_entry_uid(e)),
                             static_cast<gid_t>(archive_entry_gid(e)));
    case EntryKind::kNormal:
      break;
  }
  if (const char* target = archive_entry_hardlink(e)) return writer.Hardlink(entry.path, target);
  EntryMeta meta = MetaOf(e);
  dev_t rdev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
  switch (archive_entry_filetype(e)) {
    case AE_IFDIR:
      return writer.Directory(entry.path, meta);
    case AE_IFREG:
      *file_bytes += static_cast<uint64_t>(archive_entry_size(e));
      return writer.RegularFile(entry.path, meta, stream);
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(e);
      if (target == nullptr) target = archive_entry_symlink_utf8(e);
      if (target == nullptr) return Error(Errc::kInvalidArgument, "symlink without a target");
      return writer.Symlink(entry.path, target, meta);
    }
    case AE_IFCHR:
      return writer.Special(entry.path, S_IFCHR, rdev, meta);
    case AE_IFBLK:
      return writer.Special(entry.path, S_IFBLK, rdev, meta);
    case AE_IFIFO:
      return writer.Special(entry.path, S_IFIFO, 0, meta);
    case AE_IFSOCK:
      // Sockets are not content; tar writers that record them (bsdtar)
      // are skipped as Docker does.
      BLOG(kWarn) << "skipping socket " << name;
      return Ok();
    default:
      return Error(Errc::kInvalidArgument,
                   "unsupported tar member type " + std::to_string(archive_entry_filetype(e)));
  }
}

}  // namespace

Result<ApplyResult> ApplyLayer(const std::string& blob_path, const std::string& target_dir,
                               const ApplyOptions& opts) {
  const std::string context = "layer " + LayerName(blob_path, opts);
  UniqueFd root(::open(target_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root) return Error::Sys("open snapshot directory", target_dir).Wrap(context);
  Lowers lowers = BERTH_TRY_CTX(Lowers::Open(opts.lower_dirs), context);
  std::unique_ptr<LayerStream> stream = BERTH_TRY_CTX(LayerStream::Open(blob_path), context);
  EntryWriter writer(root.get(), lowers);
  BERTH_TRY_CTX(writer.InheritRoot(), context + ": root directory");

  ApplyResult result;
  while (true) {
    archive_entry* e = BERTH_TRY_CTX(stream->Next(), context);
    if (e == nullptr) break;
    std::string name = BERTH_TRY_CTX(NameOf(e), context);
    Status status = ApplyEntry(writer, *stream, e, name, &result.unpacked_bytes);
    if (!status.ok()) return std::move(status).error().Wrap(context + ": entry \"" + name + "\"");
  }
  BERTH_TRY_CTX(writer.Finish(), context + ": directory times");
  result.diff_id = BERTH_TRY_CTX(stream->Finish(), context);
  result.tar_bytes = stream->uncompressed_bytes();
  result.compression = stream->compression();
  if (!opts.expected_diff_id.empty() && result.diff_id != opts.expected_diff_id) {
    return Error(Errc::kDataLoss, context + ": diff_id is " + result.diff_id.str() +
                                      ", the image config says " + opts.expected_diff_id.str());
  }
  BLOG(kDebug) << context << ": applied " << result.tar_bytes << " tar bytes ("
               << result.compression << ") into " << target_dir;
  return result;
}

}  // namespace berth::image

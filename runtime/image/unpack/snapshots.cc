#include "runtime/image/unpack/snapshots.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <utility>

#include "common/fd.h"
#include "common/file.h"
#include "common/json.h"
#include "common/log.h"

namespace berth::image {
namespace {

constexpr const char* kMetaFile = "snapshot.json";
constexpr size_t kMaxDepth = 1000;  // beyond overlayfs's 500 lowers: a cycle

Status CheckChainId(const Digest& id, const std::string& what) {
  if (id.algorithm() != "sha256" || id.hex().size() != 64) {
    return Error(Errc::kInvalidArgument,
                 what + ": a sha256 chain ID is required, got \"" + id.str() + "\"");
  }
  return Ok();
}

struct Usage {
  uint64_t bytes = 0;
  uint64_t inodes = 0;
  std::set<std::pair<dev_t, ino_t>> seen;
};

Status Measure(int dir_fd, const std::string& what, Usage* usage) {
  for (const std::string& name : BERTH_TRY(ListDirAt(dir_fd, what))) {
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Error::Sys("lstat", what + "/" + name);
    }
    if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) &&
        !usage->seen.emplace(st.st_dev, st.st_ino).second) {
      continue;
    }
    usage->inodes++;
    usage->bytes += static_cast<uint64_t>(st.st_blocks) * 512;
    if (S_ISDIR(st.st_mode)) {
      UniqueFd child(::openat(dir_fd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!child) return Error::Sys("open", what + "/" + name);
      BERTH_TRY(Measure(child.get(), what + "/" + name, usage));
    }
  }
  return Ok();
}

std::string MetaJson(const SnapshotInfo& info) {
  json::bj::object o;
  o["chainId"] = info.chain_id.str();
  if (!info.parent.empty()) o["parent"] = info.parent.str();
  o["size"] = info.size;
  o["inodes"] = info.inodes;
  return json::bj::serialize(o);
}

Result<SnapshotInfo> ParseMeta(const std::string& text, const std::string& what) {
  json::bj::value doc = BERTH_TRY(json::Parse(text, what));
  json::Field root(&doc, what);
  BERTH_TRY(root.ExpectObject());
  SnapshotInfo info;
  info.chain_id = BERTH_TRY(Digest::Parse(BERTH_TRY(root["chainId"].String()), what + ": chainId"));
  if (std::optional<std::string> parent = BERTH_TRY(root["parent"].OptString())) {
    info.parent = BERTH_TRY(Digest::Parse(*parent, what + ": parent"));
  }
  info.size = BERTH_TRY(root["size"].Int<uint64_t>());
  info.inodes = BERTH_TRY(root["inodes"].Int<uint64_t>());
  return info;
}

}  // namespace

std::string Snapshots::Dir(const Digest& chain_id) const {
  return root_ + "/" + chain_id.hex() + "/fs";
}

Result<SnapshotInfo> Snapshots::Stat(const Digest& chain_id) const {
  BERTH_TRY(CheckChainId(chain_id, "snapshot"));
  std::string meta_path = root_ + "/" + chain_id.hex() + "/" + kMetaFile;
  Result<std::string> text = ReadFile(meta_path);
  if (!text.ok()) {
    if (text.error().sys_errno() == ENOENT) {
      return Error(Errc::kNotFound, "snapshot " + chain_id.str() + " does not exist");
    }
    return std::move(text).error();
  }
  SnapshotInfo info = BERTH_TRY(ParseMeta(*text, meta_path));
  if (info.chain_id != chain_id) {
    return Error(Errc::kDataLoss, meta_path + ": names chain " + info.chain_id.str());
  }
  info.dir = Dir(chain_id);
  return info;
}

Result<std::vector<std::string>> Snapshots::LowerDirs(const Digest& chain_id) const {
  std::vector<std::string> dirs;
  Digest current = chain_id;
  while (!current.empty()) {
    if (dirs.size() >= kMaxDepth) {
      return Error(Errc::kDataLoss, "snapshot " + chain_id.str() + ": parent chain too long");
    }
    SnapshotInfo info = BERTH_TRY(Stat(current));
    dirs.push_back(info.dir);
    current = info.parent;
  }
  return dirs;
}

Result<std::string> Snapshots::Ensure(const Digest& chain_id, const Digest& parent,
                                      const ApplyFn& apply) {
  BERTH_TRY(CheckChainId(chain_id, "snapshot"));
  const std::string context = "snapshot " + chain_id.str();
  if (PathExists(root_ + "/" + chain_id.hex())) return Dir(chain_id);
  std::vector<std::string> lowers;
  if (!parent.empty()) lowers = BERTH_TRY_CTX(LowerDirs(parent), context + ": parent");

  BERTH_TRY_CTX(MkdirAll(root_, 0700), context);
  std::string tmp = root_ + "/tmp-XXXXXX";
  if (::mkdtemp(tmp.data()) == nullptr) return Error::Sys("mkdtemp", tmp).Wrap(context);
  auto discard = [&tmp](Error e) {
    Status removed = RemoveAll(tmp);
    if (!removed) BLOG(kWarn) << "discarding " << tmp << ": " << removed.error().str();
    return e;
  };
  const std::string fs = tmp + "/fs";
  if (::mkdir(fs.c_str(), 0755) != 0) return discard(Error::Sys("mkdir", fs).Wrap(context));
  if (Status applied = apply(fs, lowers); !applied) {
    return discard(std::move(applied).error().Wrap(context));
  }

  SnapshotInfo info;
  info.chain_id = chain_id;
  info.parent = parent;
  Usage usage;
  UniqueFd fs_fd(::open(fs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fs_fd) return discard(Error::Sys("open", fs).Wrap(context));
  if (Status measured = Measure(fs_fd.get(), fs, &usage); !measured) {
    return discard(std::move(measured).error().Wrap(context));
  }
  info.size = usage.bytes;
  info.inodes = usage.inodes;
  if (Status written = WriteFile(tmp + "/" + kMetaFile, MetaJson(info), 0644); !written) {
    return discard(std::move(written).error().Wrap(context));
  }
  Result<std::string> committed = Commit(tmp, chain_id);
  if (!committed.ok()) return discard(std::move(committed).error().Wrap(context));
  return committed;
}

Result<std::string> Snapshots::Commit(const std::string& tmp, const Digest& chain_id) {
  // One syncfs makes every file of the snapshot durable before the rename
  // publishes it; a crash before the rename leaves only a tmp-* directory.
  UniqueFd tmp_fd(::open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!tmp_fd) return Error::Sys("open", tmp);
  if (::syncfs(tmp_fd.get()) != 0) return Error::Sys("syncfs", tmp);
  const std::string final_dir = root_ + "/" + chain_id.hex();
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_NOREPLACE) != 0) {
    if (errno != EEXIST && errno != ENOTEMPTY)
      return Error::Sys("rename", tmp + " to " + final_dir);
    // Another creator committed first; its copy is as good as ours.
    BERTH_TRY(RemoveAll(tmp));
    return Dir(chain_id);
  }
  UniqueFd root_fd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd || ::fsync(root_fd.get()) != 0) return Error::Sys("fsync", root_);
  return Dir(chain_id);
}

Result<std::vector<SnapshotInfo>> Snapshots::List() const {
  if (!PathExists(root_)) return std::vector<SnapshotInfo>();
  std::vector<SnapshotInfo> out;
  for (const std::string& name : BERTH_TRY(ListDir(root_))) {
    Result<Digest> id = Digest::Parse("sha256:" + name);
    if (!id.ok()) continue;  // tmp-* and anything foreign
    out.push_back(BERTH_TRY(Stat(*id)));
  }
  return out;
}

Status Snapshots::Remove(const Digest& chain_id) {
  BERTH_TRY(Stat(chain_id));
  for (const SnapshotInfo& info : BERTH_TRY(List())) {
    if (info.parent == chain_id) {
      return Error(Errc::kFailedPrecondition,
                   "snapshot " + chain_id.str() + " is the parent of " + info.chain_id.str());
    }
  }
  // Rename it out of sight first, so no reader ever sees a half-removed
  // snapshot under its chain ID.
  std::string doomed = root_ + "/tmp-rm-XXXXXX";
  if (::mkdtemp(doomed.data()) == nullptr) return Error::Sys("mkdtemp", doomed);
  const std::string dir = root_ + "/" + chain_id.hex();
  if (::rename(dir.c_str(), doomed.c_str()) != 0) {
    Error err = Error::Sys("rename", dir + " to " + doomed);
    ::rmdir(doomed.c_str());
    return err;
  }
  return RemoveAll(doomed);
}

Status Snapshots::RemoveTemporary() {
  if (!PathExists(root_)) return Ok();
  for (const std::string& name : BERTH_TRY(ListDir(root_))) {
    if (name.starts_with("tmp-")) BERTH_TRY(RemoveAll(root_ + "/" + name));
  }
  return Ok();
}

}  // namespace berth::image

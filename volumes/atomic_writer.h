#pragma once
// The atomic writer of projected volumes (configMap, secret, downwardAPI,
// projected), laid out as upstream's pkg/volume/util/atomic_writer.go so
// that applications watching for `..data` changes see the same thing:
//
//   <dir>/..2026_11_22_20_00_00.123456789/   the payload (a new directory
//                                             per version)
//   <dir>/..data -> ..2026_11_22_20_00_00.123456789
//   <dir>/<key>  -> ..data/<key>              one symlink per top-level name
//
// A new version is written into a fresh timestamped directory, a
// `..data_tmp` symlink to it is renamed over `..data` (the atomic switch),
// top-level names no longer in the payload are removed, then the old
// directory. Readers see either the old or the new payload, never a mix.

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace berth::volumes {

struct FileProjection {
  std::string data;
  mode_t mode = 0644;
  std::optional<uid_t> fs_user;  // owner of the file, when set
};
// Relative path in the volume -> file.
using Payload = std::map<std::string, FileProjection>;

// Upstream's validatePath: not empty, relative, no ".." element, not
// starting with "..", at most 4096 characters and 255 per element.
Status ValidatePayloadPath(std::string_view path);

class AtomicWriter {
 public:
  // `log_context` names the volume in errors ("pod ns/name volume cfg").
  AtomicWriter(std::string target_dir, std::string log_context);

  // Called with the new timestamped directory's name after the payload is
  // in it and before it becomes visible (fsGroup ownership).
  using SetPerms = std::function<Status(const std::string& ts_dir_name)>;

  // Writes `payload` unless the current version already has the same
  // contents; true when a new version was written. The target directory
  // must exist.
  Result<bool> Write(const Payload& payload, const SetPerms& set_perms = {});

 private:
  Result<std::string> NewTimestampDir() const;
  Status WritePayloadToDir(const Payload& payload, const std::string& dir) const;
  Result<bool> ShouldWrite(const Payload& payload, const std::string& old_dir) const;
  Status CreateUserVisibleFiles(const Payload& payload) const;

  std::string target_dir_;
  std::string log_context_;
};

}  // namespace berth::volumes

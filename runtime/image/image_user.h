#pragma once
// The user an image (or a container config) names -- "name", "uid",
// "name:group", "uid:gid" -- resolved against the image's own /etc/passwd
// and /etc/group, as runc's user.GetExecUser and containerd's WithUser do:
//   - a name must exist in /etc/passwd; its primary gid comes from there;
//   - a numeric uid need not exist; its gid is the passwd entry's, or 0;
//   - a group part overrides the gid (a name must exist in /etc/group);
//   - supplementary gids: every /etc/group entry listing the user's name.
// The files are read inside the rootfs with openat2(RESOLVE_IN_ROOT), so an
// image's symlinks cannot point the lookup at the host's files.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace berth::image {

struct ResolvedUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
  std::string name;  // "" when the uid has no passwd entry
};

// Pure: `passwd` and `group` are the files' contents ("" when absent).
Result<ResolvedUser> ResolveUser(std::string_view spec, std::string_view passwd,
                                 std::string_view group);
// Reads <rootfs>/etc/passwd and /etc/group (confined to the rootfs).
Result<ResolvedUser> ResolveUserInRootfs(std::string_view spec, const std::string& rootfs);

}  // namespace berth::image

#pragma once
// process.user for CRI containers and sandboxes, resolved in the rootfs's
// own /etc/passwd and /etc/group (image::ResolveUserInRootfs):
//   - the user: run_as_username, else run_as_user, with ":<run_as_group>"
//     when given (a group without a user is InvalidArgument, as containerd),
//     else the image's User, else root;
//   - a name must exist in /etc/passwd; a numeric uid need not (gid 0 then);
//   - additionalGids (SupplementalGroupsPolicy Merge, the default): the
//     groups /etc/group lists the user in, plus supplemental_groups; Strict:
//     supplemental_groups only. Sorted, each once.
// A sandbox takes only run_as_user/run_as_group and supplemental_groups.

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/cri/proto/api.pb.h"

namespace berth::cri {

struct ProcessUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
};

Result<ProcessUser> ResolveContainerUser(const ::runtime::v1::LinuxContainerSecurityContext& sc,
                                         const std::string& image_user, const std::string& rootfs);
Result<ProcessUser> ResolveSandboxUser(const ::runtime::v1::LinuxSandboxSecurityContext& sc,
                                       const std::string& rootfs);

// {"uid": .., "gid": .., "additionalGids": [..]} (the list only when any).
boost::json::object UserJson(const ProcessUser& user);

}  // namespace berth::cri

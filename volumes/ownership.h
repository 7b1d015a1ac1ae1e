#pragma once
// fsGroup: the group ownership kubelet gives a pod's writable and projected
// volumes (upstream's SetVolumeOwnership), and the fsUser that owns
// projected service account tokens.

#include <sys/types.h>

#include <boost/json.hpp>
#include <optional>
#include <string>

#include "common/error.h"

namespace berth::volumes {

// pod.spec.securityContext.fsGroup, when set.
Result<std::optional<gid_t>> PodFsGroup(const boost::json::object& pod);
// The uid all init and app containers run as when every one of them has an
// effective runAsUser and they agree (upstream's FsUserFrom); else none.
std::optional<uid_t> PodFsUser(const boost::json::object& pod);

// Walks `dir` (not following symlinks) giving every entry group `fs_group`
// and, except symlinks, the group bits: rw (read_only: r) for files, plus
// x and setgid for directories. fsGroupChangePolicy is not consulted: this
// is its default "Always".
Status SetVolumeOwnership(const std::string& dir, gid_t fs_group, bool read_only);

}  // namespace berth::volumes

#pragma once
// A network namespace that outlives every process in it: created with
// unshare(CLONE_NEWNET) on a short-lived thread and pinned by bind-mounting
// that thread's /proc/thread-self/ns/net onto a file (what `ip netns add`
// and containerd's netns package do). CNI plugins get the file's path.

#include <string>

#include "common/error.h"

namespace berth::ns {

// Creates `path` (its directory must exist) and pins a new netns there.
// Safe from a multithreaded process: only the helper thread changes netns.
Status CreatePinnedNetns(const std::string& path);
// Unmounts (lazily) and removes `path`; a missing file is not an error.
Status RemovePinnedNetns(const std::string& path);
// Whether `path` is a pinned netns (a mounted nsfs file).
bool IsPinnedNetns(const std::string& path);

}  // namespace berth::ns

#pragma once
// Whole-file reads and writes, with the atomic write every piece of berth
// state goes through (temp file, fsync, rename, fsync of the directory), so
// a kill -9 at any instant leaves either the old or the new content.

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "common/fd.h"

namespace berth {

Result<std::string> ReadFile(const std::string& path);
// Reads a file relative to a directory fd (AT_FDCWD for cwd).
Result<std::string> ReadFileAt(int dirfd, const std::string& path);
// Writes with O_WRONLY|O_TRUNC (cgroup and procfs knobs; no create).
// Writes all of `data` to `fd`, retrying short writes and EINTR; `what`
// names the fd in errors.
Status WriteAll(int fd, std::string_view data, const std::string& what);
Status WriteExisting(const std::string& path, std::string_view data);
Status WriteFile(const std::string& path, std::string_view data, mode_t mode = 0644);
// What an atomic write must survive. Both leave the old or the new content,
// never a torn file, across a kill -9 of the writer (rename is atomic).
// kPowerLoss also fsyncs the file and its directory, for state that outlives
// a reboot (images, the apiserver's store); state describing live processes
// (the runtime's container state, on tmpfs under /run normally) dies with
// them and needs only kProcessCrash, as runc writes it.
enum class Durability { kPowerLoss, kProcessCrash };
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode = 0644,
                       Durability durability = Durability::kPowerLoss);

Result<UniqueFd> Open(const std::string& path, int flags, mode_t mode = 0);
bool PathExists(const std::string& path);
Status MkdirAll(const std::string& path, mode_t mode = 0755);
// Removes a file or a directory tree; a missing path is not an error.
Status RemoveAll(const std::string& path);
Result<std::vector<std::string>> ListDir(const std::string& path);
// The names in the directory `dir_fd` refers to ("." and ".." left out);
// `what` names it in errors. dir_fd itself is left open and unmoved.
Result<std::vector<std::string>> ListDirAt(int dir_fd, const std::string& what);
// Removes `name` under `dir_fd` (a file or a whole tree) without following
// symlinks; a missing name is not an error. `what` names it in errors.
Status RemoveAllAt(int dir_fd, const std::string& name, const std::string& what);

std::string PathJoin(std::string_view a, std::string_view b);
std::string Dirname(std::string_view path);
std::string Basename(std::string_view path);
// Lexically cleans a path ("a//b/../c" -> "a/c"), like Go's filepath.Clean.
std::string CleanPath(std::string_view path);

}  // namespace berth

#pragma once
// Test helper: a directory tree as a map of path -> what a rootfs
// comparison cares about, and a readable diff of two such maps.

#include <sys/stat.h>
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace berth::image::testing {

// lstat, recording a test failure (with the path and errno) when it fails.
struct stat Lstat(const std::string& path);

struct Node {
  mode_t mode = 0;  // st_mode: type and permission bits
  uid_t uid = 0;
  gid_t gid = 0;
  std::string content;  // regular file content, or symlink target
  dev_t rdev = 0;       // devices
  // Other paths of the tree sharing this inode (non-directories), sorted.
  std::vector<std::string> links;
  std::map<std::string, std::string> user_xattrs;  // "user.*" only
  int64_t mtime = 0;                               // seconds
};

// Walks `root` without following symlinks; keys are paths relative to it
// ("etc/passwd"); the root itself is not included.
std::map<std::string, Node> WalkTree(const std::string& root);

// Differences between `want` and `got` as lines ("etc/x: mode 0100644 vs
// 0100600"). Directory mtimes are not compared; non-directory mtimes are
// when `mtimes`.
std::vector<std::string> DiffTrees(const std::map<std::string, Node>& want,
                                   const std::map<std::string, Node>& got, bool mtimes);

// Lists every path of a tree, one per line ("" when empty).
std::string ListTree(const std::string& root);

}  // namespace berth::image::testing

#include "runtime/image/unpack/tests/tree_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <utility>

#include "common/file.h"
#include "common/strings.h"

namespace berth::image::testing {

struct stat Lstat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path << ": " << strerror(errno);
  return st;
}

namespace {

std::map<std::string, std::string> UserXattrs(const std::string& path) {
  std::map<std::string, std::string> out;
  std::string names(65536, '\0');
  ssize_t n = ::llistxattr(path.c_str(), names.data(), names.size());
  if (n <= 0) return out;
  names.resize(static_cast<size_t>(n));
  for (const std::string& name : Split(names, '\0')) {
    if (!name.starts_with("user.")) continue;
    std::string value(65536, '\0');
    ssize_t len = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (len < 0) continue;
    value.resize(static_cast<size_t>(len));
    out[name] = value;
  }
  return out;
}

void Walk(const std::string& root, const std::string& rel, std::map<std::string, Node>* out,
          std::map<std::pair<dev_t, ino_t>, std::vector<std::string>>* inodes) {
  std::string dir_path = rel.empty() ? root : root + "/" + rel;
  Result<std::vector<std::string>> names = ListDir(dir_path);
  if (!names.ok()) return;
  for (const std::string& name : *names) {
    std::string child = rel.empty() ? name : rel + "/" + name;
    std::string path = root + "/" + child;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;
    Node node;
    node.mode = st.st_mode;
    node.uid = st.st_uid;
    node.gid = st.st_gid;
    node.mtime = st.st_mtim.tv_sec;
    if (S_ISREG(st.st_mode)) {
      node.content = ReadFile(path).value_or("<unreadable>");
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(4096, '\0');
      ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
      target.resize(n > 0 ? static_cast<size_t>(n) : 0);
      node.content = target;
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      node.rdev = st.st_rdev;
    }
    if (!S_ISLNK(st.st_mode)) node.user_xattrs = UserXattrs(path);
    if (!S_ISDIR(st.st_mode)) (*inodes)[{st.st_dev, st.st_ino}].push_back(child);
    (*out)[child] = std::move(node);
    if (S_ISDIR(st.st_mode)) Walk(root, child, out, inodes);
  }
}

std::string Octal(mode_t mode) {
  std::ostringstream s;
  s << "0" << std::oct << mode;
  return s.str();
}

}  // namespace

std::map<std::string, Node> WalkTree(const std::string& root) {
  std::map<std::string, Node> out;
  std::map<std::pair<dev_t, ino_t>, std::vector<std::string>> inodes;
  Walk(root, "", &out, &inodes);
  for (auto& [inode, paths] : inodes) {
    if (paths.size() < 2) continue;
    std::sort(paths.begin(), paths.end());
    for (const std::string& p : paths) {
      for (const std::string& other : paths) {
        if (other != p) out[p].links.push_back(other);
      }
    }
  }
  return out;
}

std::vector<std::string> DiffTrees(const std::map<std::string, Node>& want,
                                   const std::map<std::string, Node>& got, bool mtimes) {
  std::vector<std::string> diffs;
  for (const auto& [path, w] : want) {
    auto it = got.find(path);
    if (it == got.end()) {
      diffs.push_back(path + ": missing");
      continue;
    }
    const Node& g = it->second;
    const std::string& where = path;
    auto differ = [&](const std::string& what, const std::string& a, const std::string& b) {
      if (a != b) diffs.push_back(where + ": " + what + " " + a + " vs " + b);
    };
    differ("mode", Octal(w.mode), Octal(g.mode));
    differ("owner", std::to_string(w.uid) + ":" + std::to_string(w.gid),
           std::to_string(g.uid) + ":" + std::to_string(g.gid));
    differ("content", "\"" + w.content + "\"", "\"" + g.content + "\"");
    differ("device", std::to_string(major(w.rdev)) + "," + std::to_string(minor(w.rdev)),
           std::to_string(major(g.rdev)) + "," + std::to_string(minor(g.rdev)));
    differ("hard links", "[" + Join(w.links, " ") + "]", "[" + Join(g.links, " ") + "]");
    std::string wx;
    std::string gx;
    for (const auto& [k, v] : w.user_xattrs)
      wx += k + "=" + v + " ";
    for (const auto& [k, v] : g.user_xattrs)
      gx += k + "=" + v + " ";
    differ("xattrs", "{" + wx + "}", "{" + gx + "}");
    if (mtimes && !S_ISDIR(w.mode)) {
      differ("mtime", std::to_string(w.mtime), std::to_string(g.mtime));
    }
  }
  for (const auto& [path, g] : got) {
    if (!want.contains(path)) diffs.push_back(path + ": unexpected");
  }
  return diffs;
}

std::string ListTree(const std::string& root) {
  std::string out;
  for (const auto& [path, node] : WalkTree(root))
    out += path + "\n";
  return out;
}

}  // namespace berth::image::testing

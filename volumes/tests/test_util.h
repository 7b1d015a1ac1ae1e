#pragma once
// Small helpers of the volumes tests.

#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <climits>
#include <string>
#include <string_view>

namespace berth::volumes::testing {

inline boost::json::object Json(std::string_view text) {
  return boost::json::parse(text).as_object();
}

// The target of a symlink, "" when `path` is none.
inline std::string LinkTarget(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

// The permission bits (with setuid/setgid/sticky) of `path`, following
// symlinks; -1 when it does not exist.
inline int Mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

inline struct stat Stat(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st;
}

}  // namespace berth::volumes::testing

#include "runtime/oci/init/credentials.h"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "common/file.h"
#include "common/strings.h"

namespace berth::runtime::oci {

Status SwitchUser(const User& user, bool setgroups_allowed) {
  if (setgroups_allowed) {
    std::vector<gid_t> groups(user.additional_gids.begin(), user.additional_gids.end());
    if (::setgroups(groups.size(), groups.data()) != 0) return Error::Sys("setgroups");
  }
  if (::setresgid(user.gid, user.gid, user.gid) != 0) {
    return Error::Sys("setresgid", std::to_string(user.gid));
  }
  if (::setresuid(user.uid, user.uid, user.uid) != 0) {
    return Error::Sys("setresuid", std::to_string(user.uid));
  }
  return Ok();
}

namespace {

std::string HomeFromPasswd(uint32_t uid) {
  Result<std::string> passwd = ReadFile("/etc/passwd");
  if (!passwd.ok()) return "/";
  for (const std::string& line : Split(*passwd, '\n')) {
    std::vector<std::string> f = Split(line, ':');
    if (f.size() < 7) continue;
    Result<uint32_t> id = ParseInt<uint32_t>(f[2], "uid");
    if (id.ok() && *id == uid) return f[5].empty() ? "/" : f[5];
  }
  return "/";
}

bool HasVar(const std::vector<std::string>& env, std::string_view name) {
  for (const std::string& e : env) {
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=') {
      return true;
    }
  }
  return false;
}

bool IsExecutableFile(const std::string& path, int* err) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    *err = errno;
    return false;
  }
  if (S_ISDIR(st.st_mode) || (st.st_mode & 0111) == 0) {
    *err = EACCES;
    return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> ProcessEnv(const Process& process) {
  std::vector<std::string> env = process.env;
  if (!HasVar(env, "HOME")) env.push_back("HOME=" + HomeFromPasswd(process.user.uid));
  return env;
}

Result<std::string> LookPath(const std::string& file, const std::vector<std::string>& env) {
  int err = 0;
  if (file.find('/') != std::string::npos) {
    if (IsExecutableFile(file, &err)) return file;
    return Error(ErrcFromErrno(err),
                 "exec: \"" + file + "\": stat " + file + ": " + std::strerror(err));
  }
  std::string path;
  for (const std::string& e : env) {
    if (e.starts_with("PATH=")) path = e.substr(5);
  }
  for (std::string dir : Split(path, ':')) {
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + file;
    if (IsExecutableFile(candidate, &err)) return candidate;
  }
  return Error(Errc::kNotFound, "exec: \"" + file + "\": executable file not found in $PATH");
}

}  // namespace berth::runtime::oci

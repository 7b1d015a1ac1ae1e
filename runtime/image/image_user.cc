#include "runtime/image/image_user.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <optional>

#include "common/file.h"
#include "common/strings.h"
#include "runtime/oci/init/in_root.h"

namespace berth::image {
namespace {

struct Entry {
  std::string name;
  uint32_t id = 0;
  uint32_t gid = 0;                  // passwd only
  std::vector<std::string> members;  // group only
};

std::optional<uint32_t> Numeric(std::string_view s) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  Result<uint32_t> v = ParseInt<uint32_t>(s, "id");
  if (!v.ok()) return std::nullopt;
  return *v;
}

// name:password:id[:gid...] lines; malformed lines are skipped, as libc does.
std::vector<Entry> ParseDatabase(std::string_view text, bool is_passwd) {
  std::vector<Entry> out;
  for (const std::string& line : SplitNonEmpty(text, '\n')) {
    if (line[0] == '#') continue;
    std::vector<std::string> f = Split(line, ':');
    if (f.size() < (is_passwd ? 4u : 3u)) continue;
    std::optional<uint32_t> id = Numeric(f[2]);
    if (!id) continue;
    Entry e;
    e.name = f[0];
    e.id = *id;
    if (is_passwd) {
      std::optional<uint32_t> gid = Numeric(f[3]);
      if (!gid) continue;
      e.gid = *gid;
    } else if (f.size() > 3) {
      e.members = SplitNonEmpty(f[3], ',');
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::string> ReadInRoot(int root_fd, const std::string& path) {
  Result<UniqueFd> fd = runtime::oci::OpenInRoot(root_fd, path, O_RDONLY);
  if (!fd.ok()) {
    if (fd.error().sys_errno() == ENOENT) return std::string();
    return std::move(fd).error();
  }
  std::string out;
  std::array<char, 8192> buf{};
  while (true) {
    ssize_t n = ::read(fd->get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::Sys("read", path);
    if (n == 0) break;
    out.append(buf.data(), static_cast<size_t>(n));
    if (out.size() > (size_t{16} << 20)) {
      return Error(Errc::kResourceExhausted, path + ": larger than 16 MiB");
    }
  }
  return out;
}

}  // namespace

Result<ResolvedUser> ResolveUser(std::string_view spec, std::string_view passwd,
                                 std::string_view group) {
  std::vector<Entry> users = ParseDatabase(passwd, true);
  std::vector<Entry> groups = ParseDatabase(group, false);
  std::string user_part(spec.substr(0, spec.find(':')));
  std::optional<std::string> group_part;
  if (size_t colon = spec.find(':'); colon != std::string_view::npos) {
    group_part = std::string(spec.substr(colon + 1));
  }
  ResolvedUser out;
  if (user_part.empty()) user_part = "0";
  std::optional<uint32_t> uid = Numeric(user_part);
  const Entry* found = nullptr;
  for (const Entry& u : users) {
    if (uid ? u.id == *uid : u.name == user_part) {
      found = &u;
      break;
    }
  }
  if (!uid && !found) {
    return Error(Errc::kNotFound, "user \"" + std::string(spec) + "\": no user \"" + user_part +
                                      "\" in /etc/passwd");
  }
  out.uid = uid ? *uid : found->id;
  out.gid = found ? found->gid : 0;
  out.name = found ? found->name : "";
  if (group_part) {
    std::optional<uint32_t> gid = Numeric(*group_part);
    if (gid) {
      out.gid = *gid;
    } else {
      const Entry* g = nullptr;
      for (const Entry& e : groups) {
        if (e.name == *group_part) {
          g = &e;
          break;
        }
      }
      if (!g) {
        return Error(Errc::kNotFound, "user \"" + std::string(spec) + "\": no group \"" +
                                          *group_part + "\" in /etc/group");
      }
      out.gid = g->id;
    }
  }
  if (!out.name.empty()) {
    for (const Entry& g : groups) {
      bool member = false;
      for (const std::string& m : g.members)
        member = member || m == out.name;
      if (member && g.id != out.gid) out.additional_gids.push_back(g.id);
    }
  }
  return out;
}

Result<ResolvedUser> ResolveUserInRootfs(std::string_view spec, const std::string& rootfs) {
  UniqueFd root = BERTH_TRY(Open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC));
  std::string passwd = BERTH_TRY(ReadInRoot(root.get(), "/etc/passwd"));
  std::string group = BERTH_TRY(ReadInRoot(root.get(), "/etc/group"));
  return ResolveUser(spec, passwd, group);
}

}  // namespace berth::image

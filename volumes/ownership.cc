#include "volumes/ownership.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/file.h"

namespace berth::volumes {
namespace {

namespace bj = boost::json;

const bj::object* ObjectAt(const bj::object* obj, std::string_view key) {
  if (obj == nullptr) return nullptr;
  const bj::value* v = obj->if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

std::optional<int64_t> IntAt(const bj::object* obj, std::string_view key) {
  if (obj == nullptr) return std::nullopt;
  const bj::value* v = obj->if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= INT64_MAX) return static_cast<int64_t>(v->get_uint64());
  return std::nullopt;
}

constexpr mode_t kReadWriteMask = 0660;
constexpr mode_t kReadOnlyMask = 0440;
constexpr mode_t kExecMask = 0110;

// Applies the ownership to `name` under `parent_fd` and, for a directory,
// to everything below it.
Status Apply(int parent_fd, const std::string& name, const std::string& display, gid_t group,
             mode_t mask) {
  struct stat st {};
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Ok();  // removed meanwhile (an old data dir)
    return Error::Sys("lstat", display);
  }
  if (::fchownat(parent_fd, name.c_str(), static_cast<uid_t>(-1), group, AT_SYMLINK_NOFOLLOW) !=
      0) {
    return Error::Sys("lchown", display);
  }
  // A symlink's own mode means nothing; chmod would follow it.
  if (S_ISLNK(st.st_mode)) return Ok();
  mode_t mode = (st.st_mode & 07777) | mask;
  if (S_ISDIR(st.st_mode)) mode |= S_ISGID | kExecMask;
  if (::fchmodat(parent_fd, name.c_str(), mode, 0) != 0) return Error::Sys("chmod", display);
  if (!S_ISDIR(st.st_mode)) return Ok();

  UniqueFd dir(::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) return Error::Sys("open", display);
  for (const std::string& child : BERTH_TRY(ListDirAt(dir.get(), display))) {
    BERTH_TRY(Apply(dir.get(), child, display + "/" + child, group, mask));
  }
  return Ok();
}

std::optional<int64_t> EffectiveRunAsUser(const bj::object* pod_context,
                                          const bj::object& container) {
  std::optional<int64_t> own = IntAt(ObjectAt(&container, "securityContext"), "runAsUser");
  return own ? own : IntAt(pod_context, "runAsUser");
}

}  // namespace

Result<std::optional<gid_t>> PodFsGroup(const bj::object& pod) {
  const bj::object* context = ObjectAt(ObjectAt(&pod, "spec"), "securityContext");
  const bj::value* v = context != nullptr ? context->if_contains("fsGroup") : nullptr;
  if (v == nullptr || v->is_null()) return std::optional<gid_t>();
  std::optional<int64_t> group = IntAt(context, "fsGroup");
  if (!group || *group < 0 || *group > UINT32_MAX - 1) {
    return Error(Errc::kInvalidArgument,
                 "spec.securityContext.fsGroup: invalid value " + bj::serialize(*v));
  }
  return std::optional<gid_t>(static_cast<gid_t>(*group));
}

std::optional<uid_t> PodFsUser(const bj::object& pod) {
  const bj::object* spec = ObjectAt(&pod, "spec");
  const bj::object* pod_context = ObjectAt(spec, "securityContext");
  std::optional<int64_t> user;
  bool any = false;
  for (std::string_view list : {"initContainers", "containers"}) {
    const bj::value* containers = spec != nullptr ? spec->if_contains(list) : nullptr;
    if (containers == nullptr || !containers->is_array()) continue;
    for (const bj::value& c : containers->get_array()) {
      if (!c.is_object()) return std::nullopt;
      std::optional<int64_t> run_as = EffectiveRunAsUser(pod_context, c.get_object());
      if (!run_as || *run_as < 0 || (user && *user != *run_as)) return std::nullopt;
      user = run_as;
      any = true;
    }
  }
  if (!any || !user) return std::nullopt;
  return static_cast<uid_t>(*user);
}

Status SetVolumeOwnership(const std::string& dir, gid_t fs_group, bool read_only) {
  return Apply(AT_FDCWD, dir, dir, fs_group, read_only ? kReadOnlyMask : kReadWriteMask);
}

}  // namespace berth::volumes

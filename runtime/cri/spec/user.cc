#include "runtime/cri/spec/user.h"

#include <algorithm>
#include <limits>

#include "runtime/image/image_user.h"

namespace berth::cri {
namespace {

namespace v1 = ::runtime::v1;

Result<uint32_t> Id(int64_t value, const std::string& field) {
  if (value < 0 || value > std::numeric_limits<uint32_t>::max()) {
    return Error(Errc::kInvalidArgument,
                 field + ": " + std::to_string(value) + " is not a valid id");
  }
  return static_cast<uint32_t>(value);
}

// containerd's generateUserString: username or uid, then ":gid".
Result<std::string> CriUserString(const std::string& username, const v1::Int64Value* uid,
                                  const v1::Int64Value* gid) {
  std::string user;
  if (uid != nullptr) user = std::to_string(BERTH_TRY(Id(uid->value(), "run_as_user")));
  if (!username.empty()) user = username;
  if (gid == nullptr) return user;
  uint32_t group = BERTH_TRY(Id(gid->value(), "run_as_group"));
  if (user.empty()) {
    return Error(Errc::kInvalidArgument, "run_as_group " + std::to_string(group) +
                                             " is specified without run_as_user or "
                                             "run_as_username");
  }
  return user + ":" + std::to_string(group);
}

Result<std::vector<uint32_t>> Supplemental(const google::protobuf::RepeatedField<int64_t>& groups) {
  std::vector<uint32_t> out;
  for (int i = 0; i < groups.size(); ++i) {
    out.push_back(BERTH_TRY(Id(groups.Get(i), "supplemental_groups[" + std::to_string(i) + "]")));
  }
  return out;
}

void SortUnique(std::vector<uint32_t>& ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

// `what` names where the user string came from, for errors.
Result<image::ResolvedUser> Resolve(const std::string& spec, const std::string& what,
                                    const std::string& rootfs) {
  Result<image::ResolvedUser> user = image::ResolveUserInRootfs(spec, rootfs);
  if (user.ok()) return user;
  Error e = std::move(user).error();
  if (e.code() != Errc::kNotFound || e.sys_errno() != 0) return std::move(e).Wrap(what);
  // ResolveUser's lookups: name the CRI field and the image.
  std::string name = spec.substr(0, spec.find(':'));
  if (e.message().find("/etc/passwd") != std::string::npos) {
    return Error(Errc::kNotFound, what + " `" + name + "`: not found in /etc/passwd of the image");
  }
  return Error(Errc::kNotFound,
               what + " `" + spec + "`: group not found in /etc/group of the image");
}

}  // namespace

Result<ProcessUser> ResolveContainerUser(const v1::LinuxContainerSecurityContext& sc,
                                         const std::string& image_user, const std::string& rootfs) {
  std::string spec = BERTH_TRY(CriUserString(sc.run_as_username(),
                                             sc.has_run_as_user() ? &sc.run_as_user() : nullptr,
                                             sc.has_run_as_group() ? &sc.run_as_group() : nullptr));
  std::string what = !sc.run_as_username().empty() ? "run_as_username"
                     : sc.has_run_as_user()        ? "run_as_user"
                                                   : "image user";
  if (spec.empty()) spec = image_user;
  if (spec.empty()) spec = "0";
  image::ResolvedUser resolved = BERTH_TRY(Resolve(spec, what, rootfs));
  ProcessUser out{resolved.uid, resolved.gid, {}};
  if (sc.supplemental_groups_policy() != v1::Strict) out.additional_gids = resolved.additional_gids;
  std::vector<uint32_t> extra = BERTH_TRY(Supplemental(sc.supplemental_groups()));
  out.additional_gids.insert(out.additional_gids.end(), extra.begin(), extra.end());
  SortUnique(out.additional_gids);
  return out;
}

Result<ProcessUser> ResolveSandboxUser(const v1::LinuxSandboxSecurityContext& sc,
                                       const std::string& rootfs) {
  std::string spec = BERTH_TRY(CriUserString("", sc.has_run_as_user() ? &sc.run_as_user() : nullptr,
                                             sc.has_run_as_group() ? &sc.run_as_group() : nullptr));
  ProcessUser out;
  if (!spec.empty()) {
    image::ResolvedUser resolved = BERTH_TRY(Resolve(spec, "run_as_user", rootfs));
    out.uid = resolved.uid;
    out.gid = resolved.gid;
  }
  out.additional_gids = BERTH_TRY(Supplemental(sc.supplemental_groups()));
  SortUnique(out.additional_gids);
  return out;
}

boost::json::object UserJson(const ProcessUser& user) {
  boost::json::object out{{"uid", user.uid}, {"gid", user.gid}};
  if (!user.additional_gids.empty()) {
    boost::json::array gids;
    for (uint32_t g : user.additional_gids)
      gids.emplace_back(g);
    out["additionalGids"] = std::move(gids);
  }
  return out;
}

}  // namespace berth::cri

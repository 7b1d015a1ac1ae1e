#include "runtime/cri/spec/seccomp_profile.h"

#include "common/file.h"
#include "common/json.h"
#include "runtime/cri/spec/seccomp_default.h"
#include "runtime/oci/security/seccomp.h"

namespace berth::cri {
namespace {

namespace bj = boost::json;
namespace v1 = ::runtime::v1;
using Kind = SeccompChoice::Kind;

constexpr std::string_view kLocalhostPrefix = "localhost/";

std::string TrimLocalhost(const std::string& ref) {
  if (ref.rfind(kLocalhostPrefix, 0) == 0) return ref.substr(kLocalhostPrefix.size());
  return ref;
}

Result<SeccompChoice> Localhost(const std::string& ref, const std::string& root,
                                const std::string& field) {
  std::string path = TrimLocalhost(ref);
  if (path.empty()) {
    return Error(Errc::kInvalidArgument, field + ": a Localhost seccomp profile needs a path");
  }
  if (path[0] != '/') {
    if (root.empty()) {
      return Error(Errc::kInvalidArgument, field + ": seccomp profile `" + path +
                                               "` is relative and no profile root is set");
    }
    path = PathJoin(root, path);
  }
  return SeccompChoice{Kind::kLocalhost, CleanPath(path)};
}

Result<SeccompChoice> FromLegacyPath(const std::string& value, const std::string& root) {
  const std::string field = "seccomp_profile_path";
  if (value.empty() || value == "unconfined") return SeccompChoice{};
  if (value == "runtime/default" || value == "docker/default") {
    return SeccompChoice{Kind::kRuntimeDefault, ""};
  }
  if (value.rfind(kLocalhostPrefix, 0) != 0) {
    return Error(Errc::kInvalidArgument, field + ": invalid profile \"" + value + "\"");
  }
  return Localhost(value, root, field);
}

Result<SeccompChoice> FromProfile(const v1::SecurityProfile& p, const std::string& root) {
  const std::string field = "seccomp";
  if (p.profile_type() != v1::SecurityProfile::Localhost && !p.localhost_ref().empty()) {
    return Error(Errc::kInvalidArgument,
                 field + ": localhost_ref must only be set when profile_type is Localhost");
  }
  switch (p.profile_type()) {
    case v1::SecurityProfile::Unconfined:
      return SeccompChoice{};
    case v1::SecurityProfile::RuntimeDefault:
      return SeccompChoice{Kind::kRuntimeDefault, ""};
    case v1::SecurityProfile::Localhost:
      return Localhost(p.localhost_ref(), root, field + ".localhost_ref");
    default:
      return Error(Errc::kInvalidArgument,
                   field + ": unknown profile_type " + std::to_string(p.profile_type()));
  }
}

// The members of runtime-spec's LinuxSeccomp / LinuxSyscall; Go's decoder
// drops the rest (Docker-format extras such as archMap, includes, comment).
constexpr const char* kProfileKeys[] = {"defaultAction", "defaultErrnoRet", "architectures",
                                        "flags",         "listenerPath",    "listenerMetadata",
                                        "syscalls"};
constexpr const char* kSyscallKeys[] = {"names", "action", "errnoRet", "args"};

template <size_t N>
bj::object KeepKeys(const bj::object& in, const char* const (&keys)[N]) {
  bj::object out;
  for (const char* key : keys) {
    if (const bj::value* v = in.if_contains(key); v != nullptr && !v->is_null()) out[key] = *v;
  }
  return out;
}

Result<bj::object> OciSubset(const bj::value& doc, const std::string& what) {
  if (!doc.is_object()) {
    return Error(Errc::kInvalidArgument,
                 what + ": expected a JSON object, got " + json::KindName(doc));
  }
  bj::object out = KeepKeys(doc.as_object(), kProfileKeys);
  if (bj::value* syscalls = out.if_contains("syscalls"); syscalls && syscalls->is_array()) {
    for (bj::value& rule : syscalls->as_array()) {
      if (rule.is_object()) rule = KeepKeys(rule.as_object(), kSyscallKeys);
    }
  }
  return out;
}

}  // namespace

Result<SeccompChoice> ChooseSeccomp(const v1::SecurityProfile* profile,
                                    const std::string& legacy_path, bool privileged,
                                    const std::string& root) {
  if (privileged) return SeccompChoice{};
  if (profile != nullptr) return FromProfile(*profile, root);
  return FromLegacyPath(legacy_path, root);
}

Result<boost::json::object> LoadLocalhostProfile(const std::string& path) {
  const std::string what = "seccomp profile `" + path + "`";
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) {
    if (text.error().sys_errno() == ENOENT) {
      return Error(Errc::kNotFound, what + ": not found");
    }
    return std::move(text).error().Wrap("read " + what);
  }
  bj::value doc = BERTH_TRY(json::Parse(*text, what));
  bj::object profile = BERTH_TRY(OciSubset(doc, what));
  // The runtime's parser: the same checks `create` would make, now.
  bj::value as_value = profile;
  Result<runtime::security::SeccompProfile> parsed =
      runtime::security::ParseSeccomp(json::Field(&as_value, "seccomp"));
  if (!parsed.ok()) {
    Error e = std::move(parsed).error();
    return Error(Errc::kInvalidArgument, what + ": " + e.str());
  }
  return profile;
}

Result<std::optional<boost::json::object>> SeccompJson(const SeccompChoice& choice,
                                                       const std::vector<std::string>& bounding) {
  switch (choice.kind) {
    case Kind::kNone:
      return std::optional<bj::object>();
    case Kind::kRuntimeDefault:
      return std::optional<bj::object>(DefaultSeccompProfile(bounding));
    case Kind::kLocalhost:
      return std::optional<bj::object>(BERTH_TRY(LoadLocalhostProfile(choice.path)));
  }
  return std::optional<bj::object>();
}

}  // namespace berth::cri

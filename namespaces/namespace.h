#pragma once
// Linux namespace kinds: their OCI names, /proc/<pid>/ns names and clone
// flags; joining one by path (setns).

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace berth::ns {

enum class Kind { kPid, kNetwork, kMount, kIpc, kUts, kUser, kCgroup, kTime };
inline constexpr Kind kAllKinds[] = {Kind::kPid, Kind::kNetwork, Kind::kMount,  Kind::kIpc,
                                     Kind::kUts, Kind::kUser,    Kind::kCgroup, Kind::kTime};

// OCI spec name ("network", "mount", ...).
std::string_view OciName(Kind kind);
std::optional<Kind> FromOciName(std::string_view name);
// Name under /proc/<pid>/ns ("net", "mnt", ...).
std::string_view ProcName(Kind kind);
int CloneFlag(Kind kind);

std::string ProcPath(pid_t pid, Kind kind);  // /proc/<pid>/ns/<name>
// setns(2) into the namespace at `path`, checking that it is of `kind`.
Status Join(const std::string& path, Kind kind);
// setns(2) through an already opened namespace fd.
Status JoinFd(int fd, Kind kind, const std::string& what);

// "net:[4026531840]" style identity of a namespace file, for comparisons.
Result<std::string> Identity(const std::string& path);

}  // namespace berth::ns

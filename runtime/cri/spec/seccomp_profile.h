#pragma once
// Which seccomp profile a CRI security context asks for, and the
// linux.seccomp object for it, by containerd's rules:
//   privileged                          -> none
//   SecurityProfile present             -> its type:
//     Unconfined                        -> none
//     RuntimeDefault                    -> berth's default (seccomp_default.h)
//     Localhost + localhost_ref         -> the JSON file (a "localhost/" prefix
//                                          is trimmed; relative paths are
//                                          under the profile root)
//   else the legacy seccomp_profile_path:
//     ""                                -> none (containerd's default without
//                                          unset_seccomp_profile)
//     "runtime/default", "docker/default" -> RuntimeDefault
//     "unconfined"                      -> none
//     "localhost/<path>"                -> Localhost
//     anything else                     -> InvalidArgument
// A Localhost file that does not exist is NotFound naming the path; one
// that is not a valid profile is InvalidArgument. Only the members of the
// OCI LinuxSeccomp object are kept (as Go's decoding into the spec type
// does), and the result is checked with the runtime's own parser, so a bad
// profile fails CreateContainer rather than StartContainer.

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/cri/proto/api.pb.h"

namespace berth::cri {

struct SeccompChoice {
  enum class Kind { kNone, kRuntimeDefault, kLocalhost };
  Kind kind = Kind::kNone;
  std::string path;  // kLocalhost: absolute path of the profile
};

// `profile` may be null (the message is absent). `root` resolves relative
// Localhost paths ("" = relative paths are an error).
Result<SeccompChoice> ChooseSeccomp(const ::runtime::v1::SecurityProfile* profile,
                                    const std::string& legacy_path, bool privileged,
                                    const std::string& root);

// linux.seccomp for the choice (nullopt for kNone). `bounding` feeds the
// capability-conditional rules of the default profile.
Result<std::optional<boost::json::object>> SeccompJson(const SeccompChoice& choice,
                                                       const std::vector<std::string>& bounding);

// Reads and checks a Localhost profile file.
Result<boost::json::object> LoadLocalhostProfile(const std::string& path);

}  // namespace berth::cri

#pragma once
// $(VAR) references in container fields, as kubelet expands them
// (third_party/forked/golang/expansion): `$(NAME)` becomes the variable's
// value, `$$` an escaped `$`, and a reference to an unknown variable (or an
// unclosed `$(`) stays as written.

#include <boost/json.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace berth::agent {

// One variable of a container's environment, in the order given to the
// runtime.
struct EnvVar {
  std::string name, value;
  bool operator==(const EnvVar&) const = default;
};

// Expands `input`; `lookup` answers a variable's value or nullopt when it
// is not defined.
std::string ExpandVars(std::string_view input,
                       const std::function<std::optional<std::string>(std::string_view)>& lookup);

// command / args with $(VAR) expanded from the container's final
// environment (a later definition of a name wins), as upstream
// ExpandContainerCommandAndArgs. Non-string items are skipped.
std::vector<std::string> ExpandAll(const boost::json::array& items, const std::vector<EnvVar>& env);

// A volumeMount's subPathExpr expanded from the environment; a reference to
// a variable that is undefined or empty is an error, "missing value for A,
// B" (upstream ExpandContainerVolumeMounts).
Result<std::string> ExpandSubPathExpr(std::string_view expr, const std::vector<EnvVar>& env);

}  // namespace berth::agent

#pragma once
// The network configuration a plugin reads on stdin (SPEC "Deriving
// execution configuration from plugin configuration"): the plugin's own
// JSON from the list, untouched but for
// - `name` and `cniVersion`, set to the list's;
// - `prevResult`, the previous plugin's result (ADD) or the cached result
//   of the last ADD (DEL, CHECK), when there is one;
// - `runtimeConfig`, the capability arguments whose key the plugin's
//   `capabilities` map enables (nothing else reaches it; when none match,
//   a runtimeConfig written in the file itself stays as it is).

#include <boost/json.hpp>
#include <string>

#include "cni/client/config.h"

namespace berth::cni {

std::string PluginStdin(const NetworkConfigList& list, const PluginConfig& plugin,
                        const bj::object* prev_result, const bj::object& capability_args);

// runtimeConfig for `plugin`: the members of `capability_args` it enables.
bj::object FilterCapabilities(const PluginConfig& plugin, const bj::object& capability_args);

}  // namespace berth::cni

#pragma once
// YAML (and JSON, which is YAML) read into a JSON DOM the way Kubernetes
// reads its config files (sigs.k8s.io/yaml): plain scalars are typed
// (true/false, null/~, integers, floats), quoted ones stay strings.

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "common/error.h"

namespace berth::agent {

// `what` (the file) prefixes errors, with the line of a syntax error.
Result<boost::json::value> YamlToJson(std::string_view text, const std::string& what);

}  // namespace berth::agent

#pragma once
// JSON text indented exactly as Go's json.MarshalIndent(v, "", "  ") prints
// it, for CLI output that tools and users diff against runc's.

#include <boost/json.hpp>
#include <string>

namespace berth::json {

std::string Pretty(const boost::json::value& value, int indent = 2);

}  // namespace berth::json

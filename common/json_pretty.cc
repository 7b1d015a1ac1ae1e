#include "common/json_pretty.h"

namespace berth::json {
namespace {

void Write(const boost::json::value& v, int indent, int depth, std::string& out) {
  auto newline = [&](int d) {
    out += '\n';
    out.append(static_cast<size_t>(d) * static_cast<size_t>(indent), ' ');
  };
  if (v.is_object()) {
    const auto& obj = v.get_object();
    if (obj.empty()) {
      out += "{}";
      return;
    }
    out += '{';
    bool first = true;
    for (const auto& kv : obj) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      out += boost::json::serialize(boost::json::value(kv.key()));
      out += ": ";
      Write(kv.value(), indent, depth + 1, out);
    }
    newline(depth);
    out += '}';
  } else if (v.is_array()) {
    const auto& arr = v.get_array();
    if (arr.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (size_t i = 0; i < arr.size(); ++i) {
      if (i != 0) out += ',';
      newline(depth + 1);
      Write(arr[i], indent, depth + 1, out);
    }
    newline(depth);
    out += ']';
  } else {
    out += boost::json::serialize(v);
  }
}

}  // namespace

std::string Pretty(const boost::json::value& value, int indent) {
  std::string out;
  Write(value, indent, 0, out);
  return out;
}

}  // namespace berth::json

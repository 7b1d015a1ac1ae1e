#include "agent/config/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>

namespace berth::agent {
namespace {

namespace bj = boost::json;

bool HasDigit(const std::string& s) {
  return s.find_first_of("0123456789") != std::string::npos;
}

// A plain scalar typed as YAML 1.2's core schema types it.
bj::value PlainScalar(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  char* end = nullptr;
  errno = 0;
  long long i = std::strtoll(s.c_str(), &end, 10);
  if (*end == '\0' && errno == 0 && HasDigit(s) && s[0] != '+') return i;
  errno = 0;
  double d = std::strtod(s.c_str(), &end);
  if (*end == '\0' && errno == 0 && HasDigit(s) && s.find_first_of("xXnN") == std::string::npos) {
    return d;
  }
  return bj::string(s);
}

Result<bj::value> ToJson(const YAML::Node& node, const std::string& what) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return bj::value(nullptr);
    case YAML::NodeType::Scalar:
      // Tag "!" marks a quoted scalar: always a string.
      if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") {
        return bj::value(bj::string(node.Scalar()));
      }
      return PlainScalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      bj::array out;
      for (const YAML::Node& item : node)
        out.push_back(BERTH_TRY(ToJson(item, what)));
      return bj::value(std::move(out));
    }
    case YAML::NodeType::Map: {
      bj::object out;
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
          return Error(Errc::kInvalidArgument, what + ": line " +
                                                   std::to_string(kv.first.Mark().line + 1) +
                                                   ": a mapping key must be a scalar");
        }
        if (out.contains(kv.first.Scalar())) {
          return Error(Errc::kInvalidArgument,
                       what + ": line " + std::to_string(kv.first.Mark().line + 1) +
                           ": duplicate field \"" + kv.first.Scalar() + "\"");
        }
        out[kv.first.Scalar()] = BERTH_TRY(ToJson(kv.second, what));
      }
      return bj::value(std::move(out));
    }
  }
  return bj::value(nullptr);
}

}  // namespace

Result<bj::value> YamlToJson(std::string_view text, const std::string& what) {
  try {
    return ToJson(YAML::Load(std::string(text)), what);
  } catch (const YAML::Exception& e) {
    return Error(Errc::kInvalidArgument, what + ": invalid YAML: " + e.what());
  }
}

}  // namespace berth::agent

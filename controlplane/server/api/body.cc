#include "controlplane/server/api/body.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>

#include "common/json.h"
#include "controlplane/server/api/protobuf.h"

namespace berth::controlplane::api {
namespace {

namespace bj = boost::json;

// A plain scalar's JSON value, as YAML 1.2's core schema types it.
bj::value PlainScalar(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  const char* begin = s.c_str();
  char* end = nullptr;
  errno = 0;
  long long i = std::strtoll(begin, &end, 10);
  if (*end == '\0' && errno == 0 && s.find_first_of("0123456789") != std::string::npos &&
      s[0] != '+') {
    return i;
  }
  errno = 0;
  double d = std::strtod(begin, &end);
  if (*end == '\0' && errno == 0 && s.find_first_of("0123456789") != std::string::npos &&
      s.find_first_of("xXnN") == std::string::npos) {
    return d;
  }
  return bj::string(s);
}

Result<bj::value> ToJson(const YAML::Node& node) {
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
        out.push_back(BERTH_TRY(ToJson(item)));
      return bj::value(std::move(out));
    }
    case YAML::NodeType::Map: {
      bj::object out;
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
          return Error(Errc::kInvalidArgument, "yaml: line " +
                                                   std::to_string(kv.first.Mark().line + 1) +
                                                   ": a mapping key must be a scalar");
        }
        out[kv.first.Scalar()] = BERTH_TRY(ToJson(kv.second));
      }
      return bj::value(std::move(out));
    }
  }
  return bj::value(nullptr);
}

}  // namespace

Result<bj::value> ParseBody(std::string_view body, std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  if (media == "application/yaml" || media == "application/x-yaml" || media == "text/yaml") {
    try {
      return ToJson(YAML::Load(std::string(body)));
    } catch (const YAML::Exception& e) {
      return Error(Errc::kInvalidArgument, std::string("invalid YAML: ") + e.what());
    }
  }
  if (media == kProtobufContentType) {
    Result<bj::object> obj = DecodeProtobufObject(body);
    if (!obj.ok()) return std::move(obj).error();
    return bj::value(std::move(*obj));
  }
  return json::Parse(body, "request body");
}

}  // namespace berth::controlplane::api

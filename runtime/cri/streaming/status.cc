#include "runtime/cri/streaming/status.h"

#include <boost/json.hpp>

namespace berth::cri::streaming {
namespace json = boost::json;

CommandStatus CommandStatus::NonZeroExit(int code, std::string message) {
  return {Kind::kNonZeroExit, code, std::move(message)};
}

CommandStatus CommandStatus::InternalError(std::string error) {
  return {Kind::kInternalError, 0, std::move(error)};
}

namespace {

std::string FailureMessage(const CommandStatus& s) {
  if (s.kind == CommandStatus::Kind::kNonZeroExit) {
    return "command terminated with non-zero exit code: " + s.message;
  }
  return "Internal error occurred: " + s.message;
}

}  // namespace

std::string StatusJson(const CommandStatus& s) {
  // Go marshals metav1.Status in field order: (kind, apiVersion omitted),
  // metadata (a struct, never omitted), status, message, reason, details,
  // code. boost::json::object keeps insertion order.
  json::object o;
  o["metadata"] = json::object();
  if (s.kind == CommandStatus::Kind::kSuccess) {
    o["status"] = "Success";
    return json::serialize(o);
  }
  o["status"] = "Failure";
  o["message"] = FailureMessage(s);
  json::object cause;
  if (s.kind == CommandStatus::Kind::kNonZeroExit) {
    o["reason"] = "NonZeroExitCode";
    cause["reason"] = "ExitCode";
    cause["message"] = std::to_string(s.exit_code);
  } else {
    o["reason"] = "InternalError";
    cause["message"] = s.message;
  }
  json::object details;
  details["causes"] = json::array{cause};
  o["details"] = std::move(details);
  if (s.kind == CommandStatus::Kind::kInternalError) o["code"] = 500;
  return json::serialize(o);
}

std::optional<std::string> StatusText(const CommandStatus& s) {
  if (s.kind == CommandStatus::Kind::kSuccess) return std::nullopt;
  return FailureMessage(s);
}

std::string ExecExitMessage(const std::vector<std::string>& cmd, int code) {
  std::string joined;
  for (const auto& part : cmd) {
    if (!joined.empty()) joined += ' ';
    joined += part;
  }
  return "error executing command [" + joined + "], exit code " + std::to_string(code);
}

}  // namespace berth::cri::streaming

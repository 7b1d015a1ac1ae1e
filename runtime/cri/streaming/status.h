#pragma once
// The final word of a remotecommand session on its error stream/channel.
//
// v4 and v5 send a JSON metav1.Status (Go's encoding/json field order, as
// kubelet writes it); v1-v3 send only a failure's message, as plain text.

#include <optional>
#include <string>
#include <vector>

namespace berth::cri::streaming {

struct CommandStatus {
  enum class Kind { kSuccess, kNonZeroExit, kInternalError };
  Kind kind = Kind::kSuccess;
  int exit_code = 0;
  std::string message;  // kNonZeroExit: the exit error; kInternalError: the error

  static CommandStatus Success() { return {}; }
  // `message` is the exit error's text, e.g. "error executing command
  // [sh -c exit 3], exit code 3".
  static CommandStatus NonZeroExit(int code, std::string message);
  static CommandStatus InternalError(std::string error);
};

// {"metadata":{},"status":"Success"} and the Failure shapes:
//   NonZeroExitCode: message "command terminated with non-zero exit code:
//   <message>", details.causes [{"reason":"ExitCode","message":"<code>"}]
//   InternalError: code 500, message "Internal error occurred: <error>",
//   details.causes [{"message":"<error>"}]
std::string StatusJson(const CommandStatus& status);

// What a v1-v3 error stream carries: nothing for success, else the
// Status message.
std::optional<std::string> StatusText(const CommandStatus& status);

// The exit error text containerd uses for a failed exec:
// "error executing command [sh -c exit 3], exit code 3".
std::string ExecExitMessage(const std::vector<std::string>& cmd, int code);

}  // namespace berth::cri::streaming

#pragma once
// The CNI execution protocol (SPEC "Protocol parameters", "Error"): find
// the plugin executable for a `type` in CNI_PATH, run it with the CNI_*
// environment and the configuration on stdin, and turn a failure into a
// berth::Error.
//
// A plugin fails by exiting non-zero with
//   {"cniVersion": "1.0.0", "code": 7, "msg": "...", "details": "..."}
// on stdout. The Error's message names the plugin, the network, the
// command, the code and msg:
//   CNI plugin "bridge" (network "pods") failed ADD: code 11 (try again later): ...
// and its category follows the code (3 -> NotFound, 11/50/51 ->
// Unavailable, 1/2/4/6/7 -> InvalidArgument/FailedPrecondition, others
// Unknown). A timeout kills the plugin's process group (DeadlineExceeded).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cni/client/version.h"
#include "common/error.h"

namespace berth::cni {

inline constexpr std::string_view kDefaultPluginPath = "/opt/cni/bin:/usr/lib/cni";

// Well-known error codes (SPEC "Error", 1.1 adds 50/51 for STATUS).
enum CniCode : int {
  kCodeIncompatibleVersion = 1,
  kCodeUnsupportedField = 2,
  kCodeUnknownContainer = 3,
  kCodeInvalidEnvironment = 4,
  kCodeIoFailure = 5,
  kCodeDecodeFailure = 6,
  kCodeInvalidNetworkConfig = 7,
  kCodeTryAgainLater = 11,
  kCodePluginNotAvailable = 50,
  kCodeLimitedConnectivity = 51,
};
const char* CniCodeName(int code);  // "try again later"; "" when not well known
Errc ErrcForCniCode(int code);

struct PluginError {
  int code = 0;
  std::string msg;
  std::string details;
};
// Parses a plugin's error output; nullopt when it is not an error object.
std::optional<PluginError> ParsePluginError(std::string_view out);

// How plugins are run: where they are, the environment they inherit, and
// how long one invocation may take.
struct ExecConfig {
  std::vector<std::string> plugin_dirs;  // CNI_PATH, in search order
  // The environment plugins inherit (PATH matters: portmap runs iptables);
  // unset: this process's environment at each call. CNI_* keys are replaced.
  std::optional<std::vector<std::string>> base_env;
  std::chrono::milliseconds timeout{60'000};
};

// One invocation's CNI_* parameters.
struct Invocation {
  std::string command;  // ADD, DEL, CHECK, STATUS, VERSION, GC
  std::string container_id;
  std::string netns;
  std::string ifname;
  std::string cni_args;  // "K=V;K=V"
};

// The executable for `type`: the first regular, executable file of that
// name in `dirs`. NotFound names the type and the directories.
Result<std::string> FindPlugin(std::string_view type, const std::vector<std::string>& dirs);
std::vector<std::string> SplitPluginPath(std::string_view cni_path);

// The plugin's environment: base (CNI_* removed) + the CNI_* of `inv`.
std::vector<std::string> PluginEnv(const ExecConfig& config, const Invocation& inv);

// Who is being run, for messages.
struct PluginLabel {
  std::string type;
  std::string network;
};

// Runs the plugin at `path`; returns its stdout on success.
Result<std::string> ExecPlugin(const ExecConfig& config, const std::string& path,
                               const PluginLabel& label, const Invocation& inv,
                               std::string_view stdin_data);

// VERSION: the spec versions a plugin supports. Very old plugins that do
// not know the command are reported as supporting 0.1.0 (as libcni does).
Result<VersionInfo> GetVersionInfo(const ExecConfig& config, std::string_view type);

}  // namespace berth::cni

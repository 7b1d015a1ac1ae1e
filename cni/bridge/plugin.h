#pragma once
// One CNI invocation, end to end and without touching the process's real
// stdin/stdout (main.cc does that), so tests can drive it in-process:
// validates CNI_* and the configuration, checks cniVersion, runs the verb
// and renders what the spec says goes to stdout.

#include <map>
#include <string>
#include <string_view>

#include "cni/bridge/commands.h"

namespace berth::cni::bridge {

struct PluginOutput {
  int exit_code = 0;
  std::string out;  // stdout: a result, a version result, an error, or nothing
};

// Reads CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS and
// CNI_PATH from `getenv`-style lookups.
CniEnv EnvFromLookup(const std::map<std::string, std::string>& vars);
CniEnv EnvFromProcess();

PluginOutput RunPlugin(const CniEnv& env, std::string_view stdin_text);

}  // namespace berth::cni::bridge

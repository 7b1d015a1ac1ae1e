#pragma once
// Internal to the client: one plugin invocation within a chain, and the
// attachment parameters every verb shares.

#include <boost/json.hpp>
#include <optional>
#include <string>

#include "cni/client/cache.h"
#include "cni/client/config.h"
#include "cni/client/invoke.h"
#include "cni/client/result.h"
#include "cni/client/runtime_conf.h"

namespace berth::cni::internal {

// The resolved parameters of one attachment for one operation.
struct Attachment {
  std::string container_id;
  std::string netns;
  std::string ifname;
  CniArgs args;
  bj::object capability_args;
};

Status ValidateRuntimeConf(const RuntimeConf& rt);
Attachment FromRuntimeConf(const RuntimeConf& rt);

// Runs `command` for one plugin of `list`; returns the plugin's stdout.
Result<std::string> RunPlugin(const ExecConfig& exec, const NetworkConfigList& list,
                              const PluginConfig& plugin, const std::string& command,
                              const Attachment& at, const NetworkResult* prev_result);

// The cached result in the list's version, for prevResult; nullopt when
// there is none or the list predates prevResult on DEL/CHECK (< 0.4.0).
std::optional<NetworkResult> CachedPrevResult(const CacheEntry& entry,
                                              const NetworkConfigList& list);

// True when `netns` names no network namespace any more (the path is gone,
// or is a file that no longer has an nsfs mount on it).
bool NetnsGone(const std::string& netns);

}  // namespace berth::cni::internal

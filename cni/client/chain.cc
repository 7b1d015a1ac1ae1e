#include "cni/client/chain.h"

#include <linux/magic.h>
#include <sys/vfs.h>

#include "cni/client/plugin_stdin.h"
#include "common/log.h"

namespace berth::cni::internal {

Status ValidateRuntimeConf(const RuntimeConf& rt) {
  BERTH_TRY(ValidateContainerId(rt.container_id));
  BERTH_TRY(ValidateIfName(rt.ifname));
  BERTH_TRY(FormatCniArgs(rt.args));
  return Ok();
}

Attachment FromRuntimeConf(const RuntimeConf& rt) {
  return Attachment{rt.container_id, rt.netns, rt.ifname, rt.args, rt.capabilities.ToJson()};
}

Result<std::string> RunPlugin(const ExecConfig& exec, const NetworkConfigList& list,
                              const PluginConfig& plugin, const std::string& command,
                              const Attachment& at, const NetworkResult* prev_result) {
  PluginLabel label{plugin.type, list.name};
  std::string path = BERTH_TRY_CTX(FindPlugin(plugin.type, exec.plugin_dirs),
                                   "network \"" + list.name + "\" " + command);
  Invocation inv;
  inv.command = command;
  inv.container_id = at.container_id;
  inv.netns = at.netns;
  inv.ifname = at.ifname;
  inv.cni_args = BERTH_TRY(FormatCniArgs(at.args));
  std::string stdin_data =
      PluginStdin(list, plugin, prev_result ? &prev_result->json() : nullptr, at.capability_args);
  return ExecPlugin(exec, path, label, inv, stdin_data);
}

std::optional<NetworkResult> CachedPrevResult(const CacheEntry& entry,
                                              const NetworkConfigList& list) {
  if (!entry.result || !VersionAtLeast(list.cni_version, "0.4.0")) return std::nullopt;
  std::string what = "cached CNI result of network \"" + entry.network_name + "\"";
  Result<NetworkResult> result = NetworkResult::FromJson(*entry.result, what, list.cni_version);
  if (result.ok() && result->cni_version() != list.cni_version) {
    result = result->ConvertTo(list.cni_version);
  }
  if (!result.ok()) {
    BLOG(kWarn) << "dropping unusable " << what << ": " << result.error().str();
    return std::nullopt;
  }
  return std::move(*result);
}

bool NetnsGone(const std::string& netns) {
  if (netns.empty()) return false;
  struct statfs fs {};
  if (::statfs(netns.c_str(), &fs) != 0) return errno == ENOENT || errno == ENOTDIR;
  return static_cast<unsigned long>(fs.f_type) != NSFS_MAGIC &&
         static_cast<unsigned long>(fs.f_type) != PROC_SUPER_MAGIC;
}

}  // namespace berth::cni::internal

// Client::Check: CHECK through the chain with the cached ADD result.
#include "cni/client/chain.h"
#include "cni/client/client.h"

namespace berth::cni {

Status Client::Check(const RuntimeConf& rt) {
  BERTH_TRY(internal::ValidateRuntimeConf(rt));
  std::vector<CacheEntry> entries = BERTH_TRY(cache_.Find(rt.container_id, rt.ifname));
  if (entries.empty()) {
    return Error(Errc::kNotFound, "CNI CHECK of " + rt.container_id + "/" + rt.ifname +
                                      ": no cached result (not added, or deleted)");
  }
  for (const CacheEntry& entry : entries) {
    std::string path = cache_.PathFor(entry.network_name, rt.container_id, rt.ifname);
    NetworkConfigList list = BERTH_TRY(ParseConfList(entry.config, path));
    if (!VersionAtLeast(list.cni_version, "0.4.0")) {
      return Error(Errc::kUnimplemented, "CNI CHECK of network \"" + list.name +
                                             "\": configuration version \"" + list.cni_version +
                                             "\" does not support the CHECK command");
    }
    if (list.disable_check) continue;
    internal::Attachment at = internal::FromRuntimeConf(rt);
    if (!entry.cni_args.empty()) at.args = entry.cni_args;
    at.capability_args = entry.capability_args;
    std::optional<NetworkResult> prev = internal::CachedPrevResult(entry, list);
    for (const PluginConfig& plugin : list.plugins) {
      BERTH_TRY(internal::RunPlugin(exec_, list, plugin, "CHECK", at, prev ? &*prev : nullptr));
    }
  }
  return Ok();
}

}  // namespace berth::cni

// Client::Add: ADD through the chain, then the cache entry.
#include "cni/client/chain.h"
#include "cni/client/client.h"
#include "common/strings.h"

namespace berth::cni {

namespace {

// Parses one plugin's ADD output into the list's result version.
Result<NetworkResult> ParseAddOutput(const NetworkConfigList& list, const PluginConfig& plugin,
                                     std::string_view out) {
  std::string what =
      "CNI plugin \"" + plugin.type + "\" (network \"" + list.name + "\") ADD result";
  if (Trim(out).empty()) return Error(Errc::kUnknown, what + ": empty output");
  NetworkResult result = BERTH_TRY(NetworkResult::Parse(out, what, list.cni_version));
  if (result.cni_version() == list.cni_version) return result;
  return BERTH_TRY_CTX(result.ConvertTo(list.cni_version), what);
}

}  // namespace

Result<NetworkResult> Client::Add(const RuntimeConf& rt) {
  BERTH_TRY(internal::ValidateRuntimeConf(rt));
  std::shared_ptr<const NetworkConfigList> net = BERTH_TRY(CurrentNetwork());
  internal::Attachment at = internal::FromRuntimeConf(rt);
  std::optional<NetworkResult> prev;
  for (const PluginConfig& plugin : net->plugins) {
    std::string out =
        BERTH_TRY(internal::RunPlugin(exec_, *net, plugin, "ADD", at, prev ? &*prev : nullptr));
    prev = BERTH_TRY(ParseAddOutput(*net, plugin, out));
  }
  CacheEntry entry{net->name,     rt.container_id, rt.ifname,          rt.netns,
                   net->ToJson(), rt.args,         at.capability_args, prev->json()};
  BERTH_TRY_CTX(cache_.Put(entry), "cache the CNI result of network \"" + net->name + "\"");
  return std::move(*prev);
}

}  // namespace berth::cni

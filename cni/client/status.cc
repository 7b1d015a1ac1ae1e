// Client::NetworkStatus: NetworkReady for the CRI Status RPC.
#include "cni/client/chain.h"
#include "cni/client/client.h"

namespace berth::cni {

Status Client::NetworkStatus() {
  bool pinned;
  {
    std::lock_guard lock(mu_);
    pinned = pinned_;
  }
  if (!pinned) {
    BERTH_TRY_CTX(Reload(), "cni config uninitialized");
  }
  std::shared_ptr<const NetworkConfigList> net = network();
  if (!net) return Error(Errc::kFailedPrecondition, "cni config uninitialized");
  for (const PluginConfig& plugin : net->plugins) {
    BERTH_TRY_CTX(FindPlugin(plugin.type, exec_.plugin_dirs), "network \"" + net->name + "\"");
  }
  // STATUS exists from spec 1.1.0; older lists are ready once their
  // plugins are installed (libcni's GetStatusNetworkList does the same).
  if (!VersionAtLeast(net->cni_version, "1.1.0")) return Ok();
  internal::Attachment none;
  for (const PluginConfig& plugin : net->plugins) {
    BERTH_TRY(internal::RunPlugin(exec_, *net, plugin, "STATUS", none, nullptr));
  }
  return Ok();
}

}  // namespace berth::cni

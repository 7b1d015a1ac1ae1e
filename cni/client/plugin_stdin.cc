#include "cni/client/plugin_stdin.h"

namespace berth::cni {

bj::object FilterCapabilities(const PluginConfig& plugin, const bj::object& capability_args) {
  bj::object out;
  for (const auto& kv : capability_args) {
    if (plugin.HasCapability(kv.key())) out[kv.key()] = kv.value();
  }
  return out;
}

std::string PluginStdin(const NetworkConfigList& list, const PluginConfig& plugin,
                        const bj::object* prev_result, const bj::object& capability_args) {
  bj::object conf = plugin.raw;
  conf["name"] = list.name;
  conf["cniVersion"] = list.cni_version;
  if (prev_result) conf["prevResult"] = *prev_result;
  bj::object runtime_config = FilterCapabilities(plugin, capability_args);
  if (!runtime_config.empty()) conf["runtimeConfig"] = std::move(runtime_config);
  return bj::serialize(conf);
}

}  // namespace berth::cni

#include "cni/client/client.h"

#include "cni/client/chain.h"

namespace berth::cni {

Client::Client(ClientOptions options)
    : options_(std::move(options)),
      exec_{options_.plugin_dirs, options_.plugin_env, options_.timeout},
      cache_(options_.cache_dir) {}

Status Client::Reload() {
  Result<NetworkConfigList> list = LoadFirstNetwork(options_.conf_dir, options_.conf_dir_options);
  std::lock_guard lock(mu_);
  pinned_ = false;
  if (!list.ok()) {
    network_.reset();
    return std::move(list).error();
  }
  network_ = std::make_shared<const NetworkConfigList>(std::move(*list));
  return Ok();
}

void Client::SetNetwork(NetworkConfigList list) {
  std::lock_guard lock(mu_);
  pinned_ = true;
  network_ = std::make_shared<const NetworkConfigList>(std::move(list));
}

std::shared_ptr<const NetworkConfigList> Client::network() const {
  std::lock_guard lock(mu_);
  return network_;
}

Result<std::shared_ptr<const NetworkConfigList>> Client::CurrentNetwork() {
  if (auto net = network()) return net;
  BERTH_TRY(Reload());
  return network();
}

Result<std::optional<NetworkResult>> Client::CachedResult(const RuntimeConf& rt) const {
  BERTH_TRY(internal::ValidateRuntimeConf(rt));
  std::vector<CacheEntry> entries = BERTH_TRY(cache_.Find(rt.container_id, rt.ifname));
  auto net = network();
  // The loaded network's entry first, else the first one found.
  const CacheEntry* pick = nullptr;
  for (const CacheEntry& e : entries) {
    if (!pick || (net && e.network_name == net->name)) pick = &e;
  }
  if (!pick || !pick->result) return std::optional<NetworkResult>();
  std::string what =
      "cached CNI result `" + cache_.PathFor(pick->network_name, rt.container_id, rt.ifname) + "`";
  NetworkResult result = BERTH_TRY(NetworkResult::FromJson(*pick->result, what));
  return std::optional<NetworkResult>(std::move(result));
}

Result<VersionInfo> Client::GetVersionInfo(std::string_view plugin_type) const {
  return cni::GetVersionInfo(exec_, plugin_type);
}

}  // namespace berth::cni

// Client::Del: DEL through the chain in reverse, with what ADD used.
#include "cni/client/chain.h"
#include "cni/client/client.h"
#include "common/log.h"

namespace berth::cni {

namespace {

Status DelChain(const ExecConfig& exec, const NetworkConfigList& list,
                const internal::Attachment& at, const NetworkResult* prev) {
  for (auto it = list.plugins.rbegin(); it != list.plugins.rend(); ++it) {
    BERTH_TRY(internal::RunPlugin(exec, list, *it, "DEL", at, prev));
  }
  return Ok();
}

// The attachment as ADD recorded it, with the caller's netns (or the
// recorded one when the caller has none); a vanished netns becomes "".
internal::Attachment FromEntry(const internal::Attachment& caller, const CacheEntry& entry) {
  internal::Attachment at = caller;
  if (at.netns.empty()) at.netns = entry.netns;
  if (!entry.cni_args.empty()) at.args = entry.cni_args;
  at.capability_args = entry.capability_args;
  if (internal::NetnsGone(at.netns)) at.netns.clear();
  return at;
}

}  // namespace

// The configuration ADD ran with; when the cached copy is unusable (a
// version this client no longer speaks), the current one.
Result<NetworkConfigList> Client::ListForEntry(const CacheEntry& entry, const std::string& path) {
  Result<NetworkConfigList> cached = ParseConfList(entry.config, path);
  if (cached.ok()) return cached;
  Result<std::shared_ptr<const NetworkConfigList>> net = CurrentNetwork();
  if (!net.ok()) return cached;
  BLOG(kWarn) << "CNI DEL with the current config instead of the cached one: "
              << cached.error().str();
  return **net;
}

Status Client::Del(const RuntimeConf& rt) {
  BERTH_TRY(internal::ValidateRuntimeConf(rt));
  internal::Attachment caller = internal::FromRuntimeConf(rt);
  std::vector<CacheEntry> entries = BERTH_TRY(cache_.Find(rt.container_id, rt.ifname));
  for (const CacheEntry& entry : entries) {
    std::string path = cache_.PathFor(entry.network_name, rt.container_id, rt.ifname);
    NetworkConfigList list = BERTH_TRY(ListForEntry(entry, path));
    std::optional<NetworkResult> prev = internal::CachedPrevResult(entry, list);
    BERTH_TRY(DelChain(exec_, list, FromEntry(caller, entry), prev ? &*prev : nullptr));
    BERTH_TRY(cache_.Remove(entry.network_name, rt.container_id, rt.ifname));
  }
  if (!entries.empty()) return Ok();

  // Nothing cached (ADD failed half-way, or the cache was lost): DEL with
  // the current configuration and no prevResult, so plugins free what they
  // can find by container id.
  Result<std::shared_ptr<const NetworkConfigList>> net = CurrentNetwork();
  if (!net.ok()) {
    BLOG(kWarn) << "CNI DEL of " << rt.container_id << "/" << rt.ifname
                << ": nothing cached and no network config: " << net.error().str();
    return Ok();
  }
  if (internal::NetnsGone(caller.netns)) caller.netns.clear();
  BERTH_TRY(DelChain(exec_, **net, caller, nullptr));
  // An unreadable entry under the current name is stale now.
  return cache_.Remove((*net)->name, rt.container_id, rt.ifname);
}

}  // namespace berth::cni

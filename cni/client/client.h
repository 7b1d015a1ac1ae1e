#pragma once
// berth::cni::Client: the runtime side of CNI for one pod network, what the
// CRI server calls when it sets up and tears down pod sandboxes.
//
// Lifecycle of an attachment (container id + ifname, on the network):
//   Add    runs the plugin chain in order with CNI_COMMAND=ADD, each plugin
//          getting the previous one's result as prevResult; the final result
//          is cached with the configuration, CNI_ARGS and capability args
//          used, and returned.
//   Check  (spec >= 0.4.0, unless the list says disableCheck) runs CHECK
//          through the chain in order, with the cached result.
//   Del    runs DEL in reverse order with what the cache recorded for ADD
//          (its configuration, args and result as prevResult), then drops
//          the cache entry. Idempotent: without a cache entry it runs DEL
//          with the current configuration and no prevResult; a netns that
//          is gone is passed as an empty CNI_NETNS, which plugins must
//          accept (SPEC), so a second Del succeeds.
//   NetworkStatus  answers NetworkReady: a configuration is loaded, its
//          plugins exist, and (spec 1.1 lists only) every plugin's STATUS
//          succeeds. Lists older than 1.1.0 get no STATUS call (the verb is
//          only defined from 1.1.0, as in libcni).
//
// Concurrency: the client is safe to use from many threads; as the spec
// requires, the caller must not run two operations on the same container
// at once. Plugins are started with posix_spawn (see spawn.h), never
// fork, so the client is safe inside a multithreaded gRPC server.
//
// Failure of Add leaves what the chain did so far: the caller runs Del
// (containerd and the kubelet do the same).

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cni/client/cache.h"
#include "cni/client/config.h"
#include "cni/client/invoke.h"
#include "cni/client/result.h"
#include "cni/client/runtime_conf.h"
#include "cni/client/version.h"
#include "common/error.h"

namespace berth::cni {

struct ClientOptions {
  std::string conf_dir = std::string(kDefaultConfDir);
  ConfDirOptions conf_dir_options;
  std::vector<std::string> plugin_dirs = SplitPluginPath(kDefaultPluginPath);
  std::string cache_dir = std::string(kDefaultCacheDir);
  // The environment plugins inherit; unset: this process's (CNI_* replaced).
  std::optional<std::vector<std::string>> plugin_env;
  std::chrono::milliseconds timeout{60'000};  // per plugin invocation
};

class Client {
 public:
  explicit Client(ClientOptions options);

  // Re-reads the conf dir (also after SetNetwork). On failure no network
  // is loaded any more (the node is not network-ready) and the error names
  // the dir or the file.
  Status Reload();
  // Uses `list` instead of the conf dir from now on (embedders, tests).
  void SetNetwork(NetworkConfigList list);
  // The loaded network; null before the first successful load.
  std::shared_ptr<const NetworkConfigList> network() const;

  Result<NetworkResult> Add(const RuntimeConf& rt);
  Status Check(const RuntimeConf& rt);
  Status Del(const RuntimeConf& rt);
  Status NetworkStatus();
  // The result the last Add cached for this attachment; nullopt when none.
  Result<std::optional<NetworkResult>> CachedResult(const RuntimeConf& rt) const;
  Result<VersionInfo> GetVersionInfo(std::string_view plugin_type) const;

  const ClientOptions& options() const { return options_; }

 private:
  // The loaded network, loading the conf dir first if nothing is loaded.
  Result<std::shared_ptr<const NetworkConfigList>> CurrentNetwork();
  Result<NetworkConfigList> ListForEntry(const CacheEntry& entry, const std::string& path);

  ClientOptions options_;
  ExecConfig exec_;
  ResultCache cache_;
  mutable std::mutex mu_;
  std::shared_ptr<const NetworkConfigList> network_;  // guarded by mu_
  bool pinned_ = false;                               // guarded by mu_: SetNetwork used
};

}  // namespace berth::cni

#pragma once
// The result cache: one file per attachment (network name, container id,
// ifname), holding the network configuration ADD ran with, its CNI_ARGS and
// capability arguments, and the final result, so that DEL and CHECK run
// exactly what ADD ran even after the conf dir changed (SPEC: DEL and
// CHECK get the last ADD's result as prevResult).
//
// The layout and format are libcni's: file `<dir>/<network>-<id>-<ifname>`
// containing {"kind":"cniCacheV1","containerId","config" (base64 of the
// conflist JSON, as Go encodes []byte),"ifName","networkName","netns",
// "cniArgs":[[k,v]...],"capabilityArgs":{...},"result":{...}}. Files are
// written atomically (temp, fsync, rename): a crash leaves the old entry or
// the new one, and the entry outlives a reboot so that DEL can still free
// IPAM state kept on disk.

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cni/client/runtime_conf.h"
#include "common/error.h"

namespace berth::cni {

inline constexpr std::string_view kDefaultCacheDir = "/var/lib/berth/cni/results";

struct CacheEntry {
  std::string network_name;
  std::string container_id;
  std::string ifname;
  std::string netns;
  std::string config;  // the conflist JSON ADD ran with
  CniArgs cni_args;
  bj::object capability_args;
  std::optional<bj::object> result;
};

class ResultCache {
 public:
  explicit ResultCache(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  std::string PathFor(std::string_view network, std::string_view container_id,
                      std::string_view ifname) const;

  Status Put(const CacheEntry& entry) const;
  // nullopt when there is no entry; an error when it cannot be read/parsed.
  Result<std::optional<CacheEntry>> Get(std::string_view network, std::string_view container_id,
                                        std::string_view ifname) const;
  // The entries of one container interface on any network, by file name.
  // Unreadable files are logged and left out.
  Result<std::vector<CacheEntry>> Find(std::string_view container_id,
                                       std::string_view ifname) const;
  // A missing entry is not an error.
  Status Remove(std::string_view network, std::string_view container_id,
                std::string_view ifname) const;

 private:
  std::string dir_;
};

// The file format, exposed for tests.
std::string EncodeCacheEntry(const CacheEntry& entry);
Result<CacheEntry> DecodeCacheEntry(std::string_view text, std::string_view what);

// Standard base64 with padding (Go's encoding of []byte in JSON).
std::string Base64Encode(std::string_view data);
Result<std::string> Base64Decode(std::string_view text);

}  // namespace berth::cni

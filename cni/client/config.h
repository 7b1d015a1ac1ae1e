#pragma once
// CNI network configurations: the JSON files in a conf dir (/etc/cni/net.d).
//
// Vocabulary (CNI spec 1.0/1.1, section "Configuration format"):
// - a network configuration *list* (.conflist) has a `name`, a `cniVersion`
//   (or `cniVersions`, spec 1.1), `disableCheck`, `disableGC` and `plugins`,
//   an ordered chain of plugin configurations;
// - a plugin configuration has a `type` (the executable's name), optional
//   `capabilities` (which runtimeConfig keys it accepts) and any number of
//   plugin-specific keys, kept verbatim as raw JSON;
// - a single-plugin .conf (or .json) file is a plugin configuration with
//   `name` and `cniVersion` at the top; it is wrapped into a list of one, as
//   libcni's ConfListFromConf does.
//
// The conf dir rule is libcni's / containerd's: *.conf, *.conflist and
// *.json files, sorted lexically by name; the first one is the network.
// Errors name the file and the field: "cni config `/etc/cni/net.d/10-x.conflist`:
// plugins[1].type: required field missing".

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace berth::cni {

namespace bj = boost::json;

inline constexpr std::string_view kDefaultConfDir = "/etc/cni/net.d";

struct PluginConfig {
  std::string type;
  std::vector<std::string> capabilities;  // those set to true, in file order
  bj::object raw;                         // as in the file; unknown keys pass through

  bool HasCapability(std::string_view name) const;
};

struct NetworkConfigList {
  std::string name;
  std::string cni_version;  // the version in use (cniVersions resolved)
  bool disable_check = false;
  bool disable_gc = false;
  std::vector<PluginConfig> plugins;
  std::string source;  // the file it came from; empty when parsed from text
  bj::object raw;      // the whole list, as a conflist document

  // The list as conflist JSON text (what the result cache stores).
  std::string ToJson() const;
};

// Parses a .conflist document; `what` (the path) prefixes errors.
Result<NetworkConfigList> ParseConfList(std::string_view text, std::string_view what);
// Parses a single-plugin .conf/.json document into a list of one.
Result<NetworkConfigList> ParseConf(std::string_view text, std::string_view what);
// Reads and parses one file; .conflist files as lists, others as single.
Result<NetworkConfigList> LoadConfFile(const std::string& path);

// The candidate files in `dir` (full paths, sorted lexically); a missing
// directory has none.
Result<std::vector<std::string>> ConfFiles(const std::string& dir);

struct ConfDirOptions {
  // false (containerd): an invalid first file is an error naming it.
  // true (kubelet's old CNI code): invalid files are logged and skipped.
  bool skip_invalid = false;
};

// The first network configuration in `dir`. NotFound when there is none.
Result<NetworkConfigList> LoadFirstNetwork(const std::string& dir,
                                           const ConfDirOptions& options = {});

// Network names: alphanumerics, then alphanumerics, '_', '.', '-' (libcni).
Status ValidateNetworkName(std::string_view name);

}  // namespace berth::cni

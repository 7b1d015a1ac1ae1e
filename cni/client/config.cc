#include "cni/client/config.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>

#include "cni/client/version.h"
#include "common/file.h"
#include "common/json.h"
#include "common/log.h"

namespace berth::cni {

namespace {

std::string FileContext(std::string_view what) {
  return "cni config `" + std::string(what) + "`";
}

bool IsNameChar(char c, bool first) {
  bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || (!first && (c == '_' || c == '.' || c == '-'));
}

// Booleans of the list may be JSON booleans or the strings "true"/"false"
// (libcni accepts both).
Result<bool> ReadListBool(const json::Field& field) {
  if (!field.present()) return false;
  if (field.raw()->is_bool()) return field.raw()->get_bool();
  if (field.raw()->is_string()) {
    std::string s(field.raw()->get_string());
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    if (s == "true") return true;
    if (s == "false") return false;
    return field.Invalid("invalid value \"" + s + "\" (want true or false)");
  }
  return field.TypeError("boolean");
}

// cniVersion, or with spec 1.1's cniVersions the newest version both the
// file and this client support.
Result<std::string> ResolveVersion(const json::Field& root) {
  std::optional<std::string> version = BERTH_TRY(root["cniVersion"].OptString());
  std::vector<std::string> versions = BERTH_TRY(root["cniVersions"].StringArray());
  if (!versions.empty()) {
    for (size_t i = 0; i < versions.size(); ++i) {
      if (!ParseSemVer(versions[i]).ok()) {
        return root["cniVersions"].Invalid("invalid version \"" + versions[i] + "\" at index " +
                                           std::to_string(i));
      }
    }
    if (version) versions.push_back(*version);
    std::optional<std::string> best = NewestSupported(versions);
    if (!best) {
      return root["cniVersions"].Invalid(
          "no supported version (supported: " + SupportedVersionsText() + ")");
    }
    return *best;
  }
  if (!version) return Error(Errc::kInvalidArgument, "cniVersion: required field missing");
  if (!IsSupportedVersion(*version)) {
    return root["cniVersion"].Invalid("unsupported version \"" + *version +
                                      "\" (supported: " + SupportedVersionsText() + ")");
  }
  return *version;
}

Result<std::string> ReadName(const json::Field& root) {
  std::string name = BERTH_TRY(root["name"].String());
  if (Status s = ValidateNetworkName(name); !s) return root["name"].Invalid(s.error().message());
  return name;
}

Result<PluginConfig> ParsePlugin(const json::Field& field) {
  if (!field.present() || !field.raw()->is_object()) return field.TypeError("object");
  PluginConfig plugin;
  plugin.type = BERTH_TRY(field["type"].String());
  if (plugin.type.empty()) return field["type"].Invalid("must not be empty");
  if (plugin.type.find('/') != std::string::npos || plugin.type == "." || plugin.type == "..") {
    return field["type"].Invalid("\"" + plugin.type + "\" is not a plugin name");
  }
  for (auto& [key, value] : BERTH_TRY(field["capabilities"].Members())) {
    if (!value.present()) continue;
    if (BERTH_TRY(value.Bool())) plugin.capabilities.push_back(key);
  }
  plugin.raw = field.raw()->get_object();
  return plugin;
}

Result<NetworkConfigList> ParseListFields(const bj::value& doc) {
  if (!doc.is_object()) return json::Field(&doc, "document").TypeError("object");
  json::Field root(&doc, "");
  NetworkConfigList list;
  list.name = BERTH_TRY(ReadName(root));
  list.cni_version = BERTH_TRY(ResolveVersion(root));
  list.disable_check = BERTH_TRY(ReadListBool(root["disableCheck"]));
  list.disable_gc = BERTH_TRY(ReadListBool(root["disableGC"]));
  json::Field plugins = root["plugins"];
  if (!plugins.present()) return Error(Errc::kInvalidArgument, "plugins: required field missing");
  if (!plugins.raw()->is_array()) return plugins.TypeError("array");
  for (const json::Field& item : BERTH_TRY(plugins.Items()))
    list.plugins.push_back(BERTH_TRY(ParsePlugin(item)));
  if (list.plugins.empty()) return plugins.Invalid("no plugins in list");
  list.raw = doc.get_object();
  return list;
}

Result<NetworkConfigList> ParseSingleFields(const bj::value& doc) {
  if (!doc.is_object()) return json::Field(&doc, "document").TypeError("object");
  json::Field root(&doc, "");
  if (root["plugins"].present()) {
    return Error(Errc::kInvalidArgument,
                 "type: required field missing (a network list belongs in a .conflist file)");
  }
  NetworkConfigList list;
  list.name = BERTH_TRY(ReadName(root));
  list.cni_version = BERTH_TRY(ResolveVersion(root));
  list.plugins.push_back(BERTH_TRY(ParsePlugin(root)));
  list.raw = bj::object{
      {"cniVersion", list.cni_version}, {"name", list.name}, {"plugins", bj::array{doc}}};
  return list;
}

bool HasConfExtension(std::string_view name) {
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string_view ext = name.substr(dot);
  return ext == ".conf" || ext == ".conflist" || ext == ".json";
}

}  // namespace

bool PluginConfig::HasCapability(std::string_view name) const {
  return std::find(capabilities.begin(), capabilities.end(), name) != capabilities.end();
}

std::string NetworkConfigList::ToJson() const {
  return bj::serialize(raw);
}

Status ValidateNetworkName(std::string_view name) {
  if (name.empty()) return Error(Errc::kInvalidArgument, "network name must not be empty");
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0)) {
      return Error(Errc::kInvalidArgument,
                   "network name \"" + std::string(name) +
                       "\" must start with a letter or digit and contain only letters, digits, "
                       "'_', '.' and '-'");
    }
  }
  return Ok();
}

Result<NetworkConfigList> ParseConfList(std::string_view text, std::string_view what) {
  bj::value doc = BERTH_TRY(json::Parse(text, FileContext(what)));
  NetworkConfigList list = BERTH_TRY_CTX(ParseListFields(doc), FileContext(what));
  list.source = std::string(what);
  return list;
}

Result<NetworkConfigList> ParseConf(std::string_view text, std::string_view what) {
  bj::value doc = BERTH_TRY(json::Parse(text, FileContext(what)));
  NetworkConfigList list = BERTH_TRY_CTX(ParseSingleFields(doc), FileContext(what));
  list.source = std::string(what);
  return list;
}

Result<NetworkConfigList> LoadConfFile(const std::string& path) {
  std::string text = BERTH_TRY_CTX(ReadFile(path), FileContext(path));
  std::string_view name = path;
  if (name.size() >= 9 && name.substr(name.size() - 9) == ".conflist") {
    return ParseConfList(text, path);
  }
  return ParseConf(text, path);
}

Result<std::vector<std::string>> ConfFiles(const std::string& dir) {
  std::vector<std::string> files;
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return files;
    return Error::Sys("stat", dir);
  }
  for (const std::string& name : BERTH_TRY(ListDir(dir))) {
    if (!HasConfExtension(name)) continue;
    std::string path = PathJoin(dir, name);
    // Follows symlinks, as os.ReadDir + the file read do in libcni.
    if (::stat(path.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) continue;
    files.push_back(std::move(path));
  }
  std::sort(files.begin(), files.end());
  return files;
}

Result<NetworkConfigList> LoadFirstNetwork(const std::string& dir, const ConfDirOptions& options) {
  std::vector<std::string> files = BERTH_TRY(ConfFiles(dir));
  for (const std::string& file : files) {
    Result<NetworkConfigList> list = LoadConfFile(file);
    if (list.ok() || !options.skip_invalid) return list;
    BLOG(kWarn) << "skipping invalid CNI config: " << list.error().str();
  }
  return Error(Errc::kNotFound, "no " + std::string(files.empty() ? "" : "valid ") +
                                    "network config found in `" + dir + "`");
}

}  // namespace berth::cni

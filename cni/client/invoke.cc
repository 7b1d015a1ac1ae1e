#include "cni/client/invoke.h"

#include <sys/stat.h>
#include <unistd.h>

#include "cni/client/spawn.h"
#include "common/file.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strings.h"

extern char** environ;

namespace berth::cni {

namespace {

constexpr size_t kMaxQuotedOutput = 2048;

std::string Clip(std::string_view text) {
  std::string_view t = Trim(text);
  if (t.size() <= kMaxQuotedOutput) return std::string(t);
  return std::string(t.substr(0, kMaxQuotedOutput)) + "...";
}

std::string Describe(const PluginLabel& label, std::string_view command) {
  std::string out = "CNI plugin \"" + label.type + "\"";
  if (!label.network.empty()) out += " (network \"" + label.network + "\")";
  return out + " failed " + std::string(command);
}

Error FailureError(const PluginLabel& label, const Invocation& inv, const SpawnResult& run) {
  std::string head = Describe(label, inv.command);
  if (std::optional<PluginError> pe = ParsePluginError(run.out)) {
    std::string text = head + ": code " + std::to_string(pe->code);
    if (const char* name = CniCodeName(pe->code); *name) text += std::string(" (") + name + ")";
    text += ": " + pe->msg;
    if (!pe->details.empty()) text += "; " + pe->details;
    return Error(ErrcForCniCode(pe->code), text);
  }
  std::string text = head + ": " + run.Describe();
  if (!Trim(run.out).empty()) text += ": unparsable error output \"" + Clip(run.out) + "\"";
  if (!Trim(run.err).empty()) text += ": " + Clip(run.err);
  if (Trim(run.out).empty() && Trim(run.err).empty()) text += " with no error message";
  return Error(Errc::kUnknown, text);
}

bool IsExecutableFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

const char* CniCodeName(int code) {
  switch (code) {
    case kCodeIncompatibleVersion:
      return "incompatible CNI version";
    case kCodeUnsupportedField:
      return "unsupported field in network configuration";
    case kCodeUnknownContainer:
      return "container unknown or does not exist";
    case kCodeInvalidEnvironment:
      return "invalid necessary environment variables";
    case kCodeIoFailure:
      return "I/O failure";
    case kCodeDecodeFailure:
      return "failed to decode content";
    case kCodeInvalidNetworkConfig:
      return "invalid network config";
    case kCodeTryAgainLater:
      return "try again later";
    case kCodePluginNotAvailable:
      return "plugin not available";
    case kCodeLimitedConnectivity:
      return "plugin not available, limited connectivity";
    default:
      return "";
  }
}

Errc ErrcForCniCode(int code) {
  switch (code) {
    case kCodeIncompatibleVersion:
      return Errc::kFailedPrecondition;
    case kCodeUnsupportedField:
    case kCodeInvalidEnvironment:
    case kCodeDecodeFailure:
    case kCodeInvalidNetworkConfig:
      return Errc::kInvalidArgument;
    case kCodeUnknownContainer:
      return Errc::kNotFound;
    case kCodeIoFailure:
      return Errc::kInternal;
    case kCodeTryAgainLater:
    case kCodePluginNotAvailable:
    case kCodeLimitedConnectivity:
      return Errc::kUnavailable;
    default:
      return Errc::kUnknown;
  }
}

std::optional<PluginError> ParsePluginError(std::string_view out) {
  if (Trim(out).empty()) return std::nullopt;
  auto doc = json::Parse(out, "plugin error");
  if (!doc.ok() || !doc->is_object()) return std::nullopt;
  json::Field root(&*doc, "");
  auto code = root["code"].OptInt<int>();
  if (!code.ok() || !*code) return std::nullopt;
  PluginError pe;
  pe.code = **code;
  pe.msg = root["msg"].OptString().value_or(std::nullopt).value_or("");
  pe.details = root["details"].OptString().value_or(std::nullopt).value_or("");
  return pe;
}

std::vector<std::string> SplitPluginPath(std::string_view cni_path) {
  return SplitNonEmpty(cni_path, ':');
}

Result<std::string> FindPlugin(std::string_view type, const std::vector<std::string>& dirs) {
  if (type.empty() || type.find('/') != std::string_view::npos) {
    return Error(Errc::kInvalidArgument, "invalid CNI plugin type \"" + std::string(type) + "\"");
  }
  for (const std::string& dir : dirs) {
    std::string path = PathJoin(dir, type);
    if (IsExecutableFile(path)) return path;
  }
  return Error(Errc::kNotFound, "CNI plugin \"" + std::string(type) + "\" not found in " +
                                    (dirs.empty() ? std::string("(empty CNI_PATH)")
                                                  : "CNI_PATH " + Join(dirs, ":")));
}

std::vector<std::string> PluginEnv(const ExecConfig& config, const Invocation& inv) {
  std::vector<std::string> env;
  auto keep = [&env](std::string_view kv) {
    if (kv.substr(0, 4) != "CNI_") env.emplace_back(kv);
  };
  if (config.base_env) {
    for (const std::string& kv : *config.base_env)
      keep(kv);
  } else {
    for (char** e = environ; e && *e; ++e)
      keep(*e);
  }
  env.push_back("CNI_COMMAND=" + inv.command);
  env.push_back("CNI_CONTAINERID=" + inv.container_id);
  env.push_back("CNI_NETNS=" + inv.netns);
  env.push_back("CNI_IFNAME=" + inv.ifname);
  env.push_back("CNI_ARGS=" + inv.cni_args);
  env.push_back("CNI_PATH=" + Join(config.plugin_dirs, ":"));
  return env;
}

Result<std::string> ExecPlugin(const ExecConfig& config, const std::string& path,
                               const PluginLabel& label, const Invocation& inv,
                               std::string_view stdin_data) {
  SpawnRequest req;
  req.path = path;
  req.env = PluginEnv(config, inv);
  req.stdin_data = std::string(stdin_data);
  req.timeout = config.timeout;
  BLOG(kDebug) << "CNI " << inv.command << " " << path << " container=" << inv.container_id
               << " ifname=" << inv.ifname;
  SpawnResult run = BERTH_TRY_CTX(SpawnAndWait(req), Describe(label, inv.command));
  if (run.timed_out) {
    return Error(Errc::kDeadlineExceeded, Describe(label, inv.command) + ": timed out after " +
                                              std::to_string(config.timeout.count()) + "ms");
  }
  if (!run.success()) return FailureError(label, inv, run);
  if (!Trim(run.err).empty()) BLOG(kDebug) << "CNI plugin " << label.type << ": " << Clip(run.err);
  return std::move(run.out);
}

Result<VersionInfo> GetVersionInfo(const ExecConfig& config, std::string_view type) {
  std::string path = BERTH_TRY(FindPlugin(type, config.plugin_dirs));
  Invocation inv;
  inv.command = "VERSION";
  std::string stdin_data = "{\"cniVersion\":\"" + std::string(kSpecVersion) + "\"}";
  PluginLabel label{std::string(type), ""};
  Result<std::string> out = ExecPlugin(config, path, label, inv, stdin_data);
  if (!out.ok()) {
    // Plugins from before spec 0.2.0 do not know VERSION.
    if (out.error().message().find("unknown CNI_COMMAND: VERSION") != std::string::npos) {
      return VersionInfo{"0.1.0", {"0.1.0"}};
    }
    return std::move(out).error();
  }
  std::string what = "CNI plugin \"" + std::string(type) + "\" VERSION output";
  boost::json::value doc = BERTH_TRY(json::Parse(*out, what));
  json::Field root(&doc, "");
  VersionInfo info;
  info.cni_version = BERTH_TRY_CTX(root["cniVersion"].String(), what);
  info.supported_versions = BERTH_TRY_CTX(root["supportedVersions"].StringArray(), what);
  return info;
}

}  // namespace berth::cni

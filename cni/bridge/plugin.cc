#include "cni/bridge/plugin.h"

#include <cstdlib>

#include "cni/bridge/cni_error.h"
#include "cni/bridge/version.h"
#include "common/json.h"

namespace berth::cni::bridge {
namespace {

PluginOutput Fail(const CniError& e, std::string_view version) {
  return PluginOutput{1, RenderCniError(e, version)};
}

PluginOutput Version(std::string_view stdin_text) {
  // VERSION's stdin holds just {"cniVersion": ...}; echo it if we know it.
  std::string version(kLatestVersion);
  auto doc = json::Parse(stdin_text, "stdin");
  if (doc.ok() && doc->is_object()) {
    auto v = json::Field(&*doc, "")["cniVersion"].OptString();
    if (v.ok() && *v && IsSupportedVersion(**v)) version = **v;
  }
  return PluginOutput{0, RenderVersionResult(version)};
}

Status Require(const std::string& value, const char* var) {
  if (value.empty()) {
    return Error(Errc::kInvalidArgument, std::string(var) + " is required and was not set");
  }
  return Ok();
}

// The variables each verb needs (spec section 2) and their syntax.
Status ValidateEnv(const CniEnv& env) {
  const std::string& cmd = env.command;
  if (cmd == "ADD" || cmd == "CHECK" || cmd == "DEL") {
    BERTH_TRY(Require(env.container_id, "CNI_CONTAINERID"));
    BERTH_TRY(ValidateIdentifier(env.container_id, "CNI_CONTAINERID"));
    BERTH_TRY(Require(env.ifname, "CNI_IFNAME"));
    BERTH_TRY(ValidateIfName(env.ifname, "CNI_IFNAME"));
    if (cmd != "DEL") BERTH_TRY(Require(env.netns, "CNI_NETNS"));
    return Ok();
  }
  if (cmd == "STATUS" || cmd == "GC") return Ok();
  return Error(Errc::kInvalidArgument, "CNI_COMMAND: unknown command \"" + cmd + "\"");
}

// The minimum cniVersion of a verb, or an empty view.
std::string_view MinimumVersion(const std::string& cmd) {
  if (cmd == "CHECK") return "0.4.0";
  if (cmd == "STATUS" || cmd == "GC") return "1.1.0";
  return "";
}

PluginOutput RunVerb(const Invocation& inv) {
  const std::string& cmd = inv.env.command;
  const std::string& version = inv.conf.cni_version;
  if (cmd == "ADD") {
    auto result = CmdAdd(inv);
    if (!result.ok()) return Fail(ToCniError(result.error()), version);
    return PluginOutput{0, RenderResult(*result, version)};
  }
  Status st;
  CniCode fallback = CniCode::kInternal;
  if (cmd == "DEL") {
    st = CmdDel(inv);
  } else if (cmd == "CHECK") {
    st = CmdCheck(inv);
    fallback = CniCode::kCheckFailed;
  } else if (cmd == "STATUS") {
    st = CmdStatus(inv);
    fallback = CniCode::kPluginNotAvailable;
  } else {
    st = CmdGc(inv);
  }
  if (!st.ok()) return Fail(ToCniError(st.error(), fallback), version);
  return PluginOutput{0, ""};
}

}  // namespace

CniEnv EnvFromLookup(const std::map<std::string, std::string>& vars) {
  auto get = [&](const char* key) {
    auto it = vars.find(key);
    return it == vars.end() ? std::string() : it->second;
  };
  return CniEnv{get("CNI_COMMAND"), get("CNI_CONTAINERID"), get("CNI_NETNS"),
                get("CNI_IFNAME"),  get("CNI_ARGS"),        get("CNI_PATH")};
}

CniEnv EnvFromProcess() {
  std::map<std::string, std::string> vars;
  for (const char* key :
       {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH"}) {
    if (const char* v = std::getenv(key)) vars[key] = v;
  }
  return EnvFromLookup(vars);
}

PluginOutput RunPlugin(const CniEnv& env, std::string_view stdin_text) {
  std::string latest(kLatestVersion);
  if (env.command.empty()) {
    return Fail(MakeCniError(CniCode::kInvalidEnvironment, "", "CNI_COMMAND is not set"), latest);
  }
  if (env.command == "VERSION") return Version(stdin_text);
  auto doc = json::Parse(stdin_text, "network configuration on stdin");
  if (!doc.ok())
    return Fail(MakeCniError(CniCode::kDecodingFailure, "", doc.error().str()), latest);
  // Answer in the caller's version whenever it is one we speak.
  std::string version = latest;
  if (doc->is_object()) {
    auto v = json::Field(&*doc, "")["cniVersion"].OptString();
    if (v.ok() && *v) version = **v;
  }
  if (!IsSupportedVersion(version)) {
    return Fail(MakeCniError(CniCode::kIncompatibleVersion, "",
                             "cniVersion \"" + version + "\" is not supported"),
                latest);
  }
  Status env_ok = ValidateEnv(env);
  if (!env_ok.ok()) {
    return Fail(MakeCniError(CniCode::kInvalidEnvironment, "", env_ok.error().str()), version);
  }
  std::string_view minimum = MinimumVersion(env.command);
  if (!minimum.empty() && !IsVersionAtLeast(version, minimum)) {
    return Fail(MakeCniError(CniCode::kIncompatibleVersion, "",
                             env.command + " needs cniVersion " + std::string(minimum) +
                                 " or later, the configuration says " + version),
                version);
  }
  auto conf = ParseNetConf(*doc);
  if (!conf.ok()) return Fail(ToCniError(conf.error(), CniCode::kInvalidNetworkConfig), version);
  return RunVerb(Invocation{env, std::move(conf).value()});
}

}  // namespace berth::cni::bridge

// `features`: what this runtime implements, in the runtime-spec
// features.md document shape that `runc features` prints.

#include <seccomp.h>

#include <boost/json.hpp>

#include "cmd/flags.h"
#include "cmd/runtime/cli.h"
#include "common/json_pretty.h"
#include "generated/version.h"
#include "runtime/oci/mount_options.h"
#include "runtime/oci/security/capabilities.h"
#include "runtime/oci/security/seccomp.h"

namespace berth::cli::runtime {
namespace {

boost::json::array Strings(const std::vector<std::string>& values) {
  boost::json::array out;
  for (const std::string& v : values)
    out.emplace_back(v);
  return out;
}

}  // namespace

int Features(Context& ctx, const Args& args) {
  FlagSet flags("features");
  Result<Args> pos = flags.Parse(args);
  if (!pos.ok()) return Fail(ctx, pos.error());
  namespace bj = boost::json;
  bj::object doc;
  doc["ociVersionMin"] = "1.0.0";
  doc["ociVersionMax"] = "1.1.0";
  doc["hooks"] = Strings(
      {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"});
  doc["mountOptions"] = Strings(oci::KnownMountOptions());
  bj::object linux_doc;
  linux_doc["namespaces"] = Strings({"cgroup", "ipc", "mount", "network", "pid", "user", "uts"});
  linux_doc["capabilities"] = Strings(security::KnownCapabilities());
  linux_doc["cgroup"] =
      bj::object{{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}};
  bj::object seccomp;
  seccomp["enabled"] = true;
  seccomp["actions"] = Strings(security::SupportedSeccompActions());
  seccomp["operators"] = Strings(security::SupportedSeccompOperators());
  seccomp["archs"] = Strings(security::SupportedSeccompArchitectures());
  seccomp["knownFlags"] = Strings(security::SupportedSeccompFlags());
  seccomp["supportedFlags"] = Strings(security::SupportedSeccompFlags());
  linux_doc["seccomp"] = std::move(seccomp);
  linux_doc["apparmor"] = bj::object{{"enabled", false}};
  linux_doc["selinux"] = bj::object{{"enabled", false}};
  linux_doc["intelRdt"] = bj::object{{"enabled", false}};
  doc["linux"] = std::move(linux_doc);
  const scmp_version* v = seccomp_version();
  doc["annotations"] = bj::object{
      {"io.github.seccomp.libseccomp.version",
       std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro)},
      {"org.berth.version", BERTH_VERSION},
      {"org.berth.commit", BERTH_GIT_COMMIT},
  };
  Print(json::Pretty(doc, 4) + "\n");
  return 0;
}

}  // namespace berth::cli::runtime

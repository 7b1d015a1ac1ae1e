#include "runtime/image/container_config.h"

namespace berth::image {
namespace {

std::string EnvKey(const std::string& entry) {
  return entry.substr(0, entry.find('='));
}

void SetEnv(std::vector<std::string>& env, const std::string& entry) {
  std::string key = EnvKey(entry);
  for (std::string& e : env) {
    if (EnvKey(e) == key) {
      e = entry;
      return;
    }
  }
  env.push_back(entry);
}

}  // namespace

Result<ContainerProcess> MergeImageConfig(const ImageConfig& config,
                                          const ContainerOverrides& overrides,
                                          const std::string& image) {
  ContainerProcess p;
  if (!overrides.command.empty()) {
    p.args = overrides.command;
    p.args.insert(p.args.end(), overrides.args.begin(), overrides.args.end());
  } else {
    p.args = config.entrypoint;
    const std::vector<std::string>& rest = overrides.args.empty() ? config.cmd : overrides.args;
    p.args.insert(p.args.end(), rest.begin(), rest.end());
  }
  if (p.args.empty()) {
    return Error(Errc::kInvalidArgument,
                 "image " + image + " has no Entrypoint or Cmd and no command was given");
  }
  for (const std::string& e : config.env)
    SetEnv(p.env, e);
  for (const auto& [key, value] : overrides.env)
    SetEnv(p.env, key + "=" + value);
  bool has_path = false;
  for (const std::string& e : p.env)
    has_path = has_path || EnvKey(e) == "PATH";
  if (!has_path) p.env.insert(p.env.begin(), kDefaultPath);
  p.cwd = !overrides.working_dir.empty() ? overrides.working_dir
          : !config.working_dir.empty()  ? config.working_dir
                                         : "/";
  p.user = !overrides.user.empty() ? overrides.user : config.user;
  p.stop_signal = config.stop_signal;
  p.volumes = config.volumes;
  p.exposed_ports = config.exposed_ports;
  return p;
}

}  // namespace berth::image

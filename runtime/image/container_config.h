#pragma once
// What an image's config contributes to a container's process, merged with
// what the caller (CRI, `berth run`) sets, by Kubernetes' rules
// (https://kubernetes.io/docs/tasks/inject-data-application/define-command-argument-container/):
//   neither command nor args  -> Entrypoint + Cmd
//   command only              -> command (the image's Entrypoint and Cmd are ignored)
//   args only                 -> Entrypoint + args
//   both                      -> command + args
// Env: the image's first; the caller's replace same-named ones, the rest are
// appended in order. PATH gets Docker's default when neither sets it.

#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "runtime/image/manifest.h"

namespace berth::image {

struct ContainerOverrides {
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string working_dir;  // "" = the image's, else "/"
  std::string user;         // "" = the image's
};

struct ContainerProcess {
  std::vector<std::string> args;
  std::vector<std::string> env;  // KEY=value
  std::string cwd;
  std::string user;         // "uid[:gid]" or names, resolved in the rootfs later
  std::string stop_signal;  // "" = SIGTERM
  std::vector<std::string> volumes;
  std::vector<std::string> exposed_ports;
};

inline constexpr char kDefaultPath[] =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// InvalidArgument naming `image` when nothing is left to run.
Result<ContainerProcess> MergeImageConfig(const ImageConfig& config,
                                          const ContainerOverrides& overrides,
                                          const std::string& image);

}  // namespace berth::image

// The `berth` multi-call binary. Invoked as `berth-runc` (or `runc`) it is
// the runc-compatible runtime; otherwise the first argument picks the
// subcommand.

#include <cstdio>
#include <string>
#include <vector>

#include "cmd/image/cli.h"
#include "cmd/runtime/cli.h"
#include "common/file.h"
#include "generated/version.h"

namespace berth::cli {
int RunImage(const std::vector<std::string>& args);
int RunCri(const std::vector<std::string>& args);
int RunServer(const std::vector<std::string>& args);
int RunAgent(const std::vector<std::string>& args);
int RunUp(const std::vector<std::string>& args);
int RunReset(const std::vector<std::string>& args);
int RunProxy(const std::vector<std::string>& args);
}  // namespace berth::cli

namespace {

int Usage(FILE* out) {
  std::fprintf(out,
               "usage: berth <command> [arguments]\n\n"
               "commands:\n"
               "  agent     the node agent (kubelet-compatible) against any apiserver\n"
               "  cri       serve the CRI runtime.v1 API (RuntimeService, ImageService)\n"
               "  image     pull, list, import and export images\n"
               "  proxy     Service load balancing in eBPF (kube-proxy replacement)\n"
               "  run       run a container from an image in the foreground\n"
               "  runtime   the OCI runtime, runc-compatible (also installed as berth-runc)\n"
               "  reset     remove every pod, mount, netns, cgroup and state `berth up` made\n"
               "  server    the control plane: apiserver (SQLite or etcd), scheduler, controllers\n"
               "  up        control plane + agent in one process, with a bridge pod network\n"
               "  version   print the version and the commit it was built from\n");
  return out == stderr ? 2 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string self = berth::Basename(argv[0]);
  if (self == "berth-runc" || self == "runc") return berth::cli::runtime::RuntimeMain(args);
  if (args.empty()) return Usage(stderr);
  const std::string& command = args.front();
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "runtime") return berth::cli::runtime::RuntimeMain(rest);
  if (command == "image") return berth::cli::image::ImageMain(rest);
  if (command == "run") return berth::cli::RunImage(rest);
  if (command == "cri") return berth::cli::RunCri(rest);
  if (command == "server") return berth::cli::RunServer(rest);
  if (command == "agent") return berth::cli::RunAgent(rest);
  if (command == "up") return berth::cli::RunUp(rest);
  if (command == "proxy") return berth::cli::RunProxy(rest);
  if (command == "reset") return berth::cli::RunReset(rest);
  if (command == "version" || command == "--version") {
    std::printf("berth %s\ncommit: %s\n", BERTH_VERSION, BERTH_GIT_COMMIT);
    return 0;
  }
  if (command == "help" || command == "--help" || command == "-h") return Usage(stdout);
  std::fprintf(stderr, "berth: unknown command \"%s\"\n", command.c_str());
  return Usage(stderr);
}

#pragma once
// `berth cri` as a child of the test, with every directory in the test's
// temporary dir, and gRPC stubs on its socket. The test process itself runs
// in network and mount namespaces of its own (cri_main.cc), so bridges,
// veths, iptables/nftables rules and mounts never reach the host's.

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/process.h"
#include "runtime/cri/proto/api.grpc.pb.h"

namespace berth::integration {

struct CriDaemonOptions {
  std::string dir;           // root/, run/, cni/, logs
  std::string cni_conf_dir;  // holds the conflist under test
  std::vector<std::string> cni_bin_dirs;
  std::string registry_config_dir;  // "" = <dir>/certs.d (empty)
};

class CriDaemon {
 public:
  static Result<std::unique_ptr<CriDaemon>> Start(CriDaemonOptions options);
  ~CriDaemon();

  // SIGKILL: nothing is cleaned up, shims and containers stay.
  void Kill();
  // A new `berth cri` on the same dirs.
  Status Restart();
  // SIGTERM and reap.
  void Stop();

  pid_t pid() const { return child_.get(); }
  const CriDaemonOptions& options() const { return options_; }
  std::string root() const { return options_.dir + "/root"; }
  std::string run_root() const { return options_.dir + "/run"; }
  std::string socket() const { return options_.dir + "/cri.sock"; }
  std::string Log() const;

  ::runtime::v1::RuntimeService::Stub& runtime() { return *runtime_; }
  ::runtime::v1::ImageService::Stub& images() { return *images_; }

 private:
  explicit CriDaemon(CriDaemonOptions options) : options_(std::move(options)) {}
  Status Spawn();

  CriDaemonOptions options_;
  ChildGuard child_;
  std::unique_ptr<::runtime::v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<::runtime::v1::ImageService::Stub> images_;
};

}  // namespace berth::integration

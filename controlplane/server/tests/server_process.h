#pragma once
// `berth server` run as its own process (the built binary), for tests
// that kill it: started on a given port, ready once /readyz answers the
// admin certificate.

#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/pki/pki.h"
#include "common/process.h"

namespace berth::controlplane::testing {

class ServerProcess {
 public:
  static Result<std::unique_ptr<ServerProcess>> Start(const std::string& data_dir, uint16_t port,
                                                      std::vector<std::string> extra_flags = {});
  // SIGKILL, and reaped.
  void Kill() { child_.KillAndReap(); }
  uint16_t port() const { return port_; }
  std::string Log() const;
  // The cluster CA and the admin credential, read from the data dir.
  const std::string& ca_pem() const { return ca_pem_; }
  const pki::Credential& admin() const { return admin_; }

 private:
  ChildGuard child_;
  uint16_t port_ = 0;
  std::string log_;
  std::string ca_pem_;
  pki::Credential admin_;
};

}  // namespace berth::controlplane::testing

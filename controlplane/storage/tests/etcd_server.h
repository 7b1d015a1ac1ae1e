#pragma once
// Debian's etcd (etcd-server) as a child of the test: one member on
// 127.0.0.1 at unused ports, data and log in `dir`, killed by pid when the
// EtcdServer goes (and with its parent, PR_SET_PDEATHSIG).

#include <memory>
#include <string>

#include "common/error.h"
#include "common/process.h"

namespace berth::controlplane::storage::testing {

inline constexpr char kEtcdBinary[] = "/usr/bin/etcd";

class EtcdServer {
 public:
  static Result<std::unique_ptr<EtcdServer>> Start(const std::string& dir);
  const std::string& endpoint() const { return endpoint_; }  // 127.0.0.1:<port>
  std::string Log() const;

 private:
  EtcdServer() = default;
  std::string endpoint_;
  std::string log_;
  ChildGuard child_;
};

}  // namespace berth::controlplane::storage::testing

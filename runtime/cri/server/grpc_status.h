#pragma once
// berth::Error -> grpc::Status: the categories are gRPC's codes, 1:1.

#include <grpcpp/support/status.h>

#include "common/error.h"

namespace berth::cri {

inline grpc::Status ToGrpc(const Error& e) {
  return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(e.code())), e.str());
}

inline grpc::Status ToGrpc(const Status& s) {
  return s.ok() ? grpc::Status::OK : ToGrpc(s.error());
}

}  // namespace berth::cri

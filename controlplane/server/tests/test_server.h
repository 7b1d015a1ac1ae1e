#pragma once
// A berth server for tests: its own data dir, loopback, any free port.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "controlplane/server/apiserver.h"

namespace berth::controlplane {

inline ApiServerOptions TestServerOptions(const std::string& data_dir) {
  ApiServerOptions o;
  o.data_dir = data_dir;
  o.bind_address = "127.0.0.1";
  o.secure_port = 0;
  return o;
}

// Starts a server; a failure fails the calling test (ASSERT inside).
inline void StartTestServer(const ApiServerOptions& options, std::unique_ptr<ApiServer>& out) {
  auto server = ApiServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.error().str();
  out = std::move(*server);
}

}  // namespace berth::controlplane

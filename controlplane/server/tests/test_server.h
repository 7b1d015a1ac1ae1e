#pragma once
// A berth server for tests: its own data dir, loopback, any free port.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/file.h"
#include "common/pki/pki.h"
#include "common/testing/testkit.h"
#include "controlplane/client/api_client.h"
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

// What a client of a test server needs: the cluster CA and the admin
// credential, from the data dir.
struct AdminAccess {
  std::string ca_pem;
  pki::Credential admin;
};
inline AdminAccess ReadAdminAccess(const std::string& data_dir) {
  return {ReadFile(data_dir + "/pki/ca.crt").value(),
          {ReadFile(data_dir + "/pki/admin.crt").value(),
           ReadFile(data_dir + "/pki/admin.key").value()}};
}

// A test with a server of its own and the admin's access to it.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StartTestServer(TestServerOptions(dir_.path()), server_);
    ASSERT_NE(server_, nullptr);
    AdminAccess access = ReadAdminAccess(dir_.path());
    ca_ = access.ca_pem;
    admin_ = access.admin;
  }

  // How the admin's API client reaches this server.
  client::ClientConfig AdminConfig() const {
    client::ClientConfig c;
    c.port = server_->port();
    c.ca_pem = ca_;
    c.certificate = admin_;
    return c;
  }

  berth::testing::TempDir dir_{"berth-server-test"};
  std::unique_ptr<ApiServer> server_;
  std::string ca_;
  pki::Credential admin_;
};

}  // namespace berth::controlplane

// The store suite on EtcdStore against Debian's etcd, started once for the
// suite; each test's keys live under a prefix of its own.

#include "controlplane/storage/etcd_store.h"

#include "common/file.h"
#include "controlplane/storage/tests/etcd_server.h"
#include "controlplane/storage/tests/store_suite.h"

namespace berth::controlplane::storage::testing {
namespace {

berth::testing::TempDir* g_dir = nullptr;
EtcdServer* g_etcd = nullptr;

class EtcdEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    delete g_etcd;
    g_etcd = nullptr;
    delete g_dir;
    g_dir = nullptr;
  }
};

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new EtcdEnvironment);

Result<std::unique_ptr<Store>> OpenEtcd(const std::string& dir) {
  if (g_etcd == nullptr) {
    if (!PathExists(kEtcdBinary)) {
      return Error(Errc::kNotFound, std::string(kEtcdBinary) + " is missing (package etcd-server)");
    }
    g_dir = new berth::testing::TempDir("berth-etcd");
    g_etcd = BERTH_TRY(EtcdServer::Start(g_dir->path())).release();
  }
  EtcdStoreOptions options;
  options.endpoint = g_etcd->endpoint();
  options.key_prefix = "/" + Basename(dir);  // a TempDir's name is unique
  return Result<std::unique_ptr<Store>>(BERTH_TRY(EtcdStore::Open(options)));
}

INSTANTIATE_TEST_SUITE_P(Etcd, StoreSuite, ::testing::Values(StoreFactory{"etcd", OpenEtcd}),
                         [](const auto& info) { return info.param.name; });

TEST(EtcdStoreTest, AnUnreachableEndpointIsAnErrorNamingIt) {
  EtcdStoreOptions options;
  options.endpoint = "127.0.0.1:" + std::to_string(berth::testing::UnusedPort());
  options.timeout = std::chrono::milliseconds(300);
  auto store = EtcdStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().str().find(options.endpoint), std::string::npos) << store.error().str();
}

}  // namespace
}  // namespace berth::controlplane::storage::testing

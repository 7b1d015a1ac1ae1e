// The store suite on SqliteStore, and what only the SQLite store promises.

#include "controlplane/storage/sqlite_store.h"

#include "controlplane/storage/tests/store_suite.h"

namespace berth::controlplane::storage::testing {
namespace {

Result<std::unique_ptr<Store>> OpenSqlite(const std::string& dir) {
  SqliteStoreOptions options;
  options.path = dir + "/state.db";
  return Result<std::unique_ptr<Store>>(BERTH_TRY(SqliteStore::Open(options)));
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreSuite, ::testing::Values(StoreFactory{"sqlite", OpenSqlite}),
                         [](const auto& info) { return info.param.name; });

TEST(SqliteStoreTest, AWatcherThatFallsBehindIsCutOff) {
  berth::testing::TempDir dir("berth-sqlite");
  SqliteStoreOptions options;
  options.path = dir.path() + "/state.db";
  options.watch_queue = 3;
  auto store = SqliteStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.error().str();
  auto w = (*store)->Watch("/", 0);
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE((*store)->Create("/k" + std::to_string(i), "v").ok());
  auto next = (*w)->Next(std::chrono::milliseconds(10));
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code(), Errc::kResourceExhausted);
}

TEST(SqliteStoreTest, AnUnwritableDatabaseIsAnErrorNamingIt) {
  SqliteStoreOptions options;
  options.path = "/nonexistent-dir-berth/state.db";
  auto store = SqliteStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().str().find("/nonexistent-dir-berth/state.db"), std::string::npos)
      << store.error().str();
}

}  // namespace
}  // namespace berth::controlplane::storage::testing

#pragma once
// The embedded store: one SQLite database in WAL mode holding every
// revision as a row, as kine does for k3s. A row is one write: the key, its
// value, whether it created or deleted the key, the revision that created
// the key and the row it supersedes. Reading the store as of revision R is
// reading each key's newest row at or below R; compaction removes the rows
// that something newer at or below the compacted revision supersedes.
//
// Writes are serialized in this process (one connection) and durable when
// acknowledged (synchronous=FULL: the WAL is fsynced at each commit);
// watches are fed in process (watch_hub.h), so nothing polls the table.

#include <memory>
#include <mutex>
#include <string>

#include "controlplane/storage/sqlite_db.h"
#include "controlplane/storage/store.h"
#include "controlplane/storage/watch_hub.h"

namespace berth::controlplane::storage {

struct SqliteStoreOptions {
  std::string path;             // the database file; its directory must exist
  size_t watch_queue = 100000;  // events a watcher may fall behind
};

class SqliteStore : public Store {
 public:
  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteStoreOptions& options);
  ~SqliteStore() override;

  Result<std::optional<KeyValue>> Get(const std::string& key, int64_t revision) override;
  Result<ListResult> List(const ListOptions& options) override;
  Result<KeyValue> Create(const std::string& key, const std::string& value) override;
  Result<KeyValue> Update(const std::string& key, const std::string& value,
                          int64_t expected) override;
  Result<KeyValue> Delete(const std::string& key, int64_t expected) override;
  Result<std::unique_ptr<WatchStream>> Watch(const std::string& prefix, int64_t after) override;
  Status Compact(int64_t revision) override;
  Result<int64_t> CurrentRevision() override;
  Result<int64_t> CompactedRevision() override;

 private:
  struct Row;
  explicit SqliteStore(std::unique_ptr<SqliteDb> db, size_t watch_queue)
      : db_(std::move(db)), hub_(watch_queue) {}

  // The columns of a row (id, name, created, deleted, create_revision,
  // prev_revision, value) starting at `first`.
  static Row ReadRow(const SqliteStatement& s, int first);
  Status Init();
  // `revision` 0 = now; checked against compaction and the future.
  Result<int64_t> ReadRevision(int64_t revision) const;
  Result<std::optional<Row>> Newest(const std::string& key, int64_t revision);
  // Appends a row for `key` at the next revision and publishes its event.
  Result<Row> Append(const std::string& key, const std::string& value, bool deleted,
                     const std::optional<Row>& prev);

  std::mutex mu_;  // the connection and the counters
  std::unique_ptr<SqliteDb> db_;
  WatchHub hub_;
  int64_t revision_ = 0;
  int64_t compacted_ = 0;
};

}  // namespace berth::controlplane::storage

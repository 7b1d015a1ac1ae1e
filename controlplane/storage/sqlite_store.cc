#include "controlplane/storage/sqlite_store.h"

namespace berth::controlplane::storage {

struct SqliteStore::Row {
  int64_t id = 0;
  std::string key;
  bool created = false;
  bool deleted = false;
  int64_t create_revision = 0;
  int64_t prev_revision = 0;
  std::string value;

  KeyValue kv() const { return KeyValue{key, value, create_revision, id}; }
};

namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS kv (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS kv_name_id ON kv (name, id);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
)sql";

constexpr char kRowColumns[] = "id, name, created, deleted, create_revision, prev_revision, value";

Status ValidKey(const std::string& key) {
  if (key.empty()) return Error(Errc::kInvalidArgument, "storage key is empty");
  return Ok();
}

Error NotFound(const std::string& key) {
  return Error(Errc::kNotFound, "key `" + key + "` not found");
}

Error Conflict(const std::string& key, int64_t expected, int64_t actual) {
  return Error(Errc::kAborted, "key `" + key + "` is at revision " + std::to_string(actual) +
                                   ", not " + std::to_string(expected));
}

}  // namespace

SqliteStore::Row SqliteStore::ReadRow(const SqliteStatement& s, int first) {
  Row r;
  r.id = s.Int(first);
  r.key = s.Text(first + 1);
  r.created = s.Int(first + 2) != 0;
  r.deleted = s.Int(first + 3) != 0;
  r.create_revision = s.Int(first + 4);
  r.prev_revision = s.Int(first + 5);
  r.value = s.Blob(first + 6);
  return r;
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteStoreOptions& options) {
  std::unique_ptr<SqliteDb> db = BERTH_TRY(SqliteDb::Open(options.path));
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(db), options.watch_queue));
  BERTH_TRY_CTX(store->Init(), "storage " + options.path);
  return store;
}

SqliteStore::~SqliteStore() {
  hub_.Close();
}

Status SqliteStore::Init() {
  // WAL: readers never block the writer; FULL: a commit is on disk before
  // it is acknowledged.
  BERTH_TRY(
      db_->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;"));
  BERTH_TRY(db_->Exec(kSchema));
  // sqlite_sequence keeps the highest id ever used, even when compaction
  // has removed that row: revisions are never reused.
  SqliteStatement* seq =
      BERTH_TRY(db_->Prepare("SELECT seq FROM sqlite_sequence WHERE name = 'kv'"));
  if (BERTH_TRY(seq->Step())) revision_ = seq->Int(0);
  SqliteStatement* meta =
      BERTH_TRY(db_->Prepare("SELECT value FROM meta WHERE name = 'compacted'"));
  if (BERTH_TRY(meta->Step())) compacted_ = meta->Int(0);
  return Ok();
}

Result<int64_t> SqliteStore::ReadRevision(int64_t revision) const {
  if (revision == 0) return revision_;
  if (revision < 0) {
    return Error(Errc::kInvalidArgument, "revision " + std::to_string(revision) + " is negative");
  }
  if (revision < compacted_) {
    return Error(Errc::kOutOfRange,
                 "revision " + std::to_string(revision) +
                     " has been compacted (oldest kept: " + std::to_string(compacted_) + ")");
  }
  if (revision > revision_) {
    return Error(Errc::kInvalidArgument,
                 "revision " + std::to_string(revision) +
                     " is in the future (current: " + std::to_string(revision_) + ")");
  }
  return revision;
}

Result<std::optional<SqliteStore::Row>> SqliteStore::Newest(const std::string& key,
                                                            int64_t revision) {
  SqliteStatement* s = BERTH_TRY(db_->Prepare(std::string("SELECT ") + kRowColumns +
                                              " FROM kv WHERE name = ?1 AND id <= ?2"
                                              " ORDER BY id DESC LIMIT 1"));
  s->Bind(1, key).Bind(2, revision);
  if (!BERTH_TRY(s->Step())) return std::optional<Row>();
  return std::optional<Row>(ReadRow(*s, 0));
}

Result<std::optional<KeyValue>> SqliteStore::Get(const std::string& key, int64_t revision) {
  BERTH_TRY(ValidKey(key));
  std::lock_guard lock(mu_);
  int64_t at = BERTH_TRY(ReadRevision(revision));
  std::optional<Row> row = BERTH_TRY(Newest(key, at));
  if (!row || row->deleted) return std::optional<KeyValue>();
  return std::optional<KeyValue>(row->kv());
}

Result<ListResult> SqliteStore::List(const ListOptions& options) {
  std::lock_guard lock(mu_);
  ListResult out;
  out.revision = BERTH_TRY(ReadRevision(options.revision));
  // Each key's newest row at or below the revision, live ones only.
  SqliteStatement* s = BERTH_TRY(db_->Prepare(
      "SELECT kv.id, kv.name, kv.created, kv.deleted, kv.create_revision, kv.prev_revision,"
      " kv.value FROM kv JOIN (SELECT MAX(id) AS newest FROM kv"
      "   WHERE name >= ?1 AND (?2 = '' OR name < ?2) AND name > ?3 AND id <= ?4"
      "   GROUP BY name) AS n ON kv.id = n.newest"
      " WHERE kv.deleted = 0 ORDER BY kv.name LIMIT ?5"));
  s->Bind(1, options.prefix)
      .Bind(2, PrefixEnd(options.prefix))
      .Bind(3, options.start_after)
      .Bind(4, out.revision)
      .Bind(5, options.limit > 0 ? options.limit + 1 : int64_t{-1});
  while (BERTH_TRY(s->Step())) {
    if (options.limit > 0 && static_cast<int64_t>(out.items.size()) == options.limit) {
      out.more = true;
      break;
    }
    out.items.push_back(ReadRow(*s, 0).kv());
  }
  return out;
}

Result<SqliteStore::Row> SqliteStore::Append(const std::string& key, const std::string& value,
                                             bool deleted, const std::optional<Row>& prev) {
  Row row;
  row.id = revision_ + 1;
  row.key = key;
  row.deleted = deleted;
  row.created = !deleted && (!prev || prev->deleted);
  row.create_revision = row.created ? row.id : prev->create_revision;
  row.prev_revision = prev ? prev->id : 0;
  row.value = value;
  SqliteStatement* insert = BERTH_TRY(db_->Prepare(std::string("INSERT INTO kv (") + kRowColumns +
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  insert->Bind(1, row.id)
      .Bind(2, row.key)
      .Bind(3, int64_t{row.created})
      .Bind(4, int64_t{row.deleted})
      .Bind(5, row.create_revision)
      .Bind(6, row.prev_revision)
      .BindBlob(7, row.value);
  BERTH_TRY_CTX(insert->Run(), "write key `" + key + "`");
  revision_ = row.id;

  Event event;
  event.kv = row.kv();
  if (row.created) {
    event.type = EventType::kCreated;
  } else {
    event.type = deleted ? EventType::kDeleted : EventType::kModified;
    event.prev = prev->kv();
  }
  hub_.Publish(event);
  return row;
}

Result<KeyValue> SqliteStore::Create(const std::string& key, const std::string& value) {
  BERTH_TRY(ValidKey(key));
  std::lock_guard lock(mu_);
  std::optional<Row> prev = BERTH_TRY(Newest(key, revision_));
  if (prev && !prev->deleted) {
    return Error(Errc::kAlreadyExists, "key `" + key + "` already exists");
  }
  return BERTH_TRY(Append(key, value, false, prev)).kv();
}

Result<KeyValue> SqliteStore::Update(const std::string& key, const std::string& value,
                                     int64_t expected) {
  BERTH_TRY(ValidKey(key));
  std::lock_guard lock(mu_);
  std::optional<Row> prev = BERTH_TRY(Newest(key, revision_));
  if (!prev || prev->deleted) return NotFound(key);
  if (expected != 0 && prev->id != expected) return Conflict(key, expected, prev->id);
  return BERTH_TRY(Append(key, value, false, prev)).kv();
}

Result<KeyValue> SqliteStore::Delete(const std::string& key, int64_t expected) {
  BERTH_TRY(ValidKey(key));
  std::lock_guard lock(mu_);
  std::optional<Row> prev = BERTH_TRY(Newest(key, revision_));
  if (!prev || prev->deleted) return NotFound(key);
  if (expected != 0 && prev->id != expected) return Conflict(key, expected, prev->id);
  return BERTH_TRY(Append(key, prev->value, true, prev)).kv();
}

Result<std::unique_ptr<WatchStream>> SqliteStore::Watch(const std::string& prefix, int64_t after) {
  std::lock_guard lock(mu_);
  if (after == 0) after = revision_;
  if (after < compacted_) {
    return Error(Errc::kOutOfRange, "watch from revision " + std::to_string(after) +
                                        ": compacted (oldest kept: " + std::to_string(compacted_) +
                                        ")");
  }
  std::vector<Event> backlog;
  if (after < revision_) {
    // Each row after `after` under the prefix, with the row it superseded.
    SqliteStatement* s = BERTH_TRY(db_->Prepare(
        "SELECT kv.id, kv.name, kv.created, kv.deleted, kv.create_revision, kv.prev_revision,"
        " kv.value, p.id, p.name, p.created, p.deleted, p.create_revision, p.prev_revision,"
        " p.value FROM kv LEFT JOIN kv AS p ON p.id = kv.prev_revision"
        " WHERE kv.id > ?1 AND kv.name >= ?2 AND (?3 = '' OR kv.name < ?3) ORDER BY kv.id"));
    s->Bind(1, after).Bind(2, prefix).Bind(3, PrefixEnd(prefix));
    while (BERTH_TRY(s->Step())) {
      Row row = ReadRow(*s, 0);
      Event e;
      e.kv = row.kv();
      if (row.created) {
        e.type = EventType::kCreated;
      } else {
        e.type = row.deleted ? EventType::kDeleted : EventType::kModified;
        if (!s->IsNull(7)) e.prev = ReadRow(*s, 7).kv();
      }
      backlog.push_back(std::move(e));
    }
  }
  return hub_.Register(prefix, std::move(backlog));
}

Status SqliteStore::Compact(int64_t revision) {
  std::lock_guard lock(mu_);
  if (revision <= compacted_) return Ok();
  if (revision > revision_) {
    return Error(Errc::kInvalidArgument, "compact to revision " + std::to_string(revision) +
                                             ": the store is at " + std::to_string(revision_));
  }
  SqliteTransaction tx = BERTH_TRY(SqliteTransaction::Begin(*db_));
  // Superseded rows at or below the revision, and deletions there (a
  // deleted key needs no row at all once no reader can ask for its past).
  SqliteStatement* drop = BERTH_TRY(
      db_->Prepare("DELETE FROM kv WHERE id <= ?1 AND (deleted = 1 OR EXISTS ("
                   "  SELECT 1 FROM kv AS newer WHERE newer.name = kv.name AND newer.id > kv.id"
                   "  AND newer.id <= ?1))"));
  drop->Bind(1, revision);
  BERTH_TRY_CTX(drop->Run(), "compact to revision " + std::to_string(revision));
  SqliteStatement* mark =
      BERTH_TRY(db_->Prepare("INSERT INTO meta (name, value) VALUES ('compacted', ?1)"
                             " ON CONFLICT (name) DO UPDATE SET value = excluded.value"));
  mark->Bind(1, revision);
  BERTH_TRY(mark->Run());
  BERTH_TRY(tx.Commit());
  compacted_ = revision;
  return Ok();
}

Result<int64_t> SqliteStore::CurrentRevision() {
  std::lock_guard lock(mu_);
  return revision_;
}

Result<int64_t> SqliteStore::CompactedRevision() {
  std::lock_guard lock(mu_);
  return compacted_;
}

}  // namespace berth::controlplane::storage

#include "controlplane/storage/sqlite_db.h"

#include <utility>

namespace berth::controlplane::storage {

SqliteStatement& SqliteStatement::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

SqliteStatement& SqliteStatement::Bind(int index, std::string_view text) {
  int rc =
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

SqliteStatement& SqliteStatement::BindBlob(int index, std::string_view bytes) {
  // A zero-length blob, not NULL, for an empty value.
  int rc = bytes.empty()
               ? sqlite3_bind_zeroblob(stmt_, index, 0)
               : sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

Result<bool> SqliteStatement::Step() {
  if (bind_error_ != SQLITE_OK) return Fail("bind", bind_error_);
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Fail("step", rc);
}

Status SqliteStatement::Run() {
  while (BERTH_TRY(Step())) {
  }
  return Ok();
}

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = SQLITE_OK;
}

std::string SqliteStatement::Text(int column) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return p == nullptr ? std::string()
                      : std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::string SqliteStatement::Blob(int column) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  return p == nullptr ? std::string()
                      : std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

Error SqliteStatement::Fail(const char* what, int rc) const {
  Errc code = rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? Errc::kUnavailable : Errc::kInternal;
  if (rc == SQLITE_FULL) code = Errc::kResourceExhausted;
  return Error(code, std::string("sqlite ") + what + " (" + sqlite3_errstr(rc) +
                         "): " + sqlite3_errmsg(db_) + "; in: " + sql_);
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Error(Errc::kUnavailable, "open sqlite database " + path + ": " + message);
  }
  sqlite3_extended_result_codes(db, 0);
  return std::unique_ptr<SqliteDb>(new SqliteDb(db, path));
}

SqliteDb::~SqliteDb() {
  statements_.clear();  // finalized before the connection closes
  sqlite3_close(db_);
}

Status SqliteDb::Exec(const std::string& sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Ok();
  std::string text = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return Error(Errc::kInternal, "sqlite " + path_ + ": " + text + "; in: " + sql);
}

Result<SqliteStatement*> SqliteDb::Prepare(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return Error(Errc::kInternal,
                 "sqlite prepare: " + std::string(sqlite3_errmsg(db_)) + "; in: " + sql);
  }
  auto owned = std::make_unique<SqliteStatement>(db_, stmt, sql);
  SqliteStatement* raw = owned.get();
  statements_.emplace(sql, std::move(owned));
  return raw;
}

Result<SqliteTransaction> SqliteTransaction::Begin(SqliteDb& db) {
  BERTH_TRY(db.Exec("BEGIN IMMEDIATE"));
  return SqliteTransaction(db);
}

SqliteTransaction::~SqliteTransaction() {
  if (open_) (void)db_->Exec("ROLLBACK");
}

Status SqliteTransaction::Commit() {
  BERTH_TRY(db_->Exec("COMMIT"));
  open_ = false;
  return Ok();
}

}  // namespace berth::controlplane::storage

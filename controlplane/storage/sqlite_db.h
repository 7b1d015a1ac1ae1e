#pragma once
// A thin RAII layer over the SQLite C API: one connection, statements that
// finalize themselves, errors that carry SQLite's message and the SQL.
// Not thread-safe: its owner serializes the calls.

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace berth::controlplane::storage {

class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt, std::string sql)
      : db_(db), stmt_(stmt), sql_(std::move(sql)) {}
  ~SqliteStatement() { sqlite3_finalize(stmt_); }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // Parameters are numbered from 1, as in the SQL (?1, ?2, ...).
  SqliteStatement& Bind(int index, int64_t value);
  SqliteStatement& Bind(int index, std::string_view text);
  SqliteStatement& BindBlob(int index, std::string_view bytes);

  // true: a row is ready; false: done. The first bind error shows here.
  Result<bool> Step();
  // Runs to completion (for statements that return no rows).
  Status Run();
  // Ready for the next use: rewound, bindings cleared.
  void Reset();

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string Text(int column) const;
  std::string Blob(int column) const;
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  Error Fail(const char* what, int rc) const;

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  std::string sql_;
  int bind_error_ = SQLITE_OK;
};

class SqliteDb {
 public:
  // Opens (creating) the database file at `path`.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements that return no rows.
  Status Exec(const std::string& sql);
  // A prepared statement, cached by its text; reset before it is returned.
  Result<SqliteStatement*> Prepare(const std::string& sql);

  const std::string& path() const { return path_; }

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
  std::map<std::string, std::unique_ptr<SqliteStatement>> statements_;
};

// A transaction that rolls back unless committed.
class SqliteTransaction {
 public:
  static Result<SqliteTransaction> Begin(SqliteDb& db);
  SqliteTransaction(SqliteTransaction&& other) noexcept
      : db_(other.db_), open_(std::exchange(other.open_, false)) {}
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;
  ~SqliteTransaction();
  Status Commit();

 private:
  explicit SqliteTransaction(SqliteDb& db) : db_(&db), open_(true) {}
  SqliteDb* db_;
  bool open_;
};

}  // namespace berth::controlplane::storage

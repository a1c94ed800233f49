// Internal: a thin RAII layer over sqlite3 (prepared statements cached per SQL text, bound by
// position, stepped row by row). Errors come back as StoreError with what was being done.
#pragma once

#include <sqlite3.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "vigie/store/store.h"

namespace vigie::store::detail {

// One use of a prepared statement. A cached statement is marked busy while a Statement holds it,
// so a query started inside another query's row callback (same SQL text) gets its own statement
// instead of resetting the outer one mid-iteration.
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, bool* busy) : stmt_(stmt), busy_(busy) {
    if (busy_) *busy_ = true;
  }
  ~Statement() { release(); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& o) noexcept : stmt_(o.stmt_), busy_(o.busy_) {
    o.stmt_ = nullptr;
    o.busy_ = nullptr;
  }
  Statement& operator=(Statement&&) = delete;

  Statement& bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Statement& bind(int i, bool v) { return bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  Statement& bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Statement& bind_null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }

  // Ready for the next bind/step of the same statement.
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }

  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }

 private:
  void release() {
    if (!stmt_) return;
    if (busy_) {
      // Cached: reset for the next user (also ends its read, so WAL checkpoints can proceed).
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
      *busy_ = false;
    } else {
      sqlite3_finalize(stmt_);  // a one-off statement for a re-entrant use
    }
    stmt_ = nullptr;
  }

  sqlite3_stmt* stmt_;
  bool* busy_;  // the cache entry's flag, or null for a one-off statement
};

class Database {
 public:
  Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() {
    for (auto& [sql, entry] : cache_) sqlite3_finalize(entry.stmt);
    if (db_) sqlite3_close_v2(db_);
  }
  sqlite3* handle() const { return db_; }
  void set_handle(sqlite3* db) { db_ = db; }

  std::string error() const { return db_ ? sqlite3_errmsg(db_) : "no database"; }

  Result<Statement> prepare(const std::string& sql, std::string_view what) {
    auto it = cache_.find(sql);
    if (it != cache_.end() && !it->second.busy) return Statement(it->second.stmt, &it->second.busy);
    sqlite3_stmt* stmt = nullptr;
    const bool cache = it == cache_.end();
    if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), cache ? SQLITE_PREPARE_PERSISTENT : 0,
                           &stmt, nullptr) != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return tl::unexpected(StoreError{std::string(what) + ": " + error()});
    }
    if (!cache) return Statement(stmt, nullptr);
    auto& entry = cache_.emplace(sql, Entry{stmt, false}).first->second;
    return Statement(entry.stmt, &entry.busy);
  }

  Result<bool> exec(const std::string& sql, std::string_view what) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : error();
      sqlite3_free(err);
      return tl::unexpected(StoreError{std::string(what) + ": " + msg});
    }
    return true;
  }

  // Undoes an open transaction if there is one (after a failed COMMIT SQLite may already have).
  void rollback() {
    if (db_ && !sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

 private:
  struct Entry {
    sqlite3_stmt* stmt;
    bool busy;
  };
  sqlite3* db_ = nullptr;
  std::map<std::string, Entry> cache_;  // std::map: entries never move, so Statement keeps &busy
};

}  // namespace vigie::store::detail

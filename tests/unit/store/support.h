// Shared helpers for the store tests: a fresh temporary directory per test, sample events, and a
// raw SQLite connection for writing rows the way an older build would have (and for poisoning a
// table with a trigger, to make a statement fail in the middle of a transaction).
#pragma once

#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

#include "vigie/store/store.h"

namespace vigie::store::test {

using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("vigie-store-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const char* name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline const TimePoint T0 = from_unix_ms(1'767'225'600'000);  // 2026-01-01T00:00:00Z

inline bus::Event event(std::string id, Duration offset = 0s, std::string kind = "sentry.issue") {
  bus::Event e;
  e.id = std::move(id);
  e.source = "sentry";
  e.kind = std::move(kind);
  e.time = T0 + offset;
  e.received_at = T0 + offset;
  e.attrs = {{"project", "shop-api"}, {"count", 3}, {"big", "18446744073709551615"}};
  return e;
}

inline std::unique_ptr<Store> open_store(const std::string& path, const OpenOptions& options = {}) {
  auto s = Store::open(path, options);
  INFO((s ? std::string() : s.error().message));
  REQUIRE(s);
  return std::move(*s);
}

// A plain connection, as another program (or an older vigie) would have.
class Raw {
 public:
  explicit Raw(const std::string& path) { REQUIRE(sqlite3_open(path.c_str(), &db_) == SQLITE_OK); }
  ~Raw() { sqlite3_close(db_); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;

  void exec(const std::string& sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    INFO(sql << " -> " << (err ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
  }
  // The first column of the first row, as text ("" when there is none).
  std::string scalar(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return out;
  }
  // Every row of a one-column query, joined by newlines.
  std::string column(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    std::string out;
    while (sqlite3_step(st) == SQLITE_ROW) {
      const auto* p = sqlite3_column_text(st, 0);
      out += p ? reinterpret_cast<const char*>(p) : "NULL";
      out += '\n';
    }
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace vigie::store::test

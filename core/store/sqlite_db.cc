#include "core/store/sqlite_db.h"

#include <cstdio>
#include <cstdlib>

namespace jsync::store {

bool Stmt::Step() {
  last_rc_ = sqlite3_step(stmt_);
  return last_rc_ == SQLITE_ROW;
}

Status Stmt::Done() const {
  if (last_rc_ == SQLITE_ROW || last_rc_ == SQLITE_DONE || last_rc_ == SQLITE_OK) {
    return Status::Ok();
  }
  if (last_rc_ == SQLITE_FULL) return Status(Code::kQuotaExceeded, "local disk is full");
  return Status::Fatal(std::string("local database: ") + sqlite3_errmsg(db_));
}

Status Stmt::Run() {
  while (Step()) {
  }
  return Done();
}

std::string Stmt::Text(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
}

Bytes Stmt::Blob(int col) const {
  auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, col));
  return p ? Bytes(p, p + sqlite3_column_bytes(stmt_, col)) : Bytes();
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<Db> db(new Db(raw));
  if (rc != SQLITE_OK) {
    return Status::Fatal("cannot open local database " + path + ": " + sqlite3_errstr(rc));
  }
  sqlite3_busy_timeout(raw, 10000);
  // WAL with synchronous=NORMAL survives a killed process with every committed transaction;
  // a power cut may lose the last few but never corrupts. Sealing uses FULL (see Store).
  JSYNC_RETURN_IF_ERROR(
      db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
               "PRAGMA foreign_keys=ON;"));
  return db;
}

Status Db::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  if (rc == SQLITE_FULL) return Status(Code::kQuotaExceeded, "local disk is full");
  return Status::Fatal("local database: " + msg);
}

Db::~Db() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  sqlite3_close_v2(db_);
}

Stmt Db::Prepare(const std::string& sql) {
  Cached& cached = cache_[sql];
  if (cached.stmt != nullptr && !cached.in_use) {
    cached.in_use = true;
    return Stmt(db_, cached.stmt, &cached.in_use);
  }
  const bool keep = cached.stmt == nullptr;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, &stmt,
                         nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "jsync: internal error preparing SQL (%s): %s\n", sql.c_str(),
                 sqlite3_errmsg(db_));
    std::abort();
  }
  if (!keep) return Stmt(db_, stmt);
  cached.stmt = stmt;
  cached.in_use = true;
  return Stmt(db_, stmt, &cached.in_use);
}

}  // namespace jsync::store

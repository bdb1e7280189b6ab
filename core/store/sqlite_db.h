// A thin RAII layer over the SQLite C API: a connection, prepared statements, transactions.
// Every failure becomes a kFatal Status naming the statement's purpose and SQLite's message.
// Not thread-safe: one connection per thread.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/util/bytes.h"

namespace jsync::store {

class Stmt {
 public:
  // `in_use` non-null: a cached statement, reset (not finalised) when this handle ends.
  Stmt(sqlite3* db, sqlite3_stmt* stmt, bool* in_use = nullptr)
      : db_(db), stmt_(stmt), in_use_(in_use) {}
  Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(o.stmt_), in_use_(o.in_use_) {
    o.stmt_ = nullptr;
    o.in_use_ = nullptr;
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() {
    if (in_use_ == nullptr) {
      sqlite3_finalize(stmt_);
      return;
    }
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *in_use_ = false;
  }

  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& Bind(int i, uint64_t v) { return Bind(i, static_cast<int64_t>(v)); }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, ByteSpan v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }

  // True when a row is ready, false when done; errors come back through Done().
  bool Step();
  // The status of the last Step: ok unless SQLite reported an error.
  Status Done() const;
  // Runs a statement that returns no rows.
  Status Run();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  uint64_t U64(int col) const { return static_cast<uint64_t>(Int(col)); }
  std::string Text(int col) const;
  Bytes Blob(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;
  int last_rc_ = SQLITE_OK;
};

class Db {
 public:
  static Result<std::unique_ptr<Db>> Open(const std::string& path);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  Status Exec(const std::string& sql);
  // True when the file or its folder cannot be written: opened read-only, writes fail.
  bool read_only() const { return read_only_; }
  // Statements are compiled once and reused (compiling was a fifth of an edit's time); a
  // statement already in use by a live Stmt is compiled afresh. Prepare failures are
  // programming errors in fixed SQL, so they abort with the message.
  Stmt Prepare(const std::string& sql);

  // Checkpoints (docs/decisions/0042): SQLite's automatic checkpoint runs inside the commit
  // that crosses its threshold, fsyncs included, so one edit in a hundred paid for it. Here a
  // commit that leaves kBackgroundFrames or more in the WAL only wakes a thread of this Db
  // that checkpoints passively on its own connection; a commit past kForegroundFrames (the
  // thread cannot keep up: a reader pins the WAL) checkpoints in place as SQLite would.
  // The first commit after a finished checkpoint starts the WAL over and fsyncs its header:
  // the larger the threshold, the rarer that one edit-path fsync.
  static constexpr int kBackgroundFrames = 4096;   // 16 MiB of 4 KiB pages
  static constexpr int kForegroundFrames = 32768;  // ~128 MiB
  // Background checkpoints done so far (tests).
  uint64_t background_checkpoints();

 private:
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  explicit Db(sqlite3* db) : db_(db) {}
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int frames);
  void RequestCheckpoint();
  void CheckpointLoop();
  sqlite3* db_;
  bool read_only_ = false;
  std::string path_;
  std::map<std::string, Cached> cache_;
  // The checkpointer thread, started by the first commit that needs it.
  std::mutex mu_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stopping_ = false;
  uint64_t checkpoints_ = 0;
  std::thread checkpointer_;
};

// BEGIN IMMEDIATE on construction; rolls back unless Commit() succeeded.
// A durable transaction's commit is fsynced (synchronous=FULL) even though the connection
// otherwise runs with synchronous=NORMAL.
class Transaction {
 public:
  explicit Transaction(Db& db, bool durable = false) : db_(db), durable_(durable) {
    if (durable_) begin_ = db_.Exec("PRAGMA synchronous=FULL");
    if (begin_.ok()) begin_ = db_.Exec("BEGIN IMMEDIATE");
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (begin_.ok() && !done_) (void)db_.Exec("ROLLBACK");
    if (durable_) (void)db_.Exec("PRAGMA synchronous=NORMAL");
  }
  const Status& began() const { return begin_; }
  Status Commit() {
    done_ = true;
    Status s = db_.Exec("COMMIT");
    if (!s.ok()) (void)db_.Exec("ROLLBACK");
    return s;
  }

 private:
  Db& db_;
  bool durable_;
  Status begin_;
  bool done_ = false;
};

}  // namespace jsync::store

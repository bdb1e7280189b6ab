#include "core/store/sqlite_db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

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

namespace {

// SQLite gives the -wal and -shm files the database file's mode, so creating the file 0600
// before SQLite does keeps the whole store private whatever the umask.
Status CreatePrivate(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0) {
    ::close(fd);
    return Status::Ok();
  }
  if (errno == EEXIST) {
    // An older jsync left it 0644: tighten it (and its companions) when we own it.
    for (const char* suffix : {"", "-wal", "-shm"}) (void)::chmod((path + suffix).c_str(), 0600);
    return Status::Ok();
  }
  return Status::Fatal("cannot create local database " + path + ": " + std::strerror(errno));
}

bool Writable(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return ::access(path.c_str(), W_OK) == 0 && ::access(dir.empty() ? "." : dir.c_str(), W_OK) == 0;
}

}  // namespace

Result<std::unique_ptr<Db>> Db::Open(const std::string& path) {
  const bool exists = ::access(path.c_str(), F_OK) == 0;
  const bool read_only = exists && !Writable(path);
  if (!read_only) JSYNC_RETURN_IF_ERROR(CreatePrivate(path));
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX;
  std::string target = path;
  if (read_only) {
    // A read-only home (a mounted backup, a locked-down folder): WAL can still be read when
    // its -wal/-shm files are there; without them the database was checkpointed whole on
    // its last close and is opened as immutable.
    const bool has_wal = ::access((path + "-wal").c_str(), F_OK) == 0 &&
                         ::access((path + "-shm").c_str(), F_OK) == 0;
    target = "file:" + path + (has_wal ? "?mode=ro" : "?immutable=1");
    flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
  } else {
    flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  }
  int rc = sqlite3_open_v2(target.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Db> db(new Db(raw));
  db->read_only_ = read_only;
  if (rc != SQLITE_OK) {
    return Status::Fatal("cannot open local database " + path + ": " + sqlite3_errstr(rc));
  }
  sqlite3_busy_timeout(raw, 10000);
  if (read_only) return db;
  // WAL with synchronous=NORMAL survives a killed process with every committed transaction;
  // a power cut may lose the last few but never corrupts. Sealing uses FULL (see Store).
  // secure_delete: deleted and overwritten content (an old body, a removed entry) is zeroed
  // in the file instead of lingering in free pages.
  JSYNC_RETURN_IF_ERROR(
      db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
               "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;"));
  // Replaces SQLite's automatic checkpoint (a connection has one WAL hook).
  db->path_ = path;
  sqlite3_wal_hook(raw, &Db::OnWalCommit, db.get());
  return db;
}

int Db::OnWalCommit(void* self, sqlite3* db, const char* name, int frames) {
  if (frames >= kForegroundFrames) {
    (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (frames >= kBackgroundFrames) {
    static_cast<Db*>(self)->RequestCheckpoint();
  }
  return SQLITE_OK;
}

void Db::RequestCheckpoint() {
  std::lock_guard<std::mutex> lock(mu_);
  if (requested_) return;
  requested_ = true;
  if (!checkpointer_.joinable()) {
    checkpointer_ = std::thread([this] { CheckpointLoop(); });
  } else {
    wake_.notify_one();
  }
}

void Db::CheckpointLoop() {
  // Its own connection: a connection is used by one thread at a time (SQLITE_OPEN_NOMUTEX).
  // A passive checkpoint takes no lock a writer waits for, so edits go on meanwhile.
  sqlite3* conn = nullptr;
  if (sqlite3_open_v2(path_.c_str(), &conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    sqlite3_close_v2(conn);
    conn = nullptr;
  }
  // A connection that has read nothing has not opened the WAL, and a checkpoint through it
  // would do nothing: read the schema once.
  if (conn != nullptr) (void)sqlite3_exec(conn, "PRAGMA schema_version", nullptr, nullptr, nullptr);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return requested_ || stopping_; });
    if (stopping_) break;
    lock.unlock();
    if (conn != nullptr) {
      (void)sqlite3_wal_checkpoint_v2(conn, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    lock.lock();
    requested_ = false;
    ++checkpoints_;
  }
  lock.unlock();
  // Closing this second connection never checkpoints (the Db's own stays open).
  if (conn != nullptr) sqlite3_close_v2(conn);
}

uint64_t Db::background_checkpoints() {
  std::lock_guard<std::mutex> lock(mu_);
  return checkpoints_;
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
  if (checkpointer_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake_.notify_one();
    checkpointer_.join();
  }
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

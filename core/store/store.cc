#include "core/store/store.h"

#include <algorithm>
#include <cstring>

#include "core/format/op_codec.h"
#include "core/store/record_summary.h"

namespace jsync::store {
namespace {

// 1: the first schema. 2: record_summaries (docs/decisions/0042), filled from the records
// when a version-1 database is first opened for writing.
constexpr int kSchemaVersion = 2;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records(
  collection TEXT NOT NULL,
  id BLOB NOT NULL,
  hex TEXT NOT NULL,
  state BLOB NOT NULL,
  UNIQUE(collection, id));
CREATE INDEX IF NOT EXISTS records_hex ON records(collection, hex);
CREATE TABLE IF NOT EXISTS outbox(
  n INTEGER PRIMARY KEY AUTOINCREMENT,
  op BLOB NOT NULL,
  device INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS replay(
  n INTEGER PRIMARY KEY AUTOINCREMENT,
  op BLOB NOT NULL,
  device INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sealed(
  seq INTEGER PRIMARY KEY,
  bytes BLOB NOT NULL,
  hash BLOB NOT NULL,
  uploaded INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS cursors(
  device INTEGER PRIMARY KEY,
  seq INTEGER NOT NULL,
  hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS devices(
  device INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  platform TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS remote_names(
  path TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  kind INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS record_summaries(
  collection TEXT NOT NULL,
  id BLOB NOT NULL,
  visible INTEGER NOT NULL,
  sort_key BLOB NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  title BLOB NOT NULL,
  tags BLOB NOT NULL,
  conflicts INTEGER NOT NULL,
  PRIMARY KEY(collection, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS record_summaries_order
  ON record_summaries(collection, visible, sort_key);
)sql";

crypto::Sha256 ToHash(const Bytes& b) {
  crypto::Sha256 h{};
  if (b.size() == h.size()) std::copy(b.begin(), b.end(), h.begin());
  return h;
}

RecordId ToRecordId(const Bytes& b) {
  RecordId id{};
  if (b.size() == id.size()) std::copy(b.begin(), b.end(), id.begin());
  return id;
}

// Listing order, oldest first: created_ms big-endian (all 64 bits, which an INTEGER column
// would order as signed), then the id, as memcmp orders them.
Bytes SortKey(uint64_t created_ms, const RecordId& id) {
  Bytes key(8);
  for (int i = 0; i < 8; ++i) key[i] = static_cast<uint8_t>(created_ms >> (56 - 8 * i));
  key.insert(key.end(), id.begin(), id.end());
  return key;
}

// SQLite binds a blob without a data pointer (an empty vector's) as NULL: point empty ones
// at a byte so they stay zero-length blobs.
ByteSpan NonNull(ByteSpan b) {
  static const uint8_t kNone = 0;
  return b.empty() ? ByteSpan(&kNone, 0) : b;
}

Status PutSummary(Db& db, const std::string& collection, const RecordSummary& s) {
  const Bytes tags = EncodeTags(s.tags);
  return db
      .Prepare(
          "INSERT INTO record_summaries(collection, id, visible, sort_key, created_ms, "
          "updated_ms, title, tags, conflicts) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT(collection, id) DO UPDATE SET visible=excluded.visible, "
          "sort_key=excluded.sort_key, created_ms=excluded.created_ms, "
          "updated_ms=excluded.updated_ms, title=excluded.title, tags=excluded.tags, "
          "conflicts=excluded.conflicts")
      .Bind(1, collection)
      .Bind(2, ByteSpan(s.id))
      .Bind(3, int64_t{s.visible ? 1 : 0})
      .Bind(4, ByteSpan(SortKey(s.created_ms, s.id)))
      .Bind(5, s.created_ms)
      .Bind(6, s.updated_ms)
      .Bind(7, NonNull(ByteSpan(reinterpret_cast<const uint8_t*>(s.title.data()),
                                s.title.size())))
      .Bind(8, NonNull(tags))
      .Bind(9, int64_t{s.conflicts ? 1 : 0})
      .Run();
}

// Version 1 to 2: a summary for every record, one record decoded at a time, in the caller's
// write transaction.
Status FillSummaries(Db& db) {
  JSYNC_RETURN_IF_ERROR(db.Exec("DELETE FROM record_summaries"));
  Stmt st = db.Prepare("SELECT collection, id, state FROM records");
  while (st.Step()) {
    const std::string collection = st.Text(0);
    const RecordId id = ToRecordId(st.Blob(1));
    auto state = RecordState::Decode(st.Blob(2));
    if (!state.ok()) {
      return state.status().WithContext("cannot upgrade the local database: record " +
                                        RecordIdHex(id));
    }
    JSYNC_RETURN_IF_ERROR(PutSummary(db, collection, SummarizeRecord(id, *state)));
  }
  return st.Done();
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  JSYNC_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(path));
  const bool read_only = db->read_only();
  if (!read_only) JSYNC_RETURN_IF_ERROR(db->Exec(kSchema));
  std::unique_ptr<Store> store(new Store(std::move(db)));
  JSYNC_ASSIGN_OR_RETURN(auto version, store->GetMeta("schema_version"));
  if (!version && read_only) {
    return Status::Fatal("local database " + path + " is read-only and was never set up");
  }
  if (version && *version == "1") {
    // A read-only home cannot be upgraded: it lists by decoding its records instead.
    if (read_only) {
      store->summaries_ = false;
      return store;
    }
    JSYNC_RETURN_IF_ERROR(store->Upgrade());
    JSYNC_ASSIGN_OR_RETURN(version, store->GetMeta("schema_version"));
  }
  if (!version) {
    JSYNC_RETURN_IF_ERROR(store->SetMeta("schema_version", std::to_string(kSchemaVersion)));
  } else if (*version != std::to_string(kSchemaVersion)) {
    return Status::Fatal("local database " + path + " has schema version " + *version +
                         "; this jsync understands version " + std::to_string(kSchemaVersion));
  }
  return store;
}

Status Store::Upgrade() {
  Transaction txn(*db_);
  JSYNC_RETURN_IF_ERROR(txn.began());
  // Another process may have upgraded it while this one waited for the write lock.
  JSYNC_ASSIGN_OR_RETURN(auto version, GetMeta("schema_version"));
  if (version && *version == "1") {
    JSYNC_RETURN_IF_ERROR(FillSummaries(*db_));
    JSYNC_RETURN_IF_ERROR(SetMeta("schema_version", std::to_string(kSchemaVersion)));
  }
  return txn.Commit();
}

Result<std::optional<std::string>> Store::GetMeta(const std::string& key) {
  Stmt st = db_->Prepare("SELECT value FROM meta WHERE key=?");
  st.Bind(1, key);
  if (st.Step()) return std::optional<std::string>(st.Text(0));
  JSYNC_RETURN_IF_ERROR(st.Done());
  return std::optional<std::string>();
}

Status Store::SetMeta(const std::string& key, const std::string& value) {
  return db_
      ->Prepare(
          "INSERT INTO meta(key, value) VALUES(?, ?) "
          "ON CONFLICT(key) DO UPDATE SET value=excluded.value")
      .Bind(1, key)
      .Bind(2, value)
      .Run();
}

Status Store::DeleteMeta(const std::string& key) {
  return db_->Prepare("DELETE FROM meta WHERE key=?").Bind(1, key).Run();
}

Result<std::optional<RecordState>> Store::LoadRecord(const std::string& collection,
                                                     const RecordId& id) {
  Stmt st = db_->Prepare("SELECT state FROM records WHERE collection=? AND id=?");
  st.Bind(1, collection).Bind(2, ByteSpan(id));
  if (!st.Step()) {
    JSYNC_RETURN_IF_ERROR(st.Done());
    return std::optional<RecordState>();
  }
  Bytes blob = st.Blob(0);
  JSYNC_ASSIGN_OR_RETURN(RecordState state, RecordState::Decode(blob));
  return std::optional<RecordState>(std::move(state));
}

Status Store::SaveRecord(const std::string& collection, const RecordId& id,
                         const RecordState& state) {
  Bytes blob = state.Encode();
  JSYNC_RETURN_IF_ERROR(db_
      ->Prepare(
          "INSERT INTO records(collection, id, hex, state) VALUES(?, ?, ?, ?) "
          "ON CONFLICT(collection, id) DO UPDATE SET state=excluded.state")
      .Bind(1, collection)
      .Bind(2, ByteSpan(id))
      .Bind(3, RecordIdHex(id))
      .Bind(4, ByteSpan(blob))
      .Run());
  // In the caller's transaction: the summary never disagrees with the state it came from.
  return PutSummary(*db_, collection, SummarizeRecord(id, state));
}

Result<std::vector<StoredRecord>> Store::ListRecords(const std::string& collection) {
  Stmt st = db_->Prepare("SELECT id, state FROM records WHERE collection=? ORDER BY id");
  st.Bind(1, collection);
  std::vector<StoredRecord> out;
  while (st.Step()) {
    Bytes blob = st.Blob(1);
    JSYNC_ASSIGN_OR_RETURN(RecordState state, RecordState::Decode(blob));
    out.push_back({collection, ToRecordId(st.Blob(0)), std::move(state)});
  }
  JSYNC_RETURN_IF_ERROR(st.Done());
  return out;
}

Result<std::vector<RecordId>> Store::FindRecords(const std::string& collection,
                                                 const std::string& hex_prefix) {
  // Range scan instead of LIKE so '%' or '_' in user input cannot act as wildcards.
  Stmt st = db_->Prepare(
      "SELECT id FROM records WHERE collection=? AND hex>=? AND hex<? ORDER BY hex LIMIT 2");
  st.Bind(1, collection).Bind(2, hex_prefix).Bind(3, hex_prefix + "\x7f");
  std::vector<RecordId> out;
  while (st.Step()) out.push_back(ToRecordId(st.Blob(0)));
  JSYNC_RETURN_IF_ERROR(st.Done());
  return out;
}

Status Store::AppendOutbox(const Op& op) {
  Bytes blob = format::EncodeOps({op});
  return db_->Prepare("INSERT INTO outbox(op, device) VALUES(?, ?)")
      .Bind(1, ByteSpan(blob))
      .Bind(2, op.id.device)
      .Run();
}

Result<std::vector<OutboxRow>> Store::ReadOutbox(size_t limit) {
  Stmt st = db_->Prepare("SELECT n, op, device FROM outbox ORDER BY n LIMIT ?");
  st.Bind(1, static_cast<int64_t>(limit));
  std::vector<OutboxRow> out;
  while (st.Step()) {
    Bytes blob = st.Blob(1);
    JSYNC_ASSIGN_OR_RETURN(std::vector<Op> ops, format::DecodeOps(blob, st.U64(2)));
    if (ops.size() != 1) return Status::Corrupt("outbox row holds no single op");
    out.push_back({st.Int(0), std::move(ops[0])});
  }
  JSYNC_RETURN_IF_ERROR(st.Done());
  return out;
}

Status Store::DeleteOutboxThrough(int64_t n) {
  return db_->Prepare("DELETE FROM outbox WHERE n<=?").Bind(1, n).Run();
}

Result<uint64_t> Store::OutboxSize() {
  Stmt st = db_->Prepare("SELECT count(*) FROM outbox");
  st.Step();
  JSYNC_RETURN_IF_ERROR(st.Done());
  return st.U64(0);
}

Status Store::ClearReplay() { return db_->Exec("DELETE FROM replay"); }

Status Store::ClearOutbox() { return db_->Exec("DELETE FROM outbox"); }

Status Store::AppendReplay(const Op& op) {
  Bytes blob = format::EncodeOps({op});
  return db_->Prepare("INSERT INTO replay(op, device) VALUES(?, ?)")
      .Bind(1, ByteSpan(blob))
      .Bind(2, op.id.device)
      .Run();
}

Result<std::vector<Op>> Store::ReadReplay() {
  Stmt st = db_->Prepare("SELECT op, device FROM replay ORDER BY n");
  std::vector<Op> out;
  while (st.Step()) {
    Bytes blob = st.Blob(0);
    JSYNC_ASSIGN_OR_RETURN(std::vector<Op> ops, format::DecodeOps(blob, st.U64(1)));
    if (ops.size() != 1) return Status::Corrupt("replay row holds no single op");
    out.push_back(std::move(ops[0]));
  }
  JSYNC_RETURN_IF_ERROR(st.Done());
  return out;
}

Status Store::MoveReplayToOutbox() {
  JSYNC_RETURN_IF_ERROR(
      db_->Exec("INSERT INTO outbox(op, device) SELECT op, device FROM replay ORDER BY n"));
  return db_->Exec("DELETE FROM replay");
}

Status Store::AddSealed(uint64_t seq, ByteSpan bytes, const crypto::Sha256& hash) {
  return db_->Prepare("INSERT INTO sealed(seq, bytes, hash) VALUES(?, ?, ?)")
      .Bind(1, seq)
      .Bind(2, bytes)
      .Bind(3, ByteSpan(hash))
      .Run();
}

Result<std::vector<SealedRow>> Store::SealedNotUploaded() {
  Stmt st = db_->Prepare("SELECT seq, bytes, hash FROM sealed WHERE uploaded=0 ORDER BY seq");
  std::vector<SealedRow> out;
  while (st.Step()) out.push_back({st.U64(0), st.Blob(1), ToHash(st.Blob(2)), false});
  JSYNC_RETURN_IF_ERROR(st.Done());
  return out;
}

Result<std::optional<SealedRow>> Store::GetSealed(uint64_t seq) {
  Stmt st = db_->Prepare("SELECT seq, bytes, hash, uploaded FROM sealed WHERE seq=?");
  st.Bind(1, seq);
  if (st.Step()) {
    return std::optional<SealedRow>(
        SealedRow{st.U64(0), st.Blob(1), ToHash(st.Blob(2)), st.Int(3) != 0});
  }
  JSYNC_RETURN_IF_ERROR(st.Done());
  return std::optional<SealedRow>();
}

Status Store::MarkUploaded(uint64_t seq) {
  return db_->Prepare("UPDATE sealed SET uploaded=1 WHERE seq=?").Bind(1, seq).Run();
}

Result<Cursor> Store::LastSealed() {
  Stmt st = db_->Prepare("SELECT seq, hash FROM sealed ORDER BY seq DESC LIMIT 1");
  if (st.Step()) return Cursor{st.U64(0), ToHash(st.Blob(1))};
  JSYNC_RETURN_IF_ERROR(st.Done());
  return Cursor{};
}

Result<uint64_t> Store::UploadedThrough() {
  Stmt st = db_->Prepare("SELECT coalesce(max(seq), 0) FROM sealed WHERE uploaded=1");
  st.Step();
  JSYNC_RETURN_IF_ERROR(st.Done());
  return st.U64(0);
}

Result<std::vector<SealedRow>> Store::SealedFrom(uint64_t from) {
  Stmt st =
      db_->Prepare("SELECT seq, bytes, hash, uploaded FROM sealed WHERE seq>=? ORDER BY seq");
  st.Bind(1, from);
  std::vector<SealedRow> out;
  while (st.Step()) out.push_back({st.U64(0), st.Blob(1), ToHash(st.Blob(2)), st.Int(3) != 0});
  JSYNC_RETURN_IF_ERROR(st.Done());
  return out;
}

Status Store::ClearSealed() { return db_->Exec("DELETE FROM sealed"); }

Status Store::ClearRecordsAndCursors() {
  JSYNC_RETURN_IF_ERROR(db_->Exec("DELETE FROM records"));
  JSYNC_RETURN_IF_ERROR(db_->Exec("DELETE FROM record_summaries"));
  return db_->Exec("DELETE FROM cursors");
}

Result<std::map<DeviceId, Cursor>> Store::Cursors() {
  Stmt st = db_->Prepare("SELECT device, seq, hash FROM cursors");
  std::map<DeviceId, Cursor> out;
  while (st.Step()) out[st.U64(0)] = Cursor{st.U64(1), ToHash(st.Blob(2))};
  JSYNC_RETURN_IF_ERROR(st.Done());
  return out;
}

Status Store::SetCursor(DeviceId device, const Cursor& cursor) {
  return db_
      ->Prepare(
          "INSERT INTO cursors(device, seq, hash) VALUES(?, ?, ?) "
          "ON CONFLICT(device) DO UPDATE SET seq=excluded.seq, hash=excluded.hash")
      .Bind(1, device)
      .Bind(2, cursor.seq)
      .Bind(3, ByteSpan(cursor.hash))
      .Run();
}

Status Store::PutDevice(DeviceId device, const DeviceRow& row) {
  return db_
      ->Prepare(
          "INSERT INTO devices(device, name, platform) VALUES(?, ?, ?) "
          "ON CONFLICT(device) DO UPDATE SET name=excluded.name, platform=excluded.platform")
      .Bind(1, device)
      .Bind(2, row.name)
      .Bind(3, row.platform)
      .Run();
}

Result<std::map<DeviceId, DeviceRow>> Store::Devices() {
  Stmt st = db_->Prepare("SELECT device, name, platform FROM devices");
  std::map<DeviceId, DeviceRow> out;
  while (st.Step()) out[st.U64(0)] = DeviceRow{st.Text(1), st.Text(2)};
  JSYNC_RETURN_IF_ERROR(st.Done());
  return out;
}

Result<std::vector<provider::ObjectInfo>> Store::RemoteNames() {
  Stmt st = db_->Prepare("SELECT path, size, kind FROM remote_names ORDER BY path");
  std::vector<provider::ObjectInfo> out;
  while (st.Step()) {
    const int64_t kind = st.Int(2);
    out.push_back({st.Text(0), st.U64(1), -1,
                   kind == 1   ? provider::ObjectKind::kSpecial
                   : kind == 2 ? provider::ObjectKind::kDirectory
                               : provider::ObjectKind::kFile});
  }
  JSYNC_RETURN_IF_ERROR(st.Done());
  return out;
}

Status Store::PutRemoteName(const provider::ObjectInfo& o) {
  const int64_t kind = o.kind == provider::ObjectKind::kSpecial     ? 1
                       : o.kind == provider::ObjectKind::kDirectory ? 2
                                                                    : 0;
  return db_
      ->Prepare(
          "INSERT INTO remote_names(path, size, kind) VALUES(?, ?, ?) "
          "ON CONFLICT(path) DO UPDATE SET size=excluded.size, kind=excluded.kind")
      .Bind(1, o.path)
      .Bind(2, o.size)
      .Bind(3, kind)
      .Run();
}

Status Store::RemoveRemoteName(const std::string& path) {
  return db_->Prepare("DELETE FROM remote_names WHERE path = ?").Bind(1, path).Run();
}

Status Store::ClearRemoteNames() { return db_->Exec("DELETE FROM remote_names"); }

Status Store::ForEachRecordBlob(
    const std::function<Status(const std::string& collection, const RecordId& id,
                               ByteSpan state)>& visit) {
  Stmt st = db_->Prepare("SELECT collection, id, state FROM records ORDER BY collection, id");
  while (st.Step()) {
    Bytes blob = st.Blob(2);
    JSYNC_RETURN_IF_ERROR(visit(st.Text(0), ToRecordId(st.Blob(1)), blob));
  }
  return st.Done();
}

Result<uint64_t> Store::RecordCount() {
  Stmt st = db_->Prepare("SELECT COUNT(*) FROM records");
  if (!st.Step()) {
    JSYNC_RETURN_IF_ERROR(st.Done());
    return uint64_t{0};
  }
  return static_cast<uint64_t>(st.Int(0));
}

Status Store::DeleteCursor(DeviceId device) {
  return db_->Prepare("DELETE FROM cursors WHERE device=?").Bind(1, device).Run();
}

Result<std::vector<RecordSummary>> Store::SummariesFromRecords(const std::string& collection) {
  Stmt st = db_->Prepare("SELECT id, state FROM records WHERE collection=?");
  st.Bind(1, collection);
  std::vector<RecordSummary> out;
  while (st.Step()) {
    const RecordId id = ToRecordId(st.Blob(0));
    JSYNC_ASSIGN_OR_RETURN(RecordState state, RecordState::Decode(st.Blob(1)));
    if (state.Visible()) out.push_back(SummarizeRecord(id, state));
  }
  JSYNC_RETURN_IF_ERROR(st.Done());
  std::sort(out.begin(), out.end(), [](const RecordSummary& a, const RecordSummary& b) {
    return a.created_ms != b.created_ms ? a.created_ms < b.created_ms : a.id < b.id;
  });
  return out;
}

Status Store::ForEachSummary(const std::string& collection,
                             const std::function<Status(const RecordSummary&)>& visit) {
  if (!summaries_) {
    JSYNC_ASSIGN_OR_RETURN(auto all, SummariesFromRecords(collection));
    for (const auto& s : all) JSYNC_RETURN_IF_ERROR(visit(s));
    return Status::Ok();
  }
  Stmt st = db_->Prepare(
      "SELECT id, created_ms, updated_ms, title, tags, conflicts FROM record_summaries "
      "WHERE collection=? AND visible=1 ORDER BY sort_key");
  st.Bind(1, collection);
  RecordSummary s;  // reused: its strings keep their capacity from row to row
  s.visible = true;
  while (st.Step()) {
    s.id = ToRecordId(st.Blob(0));
    s.created_ms = st.U64(1);
    s.updated_ms = st.U64(2);
    s.title = st.Text(3);
    s.tags = DecodeTags(st.Blob(4));
    s.conflicts = st.Int(5) != 0;
    JSYNC_RETURN_IF_ERROR(visit(s));
  }
  return st.Done();
}

Status Store::ForEachVisibleRecord(
    const std::string& collection,
    const std::function<Status(const RecordId& id, const RecordState& state)>& visit) {
  if (!summaries_) {
    JSYNC_ASSIGN_OR_RETURN(auto all, SummariesFromRecords(collection));
    for (const auto& s : all) {
      JSYNC_ASSIGN_OR_RETURN(auto state, LoadRecord(collection, s.id));
      if (state) JSYNC_RETURN_IF_ERROR(visit(s.id, *state));
    }
    return Status::Ok();
  }
  Stmt st = db_->Prepare(
      "SELECT r.id, r.state FROM record_summaries s JOIN records r "
      "ON r.collection=s.collection AND r.id=s.id "
      "WHERE s.collection=? AND s.visible=1 ORDER BY s.sort_key");
  st.Bind(1, collection);
  while (st.Step()) {
    const RecordId id = ToRecordId(st.Blob(0));
    JSYNC_ASSIGN_OR_RETURN(RecordState state, RecordState::Decode(st.Blob(1)));
    JSYNC_RETURN_IF_ERROR(visit(id, state));
  }
  return st.Done();
}

}  // namespace jsync::store

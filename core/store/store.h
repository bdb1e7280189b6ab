// The local store of one journal on one device: one SQLite database (WAL) holding the
// materialised records with their CRDT state, the outbox of local ops not yet sealed, the
// sealed change files (kept after upload so a rolled-back cloud can be repaired), each
// remote device's cursor and chain head, known devices, and small metadata.
//
// Callers group calls into one Transaction (Begin()) where atomicity matters: a local edit
// is one transaction, merging one remote change is one transaction.
// Not thread-safe; separate processes may share the file (SQLite locking, 10 s busy wait).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/crypto/primitives.h"
#include "core/model/op.h"
#include "core/model/record_state.h"
#include "core/provider/provider.h"
#include "core/store/record_summary.h"
#include "core/store/sqlite_db.h"

namespace jsync::store {

struct StoredRecord {
  std::string collection;
  RecordId id{};
  RecordState state;
};

struct OutboxRow {
  int64_t n = 0;
  Op op;
};

struct SealedRow {
  uint64_t seq = 0;
  Bytes bytes;
  crypto::Sha256 hash{};
  bool uploaded = false;
};

struct Cursor {
  uint64_t seq = 0;       // highest seq merged, contiguous from 1
  crypto::Sha256 hash{};  // SHA-256 of that change file: the chain head
};

struct DeviceRow {
  std::string name;
  std::string platform;
};

class Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const std::string& path);

  Transaction Begin() { return Transaction(*db_); }
  // Opened from a home that cannot be written (reads work, writes fail).
  bool read_only() const { return db_->read_only(); }
  // A transaction whose commit is fsynced: used for sealing, whose bytes must outlive a
  // power cut once they may have reached the cloud.
  Transaction BeginDurable() { return Transaction(*db_, /*durable=*/true); }

  // Copies the write-ahead log into the database now (passive: never waits for readers), so
  // the automatic checkpoint, with its fsync, rarely lands on a later edit.
  Status Checkpoint() { return db_->Exec("PRAGMA wal_checkpoint(PASSIVE)"); }

  Result<std::optional<std::string>> GetMeta(const std::string& key);
  Status SetMeta(const std::string& key, const std::string& value);
  Status DeleteMeta(const std::string& key);

  Result<std::optional<RecordState>> LoadRecord(const std::string& collection, const RecordId& id);
  Status SaveRecord(const std::string& collection, const RecordId& id, const RecordState& state);
  Result<std::vector<StoredRecord>> ListRecords(const std::string& collection);
  // Ids in `collection` whose hex form starts with `hex_prefix`.
  Result<std::vector<RecordId>> FindRecords(const std::string& collection,
                                            const std::string& hex_prefix);

  Status AppendOutbox(const Op& op);
  Result<std::vector<OutboxRow>> ReadOutbox(size_t limit);
  Status DeleteOutboxThrough(int64_t n);
  Result<uint64_t> OutboxSize();
  Status ClearOutbox();

  // Ops of this device re-keyed after it re-identified (docs/decisions/0019): applied to the
  // records and moved to the outbox once the rebuilt state has merged what they follow.
  Status AppendReplay(const Op& op);
  Result<std::vector<Op>> ReadReplay();
  // Appends the replay ops to the outbox (after any queued there) and empties the replay.
  Status MoveReplayToOutbox();
  Status ClearReplay();

  Status AddSealed(uint64_t seq, ByteSpan bytes, const crypto::Sha256& hash);
  Result<std::vector<SealedRow>> SealedNotUploaded();
  Result<std::optional<SealedRow>> GetSealed(uint64_t seq);
  Status MarkUploaded(uint64_t seq);
  // Highest sealed seq and its hash; seq 0 when nothing was sealed yet.
  Result<Cursor> LastSealed();
  Result<uint64_t> UploadedThrough();
  // Sealed rows with seq >= `from`, in seq order.
  Result<std::vector<SealedRow>> SealedFrom(uint64_t from);
  Status ClearSealed();

  Result<std::map<DeviceId, Cursor>> Cursors();
  Status SetCursor(DeviceId device, const Cursor& cursor);

  // A full rebuild from the cloud (re-identification): forgets every record and cursor.
  Status ClearRecordsAndCursors();

  Status PutDevice(DeviceId device, const DeviceRow& row);
  Result<std::map<DeviceId, DeviceRow>> Devices();

  // What this device knows the cloud holds under the journal's folder, kept up to date from
  // the provider's change feed (core/sync/discovery.h), sorted by path.
  Result<std::vector<provider::ObjectInfo>> RemoteNames();
  Status PutRemoteName(const provider::ObjectInfo& object);
  Status RemoveRemoteName(const std::string& path);
  Status ClearRemoteNames();

  // Snapshots (core/sync/snapshot.h): every record of every collection as stored, in
  // (collection, id) order, one at a time; stops at the first error `visit` returns.
  Status ForEachRecordBlob(
      const std::function<Status(const std::string& collection, const RecordId& id,
                                 ByteSpan state)>& visit);
  Result<uint64_t> RecordCount();
  Status DeleteCursor(DeviceId device);

  // Listing (docs/decisions/0042): SaveRecord keeps a summary of every record in the same
  // transaction; these visit the visible records of `collection` oldest first (created time,
  // then id), one at a time, and stop at the first error `visit` returns. A read-only
  // database of schema 1 has no summaries: they are then computed from the records.
  Status ForEachSummary(const std::string& collection,
                        const std::function<Status(const RecordSummary&)>& visit);
  Status ForEachVisibleRecord(
      const std::string& collection,
      const std::function<Status(const RecordId& id, const RecordState& state)>& visit);
  bool has_summaries() const { return summaries_; }
  // Checkpoints run off the edit path so far (core/store/sqlite_db.h; tests).
  uint64_t background_checkpoints() { return db_->background_checkpoints(); }

 private:
  explicit Store(std::unique_ptr<Db> db) : db_(std::move(db)) {}
  // Schema 1 to 2 (fills record_summaries), in one write transaction.
  Status Upgrade();
  // The visible records' summaries computed from their states, sorted: the read-only fallback.
  Result<std::vector<RecordSummary>> SummariesFromRecords(const std::string& collection);
  std::unique_ptr<Db> db_;
  bool summaries_ = true;
};

}  // namespace jsync::store

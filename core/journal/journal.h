// The engine's public face: one journal on one device, in one home folder.
//
// Home folder contents (0700; every file 0600): journal.db (the local store), master.key (the
// journal's master key, so the passphrase is typed once per device), sync.lock, edit.signal
// (empty; rewritten after each local edit for watchers), watch.lock (live/watch_lock.h).
// Not thread-safe. Several processes may use one home at once: local edits are serialised by
// the store's write transaction (ids are allocated inside it), syncs by a file lock.
// The storage provider is opened on first use, through the opener the embedder injected, so
// local commands work while it is offline and never load a plugin.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/crypto/keyring.h"
#include "core/crypto/primitives.h"
#include "core/format/device_file.h"
#include "core/format/key_file.h"
#include "core/format/relay_message.h"
#include "core/journal/entry.h"
#include "core/journal/text_diff.h"
#include "core/model/hlc.h"
#include "core/provider/counting_provider.h"
#include "core/provider/storage_opener.h"
#include "core/store/store.h"
#include "core/sync/audit.h"
#include "core/sync/sync_engine.h"

namespace jsync {

// Touched (closed after a write) once each local edit is committed: what a watcher waits for.
inline constexpr const char* kEditSignalFile = "edit.signal";

struct InitOptions {
  provider::StorageOpener storage;  // required: opens (and may create) the location
  std::string provider;  // required: the name `jsync init --provider` takes
  std::string location;
  std::string passphrase;
  std::string device_name;
  std::string journal_id;  // hex; needed only when the location holds several journals
  crypto::ScryptParams scrypt;
  // Joins with the recovery key printed at init (its text) instead of the passphrase; the
  // caller then sets a new passphrase (Journal::ChangePassphrase with no old one).
  std::string recovery_key;
  // Whether the storage of the provider named is read right only through it
  // (JSYNC_CAP_OWN_STORAGE): a journal whose device files name such a provider is not joined
  // through another (decision 0031). Null: no provider owns its storage.
  std::function<bool(const std::string& provider)> owns_storage;
};

struct InitResult {
  JournalId journal{};
  DeviceId device = 0;
  bool joined = false;  // true when the journal already existed at the location
  // A new journal: its recovery key (docs/decisions/0038), to show once and never store.
  std::string recovery_key;
};

// One device as `jsync devices` shows it (core/journal/journal_keys.cc).
struct DeviceListing {
  DeviceId device = 0;
  std::string name;
  std::string platform;
  uint64_t last_change_ms = 0;  // wall time of its newest change merged here (0: none)
  uint64_t last_seen_ms = 0;    // when this device last merged a change of it (0: never)
  uint64_t merged_seq = 0;
  bool self = false;
  bool has_keys = false;  // its public keys are pinned (a device file v2 was read)
  bool revoked = false;
  DeviceId revoked_by = 0;
  uint64_t revoked_ms = 0;
  uint64_t revoked_through = 0;
};

// What a key operation did (a new epoch, docs/decisions/0037).
struct EpochResult {
  uint64_t key_id = 0;
  uint32_t epoch = 0;
  std::vector<std::string> removed;          // older key files removed from the cloud
  std::vector<DeviceId> unwrapped_devices;   // known devices without public keys: need unlock
  std::string recovery_key;                  // NewRecoveryKey only: shown once
  bool opened = false;                       // Unlock: a newer epoch was opened
};

struct NewEntryInput {
  std::string title;
  std::string body;
  std::vector<std::string> tags;
};

struct EntryEdit {
  // A new full title or body: turned into the minimal character inserts and deletes.
  std::optional<std::string> title;
  std::optional<std::string> body;
  // Splices applied to the body in order, after `body` (positions in code points).
  std::vector<Splice> body_splices;
  std::vector<std::string> add_tags;
  std::vector<std::string> remove_tags;
};

struct DeviceStatus {
  DeviceId device = 0;
  std::string name;
  uint64_t merged_seq = 0;  // for this device: its own highest sealed seq
  bool self = false;
};

struct JournalStatus {
  JournalId journal{};
  DeviceId device = 0;
  std::string device_name;
  std::string provider;
  std::string location;
  uint64_t outbox_ops = 0;
  uint64_t unuploaded_changes = 0;
  uint64_t last_sync_ms = 0;  // 0: never
  std::vector<DeviceStatus> devices;
  std::optional<provider::QuotaInfo> quota;  // when the provider reports one and answered
  // What the last sync reported as problems (code name, message); empty after a clean sync.
  struct Problem {
    std::string code;
    std::string message;
  };
  std::vector<Problem> last_sync_problems;
  // Set once this home found its device id in use by another home and took a new one.
  DeviceId reidentified_from = 0;
  bool rebuilding = false;  // re-identified, still re-merging before re-sending its own ops
};

struct SyncResult {
  sync::SyncReport report;
  provider::ProviderCounters calls;
  uint64_t elapsed_ms = 0;
};

class Journal {
 public:
  // Creates a journal at the location, or joins the one already there (the passphrase must
  // open its key file). REQUIRES: `home` holds no journal yet.
  static Result<InitResult> Init(const std::string& home, const InitOptions& options,
                                 ClockFn clock = SystemMillis);
  // kNotFound when `home` holds no journal. `storage` is called on the first Sync or
  // GetStatus only: local commands never open a provider or load a plugin.
  static Result<std::unique_ptr<Journal>> Open(const std::string& home,
                                               provider::StorageOpener storage,
                                               ClockFn clock = SystemMillis);

  Result<RecordId> NewEntry(const NewEntryInput& input);
  // `id` may be any unique prefix (at least 4 hex digits) of an entry id.
  Status EditEntry(const std::string& id, const EntryEdit& edit);
  Status RemoveEntry(const std::string& id);
  Result<Entry> GetEntry(const std::string& id);
  // Visible entries, oldest first.
  Result<std::vector<Entry>> ListEntries();

  // --- Listing without building the list (issue 15; core/journal/journal_list.cc,
  // docs/decisions/0042). Visible entries oldest first (created time, then id), one at a
  // time; an error `visit` returns stops the walk and is returned.
  // Summaries come from the store's materialised columns: no text CRDT state is decoded.
  Status ForEachEntrySummary(const std::function<Status(const EntrySummary&)>& visit);
  // Whole entries (body, conflicts), each decoded from its record as it is visited.
  Status ForEachEntry(const std::function<Status(const Entry&)>& visit);
  // --- end of listing

  // One sync cycle; `options.full_listing` lists the whole journal folder instead of reading
  // the provider's change feed or probing (finds lost files and re-uploads own ones).
  Result<SyncResult> Sync(const sync::DiscoveryOptions& options = {});
  Result<JournalStatus> GetStatus();

  // Live sync (the watcher, live/): the fast path after a local edit (seal and upload, nothing
  // downloaded), changes another device sent through the relay, merged exactly as if
  // downloaded (what cannot be merged yet waits for the next Sync:
  // SyncReport::needs_full_cycle), and what the relay needs.
  Result<SyncResult> Publish();
  struct RelayedChange {
    DeviceId device = 0;
    uint64_t seq = 0;
    Bytes bytes;
  };
  Result<SyncResult> MergeRelayed(const std::vector<RelayedChange>& changes);
  Result<format::RelayKeys> RelayKeys() const;
  // The bytes of this device's change `seq` once it is in the cloud; nullopt before.
  Result<std::optional<Bytes>> UploadedChange(uint64_t seq);
  // Asks the storage to call `webhook_url` on changes; kNotFound when it cannot push.
  Status WatchStorage(const std::string& webhook_url);

  // --- Auditing the cloud (issue 15, `jsync verify`; core/journal/journal_verify.cc,
  // core/sync/audit.h, docs/decisions/0044). Read-only: lists and reads the journal's remote
  // objects and checks them against what this device merged; uploads, removes and writes
  // nothing (it waits for a running sync of this home, under a shared lock).
  struct VerifyResult {
    sync::AuditReport report;
    provider::ProviderCounters calls;  // what the audit cost
    uint64_t elapsed_ms = 0;
  };
  Result<VerifyResult> Verify(const sync::AuditOptions& options = {});
  // --- end of auditing

  // --- Key lifecycle (core/journal/journal_keys.cc, docs/key-states.md, decisions 0037-0039).
  // Each writes a new key epoch after a sync (so every device known gets a wrap), under the
  // home's sync lock. `old_passphrase` null: not checked (right after a recovery-key join).
  Result<EpochResult> ChangePassphrase(const std::string* old_passphrase,
                                       const std::string& new_passphrase);
  Result<EpochResult> NewRecoveryKey();
  Result<EpochResult> RotateKey();
  // `id`: a device id or a unique prefix (4+ hex digits). Refuses this device itself.
  Result<EpochResult> RevokeDevice(const std::string& id);
  // Opens the newest epoch in the cloud with the passphrase: a device the epoch has no wrap for.
  Result<EpochResult> Unlock(const std::string& passphrase);
  Result<std::vector<DeviceListing>> ListDevices();
  // A new revision of this device's own device file; other devices cannot be renamed.
  Status RenameDevice(const std::string& id, const std::string& name);
  // --- end of key lifecycle

  // How this device keeps a long history small: snapshots, segments, pruning
  // (core/sync/lifecycle.h). Applies to the following syncs of this object.
  void SetLifecycle(const sync::LifecycleOptions& options) { lifecycle_ = options; }

  JournalId journal_id() const { return journal_; }
  DeviceId device_id() const { return device_; }
  // The key epoch new files are sealed under (decision 0037); the relay room follows it.
  format::KeyId current_key_id() const { return key_id_; }
  store::Store& store() { return *store_; }

 private:
  Journal() = default;
  Result<RecordId> ResolveId(const std::string& id_or_prefix);
  Op MakeOp(OpKind kind, const RecordId& record, std::string field, std::string value,
            std::vector<OpId> observed);
  // Builds the ops of one local edit from the record as stored (`base`; empty for a new
  // record), applying them to `scratch` as it goes.
  using BuildOps =
      std::function<Status(const RecordState& base, RecordState& scratch, std::vector<Op>& ops)>;
  // Runs `build` and commits its ops, the record and the outbox rows in one write transaction.
  // The clock and the text character counter are re-read inside it, so edits by concurrent
  // processes on one home never hand out the same op or character ids.
  Status WriteLocal(const RecordId& record, bool must_exist, const std::string& id_text,
                    const BuildOps& build);
  // Re-reads the device id, the persisted clock and the character counter; call inside the
  // write transaction.
  Status RefreshCounters(const RecordState& base);
  Status RefuseIfReadOnly() const;
  void SignalEdit();
  // Runs one engine step under the home's sync lock; a full cycle also records what
  // `status` shows (last sync time and problems) and checkpoints the store.
  Result<SyncResult> RunEngine(
      const sync::DiscoveryOptions& options, bool full_cycle,
      const std::function<Result<sync::SyncReport>(sync::SyncEngine&)>& step);
  // The journal's storage, opened on first use.
  Result<provider::CountingProvider*> Storage();
  // Applies splices to `field` of `scratch` and appends the text ops that do the same.
  Status EditText(RecordState& scratch, const RecordId& record, const std::string& field,
                  const std::vector<Splice>& splices, std::vector<Op>& ops);

  std::string home_;
  provider::StorageOpener open_storage_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<provider::CountingProvider> provider_;
  crypto::SecretKey master_;
  JournalId journal_{};
  DeviceId device_ = 0;
  format::KeyId key_id_ = 0;
  // Key lifecycle (keys helper, core/journal/journal_keys.cc): every epoch key this device
  // holds (master_/key_id_ are the current one) and its own device keys (nullopt only in a
  // read-only home made before device keys).
  crypto::Keyring keyring_;
  std::optional<format::DeviceKeys> device_keys_;
  Status LoadDeviceKeysOnOpen();
  // Reads <home>/keyring (else master.key) and meta key_id into keyring_/master_/key_id_.
  Status LoadKeys();
  Status RefreshKeysIfChanged();  // LoadKeys when the store's key_id is not key_id_
  // Runs `write` after a sync, under the sync lock (a key operation).
  Result<EpochResult> KeyOperation(
      const std::function<Result<EpochResult>(provider::Provider&)>& write);
  Result<EpochResult> WriteEpoch(provider::Provider& storage, const std::string* new_passphrase,
                                 const crypto::PublicKey* new_recovery,
                                 const format::RevokedDevice* revoke);
  std::unique_ptr<HybridClock> clock_;
  uint64_t next_char_seq_ = 1;  // this device's next unused text character id
  sync::LifecycleOptions lifecycle_;
};

}  // namespace jsync

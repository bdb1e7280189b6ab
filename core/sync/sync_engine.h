// One sync cycle: seal -> upload -> discover -> download -> verify -> merge.
// Discovery costs the same whatever the history's length (core/sync/discovery.h).
//
// Every step commits its own progress, so a crash at any point is repaired by the next run:
// sealed bytes are stored before the first upload attempt and re-sent unchanged; a remote
// change is merged and its cursor advanced in one transaction.
// Verification failures do not abort the cycle: the offending device's log stops at the bad
// file (never skipping it), the problem is reported, and other devices go on.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/crypto/secret.h"
#include "core/crypto/keyring.h"
#include "core/format/change_file.h"
#include "core/format/device_file.h"
#include "core/model/hlc.h"
#include "core/provider/provider.h"
#include "core/store/store.h"
#include "core/sync/discovery.h"
#include "core/sync/lifecycle.h"

namespace jsync::sync {

// Ops per change file; keeps any one file well under the format's size limit.
inline constexpr size_t kMaxOpsPerChange = 2000;

struct SyncProblem {
  Code code = Code::kCorrupt;
  std::string message;
};

struct SyncReport {
  uint64_t sealed_changes = 0;
  uint64_t uploaded_changes = 0;
  uint64_t uploaded_bytes = 0;
  uint64_t repaired_changes = 0;  // own files missing from the cloud, uploaded again
  uint64_t downloaded_changes = 0;  // changes downloaded, alone or inside segments
  uint64_t downloaded_segments = 0;
  uint64_t downloaded_bytes = 0;
  uint64_t sealed_ops = 0;
  uint64_t merged_changes = 0;
  uint64_t merged_ops = 0;
  std::map<DeviceId, uint64_t> merged_by_device;  // changes merged per remote device
  std::vector<SyncProblem> problems;              // errors: the user must look
  std::vector<std::string> notices;               // expected waits and ignored files
  // Set when this device found its id in use by another home and took a new one
  // (docs/decisions/0019-cloned-devices.md); `device` is then the new id.
  DeviceId reidentified_from = 0;
  DeviceId device = 0;
  std::string discovery;  // how the cloud was looked at: "feed", "listing" or "probe"
  // Publish and MergeRelayed: something only a full cycle (Run) settles is pending (a relayed
  // change after a gap or waiting for a dependency, an upload that failed or found its slot
  // taken).
  bool needs_full_cycle = false;
  // A journal that lives for years (core/sync/lifecycle.h).
  std::string snapshot_loaded;   // the snapshot this cycle started the state from
  bool rebuilt_from_snapshot = false;  // ... replacing a state whose missing changes were pruned
  std::string snapshot_written;  // the snapshot this device uploaded
  uint64_t segments_written = 0;
  uint64_t pruned_files = 0;  // own change files, segments and snapshots removed
  // A new key epoch became current (core/sync/key_epochs.h): the cycle stopped after learning
  // it; the caller reloads the keyring and runs a cycle again, sealing under the new key.
  bool key_epoch_changed = false;

  bool ok() const { return problems.empty(); }
};

struct SyncContext {
  store::Store& store;
  provider::Provider& provider;
  const crypto::SecretKey& master;
  JournalId journal{};
  DeviceId device = 0;  // may change during Run(): see SyncReport::reidentified_from
  format::KeyId key_id = 0;
  HybridClock& clock;
  DiscoveryOptions discovery{};
  LifecycleOptions lifecycle{};
  // Key lifecycle (keys helper, decisions 0036-0037): this device's own keys (signs what it
  // seals) and every epoch key it holds (`master`/`key_id` are the current one). Null in
  // callers that predate them: changes are then sealed unsigned.
  const format::DeviceKeys* device_keys = nullptr;
  const crypto::Keyring* keyring = nullptr;
  // Where a key epoch learned from the cloud is stored (<home>/keyring; core/sync/key_epochs.h).
  // Empty: epochs are not learned (callers that predate them).
  std::string keyring_path;
};

// Meta key holding the journal's key file bytes (hex), kept to restore it in the cloud.
inline constexpr const char* kKeyFileMeta = "key_file";

class SyncEngine {
 public:
  explicit SyncEngine(SyncContext ctx) : ctx_(ctx) {}

  // A Status only for failures that stop the whole cycle (local store, unreachable provider);
  // everything a remote file did wrong lands in the report's problems.
  Result<SyncReport> Run();
  // The fast path after a local edit: seal and upload only; nothing downloaded or discovered.
  Result<SyncReport> Publish();
  // Merges change files that reached this device outside the cloud (the relay), by path,
  // verified exactly as downloaded ones: never seals, uploads or asks the provider anything.
  // What cannot be merged yet (a gap before it, a dependency not merged) is left to the next
  // Run, which downloads it; nothing is reported about the cloud's logs.
  Result<SyncReport> MergeRelayed(std::map<std::string, Bytes> changes);

 private:
  Status Seal(SyncReport& report);
  // Upload failures become problems (downloads never depend on them); a slot holding other
  // bytes marks this device's id as diverged instead.
  Status Upload(SyncReport& report);
  // One listing of the journal's folder a cycle, shared by the steps that read the layout.
  using Listing = std::vector<provider::ObjectInfo>;
  Result<std::map<DeviceId, RemoteLog>> Discover(const Listing& listing, SyncReport& report);
  Status RepairOwnLog(const RemoteLog& own, SyncReport& report);
  // Re-uploads the journal's key file from the local copy when the cloud lost it.
  Status CheckKeyFile(const Listing& listing, SyncReport& report);
  Status ReidentifyIfDiverged(std::map<DeviceId, RemoteLog>& logs, SyncReport& report);
  // A slot of this id held other bytes (diverged_at_): true when the cloud's bytes win and this
  // device must re-identify from there; false when its branch is the one readers merged
  // (it waits) or the fork was resolved from what readers merged (decision 0021).
  Result<bool> CloudWinsConflict(SyncReport& report);
  // Acts on what other devices' version vectors say this id's accepted branch is.
  Status ResolveFork(SyncReport& report, bool& reidentified);
  Status SwitchIdentity(uint64_t from, const std::string& why, SyncReport& report);
  Status ReplayIfPending(SyncReport& report, bool& applied);
  void Diverged(uint64_t seq, std::string why);
  Status LearnDevices(const Listing& listing, SyncReport& report);
  // Publishes this device's public keys once when its home predates them (keys helper).
  Status UpgradeOwnDeviceFile(bool listed, SyncReport& report);
  Status MergeRemote(std::map<DeviceId, RemoteLog>& logs, SyncReport& report);
  Status MergeChange(DeviceId device, uint64_t seq, const crypto::Sha256& hash,
                     const format::ChangeHeader& header, const std::vector<Op>& ops);
  std::string DeviceLabel(DeviceId d);

  // Snapshots, segments and pruning (core/sync/snapshots.cc).
  // Starts the state from a snapshot: on a new device, or when changes this device still needs
  // were pruned (then the state is rebuilt and this device's own later changes merged again).
  Status StartFromSnapshotIfNeeded(std::map<DeviceId, RemoteLog>& logs, SyncReport& report);
  // While rebuilding: this device's own changes after the snapshot, merged like another's.
  Status AddOwnLogWhileRebuilding(std::map<DeviceId, RemoteLog>& logs);
  Status FinishRebuildIfDone();
  Result<bool> TryLoadSnapshot(const SnapshotCandidate& candidate,
                               const std::map<DeviceId, uint64_t>& needed, bool rebuild,
                               SyncReport& report);
  // After a clean cycle: this device's segments, its snapshot when one is due, and pruning.
  Status MaintainOwnFiles(SyncReport& report);
  Status WriteOwnSegments(SyncReport& report);
  Status WriteSnapshotIfDue(SyncReport& report);
  Status PruneOwnFiles(SyncReport& report);
  Status RemoveLeftoverSnapshots(SyncReport& report);
  Status RecordAck(DeviceId device, const format::ChangeHeader& header,
                   const std::vector<Op>& ops);
  DiscoveryContext Discovery() const;

  SyncContext ctx_;
  std::map<DeviceId, store::DeviceRow> devices_;
  uint64_t diverged_at_ = 0;  // first own seq whose cloud slot is not this device's
  std::string diverged_why_;
  bool fork_evidence_changed_ = false;  // a version vector named this id further or otherwise
  // From this cycle's look at the cloud (core/sync/discovery.h): whether the listing names
  // everything (else only what the probes found), and the changes the probes downloaded.
  bool listing_complete_ = true;
  bool relayed_only_ = false;  // MergeRelayed: the logs are what the relay brought, no more
  std::map<std::string, Bytes> prefetched_;
  std::vector<SnapshotCandidate> snapshots_;  // from the listing
  bool rebuilding_own_ = false;  // own changes after a snapshot are being merged again
};

}  // namespace jsync::sync

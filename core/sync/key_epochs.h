// Key epochs (docs/decisions/0037-key-epochs.md, 0038, 0039): how a device learns a new epoch
// another device wrote (key file v2 in keys/), what it records of revoked devices, and how a
// device writes a new epoch itself (passwd, recovery-key --new, rotate-key, devices revoke).
//
// Local state (store meta, besides `key_id` and `key_file` of the current epoch):
//   key_epoch        the current epoch number (absent: 1)
//   revoked_devices  JSON [{"device", "through", "by", "at_ms", "epoch"}] (union of every
//                    verified key file's list)
//   key_files_seen   JSON {key id hex: epoch} of key files processed
//   key_files_refused JSON {key id hex: SHA-256 hex of the refused bytes (or why unreadable)}:
//                    refused once; judged again only when the bytes change
//   key_epoch_blocked JSON {"key", "epoch", "why": "revoked"|"no_wrap", "by", "at_ms"}: a newer
//                    epoch this device holds no wrap for (absent: none)
// The keys themselves are in <home>/keyring (crypto::SaveKeyringFile).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/crypto/keyring.h"
#include "core/format/key_file.h"
#include "core/provider/provider.h"
#include "core/store/store.h"
#include "core/sync/sync_engine.h"

namespace jsync::sync {

inline constexpr const char* kKeyEpochMeta = "key_epoch";
inline constexpr const char* kRevokedMeta = "revoked_devices";
inline constexpr const char* kKeyFilesSeenMeta = "key_files_seen";
inline constexpr const char* kEpochBlockedMeta = "key_epoch_blocked";

// keys/<16 hex>.jkey: the key id, or nullopt.

Result<std::map<DeviceId, format::RevokedDevice>> LoadRevoked(store::Store& store);
Status SaveRevoked(store::Store& store, const std::map<DeviceId, format::RevokedDevice>& revoked);
Result<uint32_t> CurrentEpoch(store::Store& store);

struct EpochBlock {
  format::KeyId key = 0;
  uint32_t epoch = 0;
  std::string why;  // "revoked" or "no_wrap"
  DeviceId by = 0;
  uint64_t at_ms = 0;
};
Result<std::optional<EpochBlock>> LoadEpochBlock(store::Store& store);

// "YYYY-MM-DD" (UTC) of a wall-clock time, for messages.
std::string ShowDate(uint64_t ms);
// The one problem a revoked device's later change gets.
std::string RevokedMessage(const format::RevokedDevice& rv, const std::string& device_label,
                           const std::string& by_label);

// What a sync cycle looks at: the key files in the listing (in probe mode the cycle lists
// keys/ only when something suggests a new epoch: a device file revision not applied yet, a
// probed change under a key this device lacks, a key file waiting for its writer's device
// file). Verified files' epochs are learned; returns true when the current epoch changed (the
// keyring file and meta are updated: the caller reloads them and runs the cycle again).
struct EpochScanInput {
  const std::vector<provider::ObjectInfo>& listing;
  bool listing_complete = true;
  const std::map<std::string, Bytes>& prefetched;
  const std::map<DeviceId, store::DeviceRow>& devices;
  // Second pass of a cycle (after device files were read): only files that waited for their
  // writer's device file, from the first pass's look at keys/.
  bool waiting_only = false;
};
struct EpochScanState {
  std::vector<provider::ObjectInfo> key_files;  // what the first pass saw under keys/
  bool looked = false;
  size_t waiting = 0;  // files whose writer's device file is not read yet
};
Result<bool> LearnKeyEpochs(const SyncContext& ctx, const EpochScanInput& in, EpochScanState& state,
                            SyncReport& report);
// Whether a new key file present in the listing might be newer than the current one (the
// cycle must not restore its own current key file over it).
Result<bool> NewerKeyFileListed(store::Store& store, const JournalId& journal,
                                const std::vector<provider::ObjectInfo>& listing);

// A device that just joined: the epoch it joined with is seen, and its revocations hold.
Status RecordJoinedEpoch(store::Store& store, ByteSpan file, uint32_t epoch, format::KeyId key_id);

// --- Writing a new epoch (core/journal/journal_keys.cc drives these).
struct EpochWriteContext {
  store::Store& store;
  provider::Provider& provider;
  JournalId journal{};
  DeviceId device = 0;
  const format::DeviceKeys& device_keys;
  const crypto::Keyring& keyring;
  std::string keyring_path;
  uint64_t now_ms = 0;
};
struct EpochChange {
  // Replaces the passphrase recipient (passwd, recovery join); else it is copied from the
  // current key file (a device that rotates need not know the passphrase).
  std::optional<format::KeyRecipient> passphrase;
  // Replaces the recovery recipient (recovery-key --new, init).
  std::optional<crypto::PublicKey> recovery;
  // Revokes this device (devices revoke): its changes after `through_seq` are refused.
  std::optional<format::RevokedDevice> revoke;
};
struct EpochWritten {
  format::KeyId key_id = 0;
  uint32_t epoch = 0;
  crypto::Keyring keyring;           // with the new epoch current
  std::vector<std::string> removed;  // older key files removed from the cloud
  std::vector<DeviceId> wrapped_devices;
  std::vector<DeviceId> unwrapped_devices;  // known devices without a public key: need unlock
};
Result<EpochWritten> WriteNewEpoch(const EpochWriteContext& ctx, const EpochChange& change);

// Opens the current epoch with the passphrase (jsync unlock) or the recovery key: the newest
// valid key file in the cloud, every key it holds added to the keyring (made current).
struct OpenedEpoch {
  format::KeyId key_id = 0;
  uint32_t epoch = 0;
  crypto::Keyring keyring;
  Bytes file;
};
// `candidates`: key files as listed. Tries the highest (epoch, key id) first; with `passphrase`
// the passphrase recipient, with `recovery` the recovery recipient.
Result<OpenedEpoch> OpenNewestEpoch(provider::Provider& provider, const JournalId& journal,
                                    const std::string* passphrase,
                                    const format::RecoverySecret* recovery);

}  // namespace jsync::sync

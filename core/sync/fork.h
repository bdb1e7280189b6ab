// Which branch of a forked device id readers merged (docs/decisions/0021-fork-head-tags.md).
//
// Two homes writing as one device id (a copied home) fork its log. Version vectors carry a tag
// of the change each sender merged per device, so a home learns from other devices' changes
// which of its own changes readers hold. A home whose branch readers did not merge finds the
// seq where it left the accepted branch by walking that branch down the cloud, clears its own
// superseded files from the cloud and re-identifies from there; a home whose branch readers
// merged keeps the id and puts its files back once the slots are free.
#pragma once

#include <optional>
#include <string>

#include "core/crypto/secret.h"
#include "core/format/change_file.h"
#include "core/provider/provider.h"
#include "core/store/store.h"

namespace jsync::sync {

// Meta: the furthest change of this device's id another device's version vector named,
// JSON {"device": hex, "seq": n, "head": hex tag}. Dropped when the device re-identifies.
inline constexpr const char* kOwnHeadEvidenceMeta = "own_head_evidence";
// Meta: own seqs from this one on are neither uploaded nor repaired: readers hold another
// branch there. Dropped when the device re-identifies.
inline constexpr const char* kForkHoldMeta = "fork_hold";

struct HeadEvidence {
  DeviceId device = 0;  // the id it is about
  uint64_t seq = 0;
  format::HeadTag head{};
};

Result<std::optional<HeadEvidence>> LoadHeadEvidence(store::Store& store, DeviceId device);
// Keeps the evidence with the highest seq; `changed` tells whether the stored one moved.
Status RecordHeadEvidence(store::Store& store, const HeadEvidence& evidence, bool* changed);

// 0 when no hold is set.
Result<uint64_t> ForkHold(store::Store& store);

enum class OwnBranch { kUnknown, kAccepted, kRefuted };
// kAccepted: readers merged this device's own sealed change at evidence.seq (and so all before
// it); kRefuted: they merged another change at that seq, or one this device never sealed.
Result<OwnBranch> JudgeOwnBranch(store::Store& store, const HeadEvidence& evidence);

struct ForkLocation {
  // First own seq not on the accepted branch (own changes below it are accepted), or 0.
  uint64_t diverged_at = 0;
  // When the walk could not go on: the accepted branch's change at this seq is not in the
  // cloud (its slot is empty or holds other bytes); own changes from here on are not accepted.
  uint64_t blocked_at = 0;
};

struct ForkContext {
  store::Store& store;
  provider::Provider& provider;
  const crypto::SecretKey& master;
  JournalId journal{};
  DeviceId device = 0;
  format::KeyId key_id = 0;
};

// Follows the accepted branch from the evidence down through the cloud (each file
// authenticated, its hash matching the tag or prev hash that led to it) until it meets an own
// sealed change: the branch left it just above.
Result<ForkLocation> LocateFork(const ForkContext& ctx, const HeadEvidence& evidence);

// The authenticated header of this id's change at `seq` in the cloud, or nullopt when the
// slot is empty or its bytes are not an authentic change of that id and seq.
Result<std::optional<format::ChangeHeader>> ReadOwnSlot(const ForkContext& ctx, uint64_t seq,
                                                        crypto::Sha256* hash = nullptr);

// Removes this device's own files at seqs >= `from` from the cloud: only slots whose bytes are
// exactly its own sealed change (another home's file is left alone). Returns how many.
Result<uint64_t> RemoveOwnFilesFrom(const ForkContext& ctx, uint64_t from);

}  // namespace jsync::sync

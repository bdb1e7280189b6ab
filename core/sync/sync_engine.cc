#include "core/sync/sync_engine.h"

#include <algorithm>
#include <set>

#include "core/format/device_file.h"
#include "core/format/key_file.h"
#include "core/format/segment_file.h"
#include "core/sync/fork.h"
#include "core/sync/orphan_cleanup.h"
#include "core/sync/prefetch.h"
#include "core/sync/reidentify.h"
#include "core/sync/remote_layout.h"
#include "core/sync/key_epochs.h"
#include "core/sync/key_sync.h"
#include "core/sync/verify.h"
#include "core/util/crash_point.h"
#include "core/util/escape.h"

namespace jsync::sync {
namespace {

std::string SeqLabel(uint64_t seq) { return "change " + std::to_string(seq); }

// What MergeRemote will ask for, in its order: each device's files after its cursor, up to
// the first gap, one per device per sweep. Only the fetching follows this; the merge does not.
template <typename Logs>
std::vector<std::string> PlanFetches(const Logs& logs,
                                     const std::map<DeviceId, store::Cursor>& cursors,
                                     const JournalId& journal) {
  std::vector<std::vector<std::string>> per_device;
  for (const auto& [device, log] : logs) {
    auto c = cursors.find(device);
    uint64_t seq = c == cursors.end() ? 1 : c->second.seq + 1;
    std::vector<std::string> paths;
    while (log.Has(seq)) {
      if (auto seg = log.SegmentFor(seq)) {
        paths.push_back(SegmentPath(journal, device, seg->first, seg->last));
        seq = seg->last + 1;
      } else {
        paths.push_back(ChangePath(journal, device, seq++));
      }
    }
    per_device.push_back(std::move(paths));
  }
  return RoundRobin(per_device);
}

// Splits a downloaded segment into `into` (its changes from `from` on), after checking its
// framing names what its object name says; the changes are verified one by one later.
Status UnpackSegment(ByteSpan bytes, DeviceId device, const SeqRange& range, uint64_t from,
                     std::map<uint64_t, Bytes>& into) {
  JSYNC_ASSIGN_OR_RETURN(format::ParsedSegment seg, format::ParseSegment(bytes));
  if (seg.header.device != device || seg.header.first != range.first ||
      seg.header.last != range.last) {
    return Status::Corrupt("it holds other changes than its name says");
  }
  for (uint64_t seq = std::max(from, range.first); seq <= range.last; ++seq) {
    ByteSpan change = seg.changes[seq - range.first];
    into[seq] = Bytes(change.begin(), change.end());
  }
  return Status::Ok();
}

}  // namespace

std::string SyncEngine::DeviceLabel(DeviceId d) {
  auto it = devices_.find(d);
  std::string hex = DeviceIdHex(d);
  return it == devices_.end() ? "device " + hex : "device " + hex + " (" + it->second.name + ")";
}

Result<SyncReport> SyncEngine::Run() {
  SyncReport report;
  JSYNC_ASSIGN_OR_RETURN(devices_, ctx_.store.Devices());
  JSYNC_ASSIGN_OR_RETURN(auto floor, ReplayFloor(ctx_.store));
  // While a re-identified device rebuilds, its own ops wait: sealing them now would give
  // them a version vector below what they follow.
  if (floor.empty()) JSYNC_RETURN_IF_ERROR(Seal(report));
  bool forked = false;
  JSYNC_RETURN_IF_ERROR(ResolveFork(report, forked));
  JSYNC_RETURN_IF_ERROR(Upload(report));
  // Changes, devices and keys from one look at the cloud: the feed, probes or a listing.
  // A slot of this id taken by someone else, or a fork just resolved: what follows (judging
  // the fork, re-identifying, rebuilding) reads this id's own log, which only a full listing
  // shows.
  DiscoveryOptions discovery = ctx_.discovery;
  discovery.full_listing |= diverged_at_ != 0 || forked;
  JSYNC_ASSIGN_OR_RETURN(RemoteView view, LookAtRemote(Discovery(), discovery, report.notices));
  listing_complete_ = view.complete;
  prefetched_ = std::move(view.prefetched);
  report.discovery = view.method;
  const std::optional<uint64_t> full_listing_at = view.full_listing_at;
  Listing listing = std::move(view.listing);
  JSYNC_ASSIGN_OR_RETURN(auto logs, Discover(listing, report));
  // Key epochs first (core/sync/key_epochs.h): device files and changes may be sealed under a
  // new one; a key file whose writer's device file is new here is read after LearnDevices.
  EpochScanState epochs;
  JSYNC_ASSIGN_OR_RETURN(
      bool new_epoch,
      LearnKeyEpochs(ctx_, {listing, listing_complete_, prefetched_, devices_}, epochs, report));
  if (!new_epoch) {
    JSYNC_RETURN_IF_ERROR(LearnDevices(listing, report));
    JSYNC_ASSIGN_OR_RETURN(
        new_epoch, LearnKeyEpochs(ctx_, {listing, listing_complete_, prefetched_, devices_, true},
                                  epochs, report));
  }
  if (new_epoch) {
    // Nothing more under the old key: the caller reloads the keyring and syncs again.
    report.key_epoch_changed = true;
    report.device = ctx_.device;
    return report;
  }
  JSYNC_RETURN_IF_ERROR(CheckKeyFile(listing, report));
  JSYNC_RETURN_IF_ERROR(ReidentifyIfDiverged(logs, report));
  JSYNC_RETURN_IF_ERROR(StartFromSnapshotIfNeeded(logs, report));
  JSYNC_RETURN_IF_ERROR(AddOwnLogWhileRebuilding(logs));
  JSYNC_RETURN_IF_ERROR(MergeRemote(logs, report));
  if (fork_evidence_changed_ && report.reidentified_from == 0) {
    // Merged changes named this id's accepted branch anew: act on it in this same sync.
    JSYNC_RETURN_IF_ERROR(ResolveFork(report, forked));
    if (forked) {
      JSYNC_ASSIGN_OR_RETURN(listing, ctx_.provider.List(ChangesPrefix(ctx_.journal)));
      listing_complete_ = true;
      JSYNC_ASSIGN_OR_RETURN(logs, Discover(listing, report));
      JSYNC_RETURN_IF_ERROR(MergeRemote(logs, report));
    }
  }
  bool replayed = false;
  JSYNC_RETURN_IF_ERROR(ReplayIfPending(report, replayed));
  JSYNC_RETURN_IF_ERROR(FinishRebuildIfDone());
  if (replayed || report.reidentified_from != 0) {
    // Send the new id's first changes in this same sync.
    JSYNC_ASSIGN_OR_RETURN(floor, ReplayFloor(ctx_.store));
    if (floor.empty()) JSYNC_RETURN_IF_ERROR(Seal(report));
    JSYNC_RETURN_IF_ERROR(Upload(report));
  }
  MaybeRemoveOwnOrphanUploads(ctx_, report);
  JSYNC_RETURN_IF_ERROR(MaintainOwnFiles(report));
  if (full_listing_at) {
    JSYNC_RETURN_IF_ERROR(ctx_.store.SetMeta(kLastFullListingMeta, std::to_string(*full_listing_at)));
  }
  report.device = ctx_.device;
  return report;
}

DiscoveryContext SyncEngine::Discovery() const {
  return {ctx_.store, ctx_.provider, ctx_.journal, ctx_.device, ctx_.clock.WallNow()};
}

void SyncEngine::Diverged(uint64_t seq, std::string why) {
  if (diverged_at_ != 0 && diverged_at_ <= seq) return;
  diverged_at_ = seq;
  diverged_why_ = std::move(why);
}

Result<SyncReport> SyncEngine::Publish() {
  SyncReport report;
  JSYNC_ASSIGN_OR_RETURN(devices_, ctx_.store.Devices());
  JSYNC_ASSIGN_OR_RETURN(auto floor, ReplayFloor(ctx_.store));
  if (floor.empty()) JSYNC_RETURN_IF_ERROR(Seal(report));
  JSYNC_RETURN_IF_ERROR(Upload(report));
  report.needs_full_cycle = !report.problems.empty() || diverged_at_ != 0 || !floor.empty();
  report.device = ctx_.device;
  return report;
}

Result<SyncReport> SyncEngine::MergeRelayed(std::map<std::string, Bytes> changes) {
  SyncReport report;
  JSYNC_ASSIGN_OR_RETURN(devices_, ctx_.store.Devices());
  std::map<DeviceId, RemoteLog> logs;
  for (auto it = changes.begin(); it != changes.end();) {
    auto name = ParseChangePath(ctx_.journal, it->first);
    if (!name || name->device == ctx_.device) {
      it = changes.erase(it);
      continue;
    }
    logs[name->device].seqs.push_back(name->seq);
    ++it;
  }
  for (auto& [device, log] : logs) std::sort(log.seqs.begin(), log.seqs.end());
  std::map<std::string, uint64_t> sizes;
  for (const auto& [path, bytes] : changes) sizes[path] = bytes.size();
  listing_complete_ = false;
  relayed_only_ = true;
  prefetched_ = std::move(changes);
  report.discovery = "relay";
  JSYNC_RETURN_IF_ERROR(MergeRemote(logs, report));
  JSYNC_ASSIGN_OR_RETURN(auto cursors, ctx_.store.Cursors());
  for (const auto& [device, log] : logs) {
    if (log.seqs.back() > cursors[device].seq) report.needs_full_cycle = true;
  }
  // The sender relays only what it uploaded, so what merged is in the cloud: the feed's mirror
  // learns it now, or the next cycle would take the merged change for one the provider lost
  // when the feed reports it later (Drive's and Graph's feeds lag by seconds).
  for (const auto& [path, size] : sizes) {
    auto name = ParseChangePath(ctx_.journal, path);
    if (name && name->seq <= cursors[name->device].seq) {
      JSYNC_RETURN_IF_ERROR(NoteUploaded(Discovery(), path, size));
    }
  }
  report.needs_full_cycle |= !report.problems.empty() || fork_evidence_changed_;
  report.device = ctx_.device;
  return report;
}

Status SyncEngine::ReidentifyIfDiverged(std::map<DeviceId, RemoteLog>& logs, SyncReport& report) {
  JSYNC_ASSIGN_OR_RETURN(store::Cursor sealed, ctx_.store.LastSealed());
  auto own = logs.find(ctx_.device);
  // Probes look at other devices' logs only; own files are checked on full listings.
  if (!listing_complete_) own = logs.end();
  if (own != logs.end() && !own->second.seqs.empty() && own->second.seqs.back() > sealed.seq) {
    // Only this device writes its log, and it stores a change before uploading it.
    Diverged(sealed.seq + 1, "the cloud holds change " + std::to_string(sealed.seq + 1) +
                                 " of this device's id, which this device never sealed");
  }
  if (diverged_at_ == 0 && listing_complete_) {
    JSYNC_RETURN_IF_ERROR(RepairOwnLog(own == logs.end() ? RemoteLog{} : own->second, report));
  }
  const DeviceId old = ctx_.device;
  if (diverged_at_ != 0) {
    const uint64_t seq = diverged_at_;
    JSYNC_ASSIGN_OR_RETURN(bool cloud_wins, CloudWinsConflict(report));
    if (cloud_wins) return SwitchIdentity(seq, diverged_why_, report);
  }
  // Still this id (its log is this device's own), or the fork was resolved by re-identifying
  // and the old id's log is now another device's: the accepted branch.
  if (ctx_.device == old) logs.erase(old);
  return Status::Ok();
}

Result<bool> SyncEngine::CloudWinsConflict(SyncReport& report) {
  const uint64_t seq = diverged_at_;
  diverged_at_ = 0;
  const ForkContext fc{ctx_.store,   ctx_.provider, ctx_.master,
                       ctx_.journal, ctx_.device,   ctx_.key_id};
  JSYNC_ASSIGN_OR_RETURN(auto evidence, LoadHeadEvidence(ctx_.store, ctx_.device));
  OwnBranch branch = OwnBranch::kUnknown;
  if (evidence) {
    JSYNC_ASSIGN_OR_RETURN(branch, JudgeOwnBranch(ctx_.store, *evidence));
  }
  const std::string waits = "change " + std::to_string(seq) + " of this device's id " +
                            DeviceIdHex(ctx_.device) +
                            " is taken in the cloud by another home's change, but other devices "
                            "merged this device's branch: it is uploaded once the other home "
                            "(a copy of this home) has re-identified and cleared the slot";
  if (branch == OwnBranch::kAccepted && evidence->seq >= seq) {
    report.notices.push_back(waits);
    return false;
  }
  if (branch != OwnBranch::kRefuted) {
    crypto::Sha256 hash{};
    JSYNC_ASSIGN_OR_RETURN(auto other, ReadOwnSlot(fc, seq, &hash));
    JSYNC_ASSIGN_OR_RETURN(auto below, ctx_.store.GetSealed(seq - 1));
    const crypto::Sha256 own_prev = below ? below->hash : crypto::Sha256{};
    // Not a race at `seq` itself: the other home's branch left this one further down.
    if (!other || other->prev_hash == own_prev) return true;
    if (branch == OwnBranch::kAccepted && evidence->seq + 1 >= seq) {
      report.notices.push_back(waits);
      return false;
    }
    // The other home's branch goes on above the fork while this one does not: readers can
    // only follow that one.
    JSYNC_RETURN_IF_ERROR(
        RecordHeadEvidence(ctx_.store, {ctx_.device, seq, format::HeadTagOf(hash)}, nullptr));
  }
  bool reidentified = false;
  JSYNC_RETURN_IF_ERROR(ResolveFork(report, reidentified));
  return false;
}

Status SyncEngine::ResolveFork(SyncReport& report, bool& reidentified) {
  reidentified = false;
  JSYNC_ASSIGN_OR_RETURN(auto evidence, LoadHeadEvidence(ctx_.store, ctx_.device));
  if (!evidence) return Status::Ok();
  JSYNC_ASSIGN_OR_RETURN(OwnBranch branch, JudgeOwnBranch(ctx_.store, *evidence));
  if (branch != OwnBranch::kRefuted) return Status::Ok();
  const ForkContext fc{ctx_.store,   ctx_.provider, ctx_.master,
                       ctx_.journal, ctx_.device,   ctx_.key_id};
  JSYNC_ASSIGN_OR_RETURN(ForkLocation at, LocateFork(fc, *evidence));
  const uint64_t from = at.diverged_at != 0 ? at.diverged_at : at.blocked_at;
  // The hold is durable before any own file leaves the cloud, so neither a crash nor a later
  // repair puts a superseded file back.
  JSYNC_ASSIGN_OR_RETURN(uint64_t hold, ForkHold(ctx_.store));
  if (hold == 0 || hold > from) {
    auto txn = ctx_.store.BeginDurable();
    JSYNC_RETURN_IF_ERROR(txn.began());
    JSYNC_RETURN_IF_ERROR(ctx_.store.SetMeta(kForkHoldMeta, std::to_string(from)));
    JSYNC_RETURN_IF_ERROR(txn.Commit());
  }
  CrashPoint("sync.fork.after_hold");
  auto removed = RemoveOwnFilesFrom(fc, from);
  if (!removed.ok()) {
    report.problems.push_back({removed.status().code(),
                               "clearing this device's superseded change files from the cloud "
                               "failed (retried next sync): " +
                                   removed.status().message()});
    return Status::Ok();
  }
  CrashPoint("sync.fork.after_remove");
  const std::string branch_note = "other devices merged another home's " + SeqLabel(evidence->seq) +
                                  " of this device's id " + DeviceIdHex(ctx_.device) +
                                  " (its home folder was copied)";
  if (at.diverged_at == 0) {
    report.notices.push_back(
        branch_note + ". This device's changes from " + std::to_string(from) + " on are held back" +
        (*removed > 0 ? " (" + std::to_string(*removed) + " removed from the cloud)" : "") +
        " until that home has put its " + SeqLabel(at.blocked_at) + " back into the cloud");
    return Status::Ok();
  }
  reidentified = true;
  return SwitchIdentity(
      from, branch_note + " and this device's branch left it at " + SeqLabel(from), report);
}

Status SyncEngine::SwitchIdentity(uint64_t from, const std::string& why, SyncReport& report) {
  const DeviceId old = ctx_.device;
  ReidentifyContext rc{ctx_.store,
                       ctx_.provider,
                       ctx_.master,
                       ctx_.journal,
                       old,
                       ctx_.key_id,
                       HlcMillis(ctx_.clock.Now()),
                       ctx_.device_keys};
  JSYNC_ASSIGN_OR_RETURN(Reidentified done, Reidentify(rc, from));
  ctx_.device = done.device;
  report.reidentified_from = old;
  JSYNC_ASSIGN_OR_RETURN(devices_, ctx_.store.Devices());
  report.notices.push_back(
      "this device's id " + DeviceIdHex(old) + " cannot go on in the cloud (" + why +
      "): its home folder was probably copied or restored from a backup, or the slot was "
      "planted. It now writes as " +
      "device " + DeviceIdHex(done.device) + "; " +
      (done.rebuilding ? std::to_string(done.replay_ops) +
                             " of its ops the cloud did not have are re-sent under the new id "
                             "after its entries are rebuilt from the cloud"
                       : std::string("nothing of it was lost")));
  return Status::Ok();
}

Status SyncEngine::ReplayIfPending(SyncReport& report, bool& applied) {
  std::string unmet;
  JSYNC_ASSIGN_OR_RETURN(applied, ApplyReplayIfReady(ctx_.store, unmet));
  if (!unmet.empty()) {
    report.notices.push_back("this device's re-keyed changes wait until the rebuild has merged " +
                             unmet + " again");
  }
  return Status::Ok();
}

Status SyncEngine::CheckKeyFile(const Listing& listing, SyncReport& report) {
  if (!listing_complete_) return Status::Ok();  // probes do not look at keys/
  const std::string path = KeyPath(ctx_.journal, ctx_.key_id);
  const bool present = std::any_of(listing.begin(), listing.end(),
                                   [&](const provider::ObjectInfo& o) { return o.path == path; });
  JSYNC_ASSIGN_OR_RETURN(auto kept, ctx_.store.GetMeta(kKeyFileMeta));
  if (present) {
    if (kept) return Status::Ok();
    // Devices initialised before key files were kept locally fetch theirs once.
    auto bytes = ctx_.provider.Get(path, format::kMaxKeyFileSize);
    if (!bytes.ok()) return bytes.status().Is(Code::kNotFound) ? Status::Ok() : bytes.status();
    auto info = format::ReadKeyFileInfo(*bytes);
    if (!info.ok() || info->journal != ctx_.journal || info->key_id != ctx_.key_id) {
      report.problems.push_back({Code::kCorrupt, "the journal's key file " + path +
                                                     " is damaged or misplaced; new devices "
                                                     "cannot join with it"});
      return Status::Ok();
    }
    return ctx_.store.SetMeta(kKeyFileMeta, ToHex(*bytes));
  }
  if (!kept) {
    report.problems.push_back(
        {Code::kGap, "the journal's key file " + path +
                         " is missing from the cloud and this device holds no copy of it; new "
                         "devices cannot join until a device that has one syncs"});
    return Status::Ok();
  }
  // A newer epoch's file in its place means the writer removed this one on purpose.
  JSYNC_ASSIGN_OR_RETURN(bool newer, NewerKeyFileListed(ctx_.store, ctx_.journal, listing));
  if (newer) return Status::Ok();
  JSYNC_ASSIGN_OR_RETURN(Bytes bytes, FromHex(*kept));
  Status put = ctx_.provider.PutIfAbsent(path, bytes);
  if (!put.ok()) {
    report.problems.push_back(
        {put.code(), "the journal's key file " + path +
                         " is missing from the cloud and could not be restored: " + put.message()});
    return Status::Ok();
  }
  report.notices.push_back("re-uploaded the journal's key file " + path +
                           ", which was missing from the cloud (new devices need it to join)");
  return Status::Ok();
}

Status SyncEngine::Seal(SyncReport& report) {
  for (;;) {
    auto txn = ctx_.store.BeginDurable();
    JSYNC_RETURN_IF_ERROR(txn.began());
    JSYNC_ASSIGN_OR_RETURN(std::vector<store::OutboxRow> rows,
                           ctx_.store.ReadOutbox(kMaxOpsPerChange));
    if (rows.empty()) return Status::Ok();
    JSYNC_ASSIGN_OR_RETURN(store::Cursor last, ctx_.store.LastSealed());
    JSYNC_ASSIGN_OR_RETURN(auto cursors, ctx_.store.Cursors());
    format::ChangeHeader header;
    header.journal = ctx_.journal;
    header.device = ctx_.device;
    header.seq = last.seq + 1;
    header.key_id = ctx_.key_id;
    header.prev_hash = last.hash;
    for (const auto& [device, cursor] : cursors) {
      if (device != ctx_.device && cursor.seq > 0) {
        header.vv[device] = {cursor.seq, format::HeadTagOf(cursor.hash)};
      }
    }
    std::vector<Op> ops;
    ops.reserve(rows.size());
    for (auto& row : rows) ops.push_back(std::move(row.op));
    JSYNC_ASSIGN_OR_RETURN(
        Bytes bytes, format::SealChange(ctx_.master, header, ops,
                                        ctx_.device_keys ? &ctx_.device_keys->sign.priv : nullptr));
    JSYNC_RETURN_IF_ERROR(ctx_.store.AddSealed(header.seq, bytes, crypto::HashSha256(bytes)));
    JSYNC_RETURN_IF_ERROR(ctx_.store.DeleteOutboxThrough(rows.back().n));
    CrashPoint("sync.seal.before_commit");
    JSYNC_RETURN_IF_ERROR(txn.Commit());
    CrashPoint("sync.seal.after_commit");
    ++report.sealed_changes;
    report.sealed_ops += ops.size();
  }
}

Status SyncEngine::Upload(SyncReport& report) {
  JSYNC_ASSIGN_OR_RETURN(std::vector<store::SealedRow> pending, ctx_.store.SealedNotUploaded());
  JSYNC_ASSIGN_OR_RETURN(uint64_t hold, ForkHold(ctx_.store));
  for (const auto& row : pending) {
    if (hold != 0 && row.seq >= hold) break;  // readers hold another home's branch there
    const std::string path = ChangePath(ctx_.journal, ctx_.device, row.seq);
    Status put = ctx_.provider.PutIfAbsent(path, row.bytes);
    if (put.Is(Code::kQuotaExceeded)) {
      // Local changes stay sealed and queued; downloads go on; the next sync retries.
      report.problems.push_back(
          {put.code(), "uploads paused, the cloud is full: " + put.message()});
      return Status::Ok();
    }
    if (put.Is(Code::kExists) || put.Is(Code::kCorrupt)) {
      // Identical bytes would have been success: another home writes under this id, or
      // something that is no file of ours (a link, a FIFO, a folder) took the slot. Either
      // way the slot is lost to this id; a new id keeps the device syncing.
      Diverged(row.seq, put.Is(Code::kExists)
                            ? path + " already holds other bytes"
                            : path + " is taken by something that is not a change file (" +
                                  put.message() + ")");
      return Status::Ok();
    }
    if (!put.ok()) {
      // Kept sealed and retried next time; what others wrote is still worth downloading.
      report.problems.push_back(
          {put.code(), "uploading " + path + " failed: " + put.message() +
                           "; this device's changes stay queued for the next sync"});
      return Status::Ok();
    }
    CrashPoint("sync.upload.after_put");
    JSYNC_RETURN_IF_ERROR(ctx_.store.MarkUploaded(row.seq));
    JSYNC_RETURN_IF_ERROR(NoteUploaded(Discovery(), path, row.bytes.size()));
    ++report.uploaded_changes;
    report.uploaded_bytes += row.bytes.size();
  }
  return Status::Ok();
}

Result<std::map<DeviceId, RemoteLog>> SyncEngine::Discover(const Listing& listing,
                                                          SyncReport& report) {
  const std::string prefix = ChangesPrefix(ctx_.journal);
  const std::string snapshots = SnapshotsPrefix(ctx_.journal);
  std::map<DeviceId, RemoteLog> logs;
  snapshots_.clear();
  for (const auto& obj : listing) {
    if (obj.path.starts_with(snapshots)) {
      if (auto snap = ParseSnapshotPath(ctx_.journal, obj.path)) {
        snapshots_.push_back({obj.path, snap->device, snap->hlc});
      } else if (obj.kind != provider::ObjectKind::kDirectory) {
        report.notices.push_back("ignored unexpected file " + EscapeForDisplay(obj.path));
      }
      continue;
    }
    if (!obj.path.starts_with(prefix)) continue;
    if (auto seg = ParseSegmentPath(ctx_.journal, obj.path)) {
      logs[seg->device].segments.push_back({seg->first, seg->last});
      continue;
    }
    auto name = ParseChangePath(ctx_.journal, obj.path);
    if (!name) {
      // An empty directory off the layout is harmless; anything else is worth a word.
      if (obj.kind != provider::ObjectKind::kDirectory)
        report.notices.push_back("ignored unexpected file " + EscapeForDisplay(obj.path));
      continue;
    }
    logs[name->device].seqs.push_back(name->seq);
  }
  for (auto& [device, log] : logs) {
    std::sort(log.seqs.begin(), log.seqs.end());
    std::sort(log.segments.begin(), log.segments.end());
  }
  return logs;
}

Status SyncEngine::RepairOwnLog(const RemoteLog& own, SyncReport& report) {
  JSYNC_ASSIGN_OR_RETURN(uint64_t uploaded, ctx_.store.UploadedThrough());
  JSYNC_ASSIGN_OR_RETURN(uint64_t hold, ForkHold(ctx_.store));
  if (hold != 0) uploaded = std::min(uploaded, hold - 1);  // superseded files stay out
  // Pruned files are gone on purpose (a snapshot covers them).
  JSYNC_ASSIGN_OR_RETURN(auto pruned_text, ctx_.store.GetMeta(kPrunedThroughMeta));
  const uint64_t pruned = pruned_text ? std::strtoull(pruned_text->c_str(), nullptr, 10) : 0;
  if (pruned >= uploaded) return Status::Ok();
  // The usual case, checked without walking the history: every uploaded seq is listed.
  const auto listed_begin = std::upper_bound(own.seqs.begin(), own.seqs.end(), pruned);
  const auto listed_end = std::upper_bound(own.seqs.begin(), own.seqs.end(), uploaded);
  if (static_cast<uint64_t>(std::distance(listed_begin, listed_end)) == uploaded - pruned &&
      (uploaded == 0 || (listed_begin != own.seqs.end() && *listed_begin == pruned + 1))) {
    return Status::Ok();
  }
  std::set<uint64_t> present(listed_begin, listed_end);
  for (uint64_t seq = pruned + 1; seq <= uploaded; ++seq) {
    if (present.contains(seq)) continue;
    JSYNC_ASSIGN_OR_RETURN(auto row, ctx_.store.GetSealed(seq));
    if (!row) return Status::Fatal("local copy of own change " + std::to_string(seq) + " is gone");
    const std::string path = ChangePath(ctx_.journal, ctx_.device, seq);
    Status put = ctx_.provider.PutIfAbsent(path, row->bytes);
    if (put.Is(Code::kExists)) {
      Diverged(seq, path + " was missing and now holds other bytes");
      return Status::Ok();
    }
    if (!put.ok()) {
      report.problems.push_back({put.code(), "re-uploading " + path + " failed: " + put.message()});
      break;
    }
    JSYNC_RETURN_IF_ERROR(NoteUploaded(Discovery(), path, row->bytes.size()));
    ++report.repaired_changes;
  }
  if (report.repaired_changes > 0) {
    report.notices.push_back("re-uploaded " + std::to_string(report.repaired_changes) +
                             " of this device's change files that were missing from the cloud");
  }
  return Status::Ok();
}

Status SyncEngine::LearnDevices(const Listing& listing, SyncReport& report) {
  // Each device's device files, oldest revision first (decision 0036): the first version 2
  // file pins the device's public keys and later ones must present the same; the newest valid
  // one is the device's description.
  const std::string prefix = DevicesPrefix(ctx_.journal);
  std::map<DeviceId, std::vector<std::pair<uint32_t, std::string>>> files;
  for (const auto& obj : listing) {
    if (!obj.path.starts_with(prefix)) continue;
    auto name = ParseDeviceFilePath(ctx_.journal, obj.path);
    if (!name) {
      if (obj.kind != provider::ObjectKind::kDirectory)
        report.notices.push_back("ignored unexpected file " + EscapeForDisplay(obj.path));
      continue;
    }
    files[name->device].emplace_back(name->revision, obj.path);
  }
  for (auto& [device, revisions] : files) {
    std::sort(revisions.begin(), revisions.end());
    JSYNC_ASSIGN_OR_RETURN(auto pin, LoadPin(ctx_.store, device));
    const uint32_t applied = pin ? pin->revision : devices_.contains(device) ? 1 : 0;
    for (const auto& [revision, path] : revisions) {
      if (revision <= applied) continue;
      auto bytes = ctx_.provider.Get(path, format::kMaxDeviceFileSize);
      if (!bytes.ok() && bytes.status().Is(Code::kNotFound)) continue;
      if (!bytes.ok() && !bytes.status().Is(Code::kCorrupt)) return bytes.status();
      // A refused download (over the limit, not a file) is reported like a damaged file.
      Result<format::DeviceInfo> info = bytes.status();
      if (bytes.ok()) {
        auto kid = format::DeviceFileKeyId(*bytes);
        // Not a device file at all: the current key's attempt says why (bad magic, size).
        const crypto::SecretKey* key = !kid || *kid == ctx_.key_id ? &ctx_.master : nullptr;
        if (!key && ctx_.keyring) key = ctx_.keyring->Find(*kid);
        if (!key) {
          // Sealed under a key epoch this device has not learned (yet): key_epochs.cc says
          // why when it cannot, and the file is read once it has the key.
          report.notices.push_back("device file " + EscapeForDisplay(path) +
                                   " is sealed under key " + format::KeyIdHex(*kid) +
                                   ", which this device does not hold yet");
          break;
        }
        info = format::OpenDeviceFile(*key, *bytes);
      }
      if (info.ok() && (info->journal != ctx_.journal || info->device != device ||
                        (info->version == format::kDeviceVersionV2 ? info->revision != revision
                                                                    : revision != 1))) {
        info = Status::Corrupt(info->journal != ctx_.journal || info->device != device
                                   ? "names another journal or device"
                                   : "names another revision than its file name");
      }
      if (info.ok()) {
        if (Status pinned = PinFromDeviceFile(ctx_.store, *info); !pinned.ok()) {
          if (!pinned.Is(Code::kCorrupt)) return pinned;
          info = pinned;
        }
      }
      if (!info.ok()) {
        report.problems.push_back({Code::kCorrupt, "device file " + EscapeForDisplay(path) +
                                                       " was refused: " + info.status().message()});
        continue;
      }
      store::DeviceRow row{info->name, info->platform};
      JSYNC_RETURN_IF_ERROR(ctx_.store.PutDevice(device, row));
      devices_[device] = row;
    }
  }
  return UpgradeOwnDeviceFile(files.contains(ctx_.device), report);
}

Status SyncEngine::UpgradeOwnDeviceFile(bool listed, SyncReport& report) {
  // A home made before device keys signs from its first Open on; others learn its keys from a
  // new revision of its device file, written once. A device file the cloud lost (an erased
  // app folder) is written again, or devices joining later could verify none of this one's
  // changes.
  if (!ctx_.device_keys || relayed_only_) return Status::Ok();
  JSYNC_ASSIGN_OR_RETURN(auto pin, LoadPin(ctx_.store, ctx_.device));
  bool lost = pin && listing_complete_ && !listed;
  if (lost) {
    // A feed's mirror may not know an upload yet: the folder itself decides.
    JSYNC_ASSIGN_OR_RETURN(auto present, ctx_.provider.List(DevicesPrefix(ctx_.journal)));
    lost = std::none_of(present.begin(), present.end(), [&](const provider::ObjectInfo& o) {
      auto name = ParseDeviceFilePath(ctx_.journal, o.path);
      return name && name->device == ctx_.device;
    });
  }
  if (pin && !lost) return Status::Ok();
  JSYNC_ASSIGN_OR_RETURN(auto name, ctx_.store.GetMeta("device_name"));
  JSYNC_ASSIGN_OR_RETURN(auto provider_name, ctx_.store.GetMeta("provider"));
  JSYNC_ASSIGN_OR_RETURN(auto signed_from, ctx_.store.GetMeta(kSignedFromMeta));
  format::DeviceInfo info;
  info.name = name.value_or("");
  auto it = devices_.find(ctx_.device);
  info.platform = it != devices_.end() ? it->second.platform : std::string("linux");
  info.provider = provider_name.value_or("");
  info.signed_from = signed_from ? std::stoull(*signed_from) : 1;
  const OwnDeviceContext oc{ctx_.store,   ctx_.provider, ctx_.master,        ctx_.key_id,
                            ctx_.journal, ctx_.device,   *ctx_.device_keys, ctx_.clock.WallNow()};
  auto published = PublishOwnDeviceFile(oc, info);
  if (!published.ok()) {
    report.problems.push_back({published.status().code(),
                               "could not publish this device's public keys: " +
                                   published.status().message() + "; the next sync retries"});
  } else if (lost) {
    report.notices.push_back("re-uploaded this device's device file, which was missing from the "
                             "cloud (other devices need it to check this device's signatures)");
  }
  return Status::Ok();
}

Status SyncEngine::MergeChange(DeviceId device, uint64_t seq, const crypto::Sha256& hash,
                               const format::ChangeHeader& header, const std::vector<Op>& ops) {
  auto txn = ctx_.store.Begin();
  JSYNC_RETURN_IF_ERROR(txn.began());
  // Ops of one change usually touch few records many times: load and save each once.
  std::map<std::pair<std::string, RecordId>, RecordState> touched;
  for (const Op& op : ops) {
    auto key = std::make_pair(op.collection, op.record);
    auto it = touched.find(key);
    if (it == touched.end()) {
      JSYNC_ASSIGN_OR_RETURN(auto loaded, ctx_.store.LoadRecord(op.collection, op.record));
      it = touched.emplace(key, loaded ? std::move(*loaded) : RecordState()).first;
    }
    // An authenticated change whose ops do not fit this state came from a broken sender;
    // the transaction is dropped and the change refused like a corrupt file.
    JSYNC_RETURN_IF_ERROR(it->second.Apply(op));
    ctx_.clock.Observe(op.id.hlc);
  }
  for (const auto& [key, state] : touched) {
    JSYNC_RETURN_IF_ERROR(ctx_.store.SaveRecord(key.first, key.second, state));
  }
  JSYNC_RETURN_IF_ERROR(ctx_.store.SetCursor(device, {seq, hash}));
  JSYNC_RETURN_IF_ERROR(RecordAck(device, header, ops));
  JSYNC_RETURN_IF_ERROR(ctx_.store.SetMeta("hlc", std::to_string(ctx_.clock.last())));
  CrashPoint("sync.merge.before_commit");
  JSYNC_RETURN_IF_ERROR(txn.Commit());
  CrashPoint("sync.merge.after_commit");
  return Status::Ok();
}

Status SyncEngine::MergeRemote(std::map<DeviceId, RemoteLog>& logs, SyncReport& report) {
  JSYNC_ASSIGN_OR_RETURN(auto cursors, ctx_.store.Cursors());
  JSYNC_ASSIGN_OR_RETURN(store::Cursor own_sealed, ctx_.store.LastSealed());
  std::set<DeviceId> blocked;
  std::map<DeviceId, Bytes> fetched;  // downloaded but waiting for a causal dependency
  std::map<DeviceId, std::string> waiting;
  std::map<DeviceId, std::string> missing;  // waiting for a published change the cloud lost
  std::map<DeviceId, std::map<uint64_t, Bytes>> unpacked;  // changes out of a segment, by seq
  std::set<std::string> bad_segments;  // refused this cycle: their changes are read alone
  JSYNC_ASSIGN_OR_RETURN(auto rebuild_meta, ctx_.store.GetMeta(kRebuildOwnMeta));
  rebuilding_own_ = rebuild_meta.has_value();
  // Revoked devices (decision 0039) and a key epoch this device cannot open.
  JSYNC_ASSIGN_OR_RETURN(auto revoked, LoadRevoked(ctx_.store));
  JSYNC_ASSIGN_OR_RETURN(auto epoch_block, LoadEpochBlock(ctx_.store));
  // A revoked device's next change past its revocation: a problem the first time, a notice
  // on later cycles (the user revoked it on purpose; saying it forever would fail every sync),
  // and never downloaded.
  auto refuse_revoked = [&](DeviceId device, uint64_t next) -> Status {
    const format::RevokedDevice& rv = revoked.at(device);
    const std::string meta = "revoked_said:" + DeviceIdHex(device);
    JSYNC_ASSIGN_OR_RETURN(auto said, ctx_.store.GetMeta(meta));
    const std::string message =
        RevokedMessage(rv, DeviceLabel(device), DeviceLabel(rv.by));
    if (said && *said == std::to_string(next)) {
      report.notices.push_back(message + " (said before)");
      return Status::Ok();
    }
    report.problems.push_back({Code::kInvalid, message});
    return ctx_.store.SetMeta(meta, std::to_string(next));
  };
  std::map<DeviceId, RemoteLog> to_fetch;
  for (const auto& [device, log] : logs) {
    const auto rv = revoked.find(device);
    const auto at = cursors.find(device);
    const uint64_t next = (at == cursors.end() ? 0 : at->second.seq) + 1;
    if (rv != revoked.end() && device != ctx_.device && next > rv->second.through_seq &&
        log.Has(next)) {
      JSYNC_RETURN_IF_ERROR(refuse_revoked(device, next));
      blocked.insert(device);
      continue;
    }
    to_fetch.emplace(device, log);
  }
  // The probes' downloads are answered first, like files fetched ahead.
  Prefetcher prefetch(ctx_.provider, PlanFetches(to_fetch, cursors, ctx_.journal),
                      {format::kMaxChangeFileSize}, std::move(prefetched_));
  prefetched_.clear();

  // Changes are applied only once everything their sender had merged is merged here
  // (causal delivery), so keep sweeping while any device makes progress.
  for (bool progress = true; progress;) {
    progress = false;
    for (auto& [device, log] : logs) {
      if (blocked.contains(device)) continue;
      store::Cursor& cursor = cursors[device];
      const uint64_t next = cursor.seq + 1;
      if (!log.Has(next)) continue;
      std::string path = ChangePath(ctx_.journal, device, next);
      std::string label = SeqLabel(next) + " of " + DeviceLabel(device) + " (" + path + ")";

      auto cached = fetched.find(device);
      auto& from_segment = unpacked[device];
      auto unpacked_next = from_segment.find(next);
      std::optional<SeqRange> segment = log.SegmentFor(next);
      if (segment &&
          bad_segments.contains(SegmentPath(ctx_.journal, device, segment->first, segment->last))) {
        segment.reset();
      }
      Bytes bytes;
      const bool was_fetched = cached != fetched.end();
      if (was_fetched) {
        bytes = std::move(cached->second);
        fetched.erase(cached);
      } else if (unpacked_next == from_segment.end() && segment) {
        const std::string seg_path =
            SegmentPath(ctx_.journal, device, segment->first, segment->last);
        auto got = prefetch.Get(seg_path);
        Status split = got.ok() ? UnpackSegment(*got, device, *segment, next, from_segment)
                                : got.status();
        if (!split.ok() && !split.Is(Code::kCorrupt) && !split.Is(Code::kNotFound)) {
          return split.WithContext(seg_path);
        }
        if (split.ok()) {
          ++report.downloaded_segments;
          report.downloaded_bytes += got->size();
          report.downloaded_changes += from_segment.size();
          unpacked_next = from_segment.find(next);
        } else {
          bad_segments.insert(seg_path);
          const std::string why = "segment " + EscapeForDisplay(seg_path) +
                                  (split.Is(Code::kNotFound) ? " vanished while syncing"
                                                             : " was refused: " + split.message());
          if (!log.HasSingle(next)) {
            if (split.Is(Code::kNotFound)) {
              report.notices.push_back(why + "; will retry");
            } else {
              report.problems.push_back(
                  {Code::kCorrupt, why + "; nothing from " + SeqLabel(next) + " of " +
                                       DeviceLabel(device) + " on was applied"});
            }
            blocked.insert(device);
            continue;
          }
          report.notices.push_back(why + "; its changes are read one by one");
        }
      }
      if (was_fetched) {
        // bytes taken above
      } else if (unpacked_next != from_segment.end()) {
        bytes = std::move(unpacked_next->second);
        from_segment.erase(unpacked_next);
        label = SeqLabel(next) + " of " + DeviceLabel(device) + " (from a segment in " +
                DeviceChangesPrefix(ctx_.journal, device) + ")";
      } else {
        auto got = prefetch.Get(path);
        if (!got.ok()) {
          if (got.status().Is(Code::kCorrupt)) {  // over the limit, or not a file at all
            report.problems.push_back(
                {Code::kCorrupt, label + " was refused: " + got.status().message() +
                                     "; nothing from it or later changes "
                                     "of that device was applied"});
            blocked.insert(device);
            continue;
          }
          if (!got.status().Is(Code::kNotFound)) return got.status().WithContext(label);
          report.notices.push_back(label + " vanished while syncing; will retry");
          blocked.insert(device);
          continue;
        }
        bytes = std::move(got).value();
        if (!relayed_only_) {
          ++report.downloaded_changes;
          report.downloaded_bytes += bytes.size();
        }
      }

      if (auto rv = revoked.find(device);
          rv != revoked.end() && device != ctx_.device && next > rv->second.through_seq) {
        JSYNC_RETURN_IF_ERROR(refuse_revoked(device, next));
        blocked.insert(device);
        continue;
      }
      if (epoch_block) {
        // Sealed under the epoch this device cannot open: the one problem about that epoch
        // (key_epochs.cc) says what to do; nothing more per change.
        auto parsed = format::ParseChangeHeader(bytes);
        const format::KeyId k = parsed.ok() ? parsed->header.key_id : ctx_.key_id;
        if (k != ctx_.key_id && (!ctx_.keyring || !ctx_.keyring->Find(k))) {
          report.notices.push_back(label + " is sealed under a key epoch this device cannot "
                                           "open; it waits");
          blocked.insert(device);
          continue;
        }
      }
      Expected expected{ctx_.journal, device, next, ctx_.key_id, cursor};
      // Signed by its author (decision 0036): which key, from which seq on.
      JSYNC_ASSIGN_OR_RETURN(auto pin, LoadPin(ctx_.store, device));
      if (pin) {
        expected.signer = &pin->sign_pub;
        expected.signed_from = pin->signed_from;
      } else if (IsSignedChange(bytes, ctx_.journal, device)) {
        report.notices.push_back(label + " is signed by a device whose device file this device "
                                         "has not read yet; it is merged once that file is read");
        report.needs_full_cycle = true;
        blocked.insert(device);
        continue;
      }
      expected.keys = ctx_.keyring;
      bool chain_broken = false;
      auto verified = VerifyChange(ctx_.master, expected, bytes, &chain_broken);
      if (!verified.ok() && chain_broken) {
        // Authentic and in its place, yet built on another change than the one merged here:
        // two homes wrote as this one device id. Keep the merged branch; the home whose bytes
        // the cloud refused re-identifies, and its ops then arrive under its new id.
        report.problems.push_back(
            {Code::kCorrupt,
             DeviceLabel(device) + "'s log forked at " + SeqLabel(next) + " (" + path +
                 "): it follows another " + SeqLabel(next - 1) +
                 " than the one this device merged. The device's home was copied (or restored "
                 "from a backup) and both copies wrote as one device; the copy will "
                 "re-identify. This device keeps the branch it merged and applies nothing from "
                 "the other branch under this id"});
        blocked.insert(device);
        continue;
      }
      if (!verified.ok()) {
        report.problems.push_back(
            {verified.status().code(), label + " was refused: it " + verified.status().message() +
                                           "; nothing from it or later changes of that device was "
                                           "applied"});
        blocked.insert(device);
        continue;
      }
      // The sender's version vector names what must be merged before this change.
      std::string unmet;
      for (const auto& [dep, entry] : verified->header.vv) {
        const uint64_t dep_seq = entry.seq;
        if (dep == ctx_.device && entry.head) {
          // What another device merged of this id tells which branch readers hold (0021).
          const HeadEvidence said{dep, dep_seq, *entry.head};
          bool changed = false;
          JSYNC_RETURN_IF_ERROR(RecordHeadEvidence(ctx_.store, said, &changed));
          fork_evidence_changed_ |= changed;
          JSYNC_ASSIGN_OR_RETURN(OwnBranch branch, JudgeOwnBranch(ctx_.store, said));
          if (branch == OwnBranch::kAccepted) {
            // While rebuilding, this device's own changes are merged again like another's.
            if (rebuilding_own_ && cursors[dep].seq < dep_seq) {
              unmet = SeqLabel(dep_seq) + " of this device (merged again after a snapshot)";
              break;
            }
            continue;
          }
          report.notices.push_back(label + " follows another home's " + SeqLabel(dep_seq) +
                                   " of this device's id; it is merged once this device has "
                                   "moved off that branch");
          blocked.insert(device);
          break;
        }
        const uint64_t have =
            dep == ctx_.device && !rebuilding_own_ ? own_sealed.seq : cursors[dep].seq;
        if (have == dep_seq && dep != ctx_.device && entry.head &&
            format::HeadTagOf(cursors[dep].hash) != *entry.head) {
          report.problems.push_back(
              {Code::kCorrupt,
               label + " follows another " + SeqLabel(dep_seq) + " of " + DeviceLabel(dep) +
                   " than the one this device merged: that device's log forked (its home was "
                   "copied); nothing from it or later changes of its sender is applied here "
                   "until the fork is resolved"});
          blocked.insert(device);
          break;
        }
        if (have >= dep_seq) continue;
        if (dep == ctx_.device && own_sealed.seq < dep_seq) {
          report.problems.push_back(
              {Code::kCorrupt, label + " claims to follow change " + std::to_string(dep_seq) +
                                   " of this device, which this device never sealed"});
          blocked.insert(device);
        } else {
          unmet = SeqLabel(dep_seq) + " of " + DeviceLabel(dep);
          // The sender merged that change, so it was published; if the cloud no longer holds
          // the next one this device needs, it was lost or rolled back, not merely late.
          auto dep_log = logs.find(dep);
          const uint64_t need = cursors[dep].seq + 1;
          if (!blocked.contains(dep) && (dep_log == logs.end() || !dep_log->second.Has(need))) {
            missing[device] = label + " follows " + unmet + ", but " + SeqLabel(need) + " of " +
                              DeviceLabel(dep) +
                              " is missing from the cloud although it was published (the "
                              "sender merged it): the provider lost or rolled back files; it "
                              "waits until the owner re-uploads them";
          } else {
            missing.erase(device);
          }
        }
        break;
      }
      if (blocked.contains(device)) continue;
      if (!unmet.empty()) {
        waiting[device] = label + " waits for " + unmet;
        fetched[device] = std::move(bytes);
        continue;
      }
      waiting.erase(device);
      missing.erase(device);
      Status merged = MergeChange(device, next, verified->hash, verified->header, verified->ops);
      if (merged.Is(Code::kCorrupt)) {
        report.problems.push_back({Code::kCorrupt, label + " was refused: its ops do not apply (" +
                                                       merged.message() +
                                                       "); nothing from it or later changes of "
                                                       "that device was applied"});
        blocked.insert(device);
        continue;
      }
      JSYNC_RETURN_IF_ERROR(merged);
      cursor = {next, verified->hash};
      ++report.merged_changes;
      ++report.merged_by_device[device];
      report.merged_ops += verified->ops.size();
      progress = true;
    }
  }

  // What the relay brought says nothing about what the cloud holds: gaps and waits are the
  // next full cycle's to judge.
  if (relayed_only_) return Status::Ok();
  for (const auto& [device, why] : waiting) {
    if (auto m = missing.find(device); m != missing.end()) {
      report.problems.push_back({Code::kGap, m->second});
    } else {
      report.notices.push_back(why);
    }
  }
  for (const auto& [device, log] : logs) {
    if (blocked.contains(device) || waiting.contains(device) || log.empty()) continue;
    if (device == ctx_.device) continue;  // own changes merged again while rebuilding
    const uint64_t have = cursors[device].seq;
    if (log.Last() < have) {
      report.problems.push_back(
          {Code::kGap, DeviceLabel(device) + "'s log in the cloud ends at change " +
                           std::to_string(log.Last()) + " but this device already merged " +
                           std::to_string(have) + ": the provider lost or rolled back files"});
    } else if (log.Last() > have) {
      report.problems.push_back(
          {Code::kGap, SeqLabel(have + 1) + " of " + DeviceLabel(device) +
                           " is missing from the cloud while later changes (up to " +
                           std::to_string(log.Last()) +
                           ") exist, and no snapshot in the cloud covers it (had its author "
                           "removed it as covered by a snapshot, one would); nothing after the "
                           "gap is applied until it appears"});
    }
  }
  for (const auto& [device, cursor] : cursors) {
    // After probes, a device without a log is one whose next change is not there yet.
    if (!listing_complete_) break;
    if (device == ctx_.device) continue;
    if (cursor.seq > 0 && !logs.contains(device)) {
      report.problems.push_back(
          {Code::kGap, DeviceLabel(device) +
                           "'s log is gone from the cloud but this device "
                           "already merged " +
                           std::to_string(cursor.seq) +
                           " of its changes: the provider lost or rolled back files"});
    }
  }
  return Status::Ok();
}

}  // namespace jsync::sync

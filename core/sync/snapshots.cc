// The cycle's part of a journal that lives for years: loading a snapshot, writing own segments
// and snapshots, and pruning own files (rules in core/sync/lifecycle.h, decision 0035).
#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "core/format/segment_file.h"
#include "core/format/snapshot_file.h"
#include "core/sync/fork.h"
#include "core/sync/key_epochs.h"
#include "core/sync/key_sync.h"
#include "core/sync/reidentify.h"
#include "core/sync/remote_layout.h"
#include "core/sync/sync_engine.h"
#include "core/util/crash_point.h"
#include "core/util/escape.h"

namespace jsync::sync {
namespace {

uint64_t MetaU64(const std::optional<std::string>& text) {
  return text ? std::strtoull(text->c_str(), nullptr, 10) : 0;
}

nlohmann::json MetaJson(const std::optional<std::string>& text, nlohmann::json fallback) {
  if (!text) return fallback;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  return j.is_discarded() || j.type() != fallback.type() ? fallback : j;
}

std::set<SeqRange> ReadRanges(const nlohmann::json& j) {
  std::set<SeqRange> out;
  for (const auto& r : j) {
    if (r.is_array() && r.size() == 2 && r[0].is_number_unsigned() && r[1].is_number_unsigned()) {
      out.insert({r[0].get<uint64_t>(), r[1].get<uint64_t>()});
    }
  }
  return out;
}

nlohmann::json WriteRanges(const std::set<SeqRange>& ranges) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& r : ranges) j.push_back({r.first, r.last});
  return j;
}

}  // namespace

Status SyncEngine::RecordAck(DeviceId device, const format::ChangeHeader& header,
                             const std::vector<Op>& ops) {
  uint64_t wall = 0;
  for (const Op& op : ops) wall = std::max(wall, HlcMillis(op.id.hlc));
  auto own = header.vv.find(ctx_.device);
  const uint64_t seq = own == header.vv.end() ? 0 : own->second.seq;
  return ctx_.store.SetMeta(kAckMetaPrefix + DeviceIdHex(device),
                            std::to_string(seq) + " " + std::to_string(wall));
}

Status SyncEngine::StartFromSnapshotIfNeeded(std::map<DeviceId, RemoteLog>& logs,
                                             SyncReport& report) {
  // Snapshots are seen on complete listings only; a rebuild needs its own log settled.
  if (!listing_complete_ || snapshots_.empty() || diverged_at_ != 0 ||
      report.reidentified_from != 0) {
    return Status::Ok();
  }
  JSYNC_ASSIGN_OR_RETURN(auto cursors, ctx_.store.Cursors());
  std::map<DeviceId, uint64_t> merged;
  bool cold = true;
  for (const auto& [d, c] : cursors) {
    merged[d] = c.seq;
    if (c.seq > 0) cold = false;
  }
  const std::map<DeviceId, uint64_t> needed = PrunedBefore(logs, merged);
  if (!cold && needed.empty()) return Status::Ok();
  JSYNC_ASSIGN_OR_RETURN(auto floor, ReplayFloor(ctx_.store));
  JSYNC_ASSIGN_OR_RETURN(auto rebuilding, ctx_.store.GetMeta(kRebuildOwnMeta));
  JSYNC_ASSIGN_OR_RETURN(uint64_t hold, ForkHold(ctx_.store));
  // A re-identification's rebuild is under way, or a fork is being settled: not now.
  if ((!floor.empty() && !rebuilding) || hold != 0) return Status::Ok();
  JSYNC_ASSIGN_OR_RETURN(store::Cursor sealed, ctx_.store.LastSealed());
  JSYNC_ASSIGN_OR_RETURN(uint64_t records, ctx_.store.RecordCount());
  JSYNC_ASSIGN_OR_RETURN(uint64_t outbox, ctx_.store.OutboxSize());
  // Nothing local yet: the snapshot simply becomes the state. Otherwise the state is rebuilt
  // from it and this device's own later changes and pending edits are applied again.
  const bool rebuild = !cold || sealed.seq > 0 || records > 0 || outbox > 0 || rebuilding;
  for (const auto& candidate : OrderCandidates(snapshots_)) {
    JSYNC_ASSIGN_OR_RETURN(bool loaded, TryLoadSnapshot(candidate, needed, rebuild, report));
    if (loaded) return Status::Ok();
  }
  if (!needed.empty()) {
    report.notices.push_back(
        "no snapshot in the cloud covers the changes this device misses that their authors "
        "removed; the missing ones are reported below");
  }
  return Status::Ok();
}

Result<bool> SyncEngine::TryLoadSnapshot(const SnapshotCandidate& candidate,
                                         const std::map<DeviceId, uint64_t>& needed, bool rebuild,
                                         SyncReport& report) {
  const std::string label = "snapshot " + EscapeForDisplay(candidate.path);
  auto bytes = ctx_.provider.Get(candidate.path, format::kMaxSnapshotFileSize);
  if (!bytes.ok()) {
    if (bytes.status().Is(Code::kNotFound)) return false;
    if (!bytes.status().Is(Code::kCorrupt)) return bytes.status().WithContext(label);
    report.notices.push_back(label + " was refused: " + bytes.status().message());
    return false;
  }
  report.downloaded_bytes += bytes->size();
  auto refuse = [&](const std::string& why) {
    report.notices.push_back(label + " was refused: it " + why +
                             "; an older snapshot or the change files are used instead");
    return false;
  };
  auto parsed = format::ParseSnapshotHeader(*bytes);
  if (!parsed.ok()) return refuse("is not a valid snapshot (" + parsed.status().message() + ")");
  const format::SnapshotHeader& h = parsed->header;
  if (h.journal != ctx_.journal) return refuse("belongs to another journal");
  if (h.device != candidate.author || h.hlc != candidate.hlc) {
    return refuse("names another author or time than its file name");
  }
  const crypto::SecretKey* key = h.key_id == ctx_.key_id ? &ctx_.master
                                 : ctx_.keyring          ? ctx_.keyring->Find(h.key_id)
                                                         : nullptr;
  if (!key) return refuse("is encrypted under a key this device does not hold");
  if (!Covers(h.vv, needed)) return false;  // authentic or not, it cannot help
  // Signed by its author (decision 0036), checked before anything is decrypted.
  JSYNC_ASSIGN_OR_RETURN(auto pin, LoadPin(ctx_.store, h.device));
  if (!pin) {
    return refuse("is by device " + DeviceIdHex(h.device) +
                  ", whose device file this device has not read");
  }
  if (!format::SnapshotSignatureValid(*bytes, pin->sign_pub)) {
    return refuse("is not signed by device " + DeviceIdHex(h.device) +
                  " (someone holding the journal key may be impersonating it)");
  }
  // A revoked device's changes after its revocation are refused one by one (decision 0039); a
  // snapshot must not bring them in whole, and a revoked device's own snapshot is not trusted.
  JSYNC_ASSIGN_OR_RETURN(auto revoked, LoadRevoked(ctx_.store));
  if (revoked.contains(h.device)) return refuse("is by a revoked device");
  for (const auto& [d, e] : h.vv) {
    auto rv = revoked.find(d);
    if (rv != revoked.end() && e.seq > rv->second.through_seq) {
      return refuse("holds changes of device " + DeviceIdHex(d) + " written after it was revoked");
    }
  }
  JSYNC_ASSIGN_OR_RETURN(store::Cursor sealed, ctx_.store.LastSealed());
  if (auto own = h.vv.find(ctx_.device); own != h.vv.end()) {
    JSYNC_ASSIGN_OR_RETURN(auto row, ctx_.store.GetSealed(own->second.seq));
    if (!rebuild || own->second.seq > sealed.seq || !row || row->hash != own->second.hash) {
      return refuse("holds changes of this device's id that this device did not write");
    }
  }

  JSYNC_ASSIGN_OR_RETURN(auto old_cursors, ctx_.store.Cursors());
  JSYNC_ASSIGN_OR_RETURN(auto floor, ReplayFloor(ctx_.store));
  auto txn = ctx_.store.BeginDurable();
  JSYNC_RETURN_IF_ERROR(txn.began());
  if (rebuild) {
    // Pending local edits were made on the old state: they wait in the replay until
    // everything they were made on is merged again, like a re-identification's (0019).
    JSYNC_ASSIGN_OR_RETURN(auto outbox, ctx_.store.ReadOutbox(SIZE_MAX));
    for (const auto& row : outbox) JSYNC_RETURN_IF_ERROR(ctx_.store.AppendReplay(row.op));
    JSYNC_RETURN_IF_ERROR(ctx_.store.ClearOutbox());
    for (const auto& [d, c] : old_cursors) floor[d] = std::max(floor[d], c.seq);
    floor[ctx_.device] = std::max(floor[ctx_.device], sealed.seq);
    nlohmann::json json = nlohmann::json::object();
    for (const auto& [d, seq] : floor) {
      if (seq > 0) json[DeviceIdHex(d)] = seq;
    }
    JSYNC_RETURN_IF_ERROR(ctx_.store.SetMeta(kReplayFloorMeta, json.dump()));
    JSYNC_RETURN_IF_ERROR(ctx_.store.SetMeta(kRebuildOwnMeta, "1"));
  }
  JSYNC_RETURN_IF_ERROR(ctx_.store.ClearRecordsAndCursors());
  Status bad;
  auto opened =
      format::OpenSnapshot(*key, *parsed, *bytes, [&](const format::SnapshotRecord& rec) -> Status {
        auto state = RecordState::Decode(rec.state);
        if (!state.ok()) {
          bad = state.status();
          return state.status();
        }
        return ctx_.store.SaveRecord(rec.collection, rec.id, *state);
      });
  if (!opened.ok()) {
    // The transaction is rolled back: the state is as it was.
    if (!opened.status().Is(Code::kCorrupt)) return opened.status().WithContext(label);
    return refuse("failed verification (" + opened.status().message() + ")");
  }
  for (const auto& [d, e] : h.vv) {
    JSYNC_RETURN_IF_ERROR(ctx_.store.SetCursor(d, {e.seq, e.hash}));
  }
  if (rebuild && !h.vv.contains(ctx_.device)) {
    JSYNC_RETURN_IF_ERROR(ctx_.store.SetCursor(ctx_.device, {}));
  }
  ctx_.clock.Observe(h.hlc);
  JSYNC_RETURN_IF_ERROR(ctx_.store.SetMeta("hlc", std::to_string(ctx_.clock.last())));
  JSYNC_RETURN_IF_ERROR(ctx_.store.SetMeta(kSnapshotSinceMeta, "{}"));
  CrashPoint("sync.snapshot.before_commit");
  JSYNC_RETURN_IF_ERROR(txn.Commit());
  report.snapshot_loaded = candidate.path;
  report.rebuilt_from_snapshot = rebuild;
  report.notices.push_back(
      (rebuild ? "rebuilt this device's entries from " : "started from ") + label + " (" +
      std::to_string(*opened) + " records" +
      (rebuild ? "; its own later changes and pending edits are applied again)" : ")"));
  return true;
}

Status SyncEngine::AddOwnLogWhileRebuilding(std::map<DeviceId, RemoteLog>& logs) {
  JSYNC_ASSIGN_OR_RETURN(auto rebuilding, ctx_.store.GetMeta(kRebuildOwnMeta));
  if (!rebuilding) return Status::Ok();
  JSYNC_ASSIGN_OR_RETURN(auto cursors, ctx_.store.Cursors());
  const uint64_t from = cursors[ctx_.device].seq + 1;
  // Read from the local copies, one at a time: none of them needs downloading.
  JSYNC_ASSIGN_OR_RETURN(store::Cursor sealed, ctx_.store.LastSealed());
  RemoteLog& own = logs[ctx_.device];
  own = RemoteLog{};
  for (uint64_t seq = from; seq <= sealed.seq; ++seq) {
    JSYNC_ASSIGN_OR_RETURN(auto row, ctx_.store.GetSealed(seq));
    if (!row) return Status::Fatal("local copy of own change " + std::to_string(seq) + " is gone");
    own.seqs.push_back(seq);
    prefetched_[ChangePath(ctx_.journal, ctx_.device, seq)] = std::move(row->bytes);
  }
  if (own.seqs.empty()) logs.erase(ctx_.device);
  return Status::Ok();
}

Status SyncEngine::FinishRebuildIfDone() {
  JSYNC_ASSIGN_OR_RETURN(auto rebuilding, ctx_.store.GetMeta(kRebuildOwnMeta));
  if (!rebuilding) return Status::Ok();
  JSYNC_ASSIGN_OR_RETURN(auto floor, ReplayFloor(ctx_.store));
  if (!floor.empty()) return Status::Ok();  // the replay has not applied yet
  auto txn = ctx_.store.Begin();
  JSYNC_RETURN_IF_ERROR(txn.began());
  JSYNC_RETURN_IF_ERROR(ctx_.store.DeleteCursor(ctx_.device));
  JSYNC_RETURN_IF_ERROR(ctx_.store.DeleteMeta(kRebuildOwnMeta));
  return txn.Commit();
}

Status SyncEngine::MaintainOwnFiles(SyncReport& report) {
  if (!report.ok() || relayed_only_ || diverged_at_ != 0 || report.reidentified_from != 0) {
    return Status::Ok();
  }
  JSYNC_ASSIGN_OR_RETURN(auto floor, ReplayFloor(ctx_.store));
  JSYNC_ASSIGN_OR_RETURN(uint64_t hold, ForkHold(ctx_.store));
  JSYNC_ASSIGN_OR_RETURN(auto rebuilding, ctx_.store.GetMeta(kRebuildOwnMeta));
  if (!floor.empty() || hold != 0 || rebuilding) return Status::Ok();
  // Maintenance never fails a cycle: what did not happen is retried next time.
  auto note = [&](const char* what, const Status& st) {
    if (!st.ok())
      report.notices.push_back(std::string(what) + " (retried next sync): " + st.message());
  };
  note("writing this device's segments failed", WriteOwnSegments(report));
  note("writing a snapshot failed", WriteSnapshotIfDue(report));
  note("removing this device's old change files failed", PruneOwnFiles(report));
  note("removing a leftover snapshot failed", RemoveLeftoverSnapshots(report));
  return Status::Ok();
}

Status SyncEngine::RemoveLeftoverSnapshots(SyncReport& report) {
  // A crash between a snapshot's upload and its record leaves it untracked; once a newer one
  // is tracked it is only clutter (a reader would still accept it: it is signed and valid).
  if (!listing_complete_) return Status::Ok();
  JSYNC_ASSIGN_OR_RETURN(auto own_text, ctx_.store.GetMeta(kOwnSnapshotsMeta));
  const nlohmann::json own = MetaJson(own_text, nlohmann::json::array());
  std::set<std::string> tracked;
  uint64_t newest = 0;
  for (const auto& s : own) {
    const std::string path = s.value("path", "");
    tracked.insert(path);
    if (auto name = ParseSnapshotPath(ctx_.journal, path)) newest = std::max(newest, name->hlc);
  }
  for (const auto& c : snapshots_) {
    if (c.author != ctx_.device || tracked.contains(c.path) || c.hlc >= newest) continue;
    JSYNC_RETURN_IF_ERROR(ctx_.provider.Remove(c.path));
    ++report.pruned_files;
  }
  return Status::Ok();
}

Status SyncEngine::WriteOwnSegments(SyncReport& report) {
  if (!ctx_.lifecycle.segments) return Status::Ok();
  JSYNC_ASSIGN_OR_RETURN(uint64_t uploaded, ctx_.store.UploadedThrough());
  JSYNC_ASSIGN_OR_RETURN(auto pruned_text, ctx_.store.GetMeta(kPrunedThroughMeta));
  const uint64_t pruned = MetaU64(pruned_text);
  JSYNC_ASSIGN_OR_RETURN(auto kept_text, ctx_.store.GetMeta(kOwnSegmentsMeta));
  std::set<SeqRange> kept = ReadRanges(MetaJson(kept_text, nlohmann::json::array()));
  std::vector<SeqRange> work;
  for (const auto& t : TargetSegments(uploaded)) {
    if (t.last > pruned) work.push_back(t);  // a pruned range is the snapshot's to cover
  }
  std::set<SeqRange> wanted;
  while (!work.empty()) {
    SeqRange t = work.back();
    work.pop_back();
    if (kept.contains(t)) {
      wanted.insert(t);
      continue;
    }
    std::vector<Bytes> rows;
    for (uint64_t seq = t.first; seq <= t.last; ++seq) {
      JSYNC_ASSIGN_OR_RETURN(auto row, ctx_.store.GetSealed(seq));
      if (!row)
        return Status::Fatal("local copy of own change " + std::to_string(seq) + " is gone");
      rows.push_back(std::move(row->bytes));
    }
    std::vector<ByteSpan> spans(rows.begin(), rows.end());
    auto built = format::BuildSegment({ctx_.journal, ctx_.device, t.first, t.last}, spans);
    if (!built.ok()) {
      // Too big for one segment: its two halves instead (the smallest are read alone).
      const uint64_t half = (t.last - t.first + 1) / 2;
      if (half >= (uint64_t{1} << kMinSegmentLog2)) {
        work.push_back({t.first, t.first + half - 1});
        work.push_back({t.first + half, t.last});
      }
      continue;
    }
    const std::string path = SegmentPath(ctx_.journal, ctx_.device, t.first, t.last);
    Status put = ctx_.provider.PutIfAbsent(path, *built);
    CrashPoint("sync.segment.after_put");
    if (put.Is(Code::kExists)) {
      // This device's own upload before a crash (a segment is built from the same sealed
      // bytes every time) is adopted; other bytes are someone else's: readers use the single
      // files instead.
      auto there = ctx_.provider.Get(path, format::kMaxSegmentFileSize);
      if (!there.ok() || *there != *built) continue;
    } else {
      JSYNC_RETURN_IF_ERROR(put);
      JSYNC_RETURN_IF_ERROR(NoteUploaded(Discovery(), path, built->size()));
      ++report.segments_written;
    }
    wanted.insert(t);
    kept.insert(t);
    JSYNC_RETURN_IF_ERROR(ctx_.store.SetMeta(kOwnSegmentsMeta, WriteRanges(kept).dump()));
  }
  // Segments the new ones replace go only after those are in the cloud.
  for (const auto& old : std::set<SeqRange>(kept)) {
    if (wanted.contains(old)) continue;
    JSYNC_RETURN_IF_ERROR(
        ctx_.provider.Remove(SegmentPath(ctx_.journal, ctx_.device, old.first, old.last)));
    kept.erase(old);
    ++report.pruned_files;
    JSYNC_RETURN_IF_ERROR(ctx_.store.SetMeta(kOwnSegmentsMeta, WriteRanges(kept).dump()));
  }
  return Status::Ok();
}

Status SyncEngine::WriteSnapshotIfDue(SyncReport& report) {
  JSYNC_ASSIGN_OR_RETURN(auto since_text, ctx_.store.GetMeta(kSnapshotSinceMeta));
  nlohmann::json since = MetaJson(since_text, nlohmann::json::object());
  const uint64_t ops = since.value("ops", uint64_t{0}) + report.merged_ops + report.sealed_ops;
  const uint64_t bytes =
      since.value("bytes", uint64_t{0}) + report.downloaded_bytes + report.uploaded_bytes;
  JSYNC_RETURN_IF_ERROR(ctx_.store.SetMeta(kSnapshotSinceMeta,
                                           nlohmann::json{{"ops", ops}, {"bytes", bytes}}.dump()));
  if (ops == 0 ||
      (ops < ctx_.lifecycle.snapshot_min_ops && bytes < ctx_.lifecycle.snapshot_min_bytes)) {
    return Status::Ok();
  }
  if (!ctx_.device_keys) return Status::Ok();  // only a signing device writes one (read-only)
  Bytes file;
  format::SnapshotHeader header;
  {
    // One consistent view: no edit may land between the records and the version vector.
    auto txn = ctx_.store.Begin();
    JSYNC_RETURN_IF_ERROR(txn.began());
    JSYNC_ASSIGN_OR_RETURN(uint64_t outbox, ctx_.store.OutboxSize());
    JSYNC_ASSIGN_OR_RETURN(auto unsent, ctx_.store.SealedNotUploaded());
    if (outbox > 0 || !unsent.empty()) return Status::Ok();  // next time, once all is out
    JSYNC_ASSIGN_OR_RETURN(auto cursors, ctx_.store.Cursors());
    JSYNC_ASSIGN_OR_RETURN(store::Cursor sealed, ctx_.store.LastSealed());
    header.journal = ctx_.journal;
    header.device = ctx_.device;
    header.hlc = ctx_.clock.Now();
    header.key_id = ctx_.key_id;
    for (const auto& [d, c] : cursors) {
      if (d != ctx_.device && c.seq > 0) header.vv[d] = {c.seq, c.hash};
    }
    if (sealed.seq > 0) header.vv[ctx_.device] = {sealed.seq, sealed.hash};
    JSYNC_ASSIGN_OR_RETURN(
        file,
        format::SealSnapshot(
            ctx_.master, ctx_.device_keys->sign.priv, header, [&](const auto& emit) -> Status {
              return ctx_.store.ForEachRecordBlob(
                  [&](const std::string& collection, const RecordId& id, ByteSpan state) {
                    return emit({collection, id, Bytes(state.begin(), state.end())});
                  });
            }));
  }
  const std::string path = SnapshotPath(ctx_.journal, ctx_.device, header.hlc);
  JSYNC_RETURN_IF_ERROR(ctx_.provider.PutIfAbsent(path, file));
  CrashPoint("sync.snapshot.after_put");
  JSYNC_RETURN_IF_ERROR(NoteUploaded(Discovery(), path, file.size()));
  report.snapshot_written = path;
  report.uploaded_bytes += file.size();
  JSYNC_ASSIGN_OR_RETURN(auto own_text, ctx_.store.GetMeta(kOwnSnapshotsMeta));
  nlohmann::json own = MetaJson(own_text, nlohmann::json::array());
  const auto self = header.vv.find(ctx_.device);
  own.push_back({{"path", path}, {"seq", self == header.vv.end() ? 0 : self->second.seq}});
  JSYNC_RETURN_IF_ERROR(ctx_.store.SetMeta(kOwnSnapshotsMeta, own.dump()));
  JSYNC_RETURN_IF_ERROR(ctx_.store.SetMeta(kSnapshotSinceMeta, "{}"));
  while (own.size() > kOwnSnapshotsKept) {
    JSYNC_RETURN_IF_ERROR(ctx_.provider.Remove(own[0].value("path", "")));
    own.erase(own.begin());
    ++report.pruned_files;
    JSYNC_RETURN_IF_ERROR(ctx_.store.SetMeta(kOwnSnapshotsMeta, own.dump()));
  }
  return Status::Ok();
}

Status SyncEngine::PruneOwnFiles(SyncReport& report) {
  if (!ctx_.lifecycle.prune) return Status::Ok();
  JSYNC_ASSIGN_OR_RETURN(auto own_text, ctx_.store.GetMeta(kOwnSnapshotsMeta));
  nlohmann::json own = MetaJson(own_text, nlohmann::json::array());
  // Only what the older of the two kept snapshots covers: should the newest be damaged,
  // a reader falls back to the older one and still finds every change after it.
  if (own.size() < kOwnSnapshotsKept) return Status::Ok();
  const uint64_t covered = own[own.size() - kOwnSnapshotsKept].value("seq", uint64_t{0});
  JSYNC_ASSIGN_OR_RETURN(uint64_t uploaded, ctx_.store.UploadedThrough());
  JSYNC_ASSIGN_OR_RETURN(auto cursors, ctx_.store.Cursors());
  std::map<DeviceId, std::optional<Ack>> others;
  for (const auto& [d, c] : cursors) {
    if (d == ctx_.device || c.seq == 0) continue;
    JSYNC_ASSIGN_OR_RETURN(auto text, ctx_.store.GetMeta(kAckMetaPrefix + DeviceIdHex(d)));
    std::optional<Ack> ack;
    if (text) {
      char* end = nullptr;
      ack = Ack{std::strtoull(text->c_str(), &end, 10), std::strtoull(end, nullptr, 10)};
    }
    others[d] = ack;
  }
  const uint64_t bound =
      PruneBound(covered, uploaded, others, ctx_.clock.WallNow(), ctx_.lifecycle.inactive_after_ms);
  JSYNC_ASSIGN_OR_RETURN(auto through_text, ctx_.store.GetMeta(kPrunedThroughMeta));
  uint64_t through = MetaU64(through_text);
  if (bound > through) {
    // Decided before anything goes, so a crash midway never has the file re-uploaded.
    JSYNC_RETURN_IF_ERROR(ctx_.store.SetMeta(kPrunedThroughMeta, std::to_string(bound)));
    through = bound;
  }
  JSYNC_ASSIGN_OR_RETURN(auto done_text, ctx_.store.GetMeta(kPruneDoneMeta));
  uint64_t done = MetaU64(done_text);
  size_t budget = ctx_.lifecycle.max_removals_per_cycle;
  while (done < through && budget > 0) {
    JSYNC_RETURN_IF_ERROR(ctx_.provider.Remove(ChangePath(ctx_.journal, ctx_.device, done + 1)));
    CrashPoint("sync.prune.after_remove");
    ++done;
    --budget;
    ++report.pruned_files;
    if (done % 64 == 0 || done == through || budget == 0) {
      JSYNC_RETURN_IF_ERROR(ctx_.store.SetMeta(kPruneDoneMeta, std::to_string(done)));
    }
  }
  return Status::Ok();
}

}  // namespace jsync::sync

#include "core/sync/sync_engine.h"

#include <algorithm>
#include <set>

#include "core/format/device_file.h"
#include "core/sync/orphan_cleanup.h"
#include "core/sync/remote_layout.h"
#include "core/sync/verify.h"
#include "core/util/crash_point.h"
#include "core/util/escape.h"

namespace jsync::sync {
namespace {

std::string SeqLabel(uint64_t seq) { return "change " + std::to_string(seq); }

}  // namespace

std::string SyncEngine::DeviceLabel(DeviceId d) {
  auto it = devices_.find(d);
  std::string hex = DeviceIdHex(d);
  return it == devices_.end() ? "device " + hex : "device " + hex + " (" + it->second.name + ")";
}

Result<SyncReport> SyncEngine::Run() {
  SyncReport report;
  JSYNC_ASSIGN_OR_RETURN(devices_, ctx_.store.Devices());
  JSYNC_RETURN_IF_ERROR(Seal(report));
  JSYNC_RETURN_IF_ERROR(Upload(report));
  JSYNC_ASSIGN_OR_RETURN(auto logs, Discover(report));
  JSYNC_RETURN_IF_ERROR(LearnDevices(report));
  if (auto own = logs.find(ctx_.device); own != logs.end()) {
    JSYNC_RETURN_IF_ERROR(RepairOwnLog(own->second, report));
    logs.erase(own);
  } else {
    JSYNC_RETURN_IF_ERROR(RepairOwnLog(RemoteLog{}, report));
  }
  JSYNC_RETURN_IF_ERROR(MergeRemote(logs, report));
  MaybeRemoveOwnOrphanUploads(ctx_, report);
  return report;
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
      if (device != ctx_.device && cursor.seq > 0) header.vv[device] = cursor.seq;
    }
    std::vector<Op> ops;
    ops.reserve(rows.size());
    for (auto& row : rows) ops.push_back(std::move(row.op));
    JSYNC_ASSIGN_OR_RETURN(Bytes bytes, format::SealChange(ctx_.master, header, ops));
    JSYNC_RETURN_IF_ERROR(ctx_.store.AddSealed(header.seq, bytes, crypto::HashSha256(bytes)));
    JSYNC_RETURN_IF_ERROR(ctx_.store.DeleteOutboxThrough(rows.back().n));
    CrashPoint("sync.seal.before_commit");
    JSYNC_RETURN_IF_ERROR(txn.Commit());
    CrashPoint("sync.seal.after_commit");
    ++report.sealed_changes;
  }
}

Status SyncEngine::Upload(SyncReport& report) {
  JSYNC_ASSIGN_OR_RETURN(std::vector<store::SealedRow> pending, ctx_.store.SealedNotUploaded());
  for (const auto& row : pending) {
    const std::string path = ChangePath(ctx_.journal, ctx_.device, row.seq);
    Status put = ctx_.provider.PutIfAbsent(path, row.bytes);
    if (put.Is(Code::kQuotaExceeded) || put.Is(Code::kCorrupt)) {
      // Local changes stay sealed and queued; downloads go on; the next sync retries.
      report.problems.push_back(
          {put.code(), put.Is(Code::kCorrupt)
                           ? "uploads paused: " + put.message()
                           : "uploads paused, the cloud is full: " + put.message()});
      return Status::Ok();
    }
    if (put.Is(Code::kExists)) {
      return Status::Fatal(path +
                           " is already in the cloud with other content; this device's "
                           "identity is in use elsewhere (was its home folder copied?)");
    }
    JSYNC_RETURN_IF_ERROR(put.WithContext("uploading " + path));
    CrashPoint("sync.upload.after_put");
    JSYNC_RETURN_IF_ERROR(ctx_.store.MarkUploaded(row.seq));
    ++report.uploaded_changes;
    report.uploaded_bytes += row.bytes.size();
  }
  return Status::Ok();
}

Result<std::map<DeviceId, SyncEngine::RemoteLog>> SyncEngine::Discover(SyncReport& report) {
  JSYNC_ASSIGN_OR_RETURN(auto objects, ctx_.provider.List(ChangesPrefix(ctx_.journal)));
  std::map<DeviceId, RemoteLog> logs;
  for (const auto& obj : objects) {
    auto name = ParseChangePath(ctx_.journal, obj.path);
    if (!name) {
      // An empty directory off the layout is harmless; anything else is worth a word.
      if (obj.kind != provider::ObjectKind::kDirectory)
        report.notices.push_back("ignored unexpected file " + EscapeForDisplay(obj.path));
      continue;
    }
    logs[name->device].seqs.push_back(name->seq);
  }
  for (auto& [device, log] : logs) std::sort(log.seqs.begin(), log.seqs.end());
  return logs;
}

Status SyncEngine::RepairOwnLog(const RemoteLog& own, SyncReport& report) {
  JSYNC_ASSIGN_OR_RETURN(uint64_t uploaded, ctx_.store.UploadedThrough());
  std::set<uint64_t> present(own.seqs.begin(), own.seqs.end());
  for (uint64_t seq = 1; seq <= uploaded; ++seq) {
    if (present.contains(seq)) continue;
    JSYNC_ASSIGN_OR_RETURN(auto row, ctx_.store.GetSealed(seq));
    if (!row) return Status::Fatal("local copy of own change " + std::to_string(seq) + " is gone");
    JSYNC_RETURN_IF_ERROR(
        ctx_.provider.PutIfAbsent(ChangePath(ctx_.journal, ctx_.device, seq), row->bytes));
    ++report.repaired_changes;
  }
  if (report.repaired_changes > 0) {
    report.notices.push_back("re-uploaded " + std::to_string(report.repaired_changes) +
                             " of this device's change files that were missing from the cloud");
  }
  return Status::Ok();
}

Status SyncEngine::LearnDevices(SyncReport& report) {
  JSYNC_ASSIGN_OR_RETURN(auto objects, ctx_.provider.List(DevicesPrefix(ctx_.journal)));
  for (const auto& obj : objects) {
    auto device = ParseDevicePath(ctx_.journal, obj.path);
    if (!device) {
      if (obj.kind != provider::ObjectKind::kDirectory)
        report.notices.push_back("ignored unexpected file " + EscapeForDisplay(obj.path));
      continue;
    }
    if (devices_.contains(*device)) continue;
    auto bytes = ctx_.provider.Get(obj.path, format::kMaxDeviceFileSize);
    if (!bytes.ok() && bytes.status().Is(Code::kNotFound)) continue;
    if (!bytes.ok() && !bytes.status().Is(Code::kCorrupt)) return bytes.status();
    // A refused download (over the limit, not a file) is reported like a damaged file.
    auto info = bytes.ok() ? format::OpenDeviceFile(ctx_.master, *bytes)
                           : Result<format::DeviceInfo>(bytes.status());
    if (info.ok() && (info->journal != ctx_.journal || info->device != *device)) {
      info = Status::Corrupt("names another journal or device");
    }
    if (!info.ok()) {
      report.problems.push_back({Code::kCorrupt, "device file " + EscapeForDisplay(obj.path) +
                                                     " was refused: " + info.status().message()});
      continue;
    }
    store::DeviceRow row{info->name, info->platform};
    JSYNC_RETURN_IF_ERROR(ctx_.store.PutDevice(*device, row));
    devices_[*device] = row;
  }
  return Status::Ok();
}

Status SyncEngine::MergeChange(DeviceId device, uint64_t seq, const crypto::Sha256& hash,
                               const std::vector<Op>& ops) {
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

  // Changes are applied only once everything their sender had merged is merged here
  // (causal delivery), so keep sweeping while any device makes progress.
  for (bool progress = true; progress;) {
    progress = false;
    for (auto& [device, log] : logs) {
      if (blocked.contains(device)) continue;
      store::Cursor& cursor = cursors[device];
      const uint64_t next = cursor.seq + 1;
      if (!std::binary_search(log.seqs.begin(), log.seqs.end(), next)) continue;
      const std::string path = ChangePath(ctx_.journal, device, next);
      const std::string label = SeqLabel(next) + " of " + DeviceLabel(device) + " (" + path + ")";

      auto cached = fetched.find(device);
      Bytes bytes;
      if (cached != fetched.end()) {
        bytes = std::move(cached->second);
        fetched.erase(cached);
      } else {
        auto got = ctx_.provider.Get(path, format::kMaxChangeFileSize);
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
        ++report.downloaded_changes;
        report.downloaded_bytes += bytes.size();
      }

      Expected expected{ctx_.journal, device, next, ctx_.key_id, cursor};
      auto verified = VerifyChange(ctx_.master, expected, bytes);
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
      for (const auto& [dep, dep_seq] : verified->header.vv) {
        const uint64_t have = dep == ctx_.device ? own_sealed.seq : cursors[dep].seq;
        if (have >= dep_seq) continue;
        if (dep == ctx_.device) {
          report.problems.push_back(
              {Code::kCorrupt, label + " claims to follow change " + std::to_string(dep_seq) +
                                   " of this device, which this device never sealed"});
          blocked.insert(device);
        } else {
          unmet = SeqLabel(dep_seq) + " of " + DeviceLabel(dep);
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
      Status merged = MergeChange(device, next, verified->hash, verified->ops);
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

  for (const auto& [device, why] : waiting) report.notices.push_back(why);
  for (const auto& [device, log] : logs) {
    if (blocked.contains(device) || waiting.contains(device) || log.seqs.empty()) continue;
    const uint64_t have = cursors[device].seq;
    if (log.seqs.back() < have) {
      report.problems.push_back(
          {Code::kGap, DeviceLabel(device) + "'s log in the cloud ends at change " +
                           std::to_string(log.seqs.back()) + " but this device already merged " +
                           std::to_string(have) + ": the provider lost or rolled back files"});
    } else if (log.seqs.back() > have) {
      report.problems.push_back(
          {Code::kGap, SeqLabel(have + 1) + " of " + DeviceLabel(device) +
                           " is missing from the cloud while later changes (up to " +
                           std::to_string(log.seqs.back()) +
                           ") exist; nothing after the gap is applied until it appears"});
    }
  }
  for (const auto& [device, cursor] : cursors) {
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

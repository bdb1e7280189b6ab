#include "core/sync/audit.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>

#include "core/format/device_file.h"
#include "core/format/key_file.h"
#include "core/format/segment_file.h"
#include "core/format/snapshot_file.h"
#include "core/sync/fork.h"
#include "core/sync/key_sync.h"
#include "core/sync/lifecycle.h"
#include "core/sync/remote_layout.h"
#include "core/sync/sync_engine.h"
#include "core/sync/verify.h"
#include "core/util/escape.h"

namespace jsync::sync {
namespace {

using provider::ObjectInfo;
using provider::ObjectKind;

std::string Seq(uint64_t seq) { return "change " + std::to_string(seq); }
std::string Range(uint64_t a, uint64_t b) {
  return a == b ? Seq(a) : "changes " + std::to_string(a) + "-" + std::to_string(b);
}


// The bytes of one change as the walk reads them: a whole file, a header prefix, or a change
// out of the segment being read.
struct Piece {
  Bytes owned;
  ByteSpan bytes;
  bool whole = false;
  std::string where;  // the object it came from, for messages
};

// A segment held while the walk reads changes out of it (one at a time: bounded memory).
struct LoadedSegment {
  SeqRange range;
  Bytes bytes;
  format::ParsedSegment parsed;  // spans into `bytes`
};

class Auditor {
 public:
  Auditor(const AuditContext& ctx, const AuditOptions& options, AuditReport& report)
      : ctx_(ctx), options_(options), report_(report) {}

  Status Run();

 private:
  Status LoadLocalState();
  Status Classify(const std::vector<ObjectInfo>& listing);
  Status CheckKeyFiles();
  Status CheckDeviceFiles();
  Status CheckSnapshots();
  Status WalkDevice(DeviceId device, const RemoteLog& log);
  Status CheckUnusedSegments(DeviceId device, const RemoteLog& log);
  void CheckPublished();
  // nullopt when the change cannot be read (the problem is then reported).
  Result<std::optional<Piece>> Fetch(DeviceId device, uint64_t seq, const RemoteLog& log,
                                     bool whole);
  Result<LoadedSegment*> LoadSegment(DeviceId device, const SeqRange& range);
  // The header checks every change gets; false when a problem was reported.
  // What VerifyChange needs beyond the names: the author's pinned signing key (decision
  // 0036) and the older key ids this device holds.
  void SetSigner(Expected& expected, const std::optional<PinnedDevice>& pin) const {
    if (pin) {
      expected.signer = &pin->sign_pub;
      expected.signed_from = pin->signed_from;
    }
    expected.keys = ctx_.keys;
  }
  bool CheckNames(DeviceId device, uint64_t seq, const Piece& piece,
                  const format::ChangeHeader& h);
  void CheckVersionVector(DeviceId device, const Piece& piece, const format::ChangeHeader& h);

  void Problem(const char* code, DeviceId device, std::string path, std::string message,
               std::string fix);
  std::string Label(DeviceId d) const;
  std::string OwnerFix(DeviceId d, const std::string& path) const;
  std::string RollbackFix(DeviceId d) const;
  std::string ForkFix(DeviceId d) const;

  const AuditContext& ctx_;
  const AuditOptions& options_;
  AuditReport& report_;

  // This device's view (read once, before the listing).
  std::map<DeviceId, store::Cursor> cursors_;
  std::map<DeviceId, store::DeviceRow> names_;
  store::Cursor own_sealed_;
  uint64_t own_uploaded_ = 0;  // own seqs 1..this were uploaded and must be in the cloud
  uint64_t own_pruned_ = 0;    // ... except 1..this, removed on purpose (covered by a snapshot)
  bool holds_key_copy_ = false;

  // From the listing.
  std::map<DeviceId, RemoteLog> logs_;
  std::map<std::string, uint64_t> sizes_;  // change files and segments, by path
  std::set<std::string> not_files_;        // reported; not read
  std::vector<ObjectInfo> key_files_, device_files_, snapshot_files_;
  std::set<DeviceId> with_device_file_;

  // From the walk.
  std::map<DeviceId, AuditDevice> devices_;
  std::unique_ptr<LoadedSegment> segment_;
  std::map<DeviceId, std::set<SeqRange>> used_segments_;
  std::set<DeviceId> rolled_back_;  // a rollback was reported: no second one from evidence
  // The highest seq of each device another device's change names as merged, and which file.
  std::map<DeviceId, std::pair<uint64_t, std::string>> published_;
};

std::string Auditor::Label(DeviceId d) const {
  if (d == ctx_.device) return "this device (" + DeviceIdHex(d) + ")";
  auto it = names_.find(d);
  const std::string hex = "device " + DeviceIdHex(d);
  return it == names_.end() || it->second.name.empty() ? hex : hex + " (" + it->second.name + ")";
}

std::string Auditor::OwnerFix(DeviceId d, const std::string& path) const {
  const std::string remove = "remove " + EscapeForDisplay(path) + " (keep a copy to look at): ";
  if (d == ctx_.device) {
    return remove + "this device puts its own copy back at its next `jsync sync --full`";
  }
  return remove + Label(d) +
         " puts its own copy back at its next `jsync sync --full`; if that device is gone, "
         "restore the file from a backup of the folder";
}

std::string Auditor::RollbackFix(DeviceId d) const {
  if (d == ctx_.device) return "run `jsync sync --full` here: this device re-uploads its files";
  return "run `jsync sync --full` on " + Label(d) +
         ": it re-uploads its own files; if that device is gone, restore the files from a "
         "backup of the folder";
}

std::string Auditor::ForkFix(DeviceId d) const {
  return "a home of " + Label(d) +
         " was copied (or restored from a backup) and both copies wrote as one device: run "
         "`jsync sync` on every device; the copy whose branch the others did not merge takes a "
         "new device id and sends its changes again, nothing is lost";
}

void Auditor::Problem(const char* code, DeviceId device, std::string path, std::string message,
                      std::string fix) {
  if (device != 0) ++devices_[device].problems;
  report_.problems.push_back(
      {code, device, std::move(path), std::move(message), std::move(fix)});
}

Status Auditor::LoadLocalState() {
  JSYNC_ASSIGN_OR_RETURN(cursors_, ctx_.store.Cursors());
  JSYNC_ASSIGN_OR_RETURN(names_, ctx_.store.Devices());
  JSYNC_ASSIGN_OR_RETURN(own_sealed_, ctx_.store.LastSealed());
  JSYNC_ASSIGN_OR_RETURN(own_uploaded_, ctx_.store.UploadedThrough());
  // As RepairOwnLog: own files from the fork hold on are kept out of the cloud on purpose,
  // pruned ones were removed on purpose.
  JSYNC_ASSIGN_OR_RETURN(uint64_t hold, ForkHold(ctx_.store));
  if (hold != 0) own_uploaded_ = std::min(own_uploaded_, hold - 1);
  JSYNC_ASSIGN_OR_RETURN(auto pruned, ctx_.store.GetMeta(kPrunedThroughMeta));
  own_pruned_ = pruned ? std::strtoull(pruned->c_str(), nullptr, 10) : 0;
  JSYNC_ASSIGN_OR_RETURN(auto key_copy, ctx_.store.GetMeta(kKeyFileMeta));
  holds_key_copy_ = key_copy.has_value();
  return Status::Ok();
}

Status Auditor::Classify(const std::vector<ObjectInfo>& listing) {
  const std::string root = JournalRoot(ctx_.journal);
  for (const ObjectInfo& o : listing) {
    ++report_.objects;
    report_.bytes_listed += o.size;
    const std::string shown = EscapeForDisplay(o.path);
    auto change = ParseChangePath(ctx_.journal, o.path);
    auto segment = ParseSegmentPath(ctx_.journal, o.path);
    // Revision 1 or a later revision (a rename, a key epoch's announcement: decision 0037).
    const auto device_file = ParseDeviceFilePath(ctx_.journal, o.path);
    auto key = ParseKeyFilePath(ctx_.journal, o.path);
    auto snapshot = ParseSnapshotPath(ctx_.journal, o.path);
    const bool named = change || segment || device_file || key || snapshot;
    const DeviceId owner = change    ? change->device
                           : segment ? segment->device
                           : device_file ? device_file->device
                           : snapshot    ? snapshot->device
                                         : 0;
    if (o.kind == ObjectKind::kDirectory && !named) continue;  // an empty folder: harmless
    if (o.kind != ObjectKind::kFile) {
      not_files_.insert(o.path);
      Problem(audit_code::kNotAFile, owner, o.path,
              shown + " is not a regular file (" +
                  (o.kind == ObjectKind::kDirectory ? "a directory" : "a link, FIFO or device") +
                  "); jsync never reads it",
              "remove it: nothing but files jsync wrote belongs in the journal's folder" +
                  std::string(change && owner != 0
                                  ? "; " + Label(owner) + " then puts its change back at its "
                                                          "next `jsync sync --full`"
                                  : ""));
      if (!change) continue;  // a change slot still counts as held: its seq is no gap
    }
    if (change) {
      logs_[change->device].seqs.push_back(change->seq);
      sizes_[o.path] = o.size;
    } else if (segment) {
      logs_[segment->device].segments.push_back({segment->first, segment->last});
      sizes_[o.path] = o.size;
    } else if (device_file) {
      device_files_.push_back(o);
    } else if (key) {
      key_files_.push_back(o);
    } else if (snapshot) {
      snapshot_files_.push_back(o);
    } else {
      Problem(audit_code::kUnexpectedName, 0, o.path,
              shown + " is not part of the journal's layout (a foreign or misplaced file)",
              "jsync ignores it; remove it unless you put it there on purpose");
    }
  }
  for (auto& [device, log] : logs_) {
    std::sort(log.seqs.begin(), log.seqs.end());
    std::sort(log.segments.begin(), log.segments.end());
  }
  return Status::Ok();
}

Status Auditor::CheckKeyFiles() {
  const std::string current = KeyPath(ctx_.journal, ctx_.key_id);
  bool present = false;
  const std::string fix_damaged =
      "remove it: a device that holds a good copy puts it back at its next `jsync sync --full`";
  for (const ObjectInfo& o : key_files_) {
    if (o.path == current) present = true;
    if (not_files_.contains(o.path)) continue;
    auto bytes = ctx_.provider.Get(o.path, format::kMaxKeyFileSize);
    if (!bytes.ok() && !bytes.status().Is(Code::kCorrupt) && !bytes.status().Is(Code::kNotFound)) {
      return bytes.status();
    }
    if (bytes.ok()) report_.bytes_read += bytes->size();
    auto info = bytes.ok() ? format::ReadKeyFileInfo(*bytes)
                           : Result<format::KeyFileInfo>(bytes.status());
    const auto named = ParseKeyFilePath(ctx_.journal, o.path);
    if (info.ok() && (info->journal != ctx_.journal || info->key_id != named.value_or(0))) {
      info = Status::Corrupt("it names journal " + JournalIdHex(info->journal) + " and key " +
                             format::KeyIdHex(info->key_id) + ", not what its name says");
    }
    if (!info.ok()) {
      Problem(audit_code::kKeyFileDamaged, 0, o.path,
              "the key file " + EscapeForDisplay(o.path) +
                  " is damaged or misplaced: " + info.status().message() +
                  (o.path == current ? "; new devices cannot join with it" : ""),
              fix_damaged);
    }
  }
  if (!present) {
    Problem(audit_code::kKeyFileMissing, 0, current,
            "the journal's key file " + current +
                " is missing from the cloud; no new device can join until it is back",
            std::string("a device that holds it re-uploads it at its next `jsync sync --full` ") +
                (holds_key_copy_ ? "(this device holds a copy)" : "(this device holds none)"));
  }
  return Status::Ok();
}

Status Auditor::CheckDeviceFiles() {
  const std::string fix =
      "jsync does not publish a device file again: restore it from a backup of the folder; "
      "until then other devices show that device by its id only";
  for (const ObjectInfo& o : device_files_) {
    const DeviceId d = ParseDeviceFilePath(ctx_.journal, o.path)->device;
    with_device_file_.insert(d);
    AuditDevice& row = devices_[d];
    row.device_file = "ok";
    if (not_files_.contains(o.path)) {
      row.device_file = "damaged";
      continue;
    }
    auto bytes = ctx_.provider.Get(o.path, format::kMaxDeviceFileSize);
    if (!bytes.ok() && !bytes.status().Is(Code::kCorrupt) && !bytes.status().Is(Code::kNotFound)) {
      return bytes.status();
    }
    if (bytes.ok()) report_.bytes_read += bytes->size();
    // Sealed under the epoch current when it was written (decision 0037).
    const crypto::SecretKey* key = &ctx_.master;
    if (bytes.ok()) {
      auto kid = format::DeviceFileKeyId(*bytes);
      if (kid && *kid != ctx_.key_id && ctx_.keys && ctx_.keys->Find(*kid)) {
        key = ctx_.keys->Find(*kid);
      }
    }
    auto info = bytes.ok() ? format::OpenDeviceFile(*key, *bytes)
                           : Result<format::DeviceInfo>(bytes.status());
    if (info.ok() && (info->journal != ctx_.journal || info->device != d)) {
      info = Status::Corrupt("it names another journal or device");
    }
    if (!info.ok()) {
      row.device_file = "damaged";
      Problem(audit_code::kDeviceFileDamaged, d, o.path,
              "the device file " + EscapeForDisplay(o.path) + " of " + Label(d) +
                  " was refused: " + info.status().message(),
              "remove it; " + fix);
    }
  }
  std::set<DeviceId> writers;
  for (const auto& [d, log] : logs_) {
    if (!log.empty()) writers.insert(d);
  }
  for (const auto& [d, c] : cursors_) {
    if (c.seq > 0) writers.insert(d);
  }
  if (own_sealed_.seq > 0) writers.insert(ctx_.device);
  for (DeviceId d : writers) {
    if (with_device_file_.contains(d)) continue;
    devices_[d].device_file = "missing";
    Problem(audit_code::kDeviceFileMissing, d, DevicePath(ctx_.journal, d),
            "the device file of " + Label(d) + " is missing from the cloud although it wrote "
                                               "changes",
            fix);
  }
  return Status::Ok();
}

Status Auditor::CheckSnapshots() {
  report_.snapshots = snapshot_files_.size();
  // Without --read-data snapshots are named and listed only: their headers say nothing the
  // change walk depends on today (AuditRules::covered is where coverage plugs in).
  if (!options_.read_data) return Status::Ok();
  for (const ObjectInfo& o : snapshot_files_) {
    if (not_files_.contains(o.path)) continue;
    const auto name = ParseSnapshotPath(ctx_.journal, o.path);
    auto bytes = ctx_.provider.Get(o.path, format::kMaxSnapshotFileSize);
    if (!bytes.ok() && !bytes.status().Is(Code::kCorrupt) && !bytes.status().Is(Code::kNotFound)) {
      return bytes.status();
    }
    Status s = bytes.ok() ? Status::Ok() : bytes.status();
    if (bytes.ok()) {
      report_.bytes_read += bytes->size();
      auto parsed = format::ParseSnapshotHeader(*bytes);
      if (!parsed.ok()) {
        s = parsed.status();
      } else if (parsed->header.journal != ctx_.journal ||
                 parsed->header.device != name->device || parsed->header.hlc != name->hlc) {
        s = Status::Corrupt("its header names another journal, author or time than its name");
      } else if (auto pin = LoadPin(ctx_.store, name->device); !pin.ok()) {
        return pin.status();
      } else if (!*pin) {
        s = Status::Corrupt("its author's device file has not been read, so its signature "
                            "cannot be checked");
      } else if (!format::SnapshotSignatureValid(*bytes, (*pin)->sign_pub)) {
        s = Status::Corrupt("it is not signed by its author (someone holding the journal key "
                            "may be impersonating " + Label(name->device) + ")");
      } else if (const crypto::SecretKey* key =
                     parsed->header.key_id == ctx_.key_id ? &ctx_.master
                     : ctx_.keys                          ? ctx_.keys->Find(parsed->header.key_id)
                                                          : nullptr;
                 !key) {
        s = Status::Corrupt("it is sealed under a key this device does not hold");
      } else {
        auto opened = format::OpenSnapshot(*key, *parsed, *bytes,
                                           [](const format::SnapshotRecord&) {
                                             return Status::Ok();
                                           });
        if (!opened.ok()) s = opened.status();
      }
    }
    if (!s.ok()) {
      Problem(audit_code::kDamaged, name->device, o.path,
              "the snapshot " + EscapeForDisplay(o.path) + " was refused: " + s.message() +
                  "; devices fall back to an older snapshot or to the changes",
              "remove it; " + Label(name->device) + " writes a new snapshot when one is due");
    }
  }
  return Status::Ok();
}

Result<LoadedSegment*> Auditor::LoadSegment(DeviceId device, const SeqRange& range) {
  if (segment_ && segment_->range == range) return segment_.get();
  segment_.reset();  // one segment held at a time
  const std::string path = SegmentPath(ctx_.journal, device, range.first, range.last);
  used_segments_[device].insert(range);
  auto bytes = ctx_.provider.Get(path, format::kMaxSegmentFileSize);
  if (!bytes.ok() && !bytes.status().Is(Code::kCorrupt) && !bytes.status().Is(Code::kNotFound)) {
    return bytes.status();
  }
  Status s = bytes.ok() ? Status::Ok() : bytes.status();
  auto loaded = std::make_unique<LoadedSegment>();
  loaded->range = range;
  if (bytes.ok()) {
    report_.bytes_read += bytes->size();
    loaded->bytes = std::move(bytes).value();
    auto parsed = format::ParseSegment(loaded->bytes);
    if (!parsed.ok()) {
      s = parsed.status();
    } else if (parsed->header.journal != ctx_.journal || parsed->header.device != device ||
               parsed->header.first != range.first || parsed->header.last != range.last) {
      s = Status::Corrupt("it holds other changes than its name says");
    } else {
      loaded->parsed = std::move(parsed).value();
    }
  }
  if (!s.ok()) {
    Problem(audit_code::kDamaged, device, path,
            "the segment " + EscapeForDisplay(path) + " was refused: " + s.message(),
            OwnerFix(device, path));
    return nullptr;
  }
  segment_ = std::move(loaded);
  return segment_.get();
}

Result<std::optional<Piece>> Auditor::Fetch(DeviceId device, uint64_t seq, const RemoteLog& log,
                                            bool whole) {
  Piece piece;
  if (!log.HasSingle(seq)) {
    // Only a segment holds it: read the segment (whole; it is what holds the header).
    std::optional<SeqRange> range;
    for (const SeqRange& r : log.segments) {
      if (r.first <= seq && seq <= r.last && (!range || r.last > range->last)) range = r;
    }
    if (!range) return std::optional<Piece>();
    JSYNC_ASSIGN_OR_RETURN(LoadedSegment * seg, LoadSegment(device, *range));
    if (seg == nullptr) return std::optional<Piece>();
    piece.bytes = seg->parsed.changes[seq - range->first];
    piece.whole = true;
    piece.where = SegmentPath(ctx_.journal, device, range->first, range->last);
    return std::optional<Piece>(std::move(piece));
  }
  piece.where = ChangePath(ctx_.journal, device, seq);
  if (not_files_.contains(piece.where)) return std::optional<Piece>();
  // Without range reads a header costs the whole file; it is still only read as a header, so
  // what is checked does not depend on the provider.
  const bool ranged = !whole && ctx_.provider.capabilities().range_read;
  auto got = ranged ? ctx_.provider.GetRange(piece.where, 0, options_.header_read_bytes)
                    : ctx_.provider.Get(piece.where, format::kMaxChangeFileSize);
  if (!got.ok()) {
    const std::string shown = EscapeForDisplay(piece.where);
    if (got.status().Is(Code::kCorrupt)) {
      Problem(audit_code::kUnreadable, device, piece.where,
              Seq(seq) + " of " + Label(device) + " was refused: " + got.status().message(),
              OwnerFix(device, piece.where));
      return std::optional<Piece>();
    }
    if (got.status().Is(Code::kNotFound)) {
      Problem(audit_code::kGap, device, piece.where,
              shown + " vanished while it was being verified (something is changing the folder)",
              "run `jsync verify` again once the devices are idle");
      return std::optional<Piece>();
    }
    return got.status().WithContext(shown);
  }
  report_.bytes_read += got->size();
  piece.owned = std::move(got).value();
  piece.bytes = piece.owned;
  piece.whole = whole;
  return std::optional<Piece>(std::move(piece));
}

bool Auditor::CheckNames(DeviceId device, uint64_t seq, const Piece& piece,
                         const format::ChangeHeader& h) {
  std::string why;
  if (h.journal != ctx_.journal) {
    why = "belongs to another journal (" + JournalIdHex(h.journal) + ")";
  } else if (h.device != device) {
    why = "was written by device " + DeviceIdHex(h.device) + " but is stored under " +
          Label(device) + " (a moved or swapped file)";
  } else if (h.seq != seq) {
    why = "holds " + Seq(h.seq) + " but is stored as " + Seq(seq) +
          (h.seq < seq ? " (an old change replayed under a newer name, or two files swapped)"
                       : " (two files swapped)");
  } else if (h.key_id != ctx_.key_id && !(ctx_.keys && ctx_.keys->Find(h.key_id))) {
    why = "is encrypted under key " + format::KeyIdHex(h.key_id) + ", not the journal's key " +
          format::KeyIdHex(ctx_.key_id) + " nor one this device holds";
  } else if (h.vv.contains(h.device)) {
    why = "has a version vector that names its own device";
  }
  if (why.empty()) return true;
  Problem(audit_code::kMismatch, device, piece.where,
          Seq(seq) + " of " + Label(device) + " (" + EscapeForDisplay(piece.where) + ") " + why,
          OwnerFix(device, piece.where));
  return false;
}

void Auditor::CheckVersionVector(DeviceId device, const Piece& piece,
                                 const format::ChangeHeader& h) {
  const std::string label = Seq(h.seq) + " of " + Label(device);
  for (const auto& [dep, entry] : h.vv) {
    auto& pub = published_[dep];
    if (entry.seq > pub.first) pub = {entry.seq, piece.where};
    if (dep == ctx_.device) {
      if (entry.seq > own_sealed_.seq) {
        Problem(audit_code::kFork, device, piece.where,
                label + " claims to follow " + Seq(entry.seq) +
                    " of this device, which this device never sealed: another home writes as "
                    "this device",
                ForkFix(ctx_.device));
        return;
      }
      if (entry.seq == own_sealed_.seq && entry.head &&
          *entry.head != format::HeadTagOf(own_sealed_.hash)) {
        Problem(audit_code::kFork, device, piece.where,
                label + " builds on another home's " + Seq(entry.seq) +
                    " of this device's id than the one this device sealed",
                ForkFix(ctx_.device));
        return;
      }
      continue;
    }
    auto c = cursors_.find(dep);
    if (c != cursors_.end() && c->second.seq == entry.seq && entry.head &&
        *entry.head != format::HeadTagOf(c->second.hash)) {
      Problem(audit_code::kFork, device, piece.where,
              label + " builds on another " + Seq(entry.seq) + " of " + Label(dep) +
                  " than the one this device merged: that device's log forked",
              ForkFix(dep));
      return;
    }
  }
}

Status Auditor::WalkDevice(DeviceId device, const RemoteLog& log) {
  const bool self = device == ctx_.device;
  AuditDevice& row = devices_[device];
  row.device = device;
  row.self = self;
  row.files = log.seqs.size();
  row.segments = log.segments.size();
  row.first = log.First();
  row.last = log.Last();
  const store::Cursor cursor =
      self ? own_sealed_ : (cursors_.contains(device) ? cursors_[device] : store::Cursor{});
  row.merged = cursor.seq;
  const crypto::Sha256 zero{};
  JSYNC_ASSIGN_OR_RETURN(const auto pin, LoadPin(ctx_.store, device));

  // Seqs the cloud should hold but does not, reported as ranges.
  auto missing = [&](uint64_t a, uint64_t b, bool later_exist) {
    if (a > b) return;
    if (self && a <= own_uploaded_) {
      const uint64_t top = std::min(b, own_uploaded_);
      Problem(audit_code::kOwnMissing, device, "",
              Range(a, top) + " of this device " + (a == top ? "is" : "are") +
                  " missing from the cloud although uploaded",
              RollbackFix(device));
      a = top + 1;
      if (a > b) return;
    }
    if (!later_exist) return;
    Problem(audit_code::kGap, device, "",
            Range(a, b) + " of " + Label(device) + (a == b ? " is" : " are") +
                " missing from the cloud while later changes (up to " +
                std::to_string(log.Last()) +
                ") exist, and no snapshot covers " + (a == b ? "it" : "them") +
                ": no device can merge anything after the gap",
            RollbackFix(device));
  };

  std::optional<crypto::Sha256> prev;  // hash of the previous change, when known
  bool forked = false;                 // one fork problem per device is enough
  uint64_t seq = log.First();
  if (seq > 1) {
    std::optional<Coverage> covered;
    if (self && seq - 1 <= own_pruned_) covered = Coverage{};  // pruned by this device itself
    if (!covered && options_.rules.covered) covered = options_.rules.covered(device, seq);
    if (covered) {
      prev = covered->head;
    } else {
      missing(1, seq - 1, true);
    }
  } else if (seq == 1) {
    prev = zero;
  }
  for (; seq != 0 && seq <= log.Last(); ++seq) {
    if (!log.Has(seq)) {
      uint64_t end = seq;
      while (end + 1 <= log.Last() && !log.Has(end + 1)) ++end;
      missing(seq, end, true);
      seq = end;
      prev.reset();
      continue;
    }
    // The file at the cursor is hashed (rollback and fork), own files compared with what was
    // sealed: both need the whole file.
    const bool at_cursor = !self && seq == cursor.seq;
    const bool whole = options_.read_data || at_cursor;
    JSYNC_ASSIGN_OR_RETURN(auto fetched, Fetch(device, seq, log, whole));
    if (!fetched) {
      prev.reset();
      continue;
    }
    Piece piece = std::move(*fetched);
    ++report_.change_files_checked;
    auto parsed = format::ParseChangeHeader(piece.bytes);
    if (!parsed.ok() && !piece.whole && piece.bytes.size() < sizes_[piece.where]) {
      // A header longer than the ranged read: read the file whole.
      JSYNC_ASSIGN_OR_RETURN(fetched, Fetch(device, seq, log, true));
      if (!fetched) {
        prev.reset();
        continue;
      }
      piece = std::move(*fetched);
      parsed = format::ParseChangeHeader(piece.bytes);
    }
    if (!parsed.ok()) {
      Problem(audit_code::kDamaged, device, piece.where,
              Seq(seq) + " of " + Label(device) + " (" + EscapeForDisplay(piece.where) +
                  ") is not a valid change file: " + parsed.status().message(),
              OwnerFix(device, piece.where));
      prev.reset();
      continue;
    }
    const format::ChangeHeader& h = parsed->header;
    if (!CheckNames(device, seq, piece, h)) {
      prev.reset();
      continue;
    }
    CheckVersionVector(device, piece, h);
    // What this change must follow: the chain so far, or the head merged here.
    std::optional<crypto::Sha256> want = prev;
    if (!want && !self && cursor.seq > 0 && seq == cursor.seq + 1) want = cursor.hash;
    std::optional<crypto::Sha256> hash;
    bool authentic = false;
    if (piece.whole) {
      Expected expected{ctx_.journal, device, seq, ctx_.key_id, {seq - 1, want.value_or(zero)}};
      SetSigner(expected, pin);
      bool chain_broken = false;
      auto verified = VerifyChange(ctx_.master, expected, piece.bytes, &chain_broken);
      if (!verified.ok() && !chain_broken) {
        Problem(audit_code::kDamaged, device, piece.where,
                Seq(seq) + " of " + Label(device) + " (" + EscapeForDisplay(piece.where) +
                    ") " + verified.status().message(),
                OwnerFix(device, piece.where));
        prev.reset();
        continue;
      }
      authentic = true;
      hash = crypto::HashSha256(piece.bytes);
      if (chain_broken && want && !forked) {
        forked = true;
        Problem(audit_code::kFork, device, piece.where,
                Seq(seq) + " of " + Label(device) + " is authentic but follows another " +
                    Seq(seq - 1) + " than " +
                    (prev ? "the one the cloud holds" : "the one this device merged") +
                    ": the device's log forked (or was rewritten)",
                ForkFix(device));
      }
    } else if (want && h.prev_hash != *want && !forked) {
      forked = true;
      Problem(audit_code::kFork, device, piece.where,
              Seq(seq) + " of " + Label(device) + " follows another " + Seq(seq - 1) +
                  " than the one this device merged: the device's log forked (or was "
                  "rewritten)",
              ForkFix(device));
    }
    if (at_cursor && hash && *hash != cursor.hash && !forked) {
      forked = true;
      Problem(audit_code::kFork, device, piece.where,
              "the cloud's " + Seq(seq) + " of " + Label(device) +
                  " is another authentic " + Seq(seq) +
                  " than the one this device merged: the device's log forked (a copied home) "
                  "or was rolled back to another version",
              ForkFix(device));
    }
    if (self) {
      JSYNC_ASSIGN_OR_RETURN(auto sealed, ctx_.store.GetSealed(seq));
      const size_t n = piece.whole ? piece.bytes.size() : parsed->header_size;
      const bool same = sealed && (piece.whole ? sealed->bytes.size() == n
                                               : sealed->bytes.size() >= n) &&
                        std::equal(piece.bytes.begin(), piece.bytes.begin() + n,
                                   sealed->bytes.begin());
      if (!same && !forked) {
        forked = true;
        Problem(audit_code::kFork, device, piece.where,
                !sealed ? "the cloud holds " + Seq(seq) +
                              " of this device's id, which this device never sealed: another "
                              "home (a copy of this one) writes as this device"
                        : EscapeForDisplay(piece.where) + " holds other bytes than this "
                                                          "device's " +
                              Seq(seq) + (authentic ? " (another home's authentic change)" : ""),
                ForkFix(device));
      }
    }
    prev = hash;
  }
  segment_.reset();

  // The tail: what this device merged (or uploaded) and the cloud no longer holds.
  if (self) {
    missing(std::max(log.Last(), own_pruned_) + 1, own_uploaded_, false);
  } else if (cursor.seq > log.Last()) {
    rolled_back_.insert(device);
    Problem(audit_code::kRollback, device, "",
            log.empty() ? Label(device) + "'s log is gone from the cloud but this device merged " +
                              std::to_string(cursor.seq) + " of its changes"
                        : Label(device) + "'s log in the cloud ends at " + Seq(log.Last()) +
                              " but this device already merged " + std::to_string(cursor.seq) +
                              ": the cloud lost or rolled back files",
            RollbackFix(device));
  }
  if (options_.read_data) JSYNC_RETURN_IF_ERROR(CheckUnusedSegments(device, log));
  return Status::Ok();
}

Status Auditor::CheckUnusedSegments(DeviceId device, const RemoteLog& log) {
  // The walk read single files where they exist; a segment holding the same changes is read
  // here, its framing and each change in it checked (names, authentication, chain inside).
  JSYNC_ASSIGN_OR_RETURN(const auto pin, LoadPin(ctx_.store, device));
  for (const SeqRange& range : log.segments) {
    if (used_segments_[device].contains(range)) continue;
    JSYNC_ASSIGN_OR_RETURN(LoadedSegment * seg, LoadSegment(device, range));
    if (seg == nullptr) continue;
    const std::string path = SegmentPath(ctx_.journal, device, range.first, range.last);
    std::optional<crypto::Sha256> prev;
    if (range.first == 1) prev = crypto::Sha256{};
    for (uint64_t seq = range.first; seq <= range.last; ++seq) {
      ByteSpan bytes = seg->parsed.changes[seq - range.first];
      Expected expected{ctx_.journal, device, seq, ctx_.key_id,
                        {seq - 1, prev.value_or(crypto::Sha256{})}};
      SetSigner(expected, pin);
      bool chain_broken = false;
      auto verified = VerifyChange(ctx_.master, expected, bytes, &chain_broken);
      if (!verified.ok() && !(chain_broken && !prev)) {
        Problem(audit_code::kDamaged, device, path,
                Seq(seq) + " in the segment " + EscapeForDisplay(path) + " " +
                    verified.status().message(),
                "remove the segment: " + Label(device) +
                    " writes it again from its own changes (the single files are still read)");
        break;
      }
      prev = crypto::HashSha256(bytes);
    }
    segment_.reset();
  }
  return Status::Ok();
}

void Auditor::CheckPublished() {
  // Another device merged change N of D, so N was published; a log ending before it lost it.
  for (const auto& [dep, pub] : published_) {
    if (dep == ctx_.device || rolled_back_.contains(dep)) continue;
    auto log = logs_.find(dep);
    const uint64_t last = log == logs_.end() ? 0 : log->second.Last();
    if (pub.first <= last) continue;
    Problem(audit_code::kRollback, dep, "",
            Label(dep) + "'s log in the cloud ends at " + (last == 0 ? "nothing" : Seq(last)) +
                ", but " + EscapeForDisplay(pub.second) + " says its writer merged " +
                Seq(pub.first) + ": published changes were lost or rolled back",
            RollbackFix(dep));
  }
}

Status Auditor::Run() {
  JSYNC_RETURN_IF_ERROR(LoadLocalState());
  JSYNC_ASSIGN_OR_RETURN(auto listing, ctx_.provider.List(JournalRoot(ctx_.journal)));
  JSYNC_RETURN_IF_ERROR(Classify(listing));
  listing.clear();
  listing.shrink_to_fit();
  JSYNC_RETURN_IF_ERROR(CheckKeyFiles());
  JSYNC_RETURN_IF_ERROR(CheckDeviceFiles());
  JSYNC_RETURN_IF_ERROR(CheckSnapshots());
  // Every device with a log, a cursor, or (this one) sealed changes.
  for (const auto& [d, c] : cursors_) {
    if (c.seq > 0) logs_.try_emplace(d);
  }
  if (own_sealed_.seq > 0) logs_.try_emplace(ctx_.device);
  for (const auto& [d, log] : logs_) JSYNC_RETURN_IF_ERROR(WalkDevice(d, log));
  CheckPublished();
  for (auto& [d, row] : devices_) {
    row.device = d;
    row.self = d == ctx_.device;
    if (auto it = names_.find(d); it != names_.end()) row.name = it->second.name;
    if (row.device_file.empty()) row.device_file = "missing";
    report_.devices.push_back(row);
  }
  return Status::Ok();
}

}  // namespace

Result<AuditReport> AuditRemote(const AuditContext& ctx, const AuditOptions& options) {
  AuditReport report;
  report.read_data = options.read_data;
  Auditor auditor(ctx, options, report);
  JSYNC_RETURN_IF_ERROR(auditor.Run());
  return report;
}

}  // namespace jsync::sync

#include "core/sync/reidentify.h"

#include "core/sync/key_sync.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "core/format/device_file.h"
#include "core/sync/fork.h"
#include "core/sync/remote_layout.h"

namespace jsync::sync {
namespace {

// Half-open character seq intervals [first, second) inserted by the re-keyed ops.
using Intervals = std::vector<std::pair<uint64_t, uint64_t>>;

Intervals Merge(Intervals v) {
  std::sort(v.begin(), v.end());
  Intervals out;
  for (const auto& iv : v) {
    if (!out.empty() && iv.first <= out.back().second) {
      out.back().second = std::max(out.back().second, iv.second);
    } else {
      out.push_back(iv);
    }
  }
  return out;
}

bool Contains(const Intervals& v, uint64_t seq) {
  auto it = std::upper_bound(v.begin(), v.end(), std::make_pair(seq, UINT64_MAX));
  return it != v.begin() && seq < std::prev(it)->second;
}

// Splits a delete range of `from` at the interval boundaries, moving the re-keyed parts.
void SplitRange(const text::DeleteRange& r, const Intervals& v, DeviceId to,
                std::vector<text::DeleteRange>& out) {
  uint64_t at = r.seq;
  const uint64_t end = r.seq + r.len;
  while (at < end) {
    auto it = std::upper_bound(v.begin(), v.end(), std::make_pair(at, UINT64_MAX));
    bool inside = it != v.begin() && at < std::prev(it)->second;
    uint64_t stop = inside ? std::min(end, std::prev(it)->second)
                           : std::min(end, it == v.end() ? end : it->first);
    out.push_back({inside ? to : r.device, at, stop - at});
    at = stop;
  }
}

Result<std::vector<Op>> OpenOwnChange(const crypto::SecretKey& master, const Bytes& bytes) {
  JSYNC_ASSIGN_OR_RETURN(format::ParsedChange parsed, format::ParseChangeHeader(bytes));
  return format::OpenChange(master, parsed, bytes);
}

}  // namespace

void RekeyOps(std::vector<Op>& ops, DeviceId from, DeviceId to) {
  std::set<Hlc> moved;
  Intervals chars;
  for (const Op& op : ops) {
    if (op.id.device != from) continue;
    moved.insert(op.id.hlc);
    if (op.kind == OpKind::kTextInsert) {
      chars.push_back({op.char_seq, op.char_seq + text::Utf8ToUtf32(op.value).size()});
    }
  }
  chars = Merge(std::move(chars));
  auto op_id = [&](OpId& id) {
    if (id.device == from && moved.contains(id.hlc)) id.device = to;
  };
  auto char_id = [&](text::CharId& c) {
    if (c.device == from && Contains(chars, c.seq)) c.device = to;
  };
  for (Op& op : ops) {
    op_id(op.id);
    for (OpId& o : op.observed) op_id(o);
    std::sort(op.observed.begin(), op.observed.end());
    char_id(op.origin_left);
    char_id(op.origin_right);
    std::vector<text::DeleteRange> ranges;
    for (const auto& r : op.ranges) {
      if (r.device == from) {
        SplitRange(r, chars, to, ranges);
      } else {
        ranges.push_back(r);
      }
    }
    op.ranges = std::move(ranges);
  }
}

Result<std::map<DeviceId, uint64_t>> ReplayFloor(store::Store& store) {
  std::map<DeviceId, uint64_t> floor;
  JSYNC_ASSIGN_OR_RETURN(auto text, store.GetMeta(kReplayFloorMeta));
  if (!text) return floor;
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_object()) return Status::Corrupt("local database has a malformed replay floor");
  for (const auto& [hex, seq] : json.items()) {
    JSYNC_ASSIGN_OR_RETURN(DeviceId d, ParseDeviceId(hex));
    if (!seq.is_number_unsigned()) {
      return Status::Corrupt("local database has a malformed replay floor");
    }
    floor[d] = seq.get<uint64_t>();
  }
  return floor;
}

Result<Reidentified> Reidentify(const ReidentifyContext& ctx, uint64_t first_divergent) {
  store::Store& store = ctx.store;
  Reidentified out;
  out.device = NewDeviceId();

  // Everything of the old id the cloud never accepted, oldest first: a replay still waiting
  // from an earlier re-identification, the divergent sealed changes, the outbox.
  JSYNC_ASSIGN_OR_RETURN(std::vector<Op> ops, store.ReadReplay());
  JSYNC_ASSIGN_OR_RETURN(auto divergent, store.SealedFrom(first_divergent));
  for (const auto& row : divergent) {
    auto opened = OpenOwnChange(ctx.master, row.bytes);
    if (!opened.ok()) {
      return opened.status().WithContext("local copy of own change " + std::to_string(row.seq));
    }
    ops.insert(ops.end(), opened->begin(), opened->end());
  }
  JSYNC_ASSIGN_OR_RETURN(auto outbox, store.ReadOutbox(SIZE_MAX));
  for (auto& row : outbox) ops.push_back(std::move(row.op));
  RekeyOps(ops, ctx.device, out.device);
  out.replay_ops = ops.size();

  JSYNC_ASSIGN_OR_RETURN(auto name, store.GetMeta("device_name"));
  JSYNC_ASSIGN_OR_RETURN(auto devices, store.Devices());
  store::DeviceRow row{name.value_or(""), devices.contains(ctx.device)
                                              ? devices[ctx.device].platform
                                              : std::string("linux")};
  JSYNC_ASSIGN_OR_RETURN(auto provider_name, store.GetMeta("provider"));
  format::DeviceInfo info{ctx.journal, out.device, ctx.key_id, row.name,
                          row.platform, ctx.now_ms, provider_name.value_or("")};
  JSYNC_ASSIGN_OR_RETURN(Bytes device_file,
                         ctx.device_keys ? format::SealDeviceFileV2(ctx.master, info, *ctx.device_keys)
                                         : format::SealDeviceFile(ctx.master, info));
  // Before the local switch: a crash here leaves only an unused device file behind.
  JSYNC_RETURN_IF_ERROR(ctx.provider.PutIfAbsent(DevicePath(ctx.journal, out.device), device_file)
                            .WithContext("uploading the new device file"));

  JSYNC_ASSIGN_OR_RETURN(auto prefix_row, store.GetSealed(first_divergent - 1));
  const store::Cursor accepted{first_divergent - 1,
                               prefix_row ? prefix_row->hash : crypto::Sha256{}};
  JSYNC_ASSIGN_OR_RETURN(auto floor, ReplayFloor(store));

  auto txn = store.BeginDurable();
  JSYNC_RETURN_IF_ERROR(txn.began());
  JSYNC_RETURN_IF_ERROR(store.ClearSealed());
  JSYNC_RETURN_IF_ERROR(store.ClearOutbox());
  JSYNC_RETURN_IF_ERROR(store.ClearReplay());
  if (ops.empty() && floor.empty()) {
    // The local state holds nothing the cloud lacks: the old id simply becomes a remote
    // device whose accepted branch this device merged up to `accepted`.
    JSYNC_RETURN_IF_ERROR(store.SetCursor(ctx.device, accepted));
  } else {
    // The records hold unaccepted ops under the old id. Their ids are re-keyed, which changes
    // how concurrent text inserts order (YATA compares device ids), so the records are rebuilt
    // from the cloud and the re-keyed ops applied on top once everything they follow is back.
    JSYNC_ASSIGN_OR_RETURN(auto cursors, store.Cursors());
    for (const auto& [d, c] : cursors) floor[d] = std::max(floor[d], c.seq);
    floor[ctx.device] = std::max(floor[ctx.device], accepted.seq);
    floor.erase(out.device);
    nlohmann::json json = nlohmann::json::object();
    for (const auto& [d, seq] : floor) {
      if (seq > 0) json[DeviceIdHex(d)] = seq;
    }
    JSYNC_RETURN_IF_ERROR(store.ClearRecordsAndCursors());
    for (const Op& op : ops) JSYNC_RETURN_IF_ERROR(store.AppendReplay(op));
    JSYNC_RETURN_IF_ERROR(store.SetMeta(kReplayFloorMeta, json.dump()));
    out.rebuilding = true;
  }
  JSYNC_RETURN_IF_ERROR(store.PutDevice(out.device, row));
  JSYNC_RETURN_IF_ERROR(store.SetMeta("device_id", DeviceIdHex(out.device)));
  if (ctx.device_keys) {
    JSYNC_RETURN_IF_ERROR(SavePin(store, out.device,
                                  {ctx.device_keys->sign.pub, ctx.device_keys->agree.pub, 1, 1}));
  }
  // Both speak of the old id's own seqs, which this device no longer writes.
  JSYNC_RETURN_IF_ERROR(store.DeleteMeta(kForkHoldMeta));
  JSYNC_RETURN_IF_ERROR(store.DeleteMeta(kOwnHeadEvidenceMeta));
  JSYNC_RETURN_IF_ERROR(txn.Commit());
  return out;
}

Result<bool> ApplyReplayIfReady(store::Store& store, std::string& unmet) {
  JSYNC_ASSIGN_OR_RETURN(auto floor, ReplayFloor(store));
  JSYNC_ASSIGN_OR_RETURN(auto text, store.GetMeta(kReplayFloorMeta));
  if (!text) return false;
  JSYNC_ASSIGN_OR_RETURN(auto cursors, store.Cursors());
  for (const auto& [d, seq] : floor) {
    const uint64_t have = cursors.contains(d) ? cursors[d].seq : 0;
    if (have < seq) {
      unmet = "change " + std::to_string(seq) + " of device " + DeviceIdHex(d);
      return false;
    }
  }
  auto txn = store.Begin();
  JSYNC_RETURN_IF_ERROR(txn.began());
  JSYNC_ASSIGN_OR_RETURN(std::vector<Op> ops, store.ReadReplay());
  std::map<std::pair<std::string, RecordId>, RecordState> touched;
  for (const Op& op : ops) {
    auto key = std::make_pair(op.collection, op.record);
    auto it = touched.find(key);
    if (it == touched.end()) {
      JSYNC_ASSIGN_OR_RETURN(auto loaded, store.LoadRecord(op.collection, op.record));
      it = touched.emplace(key, loaded ? std::move(*loaded) : RecordState()).first;
    }
    JSYNC_RETURN_IF_ERROR(it->second.Apply(op).WithContext("re-applying a re-keyed own op"));
  }
  for (const auto& [key, state] : touched) {
    JSYNC_RETURN_IF_ERROR(store.SaveRecord(key.first, key.second, state));
  }
  JSYNC_RETURN_IF_ERROR(store.MoveReplayToOutbox());
  JSYNC_RETURN_IF_ERROR(store.DeleteMeta(kReplayFloorMeta));
  JSYNC_RETURN_IF_ERROR(txn.Commit());
  return true;
}

}  // namespace jsync::sync

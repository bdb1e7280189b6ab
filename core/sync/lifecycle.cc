#include "core/sync/lifecycle.h"

#include <algorithm>

namespace jsync::sync {

bool RemoteLog::HasSingle(uint64_t seq) const {
  return std::binary_search(seqs.begin(), seqs.end(), seq);
}

bool RemoteLog::Has(uint64_t seq) const {
  if (HasSingle(seq)) return true;
  return std::any_of(segments.begin(), segments.end(),
                     [&](const SeqRange& s) { return s.first <= seq && seq <= s.last; });
}

uint64_t RemoteLog::Last() const {
  uint64_t last = seqs.empty() ? 0 : seqs.back();
  for (const auto& s : segments) last = std::max(last, s.last);
  return last;
}

uint64_t RemoteLog::First() const {
  uint64_t first = seqs.empty() ? 0 : seqs.front();
  for (const auto& s : segments) first = first == 0 ? s.first : std::min(first, s.first);
  return first;
}

std::optional<SeqRange> RemoteLog::SegmentFor(uint64_t seq) const {
  std::optional<SeqRange> best;
  for (const auto& s : segments) {
    if (s.first <= seq && seq <= s.last && (!best || s.last > best->last)) best = s;
  }
  if (best && (best->last > seq || !HasSingle(seq))) return best;
  return std::nullopt;
}

std::vector<SeqRange> TargetSegments(uint64_t uploaded) {
  std::vector<SeqRange> out;
  uint64_t start = 1;
  for (int k = 63; k >= static_cast<int>(kMinSegmentLog2); --k) {
    const uint64_t size = uint64_t{1} << k;
    if (uploaded & size) {
      out.push_back({start, start + size - 1});
      start += size;
    }
  }
  return out;
}

std::map<DeviceId, uint64_t> PrunedBefore(const std::map<DeviceId, RemoteLog>& logs,
                                          const std::map<DeviceId, uint64_t>& cursors) {
  std::map<DeviceId, uint64_t> out;
  for (const auto& [device, log] : logs) {
    auto c = cursors.find(device);
    const uint64_t next = (c == cursors.end() ? 0 : c->second) + 1;
    if (log.Has(next) || log.Last() < next) continue;
    // The first file held above the hole starts what can be read again.
    auto single = std::upper_bound(log.seqs.begin(), log.seqs.end(), next);
    uint64_t above = single == log.seqs.end() ? UINT64_MAX : *single;
    for (const auto& seg : log.segments) {
      if (seg.first > next) above = std::min(above, seg.first);
    }
    out[device] = above - 1;
  }
  return out;
}

std::vector<SnapshotCandidate> OrderCandidates(std::vector<SnapshotCandidate> all) {
  std::sort(all.begin(), all.end(), [](const SnapshotCandidate& a, const SnapshotCandidate& b) {
    return std::pair(a.hlc, a.author) > std::pair(b.hlc, b.author);
  });
  return all;
}

bool Covers(const format::SnapshotVv& vv, const std::map<DeviceId, uint64_t>& needed) {
  for (const auto& [device, seq] : needed) {
    auto it = vv.find(device);
    if (it == vv.end() || it->second.seq < seq) return false;
  }
  return true;
}

uint64_t PruneBound(uint64_t snapshot_self_seq, uint64_t uploaded,
                    const std::map<DeviceId, std::optional<Ack>>& others, uint64_t now_ms,
                    int64_t inactive_after_ms) {
  if (uploaded <= 1) return 0;
  uint64_t bound = std::min(snapshot_self_seq, uploaded - 1);
  for (const auto& [device, ack] : others) {
    if (!ack) return 0;
    const bool inactive = inactive_after_ms >= 0 && now_ms > ack->wall_ms &&
                          now_ms - ack->wall_ms > static_cast<uint64_t>(inactive_after_ms);
    if (!inactive) bound = std::min(bound, ack->seq);
  }
  return bound;
}

}  // namespace jsync::sync

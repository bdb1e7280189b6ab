// A journal that lives for years (docs/decisions/0035-snapshots-segments-pruning.md): the pure
// rules of segments, snapshots and pruning, kept apart from the cycle that applies them
// (core/sync/snapshots.cc) so each rule can be tested on its own.
//
//   segments: a device keeps its uploaded changes 1..U (rounded down to a multiple of 8)
//     covered by aligned power-of-two blocks, one per binary digit of U (4096 + 512 + ...), so
//     a reader at any point downloads at most one block per digit plus fewer than 8 files.
//   snapshots: a device writes its whole state once enough was merged or written since its
//     last one; a new device (or one whose missing changes were pruned) loads the best one.
//   pruning: a device removes its own change files only when its own uploaded snapshot covers
//     them and every active device's newest change says it merged them; never its newest.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/format/snapshot_file.h"
#include "core/model/ids.h"

namespace jsync::sync {

struct LifecycleOptions {
  // A snapshot is written once this many ops were merged or sealed since the last own one,
  // or this many bytes of change files went up or down.
  uint64_t snapshot_min_ops = 20000;
  uint64_t snapshot_min_bytes = 8u << 20;
  // A device that wrote nothing for this long no longer holds back pruning; when it comes
  // back it catches up through a snapshot.
  int64_t inactive_after_ms = 90LL * 24 * 3600 * 1000;
  bool segments = true;
  bool prune = true;
  size_t max_removals_per_cycle = 512;  // bounds one cycle's requests
};

// Smallest segment: the last fewer-than-8 changes are read one by one.
inline constexpr unsigned kMinSegmentLog2 = 3;

struct SeqRange {
  uint64_t first = 0;
  uint64_t last = 0;
  bool operator==(const SeqRange&) const = default;
  bool operator<(const SeqRange& o) const { return std::pair(first, last) < std::pair(o.first, o.last); }
};

// What the cloud holds of one device's log.
struct RemoteLog {
  std::vector<uint64_t> seqs;      // single change files, sorted
  std::vector<SeqRange> segments;  // segments, sorted

  bool Has(uint64_t seq) const;
  bool HasSingle(uint64_t seq) const;
  uint64_t Last() const;   // highest seq held; 0 when empty
  uint64_t First() const;  // lowest seq held; 0 when empty
  bool empty() const { return seqs.empty() && segments.empty(); }
  // The segment to read for `seq`: the one containing it that reaches furthest, when it holds
  // more than `seq` alone or no single file of `seq` exists.
  std::optional<SeqRange> SegmentFor(uint64_t seq) const;
};

// The aligned blocks that should cover 1..uploaded (see the header comment).
std::vector<SeqRange> TargetSegments(uint64_t uploaded);

// Seqs each device must already be covered through, so a state can start from a snapshot:
// for a device whose log (singles or segments) does not reach back to `cursor + 1`, the seq
// just before its first held file.
std::map<DeviceId, uint64_t> PrunedBefore(const std::map<DeviceId, RemoteLog>& logs,
                                          const std::map<DeviceId, uint64_t>& cursors);

struct SnapshotCandidate {
  std::string path;
  DeviceId author = 0;
  uint64_t hlc = 0;
};

// Order in which to try snapshots: newest first (the loader then checks coverage in the
// header, which only a download shows).
std::vector<SnapshotCandidate> OrderCandidates(std::vector<SnapshotCandidate> all);

// Whether a snapshot's version vector covers what was pruned (`needed`, from PrunedBefore).
bool Covers(const format::SnapshotVv& vv, const std::map<DeviceId, uint64_t>& needed);

struct Ack {
  uint64_t seq = 0;      // what the device's newest change says it merged of this device
  uint64_t wall_ms = 0;  // when it wrote that change (its ops' HLC), for activity
};

// Own seqs that may be removed: covered by the own snapshot (`snapshot_self_seq`), merged by
// every active device (an active device without an ack holds everything back), and below the
// newest uploaded change (kept so rollbacks stay visible). 0: nothing.
uint64_t PruneBound(uint64_t snapshot_self_seq, uint64_t uploaded,
                    const std::map<DeviceId, std::optional<Ack>>& others, uint64_t now_ms,
                    int64_t inactive_after_ms);

}  // namespace jsync::sync

namespace jsync::sync {

// Meta keys of the lifecycle (docs/formats.md, local files).
inline constexpr const char* kRebuildOwnMeta = "rebuild_own";        // own changes merged again
inline constexpr const char* kPrunedThroughMeta = "pruned_through";  // own seqs removed: 1..N
inline constexpr const char* kPruneDoneMeta = "prune_done";          // removal has reached N
inline constexpr const char* kOwnSegmentsMeta = "own_segments";      // [[first, last], ...]
inline constexpr const char* kOwnSnapshotsMeta = "own_snapshots";    // [{path, seq}, ...]
inline constexpr const char* kSnapshotSinceMeta = "snapshot_since";  // {ops, bytes}
inline constexpr const char* kAckMetaPrefix = "ack:";                // + device hex: "seq wall"
// Own snapshots kept in the cloud: the newest and the one before (a reader may be loading it).
inline constexpr size_t kOwnSnapshotsKept = 2;

}  // namespace jsync::sync

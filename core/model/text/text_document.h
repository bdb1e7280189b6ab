// A sequence CRDT for text (YATA, the algorithm of Yjs): concurrent inserts at one place are
// ordered by their origins and device ids, and a run typed by one device never interleaves
// with another's character by character.
//
// Every character has an id (device, seq), seq from a dense per-device counter. Characters are
// stored as run-length-encoded items: a run typed by one device in one go is one item. Items
// live in leaves of at most kLeafItems; a Fenwick tree over leaf lengths finds a position in
// O(log n), and a per-device map from ids to items (built on first remote op) finds an id in
// O(log n). Deleted items keep their ids and length but drop their text (tombstones).
//
// Apply*() expect causal delivery: an insert's origins and a delete's targets already exist.
// Not thread-safe. Copyable (deep copy).
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/ids.h"
#include "core/util/bytes.h"

namespace jsync::text {

struct CharId {
  DeviceId device = 0;  // 0: none (the start or end of the text)
  uint64_t seq = 0;
  bool none() const { return device == 0; }
  auto operator<=>(const CharId&) const = default;
};

struct InsertOp {
  CharId id;            // of the first character; the others follow with seq + i
  CharId origin_left;   // the character just left of the insertion point when it was made
  CharId origin_right;  // the item just right of it
  std::u32string text;
  bool operator==(const InsertOp&) const = default;
};

struct DeleteRange {
  DeviceId device = 0;
  uint64_t seq = 0;
  uint64_t len = 0;
  bool operator==(const DeleteRange&) const = default;
};

struct DeleteOp {
  std::vector<DeleteRange> ranges;
  bool operator==(const DeleteOp&) const = default;
};

class TextDocument {
 public:
  TextDocument() = default;

  // Local edits at code-point positions. The returned op is already applied here; send it to
  // other devices. `first_seq` is this device's next unused character counter.
  // kInvalid when the position is past the end.
  Result<InsertOp> LocalInsert(DeviceId me, uint64_t first_seq, size_t pos,
                               std::u32string_view text);
  Result<DeleteOp> LocalDelete(size_t pos, size_t len);

  // Remote (or replayed) ops. kCorrupt when an origin or target is unknown or the insert's
  // ids already exist; nothing is changed then.
  Status ApplyInsert(const InsertOp& op);
  Status ApplyDelete(const DeleteOp& op);

  size_t size() const { return visible_; }  // visible code points
  std::u32string Text() const;
  std::string Utf8() const;
  // How many characters of the id range are visible (not deleted); 0 for unknown ids.
  uint64_t VisibleCount(const DeleteRange& ids) const;
  // The visible text with the characters of `hidden` (id ranges) left out.
  std::u32string TextWithout(const std::vector<DeleteRange>& hidden) const;
  size_t item_count() const;
  size_t tombstone_count() const;  // deleted characters still kept for merging
  // One past the highest character seq of `device` in this document (1 when it has none):
  // a floor for that device's next LocalInsert.
  uint64_t NextSeqOf(DeviceId device) const;

  // The whole state (visible text, ids, origins, tombstones without their text), zstd-
  // compressed; what a new device loads. Equal documents encode to equal bytes.
  // `zstd_level`: 9 for sending (smallest); the local store uses a faster level.
  Bytes Encode(int zstd_level = 9) const;
  static Result<TextDocument> Decode(ByteSpan bytes);

  // Same characters, ids, origins and tombstones (however items happen to be split).
  bool operator==(const TextDocument& other) const;

  // Compaction hook: tombstones can be dropped once every device has merged past them and no
  // future op can name them as an origin. That needs the journal-wide stable version vector,
  // which snapshots will provide; until then tombstones stay (they cost ids, not text).

 private:
  static constexpr size_t kLeafItems = 64;
  static constexpr uint32_t kNone = UINT32_MAX;

  struct Item {
    DeviceId device = 0;
    uint64_t seq = 0;  // id of the first character
    uint32_t len = 0;
    bool deleted = false;
    CharId origin_left;
    CharId origin_right;
    std::u32string text;  // empty when deleted
    uint32_t leaf = kNone;
    uint32_t slot = 0;  // index in the leaf
    CharId last_id() const { return {device, seq + len - 1}; }
  };
  struct Leaf {
    std::vector<uint32_t> items;  // item handles in document order
    uint64_t visible = 0;
  };
  struct Place {
    uint32_t item = kNone;
    uint32_t offset = 0;
  };
  // A maximal run of characters one item could hold: the canonical unit of encoding.
  struct Run {
    DeviceId device;
    uint64_t seq;
    uint64_t len;
    bool deleted;
    CharId origin_left, origin_right;
    bool operator==(const Run&) const = default;
  };
  std::vector<Run> CanonicalRuns(std::u32string* visible_text) const;

  uint32_t NewItem(Item item);
  // Splits item h so that a new item starts at `offset`; returns the new right part.
  uint32_t Split(uint32_t h, uint32_t offset);
  // Inserts item h right after item `after` (kNone: at the very start).
  void InsertAfter(uint32_t after, uint32_t h);
  uint32_t Next(uint32_t h) const;
  uint32_t First() const;
  // The item holding visible character `index` and the offset in it.
  Place FindVisible(size_t index);
  uint32_t FindId(CharId id);  // kNone if unknown
  void BuildIdIndex();
  void IndexItem(uint32_t h);
  void AddVisible(uint32_t leaf, int64_t delta);
  void RebuildFenwick();
  size_t LeafOrder(uint32_t leaf) const { return leaf_order_[leaf]; }
  void MarkDeleted(uint32_t h, DeleteOp* record);
  // Character-level span [seq, seq+len) of `device` split out into whole items, in order.
  Status CollectRange(const DeleteRange& r, std::vector<uint32_t>& out);

  std::vector<Item> items_;
  std::vector<Leaf> leaves_;
  std::vector<uint32_t> order_;       // leaf ids in document order
  std::vector<uint32_t> leaf_order_;  // leaf id -> index in order_
  std::vector<uint64_t> fenwick_;     // over order_, visible lengths
  bool fenwick_valid_ = true;
  size_t visible_ = 0;
  bool id_index_built_ = false;
  std::map<DeviceId, std::map<uint64_t, uint32_t>> id_index_;  // device -> seq -> item
};

std::u32string Utf8ToUtf32(std::string_view utf8);  // REQUIRES: valid UTF-8
std::string Utf32ToUtf8(std::u32string_view text);

}  // namespace jsync::text

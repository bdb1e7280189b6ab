// A sequence CRDT for text (YATA, the algorithm of Yjs): concurrent inserts at one place are
// ordered by their origins and device ids, and a run typed by one device never interleaves
// with another's character by character.
//
// Every character has an id (device, seq), seq from a dense per-device counter. Characters are
// stored as run-length-encoded items: a run typed by one device in one go is one item, and
// neighbours one item could hold (a continued run, adjacent tombstones of one deletion) are
// merged back as soon as they meet, so the items in memory are about the runs Encode writes.
// Items live in leaves of at most kLeafItems; a leaf holds the visible text of its items as
// one UTF-8 string (deleted characters keep their ids and origins, never their text). A Fenwick
// tree over leaf lengths finds a position in O(log n), and a per-device map from ids to items
// (built on first remote op) finds an id in O(log n). docs/decisions/0040-text-memory.md.
//
// Apply*() expect causal delivery: an insert's origins and a delete's targets already exist.
// Not thread-safe. Copyable (deep copy).
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
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
  static constexpr size_t kLeafItems = 16;
  static constexpr uint32_t kNone = UINT32_MAX;

  // 64 bytes, no heap of its own: the text lives in the leaf.
  struct Item {
    DeviceId device = 0;
    uint64_t seq = 0;  // id of the first character
    CharId origin_left;
    CharId origin_right;
    uint32_t len = 0;  // 0: a free slot (merged into a neighbour)
    uint32_t leaf = kNone;
    uint16_t slot = 0;  // index in the leaf
    bool deleted = false;
    CharId last_id() const { return {device, seq + len - 1}; }
  };
  struct Leaf {
    std::vector<uint32_t> items;  // item handles in document order
    std::string text;             // the visible characters of `items`, in order, UTF-8
    uint64_t visible = 0;         // code points in `text`
  };
  static constexpr size_t kUnknown = SIZE_MAX;
  struct Place {
    uint32_t item = kNone;
    uint32_t offset = 0;
    size_t leaf_chars = 0;  // visible characters before the item in its leaf
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
  // Whether `b`, right after `a`, continues it (one item could hold both).
  static bool Continues(const Item& a, const Item& b) {
    return a.device == b.device && a.seq + a.len == b.seq && a.deleted == b.deleted &&
           b.origin_left == CharId{a.device, a.seq + a.len - 1} &&
           b.origin_right == a.origin_right;
  }
  std::vector<Run> CanonicalRuns(std::string* visible_utf8) const;

  uint32_t NewItem(const Item& item);
  // Splits item h so that a new item starts at `offset`; returns the new right part.
  uint32_t Split(uint32_t h, uint32_t offset);
  // Inserts item h right after item `after` (kNone: at the very start) with its text
  // (`utf8`, empty for the right part of a split, whose text is already in place).
  // `chars_before`: visible characters before the new item in after's leaf, if known.
  void InsertAfter(uint32_t after, uint32_t h, std::string_view utf8,
                   size_t chars_before = kUnknown);
  // Splits leaf `leaf` when full so that slot `slot` can take one more item; returns where
  // that slot is then.
  std::pair<uint32_t, size_t> MakeRoom(uint32_t leaf, size_t slot);
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
  size_t CharsBefore(uint32_t h) const;  // visible characters before h in its leaf
  static size_t ByteOffset(const Leaf& leaf, size_t chars);
  // `chars_before` as for InsertAfter, of h itself.
  void MarkDeleted(uint32_t h, DeleteOp* record, size_t chars_before = kUnknown);
  // Merges h with its neighbours in the leaf where one continues the other; returns the
  // item that holds h's characters afterwards.
  uint32_t MergeAround(uint32_t h);
  void MergeNext(uint32_t h);  // REQUIRES: Continues(h, next in the same leaf)
  // Character-level span [seq, seq+len) of `device` split out into whole items, in order.
  Status CollectRange(const DeleteRange& r, std::vector<uint32_t>& out);

  std::vector<Item> items_;
  std::vector<uint32_t> free_;  // merged-away handles to reuse
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

#include "core/model/text/text_document.h"

#include <zstd.h>

#include <algorithm>
#include <unordered_set>

namespace jsync::text {
namespace {

constexpr uint8_t kEncodingVersion = 1;
constexpr size_t kMaxDecodedSize = 256u << 20;

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

}  // namespace

std::u32string Utf8ToUtf32(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<uint8_t>(s[i]);
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < len && i + k < s.size(); ++k) {
      cp = cp << 6 | (static_cast<uint8_t>(s[i + k]) & 0x3f);
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

std::string Utf32ToUtf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }
  return out;
}

// ---- structure ---------------------------------------------------------------------------

namespace {

// Bytes of the UTF-8 sequence a lead byte starts, as Utf8ToUtf32 reads it (leaf text is
// always written by Utf32ToUtf8, so every lead byte is one of these).
size_t SequenceLength(char lead) {
  const auto c = static_cast<uint8_t>(lead);
  return c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
}

// Bytes of the first `chars` code points of `s` from byte `from`.
size_t Utf8Bytes(std::string_view s, size_t from, size_t chars) {
  size_t b = from;
  for (; chars > 0 && b < s.size(); --chars) b += SequenceLength(s[b]);
  return std::min(b, s.size()) - from;
}

}  // namespace

uint32_t TextDocument::NewItem(const Item& item) {
  if (!free_.empty()) {
    const uint32_t h = free_.back();
    free_.pop_back();
    items_[h] = item;
    return h;
  }
  items_.push_back(item);
  return static_cast<uint32_t>(items_.size() - 1);
}

uint32_t TextDocument::First() const {
  return order_.empty() ? kNone : leaves_[order_[0]].items[0];
}

uint32_t TextDocument::Next(uint32_t h) const {
  const Item& it = items_[h];
  const Leaf& leaf = leaves_[it.leaf];
  if (it.slot + 1u < leaf.items.size()) return leaf.items[it.slot + 1];
  const size_t next = LeafOrder(it.leaf) + 1;
  return next < order_.size() ? leaves_[order_[next]].items[0] : kNone;
}

void TextDocument::RebuildFenwick() {
  const size_t n = order_.size();
  fenwick_.assign(n + 1, 0);
  for (size_t i = 1; i <= n; ++i) {
    fenwick_[i] += leaves_[order_[i - 1]].visible;
    size_t parent = i + (i & (~i + 1));
    if (parent <= n) fenwick_[parent] += fenwick_[i];
  }
  fenwick_valid_ = true;
}

void TextDocument::AddVisible(uint32_t leaf, int64_t delta) {
  leaves_[leaf].visible += delta;
  visible_ += delta;
  if (!fenwick_valid_) return;
  for (size_t i = LeafOrder(leaf) + 1; i < fenwick_.size(); i += i & (~i + 1)) {
    fenwick_[i] += delta;
  }
}

size_t TextDocument::CharsBefore(uint32_t h) const {
  const Item& it = items_[h];
  const Leaf& leaf = leaves_[it.leaf];
  size_t n = 0;
  for (size_t i = 0; i < it.slot; ++i) {
    const Item& o = items_[leaf.items[i]];
    if (!o.deleted) n += o.len;
  }
  return n;
}

size_t TextDocument::ByteOffset(const Leaf& leaf, size_t chars) {
  // All ASCII (one byte per code point) is the common case and needs no walk.
  if (leaf.text.size() == leaf.visible) return chars;
  return Utf8Bytes(leaf.text, 0, chars);
}

TextDocument::Place TextDocument::FindVisible(size_t index) {
  if (!fenwick_valid_) RebuildFenwick();
  // Fenwick descent: the first leaf whose running total exceeds `index`.
  size_t pos = 0;
  uint64_t rem = index;
  size_t step = 1;
  while (step * 2 < fenwick_.size()) step *= 2;
  for (; step > 0; step /= 2) {
    if (pos + step < fenwick_.size() && fenwick_[pos + step] <= rem) {
      pos += step;
      rem -= fenwick_[pos];
    }
  }
  const Leaf& leaf = leaves_[order_[pos]];
  size_t before = 0;
  for (uint32_t h : leaf.items) {
    const Item& it = items_[h];
    if (it.deleted) continue;
    if (rem < it.len) return {h, static_cast<uint32_t>(rem), before};
    rem -= it.len;
    before += it.len;
  }
  return {};  // unreachable while index < visible_
}

std::pair<uint32_t, size_t> TextDocument::MakeRoom(uint32_t leaf_id, size_t slot) {
  if (leaves_[leaf_id].items.size() < kLeafItems) return {leaf_id, slot};
  // Split the full leaf in two; the order of leaves shifts, so the Fenwick tree is rebuilt
  // lazily.
  constexpr size_t kHalf = kLeafItems / 2;
  const auto right_id = static_cast<uint32_t>(leaves_.size());
  leaves_.emplace_back();
  Leaf& left = leaves_[leaf_id];
  Leaf& right = leaves_.back();
  right.items.reserve(kLeafItems);
  right.items.assign(left.items.begin() + kHalf, left.items.end());
  left.items.resize(kHalf);
  uint64_t moved = 0;
  for (size_t i = 0; i < right.items.size(); ++i) {
    Item& it = items_[right.items[i]];
    it.leaf = right_id;
    it.slot = static_cast<uint16_t>(i);
    if (!it.deleted) moved += it.len;
  }
  const size_t cut = ByteOffset(left, left.visible - moved);
  right.text.assign(left.text, cut);
  left.text.resize(cut);
  left.text.shrink_to_fit();
  right.visible = moved;
  left.visible -= moved;
  const size_t at = leaf_order_[leaf_id] + 1;
  order_.insert(order_.begin() + static_cast<std::ptrdiff_t>(at), right_id);
  leaf_order_.push_back(0);
  for (size_t i = at; i < order_.size(); ++i) leaf_order_[order_[i]] = static_cast<uint32_t>(i);
  fenwick_valid_ = false;
  if (slot <= kHalf) return {leaf_id, slot};
  return {right_id, slot - kHalf};
}

void TextDocument::InsertAfter(uint32_t after, uint32_t h, std::string_view utf8,
                               size_t chars_before) {
  uint32_t leaf_id;
  size_t slot;
  if (after == kNone) {
    if (order_.empty()) {
      leaves_.emplace_back();
      leaves_.back().items.reserve(kLeafItems);
      order_.push_back(static_cast<uint32_t>(leaves_.size() - 1));
      leaf_order_.push_back(0);
      fenwick_valid_ = false;
    }
    leaf_id = order_[0];
    slot = 0;
    chars_before = 0;
  } else {
    leaf_id = items_[after].leaf;
    slot = items_[after].slot + 1u;
  }
  const uint32_t before_split = leaf_id;
  std::tie(leaf_id, slot) = MakeRoom(leaf_id, slot);
  if (leaf_id != before_split) chars_before = kUnknown;  // moved to the new right leaf
  Leaf& leaf = leaves_[leaf_id];
  std::vector<uint32_t>& v = leaf.items;
  const bool adds_text = !items_[h].deleted && !utf8.empty();
  if (adds_text) {
    if (chars_before == kUnknown) {
      chars_before = 0;
      for (size_t i = 0; i < slot; ++i) {
        const Item& o = items_[v[i]];
        if (!o.deleted) chars_before += o.len;
      }
    }
    leaf.text.insert(ByteOffset(leaf, chars_before), utf8);
  }
  v.insert(v.begin() + static_cast<std::ptrdiff_t>(slot), h);
  for (size_t i = slot; i < v.size(); ++i) {
    items_[v[i]].leaf = leaf_id;
    items_[v[i]].slot = static_cast<uint16_t>(i);
  }
  if (adds_text) AddVisible(leaf_id, items_[h].len);
}

uint32_t TextDocument::Split(uint32_t h, uint32_t offset) {
  // Room first: a leaf split must see h whole, with its text in one piece.
  MakeRoom(items_[h].leaf, items_[h].slot + 1u);
  Item right = items_[h];
  right.seq += offset;
  right.len -= offset;
  right.origin_left = {right.device, right.seq - 1};
  items_[h].len = offset;
  // The right part's text is already in the leaf, just after the left part's.
  const uint32_t r = NewItem(right);
  InsertAfter(h, r, {});
  if (id_index_built_) IndexItem(r);
  return r;
}

void TextDocument::MergeNext(uint32_t h) {
  Leaf& leaf = leaves_[items_[h].leaf];
  const size_t slot = items_[h].slot + 1u;
  const uint32_t n = leaf.items[slot];
  items_[h].len += items_[n].len;
  if (id_index_built_) id_index_[items_[n].device].erase(items_[n].seq);
  leaf.items.erase(leaf.items.begin() + static_cast<std::ptrdiff_t>(slot));
  for (size_t i = slot; i < leaf.items.size(); ++i) items_[leaf.items[i]].slot = static_cast<uint16_t>(i);
  items_[n] = Item{};
  items_[n].deleted = true;  // a free slot is no target of MarkDeleted
  free_.push_back(n);
}

uint32_t TextDocument::MergeAround(uint32_t h) {
  // Within one leaf only: the leaf's visible count stays, and a pair split across a leaf
  // boundary costs one item.
  const Leaf& leaf = leaves_[items_[h].leaf];
  const size_t slot = items_[h].slot;
  if (slot > 0 && Continues(items_[leaf.items[slot - 1]], items_[h])) {
    h = leaf.items[slot - 1];
    MergeNext(h);
  }
  if (items_[h].slot + 1u < leaf.items.size() &&
      Continues(items_[h], items_[leaf.items[items_[h].slot + 1]])) {
    MergeNext(h);
  }
  return h;
}

void TextDocument::IndexItem(uint32_t h) { id_index_[items_[h].device][items_[h].seq] = h; }

void TextDocument::BuildIdIndex() {
  id_index_.clear();
  for (uint32_t leaf : order_) {
    for (uint32_t h : leaves_[leaf].items) IndexItem(h);
  }
  id_index_built_ = true;
}

uint32_t TextDocument::FindId(CharId id) {
  if (!id_index_built_) BuildIdIndex();
  auto dev = id_index_.find(id.device);
  if (dev == id_index_.end()) return kNone;
  auto it = dev->second.upper_bound(id.seq);
  if (it == dev->second.begin()) return kNone;
  --it;
  const Item& item = items_[it->second];
  return id.seq < item.seq + item.len ? it->second : kNone;
}

void TextDocument::MarkDeleted(uint32_t h, DeleteOp* record, size_t chars_before) {
  Item& it = items_[h];
  if (it.deleted) return;
  Leaf& leaf = leaves_[it.leaf];
  if (chars_before == kUnknown) chars_before = CharsBefore(h);
  const size_t from = ByteOffset(leaf, chars_before);
  leaf.text.erase(from, Utf8Bytes(leaf.text, from, it.len));
  it.deleted = true;
  AddVisible(it.leaf, -static_cast<int64_t>(it.len));
  if (record != nullptr) {
    auto& ranges = record->ranges;
    if (!ranges.empty() && ranges.back().device == it.device &&
        ranges.back().seq + ranges.back().len == it.seq) {
      ranges.back().len += it.len;
    } else {
      ranges.push_back({it.device, it.seq, it.len});
    }
  }
  MergeAround(h);
}

// ---- edits -------------------------------------------------------------------------------

Result<InsertOp> TextDocument::LocalInsert(DeviceId me, uint64_t first_seq, size_t pos,
                                           std::u32string_view text) {
  if (pos > visible_) {
    return Status::Invalid("insert position " + std::to_string(pos) + " is past the end (" +
                           std::to_string(visible_) + ")");
  }
  if (text.empty()) return Status::Invalid("nothing to insert");
  if (me == 0 || first_seq == 0) return Status::Invalid("insert needs a device and a seq");
  uint32_t left = kNone, right;
  size_t chars_before = 0;  // in left's leaf, before the insertion point
  if (pos == 0) {
    right = First();
  } else {
    Place p = FindVisible(pos - 1);
    left = p.item;
    const uint32_t leaf = items_[left].leaf;
    chars_before = p.leaf_chars + p.offset + 1;
    right = p.offset + 1 < items_[left].len ? Split(left, p.offset + 1) : Next(left);
    if (items_[left].leaf != leaf) chars_before = kUnknown;  // the split moved it
  }
  InsertOp op;
  op.id = {me, first_seq};
  if (left != kNone) op.origin_left = items_[left].last_id();
  if (right != kNone) op.origin_right = {items_[right].device, items_[right].seq};
  // Not op.text.assign(text): GCC 12 warns falsely (-Wrestrict) on the inlined copy.
  op.text = std::u32string(text);
  const std::string utf8 = Utf32ToUtf8(text);

  // Typing on: extend the run instead of starting an item (the run-length encoding).
  if (left != kNone) {
    Item& l = items_[left];
    if (l.device == me && !l.deleted && l.seq + l.len == first_seq &&
        l.origin_right == op.origin_right) {
      Leaf& leaf = leaves_[l.leaf];
      if (chars_before == kUnknown) chars_before = CharsBefore(left) + l.len;
      leaf.text.insert(ByteOffset(leaf, chars_before), utf8);
      l.len += static_cast<uint32_t>(text.size());
      AddVisible(l.leaf, static_cast<int64_t>(text.size()));
      return op;
    }
  }
  Item item;
  item.device = me;
  item.seq = first_seq;
  item.len = static_cast<uint32_t>(text.size());
  item.origin_left = op.origin_left;
  item.origin_right = op.origin_right;
  uint32_t h = NewItem(item);
  InsertAfter(left, h, utf8, chars_before);
  if (id_index_built_) IndexItem(h);
  return op;
}

Result<DeleteOp> TextDocument::LocalDelete(size_t pos, size_t len) {
  if (pos > visible_ || len > visible_ - pos) {
    return Status::Invalid("delete of " + std::to_string(len) + " at " + std::to_string(pos) +
                           " runs past the end (" + std::to_string(visible_) + ")");
  }
  DeleteOp op;
  while (len > 0) {
    Place p = FindVisible(pos);
    const uint32_t leaf = items_[p.item].leaf;
    uint32_t h = p.offset > 0 ? Split(p.item, p.offset) : p.item;
    if (items_[h].len > len) Split(h, static_cast<uint32_t>(len));
    len -= items_[h].len;
    // The characters before h in its leaf are known unless a split moved h to a new leaf.
    MarkDeleted(h, &op, items_[h].leaf == leaf ? p.leaf_chars + p.offset : kUnknown);
  }
  return op;
}

Status TextDocument::CollectRange(const DeleteRange& r, std::vector<uint32_t>& out) {
  uint64_t seq = r.seq;
  const uint64_t end = r.seq + r.len;
  while (seq < end) {
    uint32_t h = FindId({r.device, seq});
    if (h == kNone) return Status::Corrupt("text delete names an unknown character");
    if (items_[h].seq < seq) h = Split(h, static_cast<uint32_t>(seq - items_[h].seq));
    if (items_[h].seq + items_[h].len > end) Split(h, static_cast<uint32_t>(end - items_[h].seq));
    out.push_back(h);
    seq = items_[h].seq + items_[h].len;
  }
  return Status::Ok();
}

Status TextDocument::ApplyDelete(const DeleteOp& op) {
  std::vector<uint32_t> targets;
  for (const DeleteRange& r : op.ranges) {
    if (r.device == 0 || r.len == 0 || r.seq == 0 || r.seq + r.len < r.seq) {
      return Status::Corrupt("malformed text delete range");
    }
    // Splitting is invisible, so a failure part-way leaves the text unchanged.
    JSYNC_RETURN_IF_ERROR(CollectRange(r, targets));
  }
  for (uint32_t h : targets) MarkDeleted(h, nullptr);
  return Status::Ok();
}

Status TextDocument::ApplyInsert(const InsertOp& op) {
  if (op.text.empty() || op.id.none() || op.id.seq == 0 || op.id.seq + op.text.size() < op.id.seq) {
    return Status::Corrupt("malformed text insert");
  }
  if (!id_index_built_) BuildIdIndex();
  if (FindId(op.id) != kNone) return Status::Corrupt("text insert repeats existing characters");
  if (auto dev = id_index_.find(op.id.device); dev != id_index_.end()) {
    auto next = dev->second.lower_bound(op.id.seq);
    if (next != dev->second.end() && next->first < op.id.seq + op.text.size()) {
      return Status::Corrupt("text insert repeats existing characters");
    }
  }
  uint32_t left = kNone, right = kNone;
  if (!op.origin_left.none()) {
    left = FindId(op.origin_left);
    if (left == kNone) return Status::Corrupt("text insert follows an unknown character");
  }
  if (!op.origin_right.none()) {
    right = FindId(op.origin_right);
    if (right == kNone) return Status::Corrupt("text insert precedes an unknown character");
  }
  if (left != kNone && op.origin_left.seq + 1 < items_[left].seq + items_[left].len) {
    Split(left, static_cast<uint32_t>(op.origin_left.seq - items_[left].seq + 1));
  }
  if (right != kNone) {
    right = FindId(op.origin_right);  // the left split may have moved it into a new item
    if (items_[right].seq < op.origin_right.seq) {
      right = Split(right, static_cast<uint32_t>(op.origin_right.seq - items_[right].seq));
    }
  }

  // YATA conflict resolution, as Yjs does it: scan the items between the origins and skip
  // past those that must come first (same origin and a lower device id, or items whose
  // origin lies inside the scanned run).
  uint32_t new_left = left;
  std::unordered_set<uint32_t> before_origin, conflicting;
  for (uint32_t o = left == kNone ? First() : Next(left); o != kNone && o != right; o = Next(o)) {
    before_origin.insert(o);
    conflicting.insert(o);
    const Item& oi = items_[o];
    if (oi.origin_left == op.origin_left) {
      if (oi.device < op.id.device) {
        new_left = o;
        conflicting.clear();
      } else if (oi.origin_right == op.origin_right) {
        break;
      }
    } else if (!oi.origin_left.none()) {
      uint32_t origin = FindId(oi.origin_left);
      if (!before_origin.contains(origin)) break;
      if (!conflicting.contains(origin)) {
        new_left = o;
        conflicting.clear();
      }
    } else {
      break;
    }
  }

  Item item;
  item.device = op.id.device;
  item.seq = op.id.seq;
  item.len = static_cast<uint32_t>(op.text.size());
  item.origin_left = op.origin_left;
  item.origin_right = op.origin_right;
  uint32_t h = NewItem(item);
  InsertAfter(new_left, h, Utf32ToUtf8(op.text));
  IndexItem(h);
  MergeAround(h);  // a remote run typed on is one item, as a local one
  return Status::Ok();
}

// ---- reading -----------------------------------------------------------------------------

std::u32string TextDocument::Text() const { return Utf8ToUtf32(Utf8()); }

std::string TextDocument::Utf8() const {
  std::string out;
  size_t bytes = 0;
  for (const Leaf& leaf : leaves_) bytes += leaf.text.size();
  out.reserve(bytes);
  for (uint32_t leaf : order_) out += leaves_[leaf].text;
  return out;
}

// Both walk every item: they serve display (conflict versions), not editing.
uint64_t TextDocument::VisibleCount(const DeleteRange& ids) const {
  uint64_t n = 0;
  for (uint32_t leaf : order_) {
    for (uint32_t h : leaves_[leaf].items) {
      const Item& it = items_[h];
      if (it.deleted || it.device != ids.device) continue;
      const uint64_t lo = std::max(it.seq, ids.seq);
      const uint64_t hi = std::min(it.seq + it.len, ids.seq + ids.len);
      if (lo < hi) n += hi - lo;
    }
  }
  return n;
}

std::u32string TextDocument::TextWithout(const std::vector<DeleteRange>& hidden) const {
  std::u32string out;
  out.reserve(visible_);
  for (uint32_t leaf_id : order_) {
    const Leaf& leaf = leaves_[leaf_id];
    const std::u32string text = Utf8ToUtf32(leaf.text);
    size_t at = 0;  // code point of the leaf's text where the next visible item starts
    for (uint32_t h : leaf.items) {
      const Item& it = items_[h];
      if (it.deleted) continue;
      const std::u32string_view piece = std::u32string_view(text).substr(at, it.len);
      at += it.len;
      const bool touched = std::any_of(hidden.begin(), hidden.end(), [&](const DeleteRange& r) {
        return r.device == it.device && r.seq < it.seq + it.len && it.seq < r.seq + r.len;
      });
      if (!touched) {
        out += piece;
        continue;
      }
      for (uint32_t i = 0; i < it.len; ++i) {
        const uint64_t seq = it.seq + i;
        const bool hide = std::any_of(hidden.begin(), hidden.end(), [&](const DeleteRange& r) {
          return r.device == it.device && seq >= r.seq && seq - r.seq < r.len;
        });
        if (!hide) out.push_back(piece[i]);
      }
    }
  }
  return out;
}

size_t TextDocument::item_count() const {
  size_t n = 0;
  for (uint32_t leaf : order_) n += leaves_[leaf].items.size();
  return n;
}

size_t TextDocument::tombstone_count() const {
  size_t n = 0;
  for (uint32_t leaf : order_) {
    for (uint32_t h : leaves_[leaf].items) n += items_[h].deleted ? items_[h].len : 0;
  }
  return n;
}

// ---- encoding ----------------------------------------------------------------------------
//
// Columns (each a varint-prefixed blob), zstd-compressed as one frame; docs/formats.md.

std::vector<TextDocument::Run> TextDocument::CanonicalRuns(std::string* visible_utf8) const {
  // Merge adjacent items that one item could hold, so equal documents encode equally
  // however their items happen to be split (in memory only pairs across a leaf boundary are
  // left unmerged, and a document loaded by Decode has none).
  std::vector<Run> runs;
  *visible_utf8 = Utf8();
  for (uint32_t leaf : order_) {
    for (uint32_t h : leaves_[leaf].items) {
      const Item& it = items_[h];
      if (!runs.empty()) {
        Run& last = runs.back();
        if (last.device == it.device && last.seq + last.len == it.seq &&
            last.deleted == it.deleted && it.origin_left == CharId{it.device, it.seq - 1} &&
            it.origin_right == last.origin_right) {
          last.len += it.len;
          continue;
        }
      }
      runs.push_back({it.device, it.seq, it.len, it.deleted, it.origin_left, it.origin_right});
    }
  }
  return runs;
}

bool TextDocument::operator==(const TextDocument& other) const {
  if (visible_ != other.visible_) return false;
  std::string a, b;
  return CanonicalRuns(&a) == other.CanonicalRuns(&b) && a == b;
}

Bytes TextDocument::Encode(int zstd_level) const {
  std::string text;
  const std::vector<Run> runs = CanonicalRuns(&text);
  std::vector<DeviceId> devices;
  for (const Run& r : runs) devices.push_back(r.device);
  std::sort(devices.begin(), devices.end());
  devices.erase(std::unique(devices.begin(), devices.end()), devices.end());
  auto dev_index = [&](DeviceId d) {
    return static_cast<uint64_t>(std::lower_bound(devices.begin(), devices.end(), d) -
                                 devices.begin());
  };

  ByteWriter dev_col, seq_col, len_col, flag_col, origin_col;
  uint64_t prev_end = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    const Run& r = runs[i];
    dev_col.Varint(dev_index(r.device));
    seq_col.Varint(ZigZag(static_cast<int64_t>(r.seq - prev_end)));
    prev_end = r.seq + r.len;
    len_col.Varint(r.len);
    // flags: bit0 deleted; bits1-2 origin_left: 0 none, 1 end of the previous run, 2 explicit;
    // bits3-4 origin_right: 0 none, 1 start of the next run, 2 explicit.
    uint8_t flags = r.deleted ? 1 : 0;
    const bool left_prev =
        i > 0 && r.origin_left == CharId{runs[i - 1].device, runs[i - 1].seq + runs[i - 1].len - 1};
    const bool right_next =
        i + 1 < runs.size() && r.origin_right == CharId{runs[i + 1].device, runs[i + 1].seq};
    flags |= r.origin_left.none() ? 0 : left_prev ? 2 : 4;
    flags |= r.origin_right.none() ? 0 : right_next ? 8 : 16;
    flag_col.U8(flags);
    for (const CharId* id : {&r.origin_left, &r.origin_right}) {
      const bool is_left = id == &r.origin_left;
      if (id->none() || (is_left ? left_prev : right_next)) continue;
      origin_col.Varint(dev_index(id->device));
      origin_col.Varint(ZigZag(static_cast<int64_t>(id->seq - r.seq)));
    }
  }
  ByteWriter body;
  body.Varint(devices.size());
  for (DeviceId d : devices) body.U64(d);
  body.Varint(runs.size());
  for (ByteWriter* col : {&dev_col, &seq_col, &len_col, &flag_col, &origin_col}) {
    body.Blob(col->bytes());
  }
  body.Str(text);

  const Bytes& plain = body.bytes();
  Bytes out(1 + ZSTD_compressBound(plain.size()));
  out[0] = kEncodingVersion;
  size_t n = ZSTD_compress(out.data() + 1, out.size() - 1, plain.data(), plain.size(), zstd_level);
  out.resize(ZSTD_isError(n) ? 1 : 1 + n);
  return out;
}

Result<TextDocument> TextDocument::Decode(ByteSpan bytes) {
  static const Status kBad = Status::Corrupt("text state is malformed");
  if (bytes.empty() || bytes[0] != kEncodingVersion) {
    return Status::Corrupt("unknown text encoding version");
  }
  ByteSpan frame = bytes.subspan(1);
  unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
      size > kMaxDecodedSize) {
    return kBad;
  }
  Bytes plain(size);
  if (size_t n = ZSTD_decompress(plain.data(), plain.size(), frame.data(), frame.size());
      ZSTD_isError(n) || n != size) {
    return kBad;
  }
  ByteReader r(plain);
  const uint64_t device_count = r.Varint();
  if (device_count > r.remaining() / 8) return kBad;
  std::vector<DeviceId> devices(device_count);
  for (auto& d : devices) d = r.U64();
  const uint64_t count = r.Count();
  ByteReader dev_col(r.Blob()), seq_col(r.Blob()), len_col(r.Blob()), flag_col(r.Blob()),
      origin_col(r.Blob());
  std::u32string text = Utf8ToUtf32(r.Str());
  if (!r.ok() || !r.AtEnd()) return kBad;
  // One flag byte per run: a count beyond it is corrupt, and must not size the vector below
  // (a few KB of zstd can claim 256 MiB of plain text, so `count` alone allows gigabytes).
  if (count != flag_col.remaining()) return kBad;

  struct Raw {
    DeviceId device;
    uint64_t seq, len;
    uint8_t flags;
    CharId left, right;
  };
  std::vector<Raw> raws(count);
  uint64_t prev_end = 0;
  auto device_at = [&](uint64_t i) { return i < devices.size() ? devices[i] : DeviceId{0}; };
  for (Raw& raw : raws) {
    raw.device = device_at(dev_col.Varint());
    raw.seq = prev_end + static_cast<uint64_t>(UnZigZag(seq_col.Varint()));
    raw.len = len_col.Varint();
    prev_end = raw.seq + raw.len;
    raw.flags = flag_col.U8();
    for (int side = 0; side < 2; ++side) {
      const int kind = (raw.flags >> (1 + 2 * side)) & 3;
      if (kind == 3) return kBad;
      if (kind == 2) {
        CharId& id = side == 0 ? raw.left : raw.right;
        id.device = device_at(origin_col.Varint());
        id.seq = raw.seq + static_cast<uint64_t>(UnZigZag(origin_col.Varint()));
        // An explicit origin names a listed device: {0, seq} would read as "none" but keep a
        // seq, so the state would not survive its own encoding.
        if (id.device == 0) return kBad;
      }
    }
    if (raw.device == 0 || raw.len == 0 || raw.len > UINT32_MAX || raw.seq == 0) return kBad;
  }
  if (!dev_col.ok() || !seq_col.ok() || !len_col.ok() || !flag_col.ok() || !origin_col.ok() ||
      !origin_col.AtEnd()) {
    return kBad;
  }
  // An origin names a character of the document, so its device has a run here; one that does
  // not would be dropped from the device table by Encode (the state would not round-trip).
  std::vector<DeviceId> run_devices;
  for (const Raw& raw : raws) run_devices.push_back(raw.device);
  std::sort(run_devices.begin(), run_devices.end());
  for (const Raw& raw : raws) {
    for (const CharId& id : {raw.left, raw.right}) {
      if (!id.none() && !std::binary_search(run_devices.begin(), run_devices.end(), id.device)) {
        return kBad;
      }
    }
  }
  TextDocument doc;
  doc.items_.reserve(raws.size());
  size_t text_pos = 0;
  constexpr size_t kFill = kLeafItems * 3 / 4;
  for (size_t i = 0; i < raws.size(); ++i) {
    Raw& raw = raws[i];
    if (((raw.flags >> 1) & 3) == 1) {
      if (i == 0) return kBad;
      raw.left = {raws[i - 1].device, raws[i - 1].seq + raws[i - 1].len - 1};
    }
    if (((raw.flags >> 3) & 3) == 1) {
      if (i + 1 == raws.size()) return kBad;
      raw.right = {raws[i + 1].device, raws[i + 1].seq};
    }
    Item item;
    item.device = raw.device;
    item.seq = raw.seq;
    item.len = static_cast<uint32_t>(raw.len);
    item.deleted = raw.flags & 1;
    item.origin_left = raw.left;
    item.origin_right = raw.right;
    if (doc.order_.empty() || doc.leaves_[doc.order_.back()].items.size() >= kFill) {
      doc.leaves_.emplace_back();
      doc.leaves_.back().items.reserve(kLeafItems);
      doc.order_.push_back(static_cast<uint32_t>(doc.leaves_.size() - 1));
      doc.leaf_order_.push_back(static_cast<uint32_t>(doc.order_.size() - 1));
    }
    const uint32_t leaf = doc.order_.back();
    Leaf& l = doc.leaves_[leaf];
    if (!item.deleted) {
      if (text.size() - text_pos < raw.len) return kBad;
      // Re-encoded from code points, so leaf text is always what Utf32ToUtf8 writes.
      l.text += Utf32ToUtf8(std::u32string_view(text).substr(text_pos, raw.len));
      text_pos += raw.len;
      l.visible += item.len;
      doc.visible_ += item.len;
    }
    item.leaf = leaf;
    item.slot = static_cast<uint16_t>(l.items.size());
    l.items.push_back(doc.NewItem(item));
  }
  if (text_pos != text.size()) return kBad;
  doc.fenwick_valid_ = false;
  return doc;
}

uint64_t TextDocument::NextSeqOf(DeviceId device) const {
  uint64_t next = 1;
  for (const Item& it : items_) {
    if (it.device == device && it.len > 0) next = std::max(next, it.seq + it.len);
  }
  return next;
}

}  // namespace jsync::text

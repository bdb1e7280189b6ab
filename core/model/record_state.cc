#include "core/model/record_state.h"

#include <algorithm>

namespace jsync {
namespace {

void InsertSorted(std::vector<OpId>& v, OpId id) {
  auto it = std::lower_bound(v.begin(), v.end(), id);
  if (it == v.end() || *it != id) v.insert(it, id);
}

bool SortedContains(const std::vector<OpId>& v, OpId id) {
  return std::binary_search(v.begin(), v.end(), id);
}

void EncodeOpId(ByteWriter& w, OpId id) {
  w.Varint(id.hlc);
  w.U64(id.device);
}

OpId DecodeOpId(ByteReader& r) {
  OpId id;
  id.hlc = r.Varint();
  id.device = r.U64();
  return id;
}

// 1: the first layout. 2 adds display times and the replacements of text fields.
constexpr uint8_t kStateVersion = 2;

bool WellFormed(const text::DeleteRange& r) {
  return r.device != 0 && r.len != 0 && r.seq != 0 && r.seq + r.len > r.seq;
}

void EncodeReplacement(ByteWriter& w, const TextReplacement& rep) {
  EncodeOpId(w, rep.id);
  w.Varint(rep.wall_ms);
  w.Varint(rep.char_seq);
  w.Varint(rep.len);
  w.Varint(rep.replaced.size());
  for (const auto& r : rep.replaced) {
    w.U64(r.device);
    w.Varint(r.seq);
    w.Varint(r.len);
  }
}

TextReplacement DecodeReplacement(ByteReader& r) {
  TextReplacement rep;
  rep.id = DecodeOpId(r);
  rep.wall_ms = r.Varint();
  rep.char_seq = r.Varint();
  rep.len = r.Varint();
  for (uint64_t k = r.Count(); r.ok() && k > 0; --k) {
    text::DeleteRange range;
    range.device = r.U64();
    range.seq = r.Varint();
    range.len = r.Varint();
    rep.replaced.push_back(range);
  }
  return rep;
}

}  // namespace

Status RecordState::Apply(const Op& op) {
  if (op.kind == OpKind::kTextInsert) {
    for (const auto& r : op.ranges) {
      if (!WellFormed(r)) return Status::Corrupt("malformed replaced range in a text insert");
    }
  }
  max_hlc_ = std::max(max_hlc_, op.id.hlc);
  min_hlc_ = min_hlc_ == 0 ? op.id.hlc : std::min(min_hlc_, op.id.hlc);
  const uint64_t shown = DisplayMillis(op);
  max_wall_ = std::max(max_wall_, shown);
  min_wall_ = min_wall_ == 0 ? shown : std::min(min_wall_, shown);
  switch (op.kind) {
    case OpKind::kSetRegister: {
      auto& sibs = registers_[op.field];
      std::erase_if(sibs, [&](const Sibling& s) { return SortedContains(op.observed, s.id); });
      auto it = std::lower_bound(sibs.begin(), sibs.end(), op.id,
                                 [](const Sibling& s, OpId id) { return s.id < id; });
      if (it == sibs.end() || it->id != op.id) sibs.insert(it, Sibling{op.id, op.value, shown});
      if (sibs.empty()) registers_.erase(op.field);
      break;
    }
    case OpKind::kAddToSet:
      InsertSorted(sets_[op.field][op.value], op.id);
      break;
    case OpKind::kRemoveFromSet: {
      auto field = sets_.find(op.field);
      if (field == sets_.end()) break;
      auto elem = field->second.find(op.value);
      if (elem == field->second.end()) break;
      std::erase_if(elem->second, [&](OpId id) { return SortedContains(op.observed, id); });
      if (elem->second.empty()) field->second.erase(elem);
      if (field->second.empty()) sets_.erase(field);
      break;
    }
    case OpKind::kDeleteRecord:
      for (OpId id : op.observed) InsertSorted(covered_, id);
      break;
    case OpKind::kTextInsert:
    case OpKind::kTextDelete: {
      text::TextDocument& doc = texts_[op.field];
      std::u32string inserted;
      if (op.kind == OpKind::kTextInsert) inserted = text::Utf8ToUtf32(op.value);
      Status st =
          op.kind == OpKind::kTextInsert
              ? doc.ApplyInsert(
                    {{op.id.device, op.char_seq}, op.origin_left, op.origin_right, inserted})
              : doc.ApplyDelete({op.ranges});
      JSYNC_RETURN_IF_ERROR(st.WithContext("field " + op.field));
      if (op.kind == OpKind::kTextInsert && !op.ranges.empty()) {
        auto& reps = replacements_[op.field];
        TextReplacement rep{op.id, shown, op.char_seq, inserted.size(), op.ranges};
        auto at = std::lower_bound(reps.begin(), reps.end(), op.id,
                                   [](const TextReplacement& r, OpId id) { return r.id < id; });
        reps.insert(at, std::move(rep));
      }
      Hlc& head = text_heads_[op.field][op.id.device];
      head = std::max(head, op.id.hlc);
      break;
    }
  }
  return Status::Ok();
}

const std::vector<TextReplacement>* RecordState::Replacements(const std::string& field) const {
  auto it = replacements_.find(field);
  return it == replacements_.end() ? nullptr : &it->second;
}

const text::TextDocument* RecordState::Text(const std::string& field) const {
  auto it = texts_.find(field);
  return it == texts_.end() ? nullptr : &it->second;
}

std::vector<OpId> RecordState::LiveOps() const {
  std::vector<OpId> live;
  for (const auto& [field, sibs] : registers_) {
    for (const auto& s : sibs) live.push_back(s.id);
  }
  for (const auto& [field, elems] : sets_) {
    for (const auto& [elem, tags] : elems) live.insert(live.end(), tags.begin(), tags.end());
  }
  for (const auto& [field, heads] : text_heads_) {
    for (const auto& [device, hlc] : heads) live.push_back({hlc, device});
  }
  std::sort(live.begin(), live.end());
  live.erase(std::unique(live.begin(), live.end()), live.end());
  return live;
}

bool RecordState::Visible() const {
  for (OpId id : LiveOps()) {
    if (!SortedContains(covered_, id)) return true;
  }
  return false;
}

const std::vector<Sibling>* RecordState::Register(const std::string& field) const {
  auto it = registers_.find(field);
  return it == registers_.end() ? nullptr : &it->second;
}

const Sibling* RecordState::Winner(const std::string& field) const {
  const auto* sibs = Register(field);
  return sibs && !sibs->empty() ? &sibs->back() : nullptr;
}

std::vector<OpId> RecordState::RegisterIds(const std::string& field) const {
  std::vector<OpId> ids;
  if (const auto* sibs = Register(field)) {
    for (const auto& s : *sibs) ids.push_back(s.id);
  }
  return ids;
}

std::vector<std::string> RecordState::SetElements(const std::string& field) const {
  std::vector<std::string> out;
  auto it = sets_.find(field);
  if (it == sets_.end()) return out;
  for (const auto& [elem, tags] : it->second) out.push_back(elem);
  return out;
}

std::vector<OpId> RecordState::SetTags(const std::string& field, const std::string& element) const {
  auto it = sets_.find(field);
  if (it == sets_.end()) return {};
  auto e = it->second.find(element);
  return e == it->second.end() ? std::vector<OpId>{} : e->second;
}

Bytes RecordState::Encode() const {
  ByteWriter w;
  w.U8(kStateVersion);
  w.Varint(max_hlc_);
  w.Varint(min_hlc_);
  w.Varint(max_wall_);
  w.Varint(min_wall_);
  w.Varint(registers_.size());
  for (const auto& [field, sibs] : registers_) {
    w.Str(field);
    w.Varint(sibs.size());
    for (const auto& s : sibs) {
      EncodeOpId(w, s.id);
      w.Varint(s.wall_ms);
      w.Str(s.value);
    }
  }
  w.Varint(sets_.size());
  for (const auto& [field, elems] : sets_) {
    w.Str(field);
    w.Varint(elems.size());
    for (const auto& [elem, tags] : elems) {
      w.Str(elem);
      w.Varint(tags.size());
      for (OpId id : tags) EncodeOpId(w, id);
    }
  }
  w.Varint(texts_.size());
  for (const auto& [field, doc] : texts_) {
    w.Str(field);
    w.Blob(doc.Encode(/*zstd_level=*/1));  // local store: speed over size
  }
  w.Varint(text_heads_.size());
  for (const auto& [field, heads] : text_heads_) {
    w.Str(field);
    w.Varint(heads.size());
    for (const auto& [device, hlc] : heads) EncodeOpId(w, {hlc, device});
  }
  w.Varint(covered_.size());
  for (OpId id : covered_) EncodeOpId(w, id);
  w.Varint(replacements_.size());
  for (const auto& [field, reps] : replacements_) {
    w.Str(field);
    w.Varint(reps.size());
    for (const auto& rep : reps) EncodeReplacement(w, rep);
  }
  return w.Take();
}

Result<RecordState> RecordState::Decode(ByteSpan bytes) {
  ByteReader r(bytes);
  RecordState s;
  const uint8_t version = r.U8();
  if (version != 1 && version != kStateVersion) {
    return Status::Corrupt("unknown record state version");
  }
  s.max_hlc_ = r.Varint();
  s.min_hlc_ = r.Varint();
  if (version >= 2) {
    s.max_wall_ = r.Varint();
    s.min_wall_ = r.Varint();
  } else {
    // Version 1 predates wall times: its ops are shown at their HLC, as replaying them would.
    s.max_wall_ = DisplayMillis(0, s.max_hlc_);
    s.min_wall_ = DisplayMillis(0, s.min_hlc_);
  }
  for (uint64_t n = r.Count(); r.ok() && n > 0; --n) {
    auto& sibs = s.registers_[r.Str()];
    for (uint64_t k = r.Count(); r.ok() && k > 0; --k) {
      Sibling sib;
      sib.id = DecodeOpId(r);
      sib.wall_ms = version >= 2 ? r.Varint() : DisplayMillis(0, sib.id.hlc);
      sib.value = r.Str();
      sibs.push_back(std::move(sib));
    }
  }
  for (uint64_t n = r.Count(); r.ok() && n > 0; --n) {
    auto& elems = s.sets_[r.Str()];
    for (uint64_t k = r.Count(); r.ok() && k > 0; --k) {
      auto& tags = elems[r.Str()];
      for (uint64_t t = r.Count(); r.ok() && t > 0; --t) {
        tags.push_back(DecodeOpId(r));
      }
    }
  }
  for (uint64_t n = r.Count(); r.ok() && n > 0; --n) {
    std::string field = r.Str();
    auto doc = text::TextDocument::Decode(r.Blob());
    if (!doc.ok()) return doc.status();
    s.texts_.emplace(std::move(field), std::move(doc).value());
  }
  for (uint64_t n = r.Count(); r.ok() && n > 0; --n) {
    auto& heads = s.text_heads_[r.Str()];
    for (uint64_t k = r.Count(); r.ok() && k > 0; --k) {
      OpId id = DecodeOpId(r);
      heads[id.device] = id.hlc;
    }
  }
  for (uint64_t n = r.Count(); r.ok() && n > 0; --n) {
    s.covered_.push_back(DecodeOpId(r));
  }
  if (version >= 2) {
    for (uint64_t n = r.Count(); r.ok() && n > 0; --n) {
      auto& reps = s.replacements_[r.Str()];
      for (uint64_t k = r.Count(); r.ok() && k > 0; --k) {
        TextReplacement rep = DecodeReplacement(r);
        bool sane = rep.id.device != 0 && !rep.replaced.empty() &&
                    WellFormed({rep.id.device, rep.char_seq, rep.len});
        for (const auto& range : rep.replaced) sane &= WellFormed(range);
        if (r.ok() && !sane) return Status::Corrupt("record state has a malformed replacement");
        reps.push_back(std::move(rep));
      }
    }
  }
  if (!r.ok() || !r.AtEnd()) return Status::Corrupt("record state is truncated or malformed");
  return s;
}

}  // namespace jsync

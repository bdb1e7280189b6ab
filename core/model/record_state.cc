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

}  // namespace

Status RecordState::Apply(const Op& op) {
  max_hlc_ = std::max(max_hlc_, op.id.hlc);
  min_hlc_ = min_hlc_ == 0 ? op.id.hlc : std::min(min_hlc_, op.id.hlc);
  switch (op.kind) {
    case OpKind::kSetRegister: {
      auto& sibs = registers_[op.field];
      std::erase_if(sibs, [&](const Sibling& s) { return SortedContains(op.observed, s.id); });
      auto it = std::lower_bound(sibs.begin(), sibs.end(), op.id,
                                 [](const Sibling& s, OpId id) { return s.id < id; });
      if (it == sibs.end() || it->id != op.id) sibs.insert(it, Sibling{op.id, op.value});
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
      Status st = op.kind == OpKind::kTextInsert ? doc.ApplyInsert({{op.id.device, op.char_seq},
                                                                    op.origin_left,
                                                                    op.origin_right,
                                                                    text::Utf8ToUtf32(op.value)})
                                                 : doc.ApplyDelete({op.ranges});
      JSYNC_RETURN_IF_ERROR(st.WithContext("field " + op.field));
      Hlc& head = text_heads_[op.field][op.id.device];
      head = std::max(head, op.id.hlc);
      break;
    }
  }
  return Status::Ok();
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
  w.U8(1);  // local encoding version
  w.Varint(max_hlc_);
  w.Varint(min_hlc_);
  w.Varint(registers_.size());
  for (const auto& [field, sibs] : registers_) {
    w.Str(field);
    w.Varint(sibs.size());
    for (const auto& s : sibs) {
      EncodeOpId(w, s.id);
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
  return w.Take();
}

Result<RecordState> RecordState::Decode(ByteSpan bytes) {
  ByteReader r(bytes);
  RecordState s;
  if (r.U8() != 1) return Status::Corrupt("unknown record state version");
  s.max_hlc_ = r.Varint();
  s.min_hlc_ = r.Varint();
  for (uint64_t n = r.Count(); r.ok() && n > 0; --n) {
    auto& sibs = s.registers_[r.Str()];
    for (uint64_t k = r.Count(); r.ok() && k > 0; --k) {
      Sibling sib;
      sib.id = DecodeOpId(r);
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
  if (!r.ok() || !r.AtEnd()) return Status::Corrupt("record state is truncated or malformed");
  return s;
}

}  // namespace jsync

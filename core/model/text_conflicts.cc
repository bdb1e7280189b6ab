#include "core/model/text_conflicts.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace jsync {
namespace {

struct Span {
  DeviceId device;  // of the characters
  uint64_t seq, end;
  size_t rep;
  auto operator<=>(const Span&) const = default;
};

class Components {
 public:
  explicit Components(size_t n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), 0); }
  size_t Find(size_t i) {
    while (parent_[i] != i) i = parent_[i] = parent_[parent_[i]];
    return i;
  }
  void Join(size_t a, size_t b) {
    a = Find(a);
    b = Find(b);
    if (a != b) parent_[std::max(a, b)] = std::min(a, b);
  }

 private:
  std::vector<size_t> parent_;
};

}  // namespace

std::vector<TextConflictSide> FindTextConflict(const RecordState& state, const std::string& field) {
  const std::vector<TextReplacement>* reps = state.Replacements(field);
  const text::TextDocument* doc = state.Text(field);
  if (reps == nullptr || doc == nullptr || reps->size() < 2) return {};
  const size_t n = reps->size();
  Components comp(n);

  std::vector<Span> replaced, inserted;
  for (size_t i = 0; i < n; ++i) {
    const TextReplacement& rep = (*reps)[i];
    for (const auto& r : rep.replaced) replaced.push_back({r.device, r.seq, r.seq + r.len, i});
    inserted.push_back({rep.id.device, rep.char_seq, rep.char_seq + rep.len, i});
  }
  std::sort(replaced.begin(), replaced.end());
  std::sort(inserted.begin(), inserted.end());

  // Replaced ranges that share characters: concurrent rewrites of the same text. A span
  // overlapping anything before it overlaps the one reaching furthest.
  for (size_t k = 1, reach = 0; k < replaced.size(); ++k) {
    const Span& prev = replaced[reach];
    if (replaced[k].device == prev.device && replaced[k].seq < prev.end) {
      comp.Join(replaced[k].rep, prev.rep);
    }
    if (replaced[k].device != prev.device || replaced[k].end > prev.end) reach = k;
  }
  // A device rewriting its own inserted text keeps working on its side of the conflict.
  for (const Span& s : replaced) {
    if (s.device != (*reps)[s.rep].id.device) continue;
    auto it = std::upper_bound(inserted.begin(), inserted.end(), Span{s.device, s.seq, ~0ull, n});
    if (it != inserted.begin() && std::prev(it)->device == s.device) --it;
    for (; it != inserted.end() && it->device == s.device && it->seq < s.end; ++it) {
      if (it->end > s.seq && it->rep != s.rep) comp.Join(s.rep, it->rep);
    }
  }

  // Per component, the devices whose inserted text is still visible.
  std::map<size_t, std::map<DeviceId, std::vector<size_t>>> groups;
  for (size_t i = 0; i < n; ++i) groups[comp.Find(i)][(*reps)[i].id.device].push_back(i);
  std::map<DeviceId, TextConflictSide> sides;
  std::vector<std::pair<DeviceId, text::DeleteRange>> inserted_by;
  for (const auto& [root, by_device] : groups) {
    if (by_device.size() < 2) continue;
    std::vector<DeviceId> live;
    for (const auto& [device, members] : by_device) {
      uint64_t visible = 0;
      for (size_t i : members) {
        const TextReplacement& rep = (*reps)[i];
        visible += doc->VisibleCount({rep.id.device, rep.char_seq, rep.len});
      }
      if (visible > 0) live.push_back(device);
    }
    if (live.size() < 2) continue;  // settled: only one side's text is left
    for (DeviceId device : live) {
      TextConflictSide& side = sides[device];
      side.device = device;
      for (size_t i : by_device.at(device)) {
        const TextReplacement& rep = (*reps)[i];
        side.ops.push_back(rep.id);
        side.hlc = std::max(side.hlc, rep.id.hlc);
        side.wall_ms = std::max(side.wall_ms, rep.wall_ms);
        inserted_by.push_back({device, {rep.id.device, rep.char_seq, rep.len}});
      }
    }
  }
  std::vector<TextConflictSide> out;
  for (auto& [device, side] : sides) {
    std::vector<text::DeleteRange> hidden;
    for (const auto& [owner, range] : inserted_by) {
      if (owner != device) hidden.push_back(range);
    }
    std::sort(side.ops.begin(), side.ops.end());
    side.version = text::Utf32ToUtf8(doc->TextWithout(hidden));
    out.push_back(std::move(side));
  }
  return out;
}

}  // namespace jsync

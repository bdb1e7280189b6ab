#include "core/store/record_summary.h"

#include <nlohmann/json.hpp>

#include "core/model/text_conflicts.h"

namespace jsync::store {

uint64_t RecordCreatedMs(const RecordState& state) {
  uint64_t created = 0;
  if (const Sibling* s = state.Winner("created_at")) {
    nlohmann::json v = nlohmann::json::parse(s->value, nullptr, /*allow_exceptions=*/false);
    if (v.is_number_unsigned()) created = v.get<uint64_t>();
  }
  return created != 0 ? created : state.min_wall_ms();
}

RecordSummary SummarizeRecord(const RecordId& id, const RecordState& state) {
  RecordSummary s;
  s.id = id;
  s.visible = state.Visible();
  if (const text::TextDocument* title = state.Text("title")) s.title = title->Utf8();
  s.tags = state.SetElements("tags");
  s.created_ms = RecordCreatedMs(state);
  s.updated_ms = state.max_wall_ms();
  // The same test EntryFromState uses to list conflicts, cheapest first.
  for (const auto& [field, sibs] : state.registers()) s.conflicts |= sibs.size() >= 2;
  for (const char* field : {"title", "body"}) {
    if (!s.conflicts) s.conflicts = !FindTextConflict(state, field).empty();
  }
  return s;
}

Bytes EncodeTags(const std::vector<std::string>& tags) {
  Bytes out;
  for (const auto& t : tags) {
    const auto n = static_cast<uint32_t>(t.size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(n >> (8 * i)));
    out.insert(out.end(), t.begin(), t.end());
  }
  return out;
}

std::vector<std::string> DecodeTags(ByteSpan bytes) {
  std::vector<std::string> out;
  size_t at = 0;
  while (bytes.size() - at >= 4) {
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n |= static_cast<uint32_t>(bytes[at + i]) << (8 * i);
    at += 4;
    if (n > bytes.size() - at) break;  // a damaged column: keep what parsed
    out.emplace_back(reinterpret_cast<const char*>(bytes.data() + at), n);
    at += n;
  }
  return out;
}

}  // namespace jsync::store

#include "core/journal/entry.h"

#include <nlohmann/json.hpp>

namespace jsync {
namespace {

nlohmann::json ParseValue(const std::string& text) {
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

std::string TextField(const RecordState& state, const char* field) {
  const text::TextDocument* doc = state.Text(field);
  return doc ? doc->Utf8() : "";
}

}  // namespace

Entry EntryFromState(const RecordId& id, const RecordState& state) {
  Entry e;
  e.id = id;
  e.title = TextField(state, "title");
  e.body = TextField(state, "body");
  e.tags = state.SetElements("tags");
  if (const Sibling* created = state.Winner("created_at")) {
    nlohmann::json v = ParseValue(created->value);
    if (v.is_number_unsigned()) e.created_ms = v.get<uint64_t>();
  }
  if (e.created_ms == 0) e.created_ms = HlcMillis(state.min_hlc());
  e.updated_ms = HlcMillis(state.max_hlc());
  for (const auto& [field, sibs] : state.registers()) {
    if (sibs.size() < 2) continue;
    FieldConflict c{field, {}};
    for (const Sibling& s : sibs) c.values.push_back({s.value, s.id.device, s.id.hlc});
    e.conflicts.push_back(std::move(c));
  }
  return e;
}

}  // namespace jsync

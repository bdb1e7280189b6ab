#include "core/journal/entry.h"

#include <nlohmann/json.hpp>

#include "core/model/text_conflicts.h"
#include "core/store/record_summary.h"

namespace jsync {
namespace {

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
  e.created_ms = store::RecordCreatedMs(state);
  e.updated_ms = state.max_wall_ms();
  for (const auto& [field, sibs] : state.registers()) {
    if (sibs.size() < 2) continue;
    FieldConflict c{field, "register", {}};
    for (const Sibling& s : sibs) {
      c.values.push_back({s.value, s.id.device, s.id.hlc, s.wall_ms, {s.id}});
    }
    e.conflicts.push_back(std::move(c));
  }
  for (const char* field : {"title", "body"}) {
    std::vector<TextConflictSide> sides = FindTextConflict(state, field);
    if (sides.empty()) continue;
    FieldConflict c{field, "text", {}};
    for (auto& side : sides) {
      // Replacing bad UTF-8 (a broken sender's) keeps dump() from throwing.
      c.values.push_back({nlohmann::json(side.version)
                              .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                          side.device, side.hlc, side.wall_ms, std::move(side.ops)});
    }
    e.conflicts.push_back(std::move(c));
  }
  return e;
}

}  // namespace jsync

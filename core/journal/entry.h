// The CLI's default collection, "entries": journal entries built on generic records.
//   title, body   text (sequence CRDT, merged character by character)
//   tags          observed-remove set
//   created_at    register (JSON number, Unix ms)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/model/record_state.h"

namespace jsync {

inline constexpr const char* kEntries = "entries";

struct ConflictValue {
  std::string value;  // JSON text
  DeviceId device = 0;
  Hlc hlc = 0;
};

// Concurrent writes to one field that no later write replaced; the last one is shown.
struct FieldConflict {
  std::string field;
  std::vector<ConflictValue> values;
};

struct Entry {
  RecordId id{};
  std::string title;
  std::string body;
  std::vector<std::string> tags;
  uint64_t created_ms = 0;
  uint64_t updated_ms = 0;
  std::vector<FieldConflict> conflicts;
};

Entry EntryFromState(const RecordId& id, const RecordState& state);

}  // namespace jsync

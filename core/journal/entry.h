// The CLI's default collection, "entries": journal entries built on generic records.
//   title, body   text (sequence CRDT, merged character by character)
//   tags          observed-remove set
//   created_at    register (JSON number, Unix ms)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/model/record_state.h"
#include "core/store/record_summary.h"

namespace jsync {

inline constexpr const char* kEntries = "entries";

struct ConflictValue {
  std::string value;  // JSON text; for a text conflict a JSON string: that side's version
  DeviceId device = 0;
  Hlc hlc = 0;            // the (newest) op of this side
  uint64_t wall_ms = 0;   // its display time
  std::vector<OpId> ops;  // the ops of this side (register: the sibling; text: its rewrites)
};

// Concurrent writes to one field that no later write settled.
//   kind "register": siblings ordered by (hlc, device); the last one is shown.
//   kind "text": concurrent rewrites of the same characters (core/model/text_conflicts.h); the
//   merged text is shown, each value is one device's version.
struct FieldConflict {
  std::string field;
  std::string kind = "register";
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

// What `jsync list` shows of an entry, read from the store's summary columns without decoding
// the entry's text (docs/decisions/0042): id, title, tags, created and updated times, and
// whether it has a conflict. Always equal to the same fields of EntryFromState.
using EntrySummary = store::RecordSummary;

}  // namespace jsync

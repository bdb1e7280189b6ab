// Concurrent rewrites of the same characters of a text field, found from the state alone
// (docs/decisions/0016-text-conflicts.md).
//
// Two replacing inserts (TextReplacement) of different devices whose replaced ranges share a
// character are concurrent: a device that had seen one delete could not delete those
// characters again. Such replacements, plus the later replacements a device made of its own
// inserted text, form one conflict. It stays open while the inserted text of at least two
// devices is still visible; deleting all but one side's text (by any edit that saw it) settles
// it. Being a function of the applied ops only, every device that merged the same ops sees the
// same conflicts.
#pragma once

#include <string>
#include <vector>

#include "core/model/record_state.h"

namespace jsync {

struct TextConflictSide {
  DeviceId device = 0;
  std::vector<OpId> ops;  // its replacing inserts in the conflict, ordered
  Hlc hlc = 0;            // the newest of them
  uint64_t wall_ms = 0;   // the newest display time of them
  // UTF-8: the field with the other sides' inserted characters left out. Characters that only
  // the other sides deleted stay deleted (tombstones keep no text).
  std::string version;
};

// The open conflicts of `field` merged into one, a side per device ordered by device id;
// empty when there is none.
std::vector<TextConflictSide> FindTextConflict(const RecordState& state, const std::string& field);

}  // namespace jsync

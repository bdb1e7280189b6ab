// What a listing shows of one record, kept by the store beside the record's CRDT state (table
// record_summaries, docs/decisions/0042-materialised-list-summaries.md) so that `jsync list`
// reads a few columns per entry instead of decoding every text document.
//
// Computed from the entries' field convention (core/journal/entry.h): the `title` text, the
// `tags` set, the `created_at` register. A record of another collection gets the same columns
// (empty when it has no such fields).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/record_state.h"
#include "core/util/bytes.h"

namespace jsync::store {

struct RecordSummary {
  RecordId id{};
  bool visible = false;  // false once deleted (the record's tombstoned state stays stored)
  std::string title;
  std::vector<std::string> tags;  // sorted, as RecordState::SetElements gives them
  uint64_t created_ms = 0;
  uint64_t updated_ms = 0;
  bool conflicts = false;  // a register with siblings, or an open text conflict on title/body

  bool operator==(const RecordSummary&) const = default;
};

RecordSummary SummarizeRecord(const RecordId& id, const RecordState& state);

// The creation time an entry shows: its created_at register (a JSON unsigned number), else its
// oldest op's display time. Shared with EntryFromState so both always agree.
uint64_t RecordCreatedMs(const RecordState& state);

// The tags column's bytes: each tag as a 4-byte little-endian length and its bytes (a tag may
// hold any byte a remote device sent).
Bytes EncodeTags(const std::vector<std::string>& tags);
std::vector<std::string> DecodeTags(ByteSpan bytes);

}  // namespace jsync::store

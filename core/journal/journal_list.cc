// The list side of Journal (docs/decisions/0042): entries visited one at a time in listing
// order, so a list of 100,000 entries holds one entry in memory, not all of them.
#include "core/journal/journal.h"

namespace jsync {

Status Journal::ForEachEntrySummary(const std::function<Status(const EntrySummary&)>& visit) {
  return store_->ForEachSummary(kEntries, visit);
}

Status Journal::ForEachEntry(const std::function<Status(const Entry&)>& visit) {
  return store_->ForEachVisibleRecord(
      kEntries, [&](const RecordId& id, const RecordState& state) {
        return visit(EntryFromState(id, state));
      });
}

}  // namespace jsync

// Replays a concurrent trace through one TextDocument per agent, as devices offline from
// each other would: before an agent's txn, its document merges (ApplyInsert/ApplyDelete) the
// ops of every ancestor txn it has not seen yet, in trace order, so it holds exactly the
// state after the txn's parents; the txn's patches are then local edits whose ops go to the
// log. At the end every document merges everything.
#pragma once

#include <vector>

#include "core/model/text/text_document.h"
#include "tools/trace/editing_trace.h"

namespace jsync::trace {

struct ReplayResult {
  std::vector<text::TextDocument> docs;  // one per agent, after merging everything
  size_t merges = 0;                     // txns with several parents
  size_t ops_merged = 0;                 // remote ops applied over all documents
};

// kCorrupt when a patch is out of range for the state after its parents.
Result<ReplayResult> ReplayConcurrent(const ConcurrentTrace& trace);

}  // namespace jsync::trace

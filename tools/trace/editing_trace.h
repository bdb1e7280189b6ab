// Loads an editing trace in the josephg/editing-traces format (gzip'd or plain JSON):
// {"startContent": "", "endContent": "...", "txns": [{"patches": [[pos, del, "ins"], ...]}]}
// Positions and lengths are Unicode code points.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/util/status.h"

namespace jsync::trace {

struct Patch {
  size_t pos = 0;
  size_t del = 0;
  std::u32string ins;
};

struct EditingTrace {
  std::u32string start;
  std::u32string end;
  std::vector<Patch> patches;  // all txns' patches, in order
};

Result<EditingTrace> LoadEditingTrace(const std::string& path);
// The JSON text of a trace; `name` names it in messages.
Result<EditingTrace> ParseEditingTrace(std::string_view json_text, const std::string& name);

}  // namespace jsync::trace

namespace jsync::trace {

// A concurrent trace (editing-traces' concurrent_traces/): each txn applies to the document
// state after its parents (txn indexes, all lower than its own; none: the empty document,
// several: the merge of those branches), typed by `agent`.
struct ConcurrentTxn {
  std::vector<size_t> parents;
  size_t agent = 0;
  std::vector<Patch> patches;
};

struct ConcurrentTrace {
  size_t agents = 0;
  std::u32string end;
  std::vector<ConcurrentTxn> txns;
};

Result<ConcurrentTrace> LoadConcurrentTrace(const std::string& path);
Result<ConcurrentTrace> ParseConcurrentTrace(std::string_view json_text, const std::string& name);

}  // namespace jsync::trace

// Loads an editing trace in the josephg/editing-traces format (gzip'd or plain JSON):
// {"startContent": "", "endContent": "...", "txns": [{"patches": [[pos, del, "ins"], ...]}]}
// Positions and lengths are Unicode code points.
#pragma once

#include <string>
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

}  // namespace jsync::trace

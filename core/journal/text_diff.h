// Turns "the text was A, now it is B" into the few splices that change A into B, so an edit
// that changed one word sends one small insert and one small delete, not the whole body.
#pragma once

#include <string>
#include <vector>

namespace jsync {

struct Splice {
  size_t pos = 0;      // code points, in the text as the earlier splices left it
  size_t del = 0;      // code points deleted at pos
  std::u32string ins;  // then inserted at pos
};

// A minimal edit script (Myers' diff via dtl), after trimming the common prefix and suffix.
std::vector<Splice> DiffToSplices(const std::u32string& from, const std::u32string& to);

}  // namespace jsync

// Turns "the text was A, now it is B" into the few splices that change A into B, so an edit
// that changed one word sends one small insert and one small delete, not the whole body.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace jsync {

struct Splice {
  size_t pos = 0;      // code points, in the text as the earlier splices left it
  size_t del = 0;      // code points deleted at pos
  std::u32string ins;  // then inserted at pos
};

// How much work one diff may do before it settles for a coarse replace of what is left
// (docs/decisions/0014-linear-diff.md). Deterministic: counted in steps, not time.
struct DiffLimits {
  // Edits searched from each end in one middle-snake search; a region that needs more is
  // replaced whole. A search costs about 2 * max_d^2 steps and 16 * max_d bytes.
  size_t max_d = 2048;
  // Steps (diagonals visited plus characters or lines compared) for the whole call; once spent,
  // every region not yet diffed is replaced whole.
  uint64_t max_steps = uint64_t{1} << 26;
};

struct DiffStats {
  uint64_t steps = 0;         // Myers steps spent
  size_t coarse_regions = 0;  // regions replaced whole because a limit was reached
};

// Common prefix and suffix trimmed; then a line diff (lines hashed to ids) whose changed blocks
// are refined by a character diff, both Myers' O(ND) with linear space (middle snake); then a
// semantic cleanup that folds an equality no longer than the edits on both sides of it into one
// replacement, so a rewritten title is one splice and not interleavable fragments.
std::vector<Splice> DiffToSplices(const std::u32string& from, const std::u32string& to);
std::vector<Splice> DiffToSplices(const std::u32string& from, const std::u32string& to,
                                  const DiffLimits& limits, DiffStats* stats = nullptr);

}  // namespace jsync

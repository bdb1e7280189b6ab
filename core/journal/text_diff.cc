#include "core/journal/text_diff.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace jsync {
namespace {

// from[a0, a1) is replaced by to[b0, b1). Hunks are kept in order; what lies between two of them
// is equal in both texts.
struct Hunk {
  size_t a0, a1, b0, b1;
  size_t del() const { return a1 - a0; }
  size_t ins() const { return b1 - b0; }
};

void AppendHunk(std::vector<Hunk>& out, const Hunk& h) {
  if (h.a0 == h.a1 && h.b0 == h.b1) return;
  if (!out.empty() && out.back().a1 == h.a0 && out.back().b1 == h.b0) {
    out.back().a1 = h.a1;
    out.back().b1 = h.b1;
  } else {
    out.push_back(h);
  }
}

// Myers' O(ND) diff in linear space (the middle-snake refinement of his 1986 paper, in the form
// diff-match-patch uses), on any sequences of comparable tokens. Work is counted in steps so a
// hopeless region (a rewrite) gives up early and is replaced whole.
template <typename T>
class Myers {
 public:
  Myers(const T* a, const T* b, const DiffLimits& limits, DiffStats& stats)
      : a_(a), b_(b), limits_(limits), stats_(stats) {}

  // Appends to `out` the hunks that turn a[a0, a1) into b[b0, b1).
  void Diff(size_t a0, size_t a1, size_t b0, size_t b1, std::vector<Hunk>& out) {
    while (a0 < a1 && b0 < b1 && a_[a0] == b_[b0]) ++a0, ++b0;
    while (a0 < a1 && b0 < b1 && a_[a1 - 1] == b_[b1 - 1]) --a1, --b1;
    if (a0 == a1 || b0 == b1) return AppendHunk(out, {a0, a1, b0, b1});
    bool limited = true;
    std::optional<Point> mid;
    if (stats_.steps < limits_.max_steps) {
      mid = Bisect(a_ + a0, static_cast<ptrdiff_t>(a1 - a0), b_ + b0,
                   static_cast<ptrdiff_t>(b1 - b0), limited);
    }
    // A split at either corner would not shrink the problem; the search never returns one on
    // trimmed input (both sides non-empty, so D >= 2), but recursion must not depend on that.
    const bool shrinks =
        mid && !(mid->x == 0 && mid->y == 0) &&
        !(mid->x == static_cast<ptrdiff_t>(a1 - a0) && mid->y == static_cast<ptrdiff_t>(b1 - b0));
    if (!shrinks) {
      // Without a limit, paths that never meet mean nothing in common: the replace is exact.
      if (limited || mid) ++stats_.coarse_regions;
      return AppendHunk(out, {a0, a1, b0, b1});
    }
    const size_t ax = a0 + static_cast<size_t>(mid->x), by = b0 + static_cast<size_t>(mid->y);
    Diff(a0, ax, b0, by, out);
    Diff(ax, a1, by, b1, out);
  }

 private:
  struct Point {
    ptrdiff_t x, y;
  };

  // A point on an optimal path about halfway through it, found by searching forward from the
  // start and backward from the end until the two meet; nullopt when they have not met within
  // max_d edits each or the step budget ran out (`limited` says which of the two it was), or
  // when a and b have nothing in common.
  std::optional<Point> Bisect(const T* a, ptrdiff_t n, const T* b, ptrdiff_t m, bool& limited) {
    const ptrdiff_t full_d = (n + m + 1) / 2;
    const ptrdiff_t max_d = std::min<ptrdiff_t>(full_d, static_cast<ptrdiff_t>(limits_.max_d));
    limited = max_d < full_d;
    const ptrdiff_t delta = n - m;
    if (delta > 2 * max_d || -delta > 2 * max_d) return std::nullopt;  // D >= |delta|
    const ptrdiff_t offset = max_d + 1;
    const ptrdiff_t len = 2 * max_d + 3;
    forward_.assign(static_cast<size_t>(len), -1);
    backward_.assign(static_cast<size_t>(len), -1);
    ptrdiff_t* v1 = forward_.data();
    ptrdiff_t* v2 = backward_.data();
    v1[offset + 1] = 0;
    v2[offset + 1] = 0;
    // With an odd delta the paths meet during a forward pass, with an even one backward.
    const bool front = (delta & 1) != 0;
    // Diagonals whose paths ran off the edit graph are not extended again.
    ptrdiff_t k1start = 0, k1end = 0, k2start = 0, k2end = 0;
    for (ptrdiff_t d = 0; d < max_d; ++d) {
      for (ptrdiff_t k1 = -d + k1start; k1 <= d - k1end; k1 += 2) {
        if (stats_.steps >= limits_.max_steps) {
          limited = true;
          return std::nullopt;
        }
        const ptrdiff_t i = offset + k1;
        ptrdiff_t x1 = (k1 == -d || (k1 != d && v1[i - 1] < v1[i + 1])) ? v1[i + 1] : v1[i - 1] + 1;
        ptrdiff_t y1 = x1 - k1;
        const ptrdiff_t x_before = x1;
        while (x1 < n && y1 < m && a[x1] == b[y1]) ++x1, ++y1;
        stats_.steps += 1 + static_cast<uint64_t>(x1 - x_before);
        v1[i] = x1;
        if (x1 > n) {
          k1end += 2;
        } else if (y1 > m) {
          k1start += 2;
        } else if (front) {
          const ptrdiff_t j = offset + delta - k1;
          if (j >= 0 && j < len && v2[j] != -1 && x1 >= n - v2[j]) return Point{x1, y1};
        }
      }
      for (ptrdiff_t k2 = -d + k2start; k2 <= d - k2end; k2 += 2) {
        if (stats_.steps >= limits_.max_steps) {
          limited = true;
          return std::nullopt;
        }
        const ptrdiff_t i = offset + k2;
        ptrdiff_t x2 = (k2 == -d || (k2 != d && v2[i - 1] < v2[i + 1])) ? v2[i + 1] : v2[i - 1] + 1;
        ptrdiff_t y2 = x2 - k2;
        const ptrdiff_t x_before = x2;
        while (x2 < n && y2 < m && a[n - x2 - 1] == b[m - y2 - 1]) ++x2, ++y2;
        stats_.steps += 1 + static_cast<uint64_t>(x2 - x_before);
        v2[i] = x2;
        if (x2 > n) {
          k2end += 2;
        } else if (y2 > m) {
          k2start += 2;
        } else if (!front) {
          const ptrdiff_t j = offset + delta - k2;
          if (j >= 0 && j < len && v1[j] != -1) {
            const ptrdiff_t x1 = v1[j];
            const ptrdiff_t y1 = x1 - (j - offset);
            if (x1 >= n - x2) return Point{x1, y1};
          }
        }
      }
    }
    return std::nullopt;
  }

  const T* a_;
  const T* b_;
  const DiffLimits& limits_;
  DiffStats& stats_;
  std::vector<ptrdiff_t> forward_, backward_;  // furthest x per diagonal, reused by every search
};

// An equality no longer than the edit on each side of it (the longer of its delete and insert,
// as in diff-match-patch's cleanupSemantic) carries no meaning of its own: it is a few letters
// the old and new wording happen to share. Folding it into one replacement keeps a rewritten
// phrase contiguous, so a concurrent rewrite on another device cannot interleave with it.
// Folding can make a neighbouring equality foldable too, so the check walks back until stable.
void CleanupSemantic(std::vector<Hunk>& hunks) {
  std::vector<Hunk> out;
  out.reserve(hunks.size());
  for (Hunk cur : hunks) {
    while (!out.empty()) {
      const Hunk& prev = out.back();
      const size_t equal = cur.a0 - prev.a1;
      if (equal > std::max(prev.del(), prev.ins()) || equal > std::max(cur.del(), cur.ins())) break;
      cur = {prev.a0, cur.a1, prev.b0, cur.b1};
      out.pop_back();
    }
    out.push_back(cur);
  }
  hunks = std::move(out);
}

// Lines (each with its '\n') of text[begin, end) as dense ids shared by both texts, plus where
// each line starts (and, last, `end`).
class LineTokens {
 public:
  void Split(const std::u32string& text, size_t begin, size_t end, std::vector<uint32_t>& ids,
             std::vector<size_t>& starts) {
    size_t pos = begin;
    while (pos < end) {
      size_t stop = text.find(U'\n', pos);
      stop = stop == std::u32string::npos || stop >= end ? end : stop + 1;
      std::u32string_view line(text.data() + pos, stop - pos);
      auto [it, added] = ids_.try_emplace(line, static_cast<uint32_t>(ids_.size()));
      ids.push_back(it->second);
      starts.push_back(pos);
      pos = stop;
    }
    starts.push_back(end);
  }

  size_t distinct() const { return ids_.size(); }

 private:
  std::unordered_map<std::u32string_view, uint32_t> ids_;
};

// Patience anchors: the lines that occur exactly once in each text, as the longest run of them
// in the same order in both. Paragraphs are nearly always unique, so untouched ones pin the
// alignment and the line diff only searches the gaps between them; thousands of scattered
// edits then cost no more than one each, where a single search over the whole body would run
// into max_d and replace it all.
std::vector<std::pair<size_t, size_t>> UniqueCommonLines(const std::vector<uint32_t>& a,
                                                         const std::vector<uint32_t>& b,
                                                         size_t distinct) {
  constexpr size_t kAbsent = SIZE_MAX, kRepeated = SIZE_MAX - 1;
  std::vector<size_t> in_a(distinct, kAbsent), in_b(distinct, kAbsent);
  for (size_t i = 0; i < a.size(); ++i) in_a[a[i]] = in_a[a[i]] == kAbsent ? i : kRepeated;
  for (size_t j = 0; j < b.size(); ++j) in_b[b[j]] = in_b[b[j]] == kAbsent ? j : kRepeated;
  std::vector<std::pair<size_t, size_t>> pairs;  // (i, j), i increasing
  for (size_t i = 0; i < a.size(); ++i) {
    const size_t j = in_b[a[i]];
    if (in_a[a[i]] == i && j < kRepeated) pairs.emplace_back(i, j);
  }
  // Longest increasing subsequence of j (patience sorting): tails[len - 1] is the pair ending
  // the best run of that length found so far.
  std::vector<size_t> tails, before(pairs.size(), SIZE_MAX);
  for (size_t p = 0; p < pairs.size(); ++p) {
    auto it = std::lower_bound(tails.begin(), tails.end(), pairs[p].second,
                               [&](size_t t, size_t j) { return pairs[t].second < j; });
    if (it != tails.begin()) before[p] = *(it - 1);
    if (it == tails.end()) {
      tails.push_back(p);
    } else {
      *it = p;
    }
  }
  std::vector<std::pair<size_t, size_t>> anchors;
  for (size_t p = tails.empty() ? SIZE_MAX : tails.back(); p != SIZE_MAX; p = before[p]) {
    anchors.push_back(pairs[p]);
  }
  std::reverse(anchors.begin(), anchors.end());
  return anchors;
}

}  // namespace

std::vector<Splice> DiffToSplices(const std::u32string& from, const std::u32string& to) {
  return DiffToSplices(from, to, DiffLimits{});
}

std::vector<Splice> DiffToSplices(const std::u32string& from, const std::u32string& to,
                                  const DiffLimits& limits, DiffStats* stats_out) {
  DiffStats stats;
  size_t prefix = 0;
  while (prefix < from.size() && prefix < to.size() && from[prefix] == to[prefix]) ++prefix;
  size_t suffix = 0;
  while (suffix < from.size() - prefix && suffix < to.size() - prefix &&
         from[from.size() - 1 - suffix] == to[to.size() - 1 - suffix]) {
    ++suffix;
  }
  const size_t a_end = from.size() - suffix, b_end = to.size() - suffix;

  // Stage 1: lines. Cheap (a body has few lines) and it finds moved or untouched paragraphs
  // that a character search with a capped D could not reach across a long rewrite.
  std::vector<Hunk> coarse;
  {
    LineTokens tokens;
    std::vector<uint32_t> a_lines, b_lines;
    std::vector<size_t> a_starts, b_starts;
    tokens.Split(from, prefix, a_end, a_lines, a_starts);
    tokens.Split(to, prefix, b_end, b_lines, b_starts);
    std::vector<Hunk> line_hunks;
    Myers<uint32_t> lines(a_lines.data(), b_lines.data(), limits, stats);
    size_t a_at = 0, b_at = 0;
    for (const auto& [i, j] : UniqueCommonLines(a_lines, b_lines, tokens.distinct())) {
      lines.Diff(a_at, i, b_at, j, line_hunks);
      a_at = i + 1;
      b_at = j + 1;
    }
    lines.Diff(a_at, a_lines.size(), b_at, b_lines.size(), line_hunks);
    for (const Hunk& h : line_hunks) {
      coarse.push_back({a_starts[h.a0], a_starts[h.a1], b_starts[h.b0], b_starts[h.b1]});
    }
  }
  // Blank lines and repeated lines shared by two rewritten paragraphs would otherwise split one
  // rewrite into many blocks, each searched by characters in vain.
  CleanupSemantic(coarse);

  // Stage 2: characters, inside each changed block.
  std::vector<Hunk> fine;
  Myers<char32_t> chars(from.data(), to.data(), limits, stats);
  for (const Hunk& h : coarse) chars.Diff(h.a0, h.a1, h.b0, h.b1, fine);
  CleanupSemantic(fine);

  std::vector<Splice> out;
  out.reserve(fine.size());
  for (const Hunk& h : fine) out.push_back({h.b0, h.del(), to.substr(h.b0, h.ins())});
  if (stats_out) *stats_out = stats;
  return out;
}

}  // namespace jsync

#include "core/journal/text_diff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/model/text/text_document.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

using text::Utf8ToUtf32;

std::u32string U(const std::string& s) { return Utf8ToUtf32(s); }

std::u32string Apply(std::u32string text, const std::vector<Splice>& splices) {
  for (const Splice& s : splices) {
    if (s.pos > text.size() || s.del > text.size() - s.pos) {
      ADD_FAILURE() << "splice " << s.pos << "+" << s.del << " outside " << text.size();
      return text;
    }
    text.replace(s.pos, s.del, s.ins);
  }
  return text;
}

// What every result must satisfy besides reproducing `to`: splices in order with an equality
// between each two, none empty, and no equality left that the semantic cleanup would fold.
void CheckShape(const std::vector<Splice>& splices) {
  for (size_t i = 0; i < splices.size(); ++i) {
    const Splice& s = splices[i];
    EXPECT_TRUE(s.del > 0 || !s.ins.empty()) << "empty splice " << i;
    if (i == 0) continue;
    const Splice& p = splices[i - 1];
    ASSERT_GT(s.pos, p.pos + p.ins.size()) << "splice " << i << " touches the one before";
    const size_t equal = s.pos - (p.pos + p.ins.size());
    EXPECT_TRUE(equal > std::max(p.del, p.ins.size()) || equal > std::max(s.del, s.ins.size()))
        << "an equality of " << equal << " between splices " << i - 1 << " and " << i
        << " is no longer than the edits on both sides";
  }
}

size_t ChangedChars(const std::vector<Splice>& splices) {
  size_t n = 0;
  for (const Splice& s : splices) n += s.del + s.ins.size();
  return n;
}

TEST(TextDiff, EmptyAndEqualTexts) {
  EXPECT_TRUE(DiffToSplices(U(""), U("")).empty());
  EXPECT_TRUE(DiffToSplices(U("same 🙂"), U("same 🙂")).empty());
  auto ins = DiffToSplices(U(""), U("new 🙂"));
  ASSERT_EQ(ins.size(), 1u);
  EXPECT_EQ(ins[0].pos, 0u);
  EXPECT_EQ(ins[0].del, 0u);
  EXPECT_EQ(ins[0].ins, U("new 🙂"));
  auto del = DiffToSplices(U("old 🙂"), U(""));
  ASSERT_EQ(del.size(), 1u);
  EXPECT_EQ(del[0].pos, 0u);
  EXPECT_EQ(del[0].del, 5u);
  EXPECT_TRUE(del[0].ins.empty());
}

TEST(TextDiff, InsertInTheMiddleIsOneSplice) {
  auto s = DiffToSplices(U("hello world"), U("hello big world"));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(Apply(U("hello world"), s), U("hello big world"));
  EXPECT_EQ(s[0].del, 0u);
  EXPECT_EQ(s[0].ins.size(), 4u);
}

// Issue item 3a: the minimal diff of "untitled" -> "N says that" keeps the two t's, so the
// insert was three fragments that a concurrent retitle interleaved with.
TEST(TextDiffSemantic, RewrittenTitleIsOneSplice) {
  const auto from = U("untitled"), to = U("N says that");
  auto s = DiffToSplices(from, to);
  EXPECT_EQ(Apply(from, s), to);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].pos, 0u);
  EXPECT_EQ(s[0].del, from.size());
  EXPECT_EQ(s[0].ins, to);
}

TEST(TextDiffSemantic, ChangedWordsAreOneReplacementEach) {
  for (const auto& [f, t] : std::vector<std::pair<std::string, std::string>>{
           {"X says so", "N says that"}, {"X says so", "F says this"}}) {
    SCOPED_TRACE(f + " -> " + t);
    const auto from = U(f), to = U(t);
    auto s = DiffToSplices(from, to);
    EXPECT_EQ(Apply(from, s), to);
    CheckShape(s);
    ASSERT_EQ(s.size(), 2u);  // the first word, the last word; " says " stays
    EXPECT_EQ(s[0].pos, 0u);
    EXPECT_EQ(s[0].del, 1u);
    EXPECT_EQ(s[1].pos, 7u);
    EXPECT_EQ(s[1].del, 2u);
    EXPECT_EQ(s[1].ins, to.substr(7));
  }
}

// Both devices diff their new title against the common one; the splices become CRDT ops, and
// each side's text must come out whole after the merge.
std::u32string MergeConcurrentRetitles(const std::string& base, const std::string& left,
                                       const std::string& right) {
  text::TextDocument doc;
  EXPECT_TRUE(doc.LocalInsert(1, 1, 0, U(base)).ok());
  struct Side {
    text::TextDocument doc;
    std::vector<text::DeleteOp> deletes;
    std::vector<text::InsertOp> inserts;
  };
  auto edit = [&](DeviceId device, const std::string& title) {
    Side side{doc, {}, {}};
    uint64_t seq = 1;
    for (const Splice& s : DiffToSplices(doc.Text(), U(title))) {
      if (s.del > 0) side.deletes.push_back(*side.doc.LocalDelete(s.pos, s.del));
      if (!s.ins.empty()) {
        side.inserts.push_back(*side.doc.LocalInsert(device, seq, s.pos, s.ins));
        seq += s.ins.size();
      }
    }
    EXPECT_EQ(side.doc.Text(), U(title));
    return side;
  };
  Side a = edit(2, left), b = edit(3, right);
  for (const auto& op : b.inserts) EXPECT_TRUE(a.doc.ApplyInsert(op).ok());
  for (const auto& op : b.deletes) EXPECT_TRUE(a.doc.ApplyDelete(op).ok());
  for (const auto& op : a.inserts) EXPECT_TRUE(b.doc.ApplyInsert(op).ok());
  for (const auto& op : a.deletes) EXPECT_TRUE(b.doc.ApplyDelete(op).ok());
  EXPECT_EQ(a.doc.Text(), b.doc.Text());
  return a.doc.Text();
}

TEST(TextDiffSemantic, ConcurrentRetitlesDoNotInterleave) {
  const auto merged = MergeConcurrentRetitles("untitled", "N says that", "F says this");
  EXPECT_TRUE(merged == U("N says thatF says this") || merged == U("F says thisN says that"))
      << text::Utf32ToUtf8(merged);
  const auto words = MergeConcurrentRetitles("X says so", "N says that", "F says this");
  bool whole = false;
  for (const char* first : {"NF", "FN"}) {
    for (const char* last : {"thatthis", "thisthat"}) {
      whole |= words == U(std::string(first) + " says " + last);
    }
  }
  EXPECT_TRUE(whole) << text::Utf32ToUtf8(words);
}

// English-like text from a fixed word list, paragraphs split by blank lines.
std::u32string Prose(std::mt19937_64& rng, size_t min_chars) {
  static const char* const kWords[] = {
      "the",   "and",     "to",     "of",      "a",      "I",        "in",      "was",
      "that",  "it",      "walked", "morning", "coffee", "garden",   "quietly", "river",
      "train", "evening", "letter", "weather", "friend", "tomorrow", "rain",    "book"};
  std::string out;
  size_t sentence = 0;
  while (out.size() < min_chars) {
    const size_t words = 4 + rng() % 14;
    for (size_t w = 0; w < words; ++w) {
      if (w > 0) out += ' ';
      out += kWords[rng() % std::size(kWords)];
    }
    out += ++sentence % 5 == 0 ? ".\n\n" : ". ";
  }
  return U(out);
}

TEST(TextDiffSemantic, OneWordChangedInALongBodyIsOneSmallSplice) {
  std::mt19937_64 rng(7);
  const std::u32string from = Prose(rng, 100 * 1024);
  const size_t at = from.find(U("morning"), from.size() / 2);
  ASSERT_NE(at, std::u32string::npos);
  std::u32string to = from;
  to.replace(at, 7, U("evening"));
  auto s = DiffToSplices(from, to);
  EXPECT_EQ(Apply(from, s), to);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_LE(s[0].del, 7u);
  EXPECT_LE(s[0].ins.size(), 7u);
}

TEST(TextDiffSemantic, SmallEditsFarApartStaySeparateAndSmall) {
  std::mt19937_64 rng(8);
  const std::u32string from = Prose(rng, 100 * 1024);
  std::u32string to = from;
  const size_t late = to.find(U(" river "), to.size() * 3 / 4);
  const size_t early = to.find(U(" garden "), to.size() / 4);
  ASSERT_NE(late, std::u32string::npos);
  ASSERT_NE(early, std::u32string::npos);
  to.replace(late + 1, 5, U("sea"));
  to.insert(early + 1, U("little 🌱 "));
  auto s = DiffToSplices(from, to);
  EXPECT_EQ(Apply(from, s), to);
  CheckShape(s);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_LE(ChangedChars(s), 20u);
}

TEST(TextDiff, MovedParagraphIsADeleteAndAnInsert) {
  std::mt19937_64 rng(9);
  const std::u32string from = Prose(rng, 200 * 1024);
  const size_t p0 = from.find(U("\n\n"), from.size() / 5) + 2;
  const size_t p1 = from.find(U("\n\n"), p0) + 2;
  const std::u32string paragraph = from.substr(p0, p1 - p0);
  std::u32string to = from;
  to.erase(p0, p1 - p0);
  const size_t dest = to.find(U("\n\n"), to.size() * 4 / 5) + 2;
  to.insert(dest, paragraph);
  DiffStats stats;
  auto s = DiffToSplices(from, to, DiffLimits{}, &stats);
  EXPECT_EQ(Apply(from, s), to);
  CheckShape(s);
  EXPECT_EQ(stats.coarse_regions, 0u);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_LE(ChangedChars(s), 2 * paragraph.size());
}

TEST(TextDiff, CompleteRewriteIsBoundedWorkAndOneSplice) {
  std::mt19937_64 rng(10);
  const std::u32string from = Prose(rng, 300 * 1024), to = Prose(rng, 250 * 1024);
  const DiffLimits limits;
  DiffStats stats;
  auto s = DiffToSplices(from, to, limits, &stats);
  EXPECT_EQ(Apply(from, s), to);
  CheckShape(s);
  // The budget is checked before each diagonal, so it is overrun by at most one snake.
  EXPECT_LE(stats.steps, limits.max_steps + from.size() + to.size());
  EXPECT_GT(stats.coarse_regions, 0u);
  EXPECT_EQ(s.size(), 1u) << "shared blank lines and letters are folded into the rewrite";
}

TEST(TextDiff, TinyLimitsFallBackToOneCoarseReplace) {
  std::mt19937_64 rng(11);
  // One line, so no untouched line can anchor the two edits apart.
  std::u32string from = Prose(rng, 5000);
  std::replace(from.begin(), from.end(), U'\n', U' ');
  std::u32string to = from;
  to.replace(1000, 4, U("🙂🙂"));
  to.replace(3000, 10, U("x"));
  const auto normal = DiffToSplices(from, to);
  EXPECT_EQ(normal.size(), 2u);
  for (const DiffLimits limits : {DiffLimits{0, 1u << 20}, DiffLimits{2048, 0}}) {
    DiffStats stats;
    auto s = DiffToSplices(from, to, limits, &stats);
    EXPECT_EQ(Apply(from, s), to);
    EXPECT_GT(stats.coarse_regions, 0u);
    ASSERT_EQ(s.size(), 1u) << "max_d " << limits.max_d << ", max_steps " << limits.max_steps;
    EXPECT_EQ(s[0].pos, 1000u);
    EXPECT_EQ(s[0].del, 3012u - 1000u);  // to 3000 is from 3002
  }
}

TEST(TextDiff, UntouchedLinesKeepEditsApartEvenWithoutABudget) {
  std::mt19937_64 rng(12);
  const std::u32string from = Prose(rng, 20000);
  std::u32string to = from;
  to.replace(1000, 4, U("🙂🙂"));
  to.replace(15000, 10, U("x"));
  DiffStats stats;
  auto s = DiffToSplices(from, to, DiffLimits{2048, 0}, &stats);
  EXPECT_EQ(Apply(from, s), to);
  EXPECT_GT(stats.coarse_regions, 0u);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_LT(ChangedChars(s), 3000u) << "each coarse region is at most the paragraphs edited";
}

// ---- randomized: applying the splices to `from` gives `to` exactly -----------------------

std::u32string RandomText(std::mt19937_64& rng, const std::u32string& alphabet, size_t max_len) {
  std::u32string s;
  for (size_t n = max_len == 0 ? 0 : rng() % (max_len + 1); n > 0; --n) {
    s.push_back(alphabet[rng() % alphabet.size()]);
  }
  return s;
}

// One random edit of the kinds people make: small inserts, deletes and replacements, moving a
// block, duplicating one, or rewriting everything.
void RandomEdit(std::mt19937_64& rng, const std::u32string& alphabet, std::u32string& text) {
  const size_t size = text.size();
  auto pick = [&](size_t bound) { return bound == 0 ? 0 : rng() % (bound + 1); };
  switch (rng() % 8) {
    case 0:
    case 1:
      text.insert(pick(size), RandomText(rng, alphabet, 8));
      break;
    case 2:
    case 3: {
      const size_t pos = pick(size);
      text.erase(pos, pick(std::min<size_t>(size - pos, 10)));
      break;
    }
    case 4: {
      const size_t pos = pick(size);
      text.replace(pos, pick(std::min<size_t>(size - pos, 12)), RandomText(rng, alphabet, 12));
      break;
    }
    case 5: {  // move a block
      const size_t pos = pick(size), len = pick(std::min<size_t>(size - pos, 200));
      const std::u32string block = text.substr(pos, len);
      text.erase(pos, len);
      text.insert(pick(text.size()), block);
      break;
    }
    case 6: {  // duplicate a block
      const size_t pos = pick(size), len = pick(std::min<size_t>(size - pos, 50));
      text.insert(pick(size), text.substr(pos, len));
      break;
    }
    case 7:
      if (rng() % 4 == 0) text = RandomText(rng, alphabet, 400);  // rewrite
      break;
  }
}

void RunRandomDiff(uint64_t seed, const DiffLimits& limits) {
  SCOPED_TRACE("seed " + std::to_string(seed) + " (rerun one with JSYNC_SEED), max_d " +
               std::to_string(limits.max_d) + ", max_steps " + std::to_string(limits.max_steps));
  std::mt19937_64 rng(seed);
  static const std::u32string kAlphabets[] = {
      U"ab",
      U"ab\n",
      U"abcdefghij \n",
      U"aé日🙂𝄞 \n\U0010FFFF",
      U"the quick brown fox jumps over lazy dog \n\n",
  };
  const std::u32string& alphabet = kAlphabets[rng() % std::size(kAlphabets)];
  std::u32string from = RandomText(rng, alphabet, rng() % 4 == 0 ? 2000 : 300);
  for (int round = 0; round < 6; ++round) {
    std::u32string to = from;
    for (size_t edits = rng() % 12; edits > 0; --edits) RandomEdit(rng, alphabet, to);
    DiffStats stats;
    const auto splices = DiffToSplices(from, to, limits, &stats);
    ASSERT_EQ(Apply(from, splices), to) << "round " << round;
    CheckShape(splices);
    if (from == to) {
      EXPECT_TRUE(splices.empty());
    }
    from = std::move(to);
  }
}

class TextDiffRandom : public ::testing::TestWithParam<uint64_t> {};
TEST_P(TextDiffRandom, SplicesTurnFromIntoTo) { RunRandomDiff(GetParam(), DiffLimits{}); }
TEST_P(TextDiffRandom, SplicesTurnFromIntoToWithTinyLimits) {
  const uint64_t seed = GetParam();
  RunRandomDiff(seed, DiffLimits{seed % 4, seed % 3 == 0 ? 0 : seed * 7 % 300});
}
INSTANTIATE_TEST_SUITE_P(Seeds, TextDiffRandom, ::testing::Range<uint64_t>(1, 401));

TEST(TextDiffRandomSeed, FromEnvironment) {
  if (!std::getenv("JSYNC_SEED")) GTEST_SKIP() << "set JSYNC_SEED to replay one seed";
  const uint64_t seed = jsync::testing::SeedFromEnv(0);
  RunRandomDiff(seed, DiffLimits{});
  RunRandomDiff(seed, DiffLimits{seed % 4, seed % 3 == 0 ? 0 : seed * 7 % 300});
}

}  // namespace
}  // namespace jsync

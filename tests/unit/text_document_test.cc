#include "core/model/text/text_document.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/support/reference_text.h"
#include "tests/support/test_support.h"

namespace jsync::text {
namespace {

std::u32string U(const std::string& s) { return Utf8ToUtf32(s); }

TEST(TextDocument, LocalEditsAndTypingMakesOneRun) {
  TextDocument doc;
  uint64_t seq = 1;
  const std::string word = "hello";
  for (size_t i = 0; i < word.size(); ++i) {
    ASSERT_TRUE(doc.LocalInsert(7, seq++, i, U(word.substr(i, 1))).ok());
  }
  EXPECT_EQ(doc.Utf8(), "hello");
  EXPECT_EQ(doc.item_count(), 1u) << "typing extends one run";
  ASSERT_TRUE(doc.LocalInsert(7, seq, 5, U(" wörld 🙂")).ok());
  seq += 8;
  EXPECT_EQ(doc.size(), 13u);
  auto del = doc.LocalDelete(0, 6);
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(doc.Utf8(), "wörld 🙂");
  ASSERT_EQ(del->ranges.size(), 1u);
  EXPECT_EQ(del->ranges[0].len, 6u);
  EXPECT_EQ(doc.tombstone_count(), 6u);
  EXPECT_FALSE(doc.LocalInsert(7, seq, 99, U("x")).ok());
  EXPECT_FALSE(doc.LocalDelete(5, 10).ok());
}

// Backspacing character by character leaves one tombstone run in memory, not one item per
// character, and the same state as deleting the word at once (to the byte).
TEST(TextDocument, BackspacedCharactersMergeIntoOneTombstoneRun) {
  TextDocument typed, cut;
  ASSERT_TRUE(typed.LocalInsert(7, 1, 0, U("keep erase")).ok());
  ASSERT_TRUE(cut.LocalInsert(7, 1, 0, U("keep erase")).ok());
  for (size_t pos = 9; pos >= 4; --pos) ASSERT_TRUE(typed.LocalDelete(pos, 1).ok());
  ASSERT_TRUE(cut.LocalDelete(4, 6).ok());
  EXPECT_EQ(typed.Utf8(), "keep");
  EXPECT_EQ(typed.item_count(), 2u) << "kept run + one tombstone run";
  EXPECT_EQ(typed.tombstone_count(), 6u);
  EXPECT_EQ(typed.Encode(), cut.Encode());
}

// Many leaves of mixed one- to four-byte characters, edited at random places, against a
// plain string: the leaves' UTF-8 text stays in step with the items.
TEST(TextDocument, NonAsciiEditsAcrossManyLeavesMatchAPlainString) {
  const uint64_t seed = jsync::testing::SeedFromEnv(11);
  std::mt19937_64 rng(seed);
  const std::u32string alphabet = U("aé€🙂 bß中");
  TextDocument doc;
  std::u32string ref;
  uint64_t seq = 1;
  for (int i = 0; i < 3000; ++i) {
    if (!ref.empty() && rng() % 3 == 0) {
      const size_t pos = rng() % ref.size();
      const size_t len = std::min<size_t>(1 + rng() % 4, ref.size() - pos);
      ASSERT_TRUE(doc.LocalDelete(pos, len).ok());
      ref.erase(pos, len);
    } else {
      const size_t pos = rng() % (ref.size() + 1);
      std::u32string text(1 + rng() % 3, U' ');
      for (auto& c : text) c = alphabet[rng() % alphabet.size()];
      ASSERT_TRUE(doc.LocalInsert(1 + rng() % 3, seq, pos, text).ok());
      seq += text.size();
      ref.insert(pos, text);
    }
    ASSERT_EQ(doc.size(), ref.size()) << "seed " << seed << " step " << i;
  }
  EXPECT_TRUE(doc.Text() == ref) << "seed " << seed;
  auto back = TextDocument::Decode(doc.Encode());
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->Text() == ref) << "seed " << seed;
  EXPECT_TRUE(*back == doc) << "seed " << seed;
}

TEST(TextDocument, ConcurrentInsertsAtOnePlaceDoNotInterleave) {
  TextDocument base;
  auto op0 = base.LocalInsert(1, 1, 0, U("ab"));
  ASSERT_TRUE(op0.ok());
  TextDocument a = base, b = base;
  // Both type a word between 'a' and 'b', character by character.
  std::vector<InsertOp> from_a, from_b;
  for (size_t i = 0; i < 5; ++i)
    from_a.push_back(*a.LocalInsert(2, 100 + i, 1 + i, U(std::string(1, "HELLO"[i]))));
  for (size_t i = 0; i < 5; ++i)
    from_b.push_back(*b.LocalInsert(3, 200 + i, 1 + i, U(std::string(1, "world"[i]))));
  for (const auto& op : from_b) ASSERT_TRUE(a.ApplyInsert(op).ok());
  for (const auto& op : from_a) ASSERT_TRUE(b.ApplyInsert(op).ok());
  EXPECT_EQ(a.Utf8(), b.Utf8());
  EXPECT_TRUE(a.Utf8() == "aHELLOworldb" || a.Utf8() == "aworldHELLOb") << a.Utf8();
  EXPECT_EQ(a.Encode(), b.Encode());
}

TEST(TextDocument, DeleteAParagraphWhileTheOtherEditsInsideIt) {
  TextDocument base;
  ASSERT_TRUE(base.LocalInsert(1, 1, 0, U("keep. drop this paragraph. keep.")).ok());
  TextDocument a = base, b = base;
  auto del = a.LocalDelete(6, 21);  // "drop this paragraph. "
  ASSERT_TRUE(del.ok());
  auto ins = b.LocalInsert(2, 500, 11, U("NEW "));  // inside the paragraph
  ASSERT_TRUE(ins.ok());
  ASSERT_TRUE(a.ApplyInsert(*ins).ok());
  ASSERT_TRUE(b.ApplyDelete(*del).ok());
  EXPECT_EQ(a.Utf8(), "keep. NEW keep.");  // the concurrent insert survives
  EXPECT_EQ(a.Encode(), b.Encode());
}

TEST(TextDocument, RejectsUnknownOriginsAndRepeatedIds) {
  TextDocument doc;
  auto op = doc.LocalInsert(1, 1, 0, U("abc"));
  ASSERT_TRUE(op.ok());
  EXPECT_EQ(doc.ApplyInsert(*op).code(), Code::kCorrupt) << "same ids twice";
  InsertOp orphan{{2, 1}, {9, 9}, {}, U("x")};
  EXPECT_EQ(doc.ApplyInsert(orphan).code(), Code::kCorrupt);
  EXPECT_EQ(doc.ApplyDelete({{{9, 1, 1}}}).code(), Code::kCorrupt);
  EXPECT_EQ(doc.Utf8(), "abc");
}

TEST(TextDocument, EncodeDecodeRoundTrip) {
  TextDocument doc;
  uint64_t seq = 1;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 2000; ++i) {
    if (doc.size() > 0 && rng() % 3 == 0) {
      size_t pos = rng() % doc.size();
      ASSERT_TRUE(doc.LocalDelete(pos, std::min<size_t>(1 + rng() % 3, doc.size() - pos)).ok());
    } else {
      ASSERT_TRUE(doc.LocalInsert(1 + rng() % 2, seq, rng() % (doc.size() + 1), U("xyü")).ok());
      seq += 3;
    }
  }
  Bytes enc = doc.Encode();
  auto back = TextDocument::Decode(enc);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->Text(), doc.Text());
  EXPECT_EQ(back->Encode(), enc);
  // The decoded copy keeps working: edit both the same way.
  auto op = doc.LocalInsert(3, 1, 10, U("Z"));
  ASSERT_TRUE(op.ok());
  ASSERT_TRUE(back->ApplyInsert(*op).ok());
  EXPECT_EQ(back->Text(), doc.Text());
  for (size_t cut : {size_t{0}, size_t{1}, enc.size() / 2, enc.size() - 1}) {
    EXPECT_FALSE(TextDocument::Decode(ByteSpan(enc).first(cut)).ok()) << cut;
  }
}

// Devices rewrite one range concurrently (delete it, insert at its place: one splice, as
// Journal::EditText makes it). Whatever the delivery order, each insertion stays in one piece
// between the untouched prefix and suffix.
struct Rewrite {
  DeleteOp del;
  InsertOp ins;
};

Rewrite RewriteRange(TextDocument& doc, DeviceId device, uint64_t seq, size_t pos, size_t len,
                     const std::u32string& text) {
  Rewrite r;
  r.del = *doc.LocalDelete(pos, len);
  r.ins = *doc.LocalInsert(device, seq, pos, text);
  return r;
}

void ExpectContiguousRewrites(uint64_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  // A base text with some history: tombstones around and inside the range matter for origins.
  TextDocument base;
  uint64_t seq = 1;
  for (int i = 0; i < 12; ++i) {
    if (base.size() > 2 && rng() % 3 == 0) {
      size_t pos = rng() % base.size();
      ASSERT_TRUE(base.LocalDelete(pos, std::min<size_t>(1 + rng() % 2, base.size() - pos)).ok());
    } else {
      ASSERT_TRUE(base.LocalInsert(1, seq, rng() % (base.size() + 1), U("says that")).ok());
      seq += 9;
    }
  }
  const std::u32string before = base.Text();
  const size_t len = 1 + rng() % before.size();
  const size_t pos = rng() % (before.size() - len + 1);
  const size_t n = 2 + rng() % 3;
  std::vector<TextDocument> docs(n, base);
  std::vector<Rewrite> rewrites;
  std::vector<std::u32string> texts;
  for (size_t d = 0; d < n; ++d) {
    // Same letters on every side: the worst case for a character-level merge.
    std::u32string t = U(std::string(1, static_cast<char>('A' + d)) + " says th" + "ais"[d % 3]);
    texts.push_back(t);
    // Device ids in random order relative to the side, so either may sort first.
    rewrites.push_back(RewriteRange(docs[d], 10 + (rng() % 50) * 8 + d, 1, pos, len, t));
  }
  for (size_t to = 0; to < n; ++to) {
    std::vector<size_t> from;
    for (size_t d = 0; d < n; ++d) {
      if (d != to) from.push_back(d);
    }
    std::shuffle(from.begin(), from.end(), rng);
    // Random interleaving of the others' ops, each side's delete before its insert.
    std::vector<size_t> stage(n, 0);
    while (!from.empty()) {
      size_t k = rng() % from.size(), d = from[k];
      if (stage[d]++ == 0) {
        ASSERT_TRUE(docs[to].ApplyDelete(rewrites[d].del).ok());
      } else {
        ASSERT_TRUE(docs[to].ApplyInsert(rewrites[d].ins).ok());
        from.erase(from.begin() + static_cast<std::ptrdiff_t>(k));
      }
    }
  }
  const std::u32string merged = docs[0].Text();
  ASSERT_EQ(merged.size(), before.size() - len + n * texts[0].size());
  EXPECT_EQ(merged.substr(0, pos), before.substr(0, pos));
  EXPECT_EQ(merged.substr(merged.size() - (before.size() - pos - len)), before.substr(pos + len));
  std::u32string middle = merged.substr(pos, n * texts[0].size());
  for (const auto& t : texts) {
    EXPECT_NE(middle.find(t), std::u32string::npos)
        << Utf32ToUtf8(t) << " is not in one piece in " << Utf32ToUtf8(merged);
  }
  for (size_t d = 1; d < n; ++d) EXPECT_EQ(docs[d].Encode(), docs[0].Encode()) << d;
}

TEST(TextDocument, ConcurrentRewritesOfOneRangeKeepEachInsertionInOnePiece) {
  // The example, both delivery orders.
  for (bool n_first : {true, false}) {
    TextDocument base;
    ASSERT_TRUE(base.LocalInsert(1, 1, 0, U("draft title")).ok());
    TextDocument n = base, f = base;
    Rewrite from_n = RewriteRange(n, 2, 1, 0, 11, U("N says that"));
    Rewrite from_f = RewriteRange(f, 3, 1, 0, 11, U("F says this"));
    TextDocument merged = base;
    for (const Rewrite* r :
         n_first ? std::vector{&from_n, &from_f} : std::vector{&from_f, &from_n}) {
      ASSERT_TRUE(merged.ApplyDelete(r->del).ok());
      ASSERT_TRUE(merged.ApplyInsert(r->ins).ok());
    }
    EXPECT_EQ(merged.Utf8(), "N says thatF says this");
  }
  for (uint64_t seed = 1; seed <= 300; ++seed) ExpectContiguousRewrites(seed);
}

TEST(TextDocument, VisibleCountAndTextWithout) {
  TextDocument doc;
  ASSERT_TRUE(doc.LocalInsert(1, 1, 0, U("héllo")).ok());
  ASSERT_TRUE(doc.LocalInsert(2, 1, 5, U(" wörld")).ok());
  ASSERT_TRUE(doc.LocalDelete(1, 2).ok());
  EXPECT_EQ(doc.VisibleCount({1, 1, 5}), 3u);
  EXPECT_EQ(doc.VisibleCount({2, 2, 100}), 5u);
  EXPECT_EQ(doc.VisibleCount({9, 1, 5}), 0u);
  EXPECT_EQ(doc.Utf8(), "hlo wörld");
  EXPECT_EQ(Utf32ToUtf8(doc.TextWithout({{2, 1, 6}})), "hlo");
  EXPECT_EQ(Utf32ToUtf8(doc.TextWithout({{1, 4, 1}, {2, 2, 2}})), "ho rld");
  EXPECT_EQ(doc.TextWithout({}), doc.Text());
}

// N devices edit concurrently; ops are delivered in random causal order. Every device must
// end with the same text, equal to the character-level reference.
struct Logged {
  DeviceId device;
  std::vector<size_t> deps;  // ops of each device already applied at the origin
  bool is_insert;
  InsertOp insert;
  DeleteOp del;
};

void RunProperty(uint64_t seed, int steps) {
  SCOPED_TRACE("seed " + std::to_string(seed) + " (rerun one with JSYNC_SEED)");
  std::mt19937_64 rng(seed);
  const size_t n = 2 + rng() % 3;
  std::vector<TextDocument> docs(n);
  std::vector<jsync::testing::ReferenceText> refs(n);
  std::vector<std::vector<Logged>> logs(n);
  std::vector<std::vector<size_t>> applied(n, std::vector<size_t>(n, 0));
  std::vector<uint64_t> next_seq(n, 1);

  auto deliver_one = [&](size_t to) {
    std::vector<size_t> ready;
    for (size_t from = 0; from < n; ++from) {
      if (from == to || applied[to][from] >= logs[from].size()) continue;
      const Logged& op = logs[from][applied[to][from]];
      bool ok = true;
      for (size_t k = 0; k < n; ++k) ok &= k == from || applied[to][k] >= op.deps[k];
      if (ok) ready.push_back(from);
    }
    if (ready.empty()) return false;
    size_t from = ready[rng() % ready.size()];
    const Logged& op = logs[from][applied[to][from]++];
    if (op.is_insert) {
      EXPECT_TRUE(docs[to].ApplyInsert(op.insert).ok());
      refs[to].Insert(op.insert);
    } else {
      EXPECT_TRUE(docs[to].ApplyDelete(op.del).ok());
      refs[to].Delete(op.del);
    }
    return true;
  };

  for (int step = 0; step < steps; ++step) {
    size_t d = rng() % n;
    if (rng() % 3 == 0) {
      deliver_one(d);
      continue;
    }
    Logged entry;
    entry.device = d + 1;
    entry.deps = applied[d];
    entry.deps[d] = logs[d].size();
    const size_t size = docs[d].size();
    if (size > 0 && rng() % 3 == 0) {
      size_t pos = rng() % size;
      auto del = docs[d].LocalDelete(pos, std::min<size_t>(1 + rng() % 4, size - pos));
      ASSERT_TRUE(del.ok());
      refs[d].Delete(*del);
      entry.is_insert = false;
      entry.del = *del;
    } else {
      size_t pos = rng() % (size + 1);
      std::u32string s;
      for (size_t k = 1 + rng() % 3; k > 0; --k) s.push_back(U"abcdé🙂"[rng() % 6]);
      auto origins = refs[d].OriginsAt(pos);
      auto ins = docs[d].LocalInsert(d + 1, next_seq[d], pos, s);
      ASSERT_TRUE(ins.ok());
      next_seq[d] += s.size();
      EXPECT_EQ(ins->origin_left, origins.first);
      EXPECT_EQ(ins->origin_right, origins.second);
      refs[d].Insert(*ins);
      entry.is_insert = true;
      entry.insert = *ins;
    }
    ASSERT_EQ(docs[d].Text(), refs[d].Text()) << "after a local edit on device " << d;
    logs[d].push_back(std::move(entry));
    applied[d][d] = logs[d].size();
  }
  for (size_t to = 0; to < n; ++to) {
    while (deliver_one(to)) {
    }
  }
  for (size_t d = 0; d < n; ++d) {
    ASSERT_EQ(docs[d].Text(), refs[d].Text()) << "device " << d << " vs reference";
    ASSERT_EQ(docs[d].Text(), docs[0].Text()) << "device " << d << " vs device 0";
    EXPECT_EQ(docs[d].Encode(), docs[0].Encode()) << "device " << d;
    auto back = TextDocument::Decode(docs[d].Encode());
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->Text(), docs[d].Text());
  }
}

class TextProperty : public ::testing::TestWithParam<uint64_t> {};
TEST_P(TextProperty, ConvergesToTheReference) { RunProperty(GetParam(), 300); }
INSTANTIATE_TEST_SUITE_P(Seeds, TextProperty, ::testing::Range<uint64_t>(1, 301));

TEST(TextPropertySeed, FromEnvironment) {
  if (!std::getenv("JSYNC_SEED")) GTEST_SKIP() << "set JSYNC_SEED to replay one seed";
  RunProperty(jsync::testing::SeedFromEnv(0), 300);
}

TEST(TextPropertyLong, ManySeeds) {
  const char* count = std::getenv("JSYNC_LONG_SEEDS");
  if (!count) GTEST_SKIP() << "set JSYNC_LONG_SEEDS (the `long` ctest label does)";
  for (uint64_t s = 10000; s < 10000 + std::strtoull(count, nullptr, 10) && !HasFailure(); ++s) {
    RunProperty(s, 600);
  }
}

}  // namespace
}  // namespace jsync::text

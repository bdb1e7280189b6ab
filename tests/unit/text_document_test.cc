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

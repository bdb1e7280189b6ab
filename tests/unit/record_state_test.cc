#include "core/model/record_state.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace jsync {
namespace {

constexpr DeviceId kA = 0xa, kB = 0xb, kC = 0xc;

Op Set(Hlc hlc, DeviceId d, const std::string& field, const std::string& value,
       std::vector<OpId> observed = {}) {
  Op op;
  op.id = {hlc, d};
  op.kind = OpKind::kSetRegister;
  op.collection = "entries";
  op.field = field;
  op.value = value;
  op.observed = std::move(observed);
  return op;
}

Op Add(Hlc hlc, DeviceId d, const std::string& elem) {
  Op op = Set(hlc, d, "tags", elem);
  op.kind = OpKind::kAddToSet;
  return op;
}

Op Remove(Hlc hlc, DeviceId d, const std::string& elem, std::vector<OpId> tags) {
  Op op = Set(hlc, d, "tags", elem, std::move(tags));
  op.kind = OpKind::kRemoveFromSet;
  return op;
}

Op Delete(Hlc hlc, DeviceId d, std::vector<OpId> live) {
  Op op = Set(hlc, d, "", "", std::move(live));
  op.kind = OpKind::kDeleteRecord;
  return op;
}

RecordState ApplyAll(const std::vector<Op>& ops) {
  RecordState s;
  for (const auto& op : ops) EXPECT_TRUE(s.Apply(op).ok());
  return s;
}

TEST(Register, LaterWriteThatSawTheFirstReplacesIt) {
  Op first = Set(10, kA, "title", "\"a\"");
  Op second = Set(20, kB, "title", "\"b\"", {first.id});
  RecordState s = ApplyAll({first, second});
  ASSERT_EQ(s.Register("title")->size(), 1u);
  EXPECT_EQ(s.Winner("title")->value, "\"b\"");
}

TEST(Register, ConcurrentWritesKeepBothSiblingsAndPickTheHighestHlc) {
  Op base = Set(10, kA, "title", "\"base\"");
  Op from_a = Set(30, kA, "title", "\"A\"", {base.id});
  Op from_b = Set(20, kB, "title", "\"B\"", {base.id});
  RecordState ab = ApplyAll({base, from_a, from_b});
  RecordState ba = ApplyAll({base, from_b, from_a});
  EXPECT_EQ(ab, ba);
  EXPECT_EQ(ab.Encode(), ba.Encode());
  ASSERT_EQ(ab.Register("title")->size(), 2u);
  EXPECT_EQ(ab.Winner("title")->value, "\"A\"");
  // Writing again with both siblings observed settles the conflict.
  ASSERT_TRUE(ab.Apply(Set(40, kB, "title", "\"merged\"", ab.RegisterIds("title"))).ok());
  EXPECT_EQ(ab.Register("title")->size(), 1u);
}

TEST(Register, EqualHlcTieBreaksByDevice) {
  Op a = Set(50, kA, "title", "\"A\"");
  Op c = Set(50, kC, "title", "\"C\"");
  EXPECT_EQ(ApplyAll({a, c}).Winner("title")->value, "\"C\"");
  EXPECT_EQ(ApplyAll({c, a}).Winner("title")->value, "\"C\"");
}

TEST(Set, ConcurrentAddWinsOverRemove) {
  Op add1 = Add(10, kA, "travel");
  Op remove = Remove(20, kB, "travel", {add1.id});  // saw only add1
  Op add2 = Add(15, kC, "travel");                  // concurrent with the remove
  RecordState s1 = ApplyAll({add1, remove, add2});
  RecordState s2 = ApplyAll({add1, add2, remove});
  EXPECT_EQ(s1, s2);
  EXPECT_EQ(s1.SetElements("tags"), std::vector<std::string>{"travel"});
  RecordState gone = ApplyAll({add1, remove});
  EXPECT_TRUE(gone.SetElements("tags").empty());
}

TEST(Delete, HidesEverythingItSaw) {
  Op title = Set(10, kA, "title", "\"t\"");
  Op tag = Add(11, kA, "x");
  RecordState s = ApplyAll({title, tag});
  EXPECT_TRUE(s.Visible());
  ASSERT_TRUE(s.Apply(Delete(20, kA, s.LiveOps())).ok());
  EXPECT_FALSE(s.Visible());
}

TEST(Delete, AConcurrentEditKeepsTheWholeRecordAlive) {
  Op title = Set(10, kA, "title", "\"t\"");
  Op body = Set(11, kA, "body", "\"b\"");
  Op del = Delete(20, kA, {title.id, body.id});
  Op edit = Set(15, kB, "body", "\"edited offline\"", {body.id});  // B never saw the delete
  RecordState s1 = ApplyAll({title, body, del, edit});
  RecordState s2 = ApplyAll({title, body, edit, del});
  EXPECT_EQ(s1, s2);
  EXPECT_TRUE(s1.Visible());
  EXPECT_EQ(s1.Winner("title")->value, "\"t\"");  // the title comes back with it
  EXPECT_EQ(s1.Winner("body")->value, "\"edited offline\"");
  // A later delete that saw the edit removes the record for good.
  ASSERT_TRUE(s1.Apply(Delete(30, kB, s1.LiveOps())).ok());
  EXPECT_FALSE(s1.Visible());
}

TEST(RecordState, EncodingRoundTripsAndRejectsGarbage) {
  RecordState s = ApplyAll({Set(10, kA, "title", "\"t\""), Add(11, kB, "x"),
                            Set(12, kC, "title", "\"u\""), Delete(13, kA, {{10, kA}})});
  Bytes enc = s.Encode();
  auto back = RecordState::Decode(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, s);
  for (size_t cut = 0; cut < enc.size(); ++cut) {
    EXPECT_FALSE(RecordState::Decode(ByteSpan(enc).first(cut)).ok()) << cut;
  }
}

// Any delivery order that respects causality yields the same state.
TEST(RecordState, CausalPermutationsConverge) {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    // Three devices each make a chain of ops that observed only their own earlier ops.
    std::vector<std::vector<Op>> chains(3);
    Hlc hlc = 1;
    for (int d = 0; d < 3; ++d) {
      DeviceId dev = kA + d;
      std::vector<OpId> mine;
      for (int i = 0; i < 4; ++i) {
        switch (rng() % 3) {
          case 0:
            chains[d].push_back(Set(hlc++, dev, "title", std::to_string(rng() % 5), mine));
            break;
          case 1:
            chains[d].push_back(Add(hlc++, dev, std::to_string(rng() % 3)));
            break;
          default:
            chains[d].push_back(Delete(hlc++, dev, mine));
            break;
        }
        if (chains[d].back().kind == OpKind::kSetRegister) mine = {chains[d].back().id};
      }
    }
    auto interleave = [&]() {
      std::vector<size_t> pos(3, 0);
      RecordState s;
      for (size_t left = 12; left > 0; --left) {
        size_t d;
        do d = rng() % 3;
        while (pos[d] == chains[d].size());
        EXPECT_TRUE(s.Apply(chains[d][pos[d]++]).ok());
      }
      return s;
    };
    RecordState first = interleave();
    for (int k = 0; k < 5; ++k)
      ASSERT_EQ(interleave().Encode(), first.Encode()) << "trial " << trial;
  }
}

}  // namespace
}  // namespace jsync

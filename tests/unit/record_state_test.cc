#include "core/model/record_state.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "core/model/text_conflicts.h"

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

// One device's editing session on a text field, making ops the way Journal::EditText does.
struct Editor {
  DeviceId device;
  Hlc hlc;
  RecordState state;
  uint64_t seq = 1;

  std::vector<Op> Splice(const std::string& field, size_t pos, size_t del, const std::string& ins,
                         uint64_t wall_ms = 0) {
    std::vector<Op> ops;
    auto make = [&](OpKind kind) {
      Op op = Set(hlc++, device, field, "");
      op.kind = kind;
      op.wall_ms = wall_ms;
      return op;
    };
    if (del > 0) {
      text::TextDocument doc = *state.Text(field);
      Op op = make(OpKind::kTextDelete);
      op.ranges = doc.LocalDelete(pos, del)->ranges;
      EXPECT_TRUE(state.Apply(op).ok());
      ops.push_back(op);
    }
    if (!ins.empty()) {
      text::TextDocument doc = state.Text(field) ? *state.Text(field) : text::TextDocument();
      const std::u32string text = text::Utf8ToUtf32(ins);
      auto made = doc.LocalInsert(device, seq, pos, text);
      EXPECT_TRUE(made.ok());
      seq += text.size();
      Op op = make(OpKind::kTextInsert);
      op.value = ins;
      op.char_seq = made->id.seq;
      op.origin_left = made->origin_left;
      op.origin_right = made->origin_right;
      if (del > 0) op.ranges = ops.back().ranges;
      EXPECT_TRUE(state.Apply(op).ok());
      ops.push_back(op);
    }
    return ops;
  }
  void Merge(const std::vector<Op>& ops) {
    for (const Op& op : ops) EXPECT_TRUE(state.Apply(op).ok());
  }
};

std::vector<Op> Concat(std::vector<Op> a, const std::vector<Op>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(TextConflict, ConcurrentRewritesOfTheSameTitleAreAConflictListingBothVersions) {
  Editor n{kA, 100, {}}, f{kB, 200, {}};
  std::vector<Op> base = n.Splice("title", 0, 0, "draft");
  f.Merge(base);
  std::vector<Op> from_n = n.Splice("title", 0, 5, "N says that");
  std::vector<Op> from_f = f.Splice("title", 0, 5, "F says this");
  RecordState nf = ApplyAll(Concat(Concat(base, from_n), from_f));
  RecordState fn = ApplyAll(Concat(Concat(base, from_f), from_n));
  EXPECT_EQ(nf.Encode(), fn.Encode());
  EXPECT_EQ(nf.Text("title")->Utf8(), "N says thatF says this");
  auto sides = FindTextConflict(nf, "title");
  ASSERT_EQ(sides.size(), 2u);
  EXPECT_EQ(sides[0].device, kA);
  EXPECT_EQ(sides[0].version, "N says that");
  EXPECT_EQ(sides[0].ops, std::vector<OpId>{from_n.back().id});
  EXPECT_EQ(sides[0].hlc, from_n.back().id.hlc);
  EXPECT_EQ(sides[1].device, kB);
  EXPECT_EQ(sides[1].version, "F says this");
  EXPECT_EQ(FindTextConflict(fn, "title").size(), 2u);
  // No conflict on either device before it merged the other's rewrite.
  EXPECT_TRUE(FindTextConflict(n.state, "title").empty());
}

TEST(TextConflict, PickingOneVersionSettlesIt) {
  Editor n{kA, 100, {}}, f{kB, 200, {}};
  std::vector<Op> base = n.Splice("title", 0, 0, "draft");
  f.Merge(base);
  std::vector<Op> from_n = n.Splice("title", 0, 5, "N says that");
  std::vector<Op> from_f = f.Splice("title", 0, 5, "F says this");
  n.Merge(from_f);
  f.Merge(from_n);
  ASSERT_EQ(FindTextConflict(f.state, "title").size(), 2u);
  // F, having seen both, keeps N's: deletes its own text.
  std::vector<Op> pick = f.Splice("title", 11, 11, "");
  EXPECT_EQ(f.state.Text("title")->Utf8(), "N says that");
  EXPECT_TRUE(FindTextConflict(f.state, "title").empty());
  n.Merge(pick);
  EXPECT_TRUE(FindTextConflict(n.state, "title").empty());
  EXPECT_EQ(n.state.Encode(), f.state.Encode());
  // Rewriting both versions into a third settles it too.
  Editor m{kC, 300, ApplyAll(Concat(Concat(base, from_n), from_f))};
  m.Splice("title", 0, 22, "Merged title");
  EXPECT_TRUE(FindTextConflict(m.state, "title").empty());
}

TEST(TextConflict, RewritingYourOwnSideKeepsTheConflictOpen) {
  Editor n{kA, 100, {}}, f{kB, 200, {}};
  std::vector<Op> base = n.Splice("title", 0, 0, "draft");
  f.Merge(base);
  std::vector<Op> from_n = n.Splice("title", 0, 5, "N says that");
  std::vector<Op> fix = n.Splice("title", 7, 4, "this");  // N retouches its own text
  std::vector<Op> from_f = f.Splice("title", 0, 5, "F rewrote");
  n.Merge(from_f);
  auto sides = FindTextConflict(n.state, "title");
  ASSERT_EQ(sides.size(), 2u);
  EXPECT_EQ(sides[0].version, "N says this");
  EXPECT_EQ(sides[0].ops.size(), 2u);
  EXPECT_EQ(sides[1].version, "F rewrote");
}

TEST(TextConflict, EditsOfDifferentPlacesOrADeleteAgainstARewriteAreNone) {
  Editor a{kA, 100, {}}, b{kB, 200, {}};
  std::vector<Op> base = a.Splice("body", 0, 0, "We walked to the river.");
  b.Merge(base);
  std::vector<Op> from_a = a.Splice("body", 3, 6, "strolled");  // "walked"
  std::vector<Op> from_b = b.Splice("body", 17, 5, "sea");      // "river"
  a.Merge(from_b);
  EXPECT_EQ(a.state.Text("body")->Utf8(), "We strolled to the sea.");
  EXPECT_TRUE(FindTextConflict(a.state, "body").empty());
  // B deletes a word A rewrote: A's text stands, nothing to choose.
  std::vector<Op> rewrite = a.Splice("body", 0, 2, "They");
  std::vector<Op> drop = b.Splice("body", 0, 3, "");
  a.Merge(drop);
  EXPECT_TRUE(FindTextConflict(a.state, "body").empty());
}

TEST(TextConflict, ThreeDevicesAnyCausalOrderConverge) {
  std::mt19937_64 rng(7);
  Editor base_editor{kA, 10, {}};
  std::vector<Op> base = base_editor.Splice("title", 0, 0, "one two three");
  std::vector<Editor> eds = {{kA, 100, base_editor.state}, {kB, 200, {}}, {kC, 300, {}}};
  eds[1].Merge(base);
  eds[2].Merge(base);
  eds[0].seq = base_editor.seq;
  std::vector<std::vector<Op>> chains = {eds[0].Splice("title", 0, 3, "ONE"),
                                         eds[1].Splice("title", 0, 7, "uno dos"),
                                         eds[2].Splice("title", 8, 5, "drei")};
  RecordState first;
  for (int trial = 0; trial < 30; ++trial) {
    RecordState s = ApplyAll(base);
    std::vector<size_t> pos(3, 0);
    for (size_t left = 6; left > 0; --left) {
      size_t d;
      do d = rng() % 3;
      while (pos[d] == chains[d].size());
      ASSERT_TRUE(s.Apply(chains[d][pos[d]++]).ok());
    }
    if (trial == 0) first = s;
    ASSERT_EQ(s.Encode(), first.Encode()) << trial;
  }
  // A and B rewrote "one"; C's "three" does not touch theirs.
  auto sides = FindTextConflict(first, "title");
  ASSERT_EQ(sides.size(), 2u);
  EXPECT_EQ(sides[0].device, kA);
  EXPECT_EQ(sides[1].device, kB);
}

TEST(RecordState, DisplayTimeIsTheWallClockNotTheHlc) {
  const uint64_t now = 1'780'000'000'000;  // 2026
  const uint64_t ahead = now + 10ull * 365 * 24 * 3600 * 1000;
  Op created = Set(MakeHlc(ahead, 0), kA, "created_at", std::to_string(ahead));
  created.wall_ms = ahead;
  // kB observed kA's HLC, so its HLC runs at `ahead`; its wall clock says `now`.
  Op edit = Set(MakeHlc(ahead, 1), kB, "title", "\"t\"");
  edit.wall_ms = now;
  Op future = Set(MakeHlc(now, 0), kC, "title", "\"u\"");
  future.wall_ms = ahead;  // a wall time after its own HLC is not believed
  Op unset = Set(MakeHlc(now + 5, 0), kC, "x", "1");
  unset.wall_ms = 5;  // a clock reading 1970 is not believed either
  RecordState s = ApplyAll({edit, future, unset});
  EXPECT_EQ(s.max_wall_ms(), now + 5);
  EXPECT_EQ(s.min_wall_ms(), now);
  EXPECT_EQ(s.Register("title")->front().wall_ms, now);
  EXPECT_EQ(s.Register("title")->back().wall_ms, now);
  ASSERT_TRUE(s.Apply(created).ok());
  EXPECT_EQ(s.max_wall_ms(), ahead);
  auto back = RecordState::Decode(s.Encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, s);
}

TEST(RecordState, DecodesTheVersion1Encoding) {
  ByteWriter w;  // version 1: no display times, no replacements
  w.U8(1);
  w.Varint(MakeHlc(2000, 3));
  w.Varint(MakeHlc(1000, 0));
  w.Varint(1);  // registers
  w.Str("title");
  w.Varint(1);
  w.Varint(MakeHlc(2000, 3));
  w.U64(kA);
  w.Str("\"old\"");
  for (int section = 0; section < 4; ++section) w.Varint(0);  // sets, texts, heads, covered
  auto s = RecordState::Decode(w.bytes());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->Winner("title")->value, "\"old\"");
  EXPECT_EQ(s->Winner("title")->wall_ms, 2000u);
  EXPECT_EQ(s->max_wall_ms(), 2000u);
  EXPECT_EQ(s->min_wall_ms(), 1000u);
  // The same state rebuilt from its op (wall time unknown) is equal.
  RecordState replayed = ApplyAll({Set(MakeHlc(1000, 0), kB, "x", "1")});
  EXPECT_EQ(replayed.min_wall_ms(), 1000u);
}

TEST(RecordState, EncodingWithReplacementsRoundTripsAndRejectsGarbage) {
  Editor n{kA, 100, {}}, f{kB, 200, {}};
  std::vector<Op> base = n.Splice("title", 0, 0, "draft");
  f.Merge(base);
  f.Merge(n.Splice("title", 0, 5, "N says that"));
  f.Splice("title", 0, 3, "Z");
  Bytes enc = f.state.Encode();
  auto back = RecordState::Decode(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, f.state);
  EXPECT_EQ(back->Replacements("title")->size(), 2u);
  for (size_t cut = 0; cut < enc.size(); ++cut) {
    EXPECT_FALSE(RecordState::Decode(ByteSpan(enc).first(cut)).ok()) << cut;
  }
  Op bad = Set(900, kC, "title", "");
  bad.kind = OpKind::kTextInsert;
  bad.value = "x";
  bad.char_seq = 1;
  bad.ranges = {{kA, 0, 1}};
  EXPECT_EQ(f.state.Apply(bad).code(), Code::kCorrupt);
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

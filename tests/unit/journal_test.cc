#include "core/journal/journal.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "tests/support/test_support.h"

namespace jsync {
namespace {

using jsync::testing::TempDir;
using jsync::testing::TestInitOptions;

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto init = Journal::Init(dir_ / "home", TestInitOptions(dir_ / "cloud", "dev"));
    ASSERT_TRUE(init.ok()) << init.status().ToString();
    auto j = Journal::Open(dir_ / "home", ::jsync::testing::HostStorage());
    ASSERT_TRUE(j.ok()) << j.status().ToString();
    journal_ = std::move(*j);
  }
  TempDir dir_;
  std::unique_ptr<Journal> journal_;
};

TEST_F(JournalTest, NewEditShowList) {
  auto id = journal_->NewEntry({"Day one", "It rained.", {"weather", "home", "weather"}});
  ASSERT_TRUE(id.ok());
  const std::string hex = RecordIdHex(*id);
  auto e = journal_->GetEntry(hex.substr(0, 6));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->title, "Day one");
  EXPECT_EQ(e->body, "It rained.");
  EXPECT_EQ(e->tags, (std::vector<std::string>{"home", "weather"}));
  EntryEdit edit;
  edit.title = "Day 1";
  edit.add_tags = {"sad"};
  edit.remove_tags = {"home"};
  ASSERT_TRUE(journal_->EditEntry(hex, edit).ok());
  e = journal_->GetEntry(hex);
  EXPECT_EQ(e->title, "Day 1");
  EXPECT_EQ(e->tags, (std::vector<std::string>{"sad", "weather"}));
  EXPECT_TRUE(e->conflicts.empty());
  EXPECT_EQ(journal_->ListEntries()->size(), 1u);
}

TEST_F(JournalTest, RemoveHidesTheEntry) {
  auto id = journal_->NewEntry({"gone soon", "", {}});
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(journal_->RemoveEntry(RecordIdHex(*id)).ok());
  EXPECT_TRUE(journal_->ListEntries()->empty());
  EXPECT_EQ(journal_->GetEntry(RecordIdHex(*id)).status().code(), Code::kNotFound);
  EXPECT_EQ(journal_->RemoveEntry(RecordIdHex(*id)).code(), Code::kNotFound);
}

TEST_F(JournalTest, EveryLocalEditIsQueuedInTheOutbox) {
  auto id = journal_->NewEntry({"t", "b", {"x"}});
  ASSERT_TRUE(id.ok());
  uint64_t after_new = *journal_->store().OutboxSize();
  EXPECT_EQ(after_new, 4u);  // title, body, created_at, one tag
  EntryEdit same;
  same.title = "t";  // unchanged: no op
  ASSERT_TRUE(journal_->EditEntry(RecordIdHex(*id), same).ok());
  EXPECT_EQ(*journal_->store().OutboxSize(), after_new);
}

TEST_F(JournalTest, BadInputIsRefusedClearly) {
  EXPECT_EQ(journal_->GetEntry("zz").status().code(), Code::kInvalid);
  EXPECT_EQ(journal_->GetEntry("abcdef").status().code(), Code::kNotFound);
  EXPECT_EQ(journal_->NewEntry({"bad \xff utf8", "", {}}).status().code(), Code::kInvalid);
  EXPECT_EQ(journal_->NewEntry({"t", "", {""}}).status().code(), Code::kInvalid);
  EXPECT_TRUE(journal_->ListEntries()->empty()) << "nothing half-written";
}

TEST_F(JournalTest, InitTwiceInOneHomeIsRefused) {
  auto again = Journal::Init(dir_ / "home", TestInitOptions(dir_ / "cloud", "dev"));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("already holds journal"), std::string::npos);
}

TEST_F(JournalTest, OpenWithoutInitSaysSo) {
  auto none = Journal::Open(dir_ / "elsewhere", ::jsync::testing::HostStorage());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Code::kNotFound);
}

TEST_F(JournalTest, JoinWithWrongPassphraseIsRefused) {
  auto opts = TestInitOptions(dir_ / "cloud", "other");
  opts.passphrase = "not it";
  auto join = Journal::Init(dir_ / "home2", opts);
  ASSERT_FALSE(join.ok());
  EXPECT_NE(join.status().message().find("wrong passphrase"), std::string::npos);
  EXPECT_FALSE(Journal::Open(dir_ / "home2", ::jsync::testing::HostStorage()).ok());
}

TEST_F(JournalTest, TwoDevicesSeeEachOthersEntries) {
  auto join = Journal::Init(dir_ / "home2", TestInitOptions(dir_ / "cloud", "second"));
  ASSERT_TRUE(join.ok());
  EXPECT_TRUE(join->joined);
  EXPECT_EQ(join->journal, journal_->journal_id());
  auto other = Journal::Open(dir_ / "home2", ::jsync::testing::HostStorage());
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(journal_->NewEntry({"from one", "", {}}).ok());
  ASSERT_TRUE((*other)->NewEntry({"from two", "", {}}).ok());
  for (int round = 0; round < 2; ++round) {
    auto a = journal_->Sync();
    auto b = (*other)->Sync();
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_TRUE(a->report.ok() && b->report.ok());
  }
  EXPECT_EQ(journal_->ListEntries()->size(), 2u);
  EXPECT_EQ((*other)->ListEntries()->size(), 2u);
  auto st = journal_->GetStatus();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->devices.size(), 2u);
  EXPECT_EQ(st->outbox_ops, 0u);
}

}  // namespace
}  // namespace jsync

namespace jsync {
namespace {

class TwoDevices : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"a", "b"}) {
      ASSERT_TRUE(Journal::Init(dir_ / name, testing::TestInitOptions(dir_ / "cloud", name)).ok());
      auto j = Journal::Open(dir_ / name, ::jsync::testing::HostStorage());
      ASSERT_TRUE(j.ok());
      devices_.push_back(std::move(*j));
    }
  }
  void SyncAll() {
    for (int round = 0; round < 2; ++round) {
      for (auto& d : devices_) {
        auto r = d->Sync();
        ASSERT_TRUE(r.ok() && r->report.ok());
      }
    }
  }
  testing::TempDir dir_;
  std::vector<std::unique_ptr<Journal>> devices_;
};

TEST_F(TwoDevices, ConcurrentBodyEditsBothSurviveAtCharacterLevel) {
  auto id = devices_[0]->NewEntry({"walk", "We walked to the river.", {}});
  ASSERT_TRUE(id.ok());
  SyncAll();
  const std::string hex = RecordIdHex(*id);
  EntryEdit a, b;
  a.body = "We walked slowly to the river.";
  b.body = "We walked to the old river.";
  ASSERT_TRUE(devices_[0]->EditEntry(hex, a).ok());
  ASSERT_TRUE(devices_[1]->EditEntry(hex, b).ok());
  SyncAll();
  auto ea = devices_[0]->GetEntry(hex), eb = devices_[1]->GetEntry(hex);
  ASSERT_TRUE(ea.ok() && eb.ok());
  EXPECT_EQ(ea->body, "We walked slowly to the old river.");
  EXPECT_EQ(eb->body, ea->body);
  EXPECT_TRUE(ea->conflicts.empty());
}

TEST_F(TwoDevices, ChangingOneWordSendsOneSmallInsertAndDelete) {
  std::string body(4000, 'x');
  body += " the quick brown fox ";
  body += std::string(4000, 'y');
  auto id = devices_[0]->NewEntry({"long", body, {}});
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(devices_[0]->Sync().ok());
  std::string edited = body;
  edited.replace(edited.find("quick"), 5, "slow");
  EntryEdit e;
  e.body = edited;
  ASSERT_TRUE(devices_[0]->EditEntry(RecordIdHex(*id), e).ok());
  auto outbox = devices_[0]->store().ReadOutbox(100);
  ASSERT_TRUE(outbox.ok());
  ASSERT_EQ(outbox->size(), 2u);  // delete "quick" (or part of it), insert "slow"
  size_t inserted = 0, deleted = 0;
  for (const auto& row : *outbox) {
    if (row.op.kind == OpKind::kTextInsert) inserted += row.op.value.size();
    if (row.op.kind != OpKind::kTextDelete) continue;  // an insert names what it replaced
    for (const auto& r : row.op.ranges) deleted += r.len;
  }
  EXPECT_LE(inserted, 4u);
  EXPECT_LE(deleted, 5u);
  SyncAll();
  EXPECT_EQ(devices_[1]->GetEntry(RecordIdHex(*id))->body, edited);
}

TEST_F(TwoDevices, DeletedWhileEditedElsewhereComesBackWithTheEdit) {
  auto id = devices_[0]->NewEntry({"keep me", "first draft", {"x"}});
  ASSERT_TRUE(id.ok());
  SyncAll();
  const std::string hex = RecordIdHex(*id);
  ASSERT_TRUE(devices_[0]->RemoveEntry(hex).ok());
  ASSERT_TRUE(
      devices_[1]->EditEntry(hex, {std::nullopt, std::nullopt, {{5, 0, U" edit"}}, {}, {}}).ok());
  SyncAll();
  for (auto& d : devices_) {
    auto e = d->GetEntry(hex);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_EQ(e->title, "keep me");
    EXPECT_EQ(e->body, "first edit draft");
    EXPECT_EQ(e->tags, std::vector<std::string>{"x"});
  }
}

TEST_F(TwoDevices, ConcurrentRewritesOfATitleStayWholeAndAreReportedAsAConflict) {
  auto id = devices_[0]->NewEntry({"draft", "old body", {}});
  ASSERT_TRUE(id.ok());
  SyncAll();
  const std::string hex = RecordIdHex(*id);
  // No character in common with "draft": even a character diff makes one splice.
  EntryEdit a, b;
  a.title = "N SAYS THAT";
  b.title = "F SAYS THIS";
  // The body through explicit splices: each replaces all of it.
  a.body_splices = {{0, 8, U"body of A"}};
  b.body_splices = {{0, 8, U"B's body"}};
  ASSERT_TRUE(devices_[0]->EditEntry(hex, a).ok());
  ASSERT_TRUE(devices_[1]->EditEntry(hex, b).ok());
  SyncAll();
  auto ea = devices_[0]->GetEntry(hex), eb = devices_[1]->GetEntry(hex);
  ASSERT_TRUE(ea.ok() && eb.ok());
  EXPECT_EQ(ea->title, eb->title);
  EXPECT_TRUE(ea->title == "N SAYS THATF SAYS THIS" || ea->title == "F SAYS THISN SAYS THAT")
      << ea->title;
  EXPECT_TRUE(ea->body == "body of AB's body" || ea->body == "B's bodybody of A") << ea->body;
  const DeviceId dev_a = devices_[0]->device_id(), dev_b = devices_[1]->device_id();
  for (const Entry* e : {&*ea, &*eb}) {
    ASSERT_EQ(e->conflicts.size(), 2u);
    std::map<std::string, std::map<DeviceId, std::string>> versions;
    for (const auto& c : e->conflicts) {
      EXPECT_EQ(c.kind, "text");
      for (const auto& v : c.values) {
        versions[c.field][v.device] = v.value;
        EXPECT_FALSE(v.ops.empty());
        EXPECT_NE(v.hlc, 0u);
        EXPECT_NE(v.wall_ms, 0u);
      }
    }
    EXPECT_EQ(versions["title"][dev_a], "\"N SAYS THAT\"");
    EXPECT_EQ(versions["title"][dev_b], "\"F SAYS THIS\"");
    EXPECT_EQ(versions["body"][dev_a], "\"body of A\"");
    EXPECT_EQ(versions["body"][dev_b], "\"B's body\"");
  }
  // Device B picks A's title by deleting its own; the title conflict is settled everywhere.
  EntryEdit pick;
  pick.title = "N SAYS THAT";
  ASSERT_TRUE(devices_[1]->EditEntry(hex, pick).ok());
  SyncAll();
  for (auto& d : devices_) {
    auto e = d->GetEntry(hex);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->title, "N SAYS THAT");
    ASSERT_EQ(e->conflicts.size(), 1u);
    EXPECT_EQ(e->conflicts[0].field, "body");
  }
}

TEST_F(TwoDevices, ConcurrentEditsOfDifferentPlacesAreNoConflict) {
  auto id = devices_[0]->NewEntry({"A walk", "We walked to the river. It was cold.", {}});
  ASSERT_TRUE(id.ok());
  SyncAll();
  const std::string hex = RecordIdHex(*id);
  EntryEdit a, b;
  a.body = "We strolled to the river. It was cold.";
  a.title = "A long walk";
  b.body = "We walked to the river. It was freezing.";
  ASSERT_TRUE(devices_[0]->EditEntry(hex, a).ok());
  ASSERT_TRUE(devices_[1]->EditEntry(hex, b).ok());
  SyncAll();
  for (auto& d : devices_) {
    auto e = d->GetEntry(hex);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->body, "We strolled to the river. It was freezing.");
    EXPECT_EQ(e->title, "A long walk");
    EXPECT_TRUE(e->conflicts.empty()) << e->conflicts[0].field;
  }
}

TEST(DisplayTime, AClockTenYearsAheadDoesNotMoveOtherDevicesTimes) {
  testing::TempDir dir;
  const uint64_t now = 1'780'000'000'000;  // 2026-05
  const uint64_t skew = 10ull * 365 * 24 * 3600 * 1000;
  // Stepping fake clocks: every reading is 1 ms later, so the test never depends on timing.
  auto stepping = [](uint64_t start) {
    auto t = std::make_shared<uint64_t>(start);
    return ClockFn([t] { return ++*t; });
  };
  ClockFn good_clock = stepping(now), fast_clock = stepping(now + skew);
  ASSERT_TRUE(
      Journal::Init(dir / "good", testing::TestInitOptions(dir / "cloud", "good"), good_clock)
          .ok());
  ASSERT_TRUE(
      Journal::Init(dir / "fast", testing::TestInitOptions(dir / "cloud", "fast"), fast_clock)
          .ok());
  auto good = Journal::Open(dir / "good", ::jsync::testing::HostStorage(), good_clock);
  auto fast = Journal::Open(dir / "fast", ::jsync::testing::HostStorage(), fast_clock);
  ASSERT_TRUE(good.ok() && fast.ok());
  auto before = (*good)->NewEntry({"before", "", {}});
  auto future = (*fast)->NewEntry({"from the future", "", {}});
  ASSERT_TRUE(before.ok() && future.ok());
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE((*fast)->Sync().ok());
    ASSERT_TRUE((*good)->Sync().ok());
  }
  auto after = (*good)->NewEntry({"after", "", {}});
  ASSERT_TRUE(after.ok());
  EntryEdit retitle;
  retitle.title = "before, edited";
  ASSERT_TRUE((*good)->EditEntry(RecordIdHex(*before), retitle).ok());

  const uint64_t within = now + 60'000;  // the good clock only stepped a few hundred times
  auto e = (*good)->GetEntry(RecordIdHex(*after));
  ASSERT_TRUE(e.ok());
  EXPECT_GT(e->created_ms, now);
  EXPECT_LT(e->created_ms, within) << "created_at follows the device's clock, not the HLC";
  EXPECT_GT(e->updated_ms, now);
  EXPECT_LT(e->updated_ms, within);
  auto edited = (*good)->GetEntry(RecordIdHex(*before));
  ASSERT_TRUE(edited.ok());
  EXPECT_LT(edited->updated_ms, within);
  EXPECT_GT(edited->updated_ms, edited->created_ms);
  // The HLC still orders the new ops after everything merged from the fast device.
  auto state = (*good)->store().LoadRecord(kEntries, *after);
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_GT(HlcMillis((*state)->min_hlc()), now + skew);
  // List order is by display time: the fast device's entry (2036) comes last.
  auto list = (*good)->ListEntries();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].title, "before, edited");
  EXPECT_EQ((*list)[1].title, "after");
  EXPECT_EQ((*list)[2].title, "from the future");
  EXPECT_GT((*list)[2].created_ms, now + skew);
}

TEST_F(TwoDevices, SplicesOutsideTheBodyAreRefused) {
  auto id = devices_[0]->NewEntry({"t", "abc", {}});
  ASSERT_TRUE(id.ok());
  EntryEdit e;
  e.body_splices = {{1, 1, {}}, {10, 0, U"x"}};
  Status s = devices_[0]->EditEntry(RecordIdHex(*id), e);
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(devices_[0]->GetEntry(RecordIdHex(*id))->body, "abc") << "nothing half-applied";
}

}  // namespace
}  // namespace jsync

#include "core/journal/journal.h"

#include <gtest/gtest.h>

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
    auto j = Journal::Open(dir_ / "home");
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
  auto none = Journal::Open(dir_ / "elsewhere");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Code::kNotFound);
}

TEST_F(JournalTest, JoinWithWrongPassphraseIsRefused) {
  auto opts = TestInitOptions(dir_ / "cloud", "other");
  opts.passphrase = "not it";
  auto join = Journal::Init(dir_ / "home2", opts);
  ASSERT_FALSE(join.ok());
  EXPECT_NE(join.status().message().find("wrong passphrase"), std::string::npos);
  EXPECT_FALSE(Journal::Open(dir_ / "home2").ok());
}

TEST_F(JournalTest, TwoDevicesSeeEachOthersEntries) {
  auto join = Journal::Init(dir_ / "home2", TestInitOptions(dir_ / "cloud", "second"));
  ASSERT_TRUE(join.ok());
  EXPECT_TRUE(join->joined);
  EXPECT_EQ(join->journal, journal_->journal_id());
  auto other = Journal::Open(dir_ / "home2");
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
      auto j = Journal::Open(dir_ / name);
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

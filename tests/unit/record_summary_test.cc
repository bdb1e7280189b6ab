// The store's record summaries (docs/decisions/0042) and its checkpoints off the edit path.
#include "core/store/record_summary.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/journal/entry.h"
#include "core/store/store.h"
#include "tests/support/test_support.h"

namespace jsync::store {
namespace {

using jsync::testing::TempDir;

Op MakeOp(OpKind kind, const RecordId& record, Hlc hlc, std::string field, std::string value) {
  Op op;
  op.id = {hlc, 0x77};
  op.wall_ms = hlc;
  op.kind = kind;
  op.collection = "entries";
  op.record = record;
  op.field = std::move(field);
  op.value = std::move(value);
  return op;
}

// An entry created at `created` (its created_at register) with ops at a fresh clock.
RecordState Entry(const RecordId& id, uint64_t created, const std::string& title,
                  std::vector<std::string> tags) {
  static Hlc clock = 100;
  clock += 10;
  RecordState st;
  EXPECT_TRUE(
      st.Apply(MakeOp(OpKind::kSetRegister, id, clock, "created_at", std::to_string(created)))
          .ok());
  Op t = MakeOp(OpKind::kTextInsert, id, clock + 1, "title", title);
  t.char_seq = clock * 1000;
  if (!title.empty()) {
    EXPECT_TRUE(st.Apply(t).ok());
  }
  for (auto& tag : tags) {
    EXPECT_TRUE(st.Apply(MakeOp(OpKind::kAddToSet, id, clock + 2, "tags", tag)).ok());
  }
  return st;
}

TEST(RecordSummary, MatchesTheEntryDecodedFromTheState) {
  const RecordId id = NewRecordId();
  RecordState st = Entry(id, 5000, "a title", {"b", "a", std::string("\0x", 2)});
  const RecordSummary s = SummarizeRecord(id, st);
  const jsync::Entry e = EntryFromState(id, st);
  EXPECT_TRUE(s.visible);
  EXPECT_EQ(s.title, e.title);
  EXPECT_EQ(s.tags, e.tags);
  EXPECT_EQ(s.created_ms, e.created_ms);
  EXPECT_EQ(s.updated_ms, e.updated_ms);
  EXPECT_FALSE(s.conflicts);
  EXPECT_EQ(DecodeTags(EncodeTags(s.tags)), s.tags);
  EXPECT_TRUE(DecodeTags({}).empty());
}

TEST(RecordSummary, StoreListsVisibleRecordsOldestFirst) {
  TempDir dir;
  auto s = Store::Open(dir / "j.db");
  ASSERT_TRUE(s.ok());
  std::vector<RecordId> ids(5);
  for (auto& id : ids) id = NewRecordId();
  // Created times out of write order, one beyond 2^63 (still last: no signed ordering), an
  // entry without a title, a deleted one, one of another collection.
  ASSERT_TRUE((*s)->SaveRecord("entries", ids[0], Entry(ids[0], 3000, "third", {})).ok());
  ASSERT_TRUE((*s)->SaveRecord("entries", ids[1], Entry(ids[1], 1000, "first", {"t"})).ok());
  ASSERT_TRUE((*s)->SaveRecord("entries", ids[2], Entry(ids[2], 2000, "", {})).ok());
  ASSERT_TRUE(
      (*s)->SaveRecord("entries", ids[4], Entry(ids[4], (1ull << 63) + 5, "far", {})).ok());
  RecordState deleted = Entry(ids[3], 500, "deleted", {});
  Op del = MakeOp(OpKind::kDeleteRecord, ids[3], 9000, "", "");
  del.observed = deleted.LiveOps();
  ASSERT_TRUE(deleted.Apply(del).ok());
  ASSERT_TRUE((*s)->SaveRecord("entries", ids[3], deleted).ok());
  ASSERT_TRUE((*s)->SaveRecord("other", ids[3], Entry(ids[3], 1, "elsewhere", {})).ok());
  std::vector<std::string> titles;
  ASSERT_TRUE((*s)->ForEachSummary("entries", [&](const RecordSummary& r) {
                    titles.push_back(r.title);
                    return Status::Ok();
                  }).ok());
  EXPECT_EQ(titles, (std::vector<std::string>{"first", "", "third", "far"}));
  std::vector<RecordId> visited;
  ASSERT_TRUE((*s)->ForEachVisibleRecord("entries", [&](const RecordId& id, const RecordState&) {
                    visited.push_back(id);
                    return Status::Ok();
                  }).ok());
  EXPECT_EQ(visited, (std::vector<RecordId>{ids[1], ids[2], ids[0], ids[4]}));
  // A visitor's error stops the walk.
  int calls = 0;
  Status stop = (*s)->ForEachSummary("entries", [&](const RecordSummary&) {
    ++calls;
    return Status::Invalid("stop");
  });
  EXPECT_FALSE(stop.ok());
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE((*s)->ClearRecordsAndCursors().ok());
  calls = 0;
  ASSERT_TRUE((*s)->ForEachSummary("entries", [&](const RecordSummary&) {
                    ++calls;
                    return Status::Ok();
                  }).ok());
  EXPECT_EQ(calls, 0);
}

TEST(RecordSummary, CommitsPastTheThresholdCheckpointInTheBackground) {
  TempDir dir;
  auto s = Store::Open(dir / "j.db");
  ASSERT_TRUE(s.ok());
  const std::string body(3000, 'x');
  // Each commit writes a few pages; enough of them pass Db::kBackgroundFrames.
  for (int i = 0; i < 1500 && (*s)->background_checkpoints() == 0; ++i) {
    auto txn = (*s)->Begin();
    ASSERT_TRUE(txn.began().ok());
    ASSERT_TRUE((*s)->SetMeta("k" + std::to_string(i), body).ok());
    ASSERT_TRUE(txn.Commit().ok());
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*s)->background_checkpoints() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE((*s)->background_checkpoints(), 1u);
  // The store keeps working while and after the thread checkpoints, and closes cleanly.
  ASSERT_TRUE((*s)->SetMeta("after", "1").ok());
  EXPECT_EQ((*s)->GetMeta("after")->value_or(""), "1");
}

}  // namespace
}  // namespace jsync::store

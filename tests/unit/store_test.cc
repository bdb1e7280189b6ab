#include "core/store/store.h"

#include <gtest/gtest.h>

#include "tests/support/test_support.h"

namespace jsync::store {
namespace {

using jsync::testing::TempDir;

Op SampleOp(Hlc hlc) {
  Op op;
  op.id = {hlc, 0x77};
  op.collection = "entries";
  op.record = NewRecordId();
  op.field = "title";
  op.value = "\"x\"";
  return op;
}

TEST(Store, PersistsAcrossReopen) {
  TempDir dir;
  const std::string db = dir / "j.db";
  RecordId id = NewRecordId();
  RecordState state;
  ASSERT_TRUE(state.Apply(SampleOp(5)).ok());
  {
    auto s = Store::Open(db);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->SetMeta("k", "v").ok());
    ASSERT_TRUE((*s)->SaveRecord("entries", id, state).ok());
    ASSERT_TRUE((*s)->AppendOutbox(SampleOp(6)).ok());
    ASSERT_TRUE((*s)->SetCursor(9, {3, crypto::Sha256{1}}).ok());
  }
  auto s = Store::Open(db);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->GetMeta("k")->value_or(""), "v");
  EXPECT_EQ(**(*s)->LoadRecord("entries", id), state);
  EXPECT_EQ(*(*s)->OutboxSize(), 1u);
  EXPECT_EQ((*s)->Cursors()->at(9).seq, 3u);
}

TEST(Store, UncommittedTransactionLeavesNoTrace) {
  TempDir dir;
  auto s = Store::Open(dir / "j.db");
  ASSERT_TRUE(s.ok());
  {
    auto txn = (*s)->Begin();
    ASSERT_TRUE(txn.began().ok());
    ASSERT_TRUE((*s)->AppendOutbox(SampleOp(1)).ok());
    ASSERT_TRUE((*s)->SetMeta("hlc", "1").ok());
  }  // no Commit: rolled back
  EXPECT_EQ(*(*s)->OutboxSize(), 0u);
  EXPECT_FALSE((*s)->GetMeta("hlc")->has_value());
}

TEST(Store, OutboxIsFifoAndSealedTracksUploads) {
  TempDir dir;
  auto s = Store::Open(dir / "j.db");
  ASSERT_TRUE(s.ok());
  for (Hlc h = 1; h <= 5; ++h) ASSERT_TRUE((*s)->AppendOutbox(SampleOp(h)).ok());
  auto rows = (*s)->ReadOutbox(3);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].op.id.hlc, 1u);
  EXPECT_EQ((*rows)[2].op.id.hlc, 3u);
  ASSERT_TRUE((*s)->DeleteOutboxThrough((*rows)[2].n).ok());
  EXPECT_EQ(*(*s)->OutboxSize(), 2u);

  Bytes bytes = {1, 2, 3};
  ASSERT_TRUE((*s)->AddSealed(1, bytes, crypto::HashSha256(bytes)).ok());
  ASSERT_TRUE((*s)->AddSealed(2, bytes, crypto::HashSha256(bytes)).ok());
  EXPECT_EQ((*s)->SealedNotUploaded()->size(), 2u);
  ASSERT_TRUE((*s)->MarkUploaded(1).ok());
  EXPECT_EQ(*(*s)->UploadedThrough(), 1u);
  EXPECT_EQ((*s)->LastSealed()->seq, 2u);
  EXPECT_FALSE((*s)->AddSealed(2, bytes, crypto::HashSha256(bytes)).ok()) << "seq is unique";
}

TEST(Store, FindRecordsByPrefix) {
  TempDir dir;
  auto s = Store::Open(dir / "j.db");
  ASSERT_TRUE(s.ok());
  RecordId a{}, b{};
  a[0] = 0xab;
  a[1] = 0x01;
  b[0] = 0xab;
  b[1] = 0x02;
  RecordState st;
  ASSERT_TRUE(st.Apply(SampleOp(1)).ok());
  ASSERT_TRUE((*s)->SaveRecord("entries", a, st).ok());
  ASSERT_TRUE((*s)->SaveRecord("entries", b, st).ok());
  EXPECT_EQ((*s)->FindRecords("entries", "ab")->size(), 2u);
  EXPECT_EQ((*s)->FindRecords("entries", "ab01")->size(), 1u);
  EXPECT_EQ((*s)->FindRecords("entries", "%")->size(), 0u);
  EXPECT_EQ((*s)->FindRecords("other", "ab")->size(), 0u);
}

}  // namespace
}  // namespace jsync::store

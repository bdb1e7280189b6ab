// Replays the real editing trace (the automerge-paper, 259,778 edits) through the text CRDT
// and checks it produces exactly the trace's endContent, and survives encode/decode.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/model/text/text_document.h"
#include "tools/trace/concurrent_replay.h"
#include "tools/trace/editing_trace.h"

namespace jsync::text {
namespace {

TEST(TextTrace, AutomergePaperReplaysToItsEndContent) {
  // A path join, not string +: GCC 12 warns falsely (-Warray-bounds) on the literal append.
  const std::string path =
      (std::filesystem::path(JSYNC_TRACE_DIR) / "automerge-paper.json.gz").string();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not found (tests/data/traces is missing)";
  auto trace = trace::LoadEditingTrace(path);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  ASSERT_EQ(trace->patches.size(), 259778u);
  TextDocument doc;
  uint64_t seq = 1;
  if (!trace->start.empty()) {
    ASSERT_TRUE(doc.LocalInsert(1, seq, 0, trace->start).ok());
    seq += trace->start.size();
  }
  for (const auto& p : trace->patches) {
    if (p.del > 0) {
      ASSERT_TRUE(doc.LocalDelete(p.pos, p.del).ok());
    }
    if (!p.ins.empty()) {
      ASSERT_TRUE(doc.LocalInsert(1, seq, p.pos, p.ins).ok());
      seq += p.ins.size();
    }
  }
  EXPECT_TRUE(doc.Text() == trace->end) << "replay differs from endContent";
  EXPECT_EQ(doc.size(), 104852u);
  auto loaded = TextDocument::Decode(doc.Encode());
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->Text() == trace->end);
  // A second device that loaded the state can merge further edits from the first.
  auto more = doc.LocalInsert(1, seq, 0, U"% replayed\n");
  ASSERT_TRUE(more.ok());
  ASSERT_TRUE(loaded->ApplyInsert(*more).ok());
  EXPECT_TRUE(loaded->Text() == doc.Text());
}

// Two writers typing into one document with 1 s of latency (friendsforever, 26,078 txns,
// 2,258 of them merges): one document per writer, each merging the other's branch whenever
// the trace says so. Both end at the trace's endContent, and equal to the byte.
TEST(TextTrace, FriendsForeverMergesBranchesToItsEndContent) {
  const std::string path =
      (std::filesystem::path(JSYNC_TRACE_DIR) / "friendsforever.json.gz").string();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not found (tests/data/traces is missing)";
  auto trace = trace::LoadConcurrentTrace(path);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  ASSERT_EQ(trace->txns.size(), 26078u);
  ASSERT_EQ(trace->agents, 2u);
  auto replay = trace::ReplayConcurrent(*trace);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_EQ(replay->merges, 2258u);
  ASSERT_EQ(replay->docs.size(), 2u);
  EXPECT_EQ(trace->end.size(), 21362u);
  for (const TextDocument& doc : replay->docs) {
    EXPECT_TRUE(doc.Text() == trace->end) << "a writer's document differs from endContent";
  }
  EXPECT_EQ(replay->docs[0].Encode(), replay->docs[1].Encode());
  auto loaded = TextDocument::Decode(replay->docs[0].Encode());
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(*loaded == replay->docs[1]);
}

}  // namespace
}  // namespace jsync::text

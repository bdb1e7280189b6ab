// Replays the real editing trace (the automerge-paper, 259,778 edits) through the text CRDT
// and checks it produces exactly the trace's endContent, and survives encode/decode.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/model/text/text_document.h"
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

}  // namespace
}  // namespace jsync::text

// Parallel downloads: a device catching up many changes fetches up to K at once through the
// host's transfer pool, while merging in exactly the order (and to exactly the state) of a
// device fetching one at a time.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/journal/journal.h"
#include "host/open_provider.h"
#include "host/transfer_pool.h"
#include "tests/support/latency_provider.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

using testing::InFlight;
using testing::LatencyProvider;
using testing::TempDir;
using testing::TestInitOptions;

// The folder provider, each instance behind a 15 ms download latency, pooled K at once.
provider::StorageOpener SlowFolder(int k, std::shared_ptr<InFlight> stats) {
  return [k, stats](const provider::StorageSpec& spec) -> Result<provider::OpenedStorage> {
    auto open_one = [spec, stats]() -> Result<std::unique_ptr<provider::Provider>> {
      provider::OpenOptions o;
      o.transfers = 1;
      JSYNC_ASSIGN_OR_RETURN(auto inner, provider::OpenProvider("folder", spec.location, o));
      return std::unique_ptr<provider::Provider>(
          std::make_unique<LatencyProvider>(std::move(inner), 15, stats));
    };
    JSYNC_ASSIGN_OR_RETURN(provider::OpenedStorage opened,
                           provider::OpenStorage("folder", spec.location, {}));
    JSYNC_ASSIGN_OR_RETURN(auto first, open_one());
    opened.provider = std::make_unique<provider::TransferPool>(std::move(first), open_one, k);
    return opened;
  };
}

std::string RawState(Journal& j) {
  auto records = j.store().ListRecords(kEntries);
  EXPECT_TRUE(records.ok());
  std::string out;
  for (const auto& r : *records) out += RecordIdHex(r.id) + ":" + ToHex(r.state.Encode()) + "\n";
  return out;
}

TEST(ParallelFetch, CatchUpOverlapsKDownloadsAndMergesAsSequential) {
  TempDir dir;
  const std::string cloud = dir / "cloud";
  // Two writers, 24 changes each, edits of the other's entries so merge order matters.
  std::vector<std::unique_ptr<Journal>> writers;
  for (int i = 0; i < 2; ++i) {
    const std::string home = dir / ("w" + std::to_string(i));
    ASSERT_TRUE(Journal::Init(home, TestInitOptions(cloud, "w" + std::to_string(i))).ok());
    auto j = Journal::Open(home, testing::HostStorage());
    ASSERT_TRUE(j.ok());
    writers.push_back(std::move(*j));
  }
  std::string shared_id;
  for (int step = 0; step < 24; ++step) {
    for (int i = 0; i < 2; ++i) {
      Journal& w = *writers[i];
      if (step == 0 && i == 0) {
        auto id = w.NewEntry({"shared", "start", {}});
        ASSERT_TRUE(id.ok());
        shared_id = RecordIdHex(*id);
      } else if (!shared_id.empty() && step % 3 == 0) {
        EntryEdit edit;
        edit.body = "w" + std::to_string(i) + " step " + std::to_string(step);
        (void)w.EditEntry(shared_id, edit);  // before the first merge w1 has no such entry
      } else {
        ASSERT_TRUE(w.NewEntry({"t" + std::to_string(step), "b", {}}).ok());
      }
      auto r = w.Sync();
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }

  auto stats_k = std::make_shared<InFlight>();
  auto stats_1 = std::make_shared<InFlight>();
  std::unique_ptr<Journal> readers[2];
  Result<SyncResult> synced[2] = {Status::Fatal("unset"), Status::Fatal("unset")};
  for (int r = 0; r < 2; ++r) {
    const std::string home = dir / ("r" + std::to_string(r));
    ASSERT_TRUE(Journal::Init(home, TestInitOptions(cloud, "r" + std::to_string(r))).ok());
    auto j = Journal::Open(home, SlowFolder(r == 0 ? 4 : 1, r == 0 ? stats_k : stats_1));
    ASSERT_TRUE(j.ok());
    readers[r] = std::move(*j);
    synced[r] = readers[r]->Sync();
    ASSERT_TRUE(synced[r].ok()) << synced[r].status().ToString();
    for (const auto& p : synced[r]->report.problems) ADD_FAILURE() << p.message;
  }
  EXPECT_EQ(stats_k->max.load(), 4) << "downloads did not overlap 4 at once";
  EXPECT_EQ(stats_1->max.load(), 1);
  EXPECT_EQ(synced[0]->report.merged_changes, synced[1]->report.merged_changes);
  EXPECT_GE(synced[0]->report.merged_changes, 46u);  // an edit before the entry arrived is none
  EXPECT_EQ(synced[0]->report.merged_by_device, synced[1]->report.merged_by_device);
  EXPECT_EQ(RawState(*readers[0]), RawState(*readers[1]));
  // Every change file was downloaded once, prefetched or not (the later reader also fetches
  // the earlier one's device file).
  EXPECT_EQ(synced[0]->report.downloaded_changes, synced[0]->report.merged_changes);
  EXPECT_EQ(synced[0]->report.downloaded_changes, synced[1]->report.downloaded_changes);
  EXPECT_EQ(synced[0]->calls.gets + 1, synced[1]->calls.gets);
}

// A change file that vanishes or is damaged after the listing is reported exactly as without
// prefetching: the speculative download's failure is dropped and the merge's own Get decides.
TEST(ParallelFetch, DamagedFileMidBatchBlocksOnlyThatDevice) {
  TempDir dir;
  const std::string cloud = dir / "cloud";
  const std::string home_w = dir / "w";
  ASSERT_TRUE(Journal::Init(home_w, TestInitOptions(cloud, "w")).ok());
  auto w = Journal::Open(home_w, testing::HostStorage());
  ASSERT_TRUE(w.ok());
  // Single files only: a segment covering change 6 would be read in its place.
  sync::LifecycleOptions singles;
  singles.segments = false;
  (*w)->SetLifecycle(singles);
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE((*w)->NewEntry({"t" + std::to_string(i), "b", {}}).ok());
    ASSERT_TRUE((*w)->Sync().ok());
  }
  // Damage change 6 of the writer (names sort by seq: <device>/<16 hex seq>.jchg).
  std::vector<std::filesystem::path> changes;
  for (const auto& f : testing::ListFiles(cloud))
    if (f.string().find("/changes/") != std::string::npos && f.extension() == ".jchg") {
      changes.push_back(f);
    }
  ASSERT_EQ(changes.size(), 12u);
  std::sort(changes.begin(), changes.end());
  std::string bytes = testing::ReadFileBytes(changes[5]);
  bytes[bytes.size() / 2] ^= 1;
  testing::WriteFileBytes(changes[5], bytes);

  auto stats = std::make_shared<InFlight>();
  const std::string home_r = dir / "r";
  ASSERT_TRUE(Journal::Init(home_r, TestInitOptions(cloud, "r")).ok());
  auto r = Journal::Open(home_r, SlowFolder(4, stats));
  ASSERT_TRUE(r.ok());
  auto s = (*r)->Sync();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->report.merged_changes, 5u);
  ASSERT_EQ(s->report.problems.size(), 1u);
  EXPECT_NE(s->report.problems[0].message.find("change 6"), std::string::npos)
      << s->report.problems[0].message;
  EXPECT_GT(stats->max.load(), 1);
}

}  // namespace
}  // namespace jsync

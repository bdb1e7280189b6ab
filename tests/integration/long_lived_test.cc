// A journal that lives for years: snapshots, segments and pruning on the folder provider,
// through the Journal API with controlled clocks (core/sync/lifecycle.h, decision 0035).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>

#include "core/crypto/asym.h"
#include "core/format/snapshot_file.h"
#include "core/journal/journal.h"
#include "core/sync/remote_layout.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

namespace fs = std::filesystem;
using jsync::testing::TempDir;
using jsync::testing::TestInitOptions;

constexpr int64_t kDay = 24LL * 3600 * 1000;

std::u32string U32(const std::string& ascii) { return std::u32string(ascii.begin(), ascii.end()); }

sync::LifecycleOptions SmallThresholds() {
  sync::LifecycleOptions o;
  o.snapshot_min_ops = 40;
  o.snapshot_min_bytes = 1u << 30;
  o.inactive_after_ms = 7 * kDay;
  return o;
}

class World {
 public:
  explicit World(sync::LifecycleOptions lifecycle = SmallThresholds()) : lifecycle_(lifecycle) {}

  Journal& Add(const std::string& name) {
    const std::string home = dir_ / ("home-" + name);
    ClockFn clock = [this] { return now_; };
    auto init = Journal::Init(home, TestInitOptions(cloud(), name), clock);
    EXPECT_TRUE(init.ok()) << init.status().ToString();
    auto j = Journal::Open(home, ::jsync::testing::HostStorage(), clock);
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    (*j)->SetLifecycle(lifecycle_);
    journals_.push_back(std::move(*j));
    return *journals_.back();
  }

  SyncResult Sync(Journal& j, bool full = false) {
    sync::DiscoveryOptions o;
    o.full_listing = full;
    auto r = j.Sync(o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    for (const auto& p : r->report.problems) ADD_FAILURE() << "problem: " << p.message;
    return *r;
  }

  std::string cloud() const { return dir_ / "cloud"; }
  fs::path JournalDir(Journal& j) const {
    return fs::path(cloud()) / sync::JournalRoot(j.journal_id());
  }
  void Advance(int64_t ms) { now_ += ms; }
  std::vector<std::unique_ptr<Journal>>& all() { return journals_; }

 private:
  TempDir dir_;
  uint64_t now_ = 1'750'000'000'000;
  sync::LifecycleOptions lifecycle_;
  std::vector<std::unique_ptr<Journal>> journals_;
};

std::string RawState(Journal& j) {
  auto records = j.store().ListRecords(kEntries);
  EXPECT_TRUE(records.ok());
  std::string out;
  for (const auto& r : *records) out += RecordIdHex(r.id) + ":" + ToHex(r.state.Encode()) + "\n";
  return out;
}

// Equal states encode to equal bytes; on a difference say how big it is, not all of it.
void ExpectSameState(Journal& x, Journal& y) {
  const std::string a = RawState(x), b = RawState(y);
  EXPECT_TRUE(a == b) << "states differ: " << std::count(a.begin(), a.end(), '\n') << " vs "
                      << std::count(b.begin(), b.end(), '\n') << " records";
}

size_t CountFiles(const fs::path& dir, const std::string& ext) {
  size_t n = 0;
  if (!fs::exists(dir)) return 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ext) ++n;
  }
  return n;
}

TEST(LongLived, NewDeviceStartsFromTheSnapshotAndReadsOnlyTheTail) {
  World w;
  Journal& a = w.Add("laptop");
  std::vector<RecordId> ids;
  for (int i = 0; i < 30; ++i) {
    auto id = a.NewEntry({"entry " + std::to_string(i), "body of " + std::to_string(i), {"t"}});
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
    for (int k = 0; k < 3; ++k) {
      EntryEdit e;
      e.body = "body of " + std::to_string(i) + " edited " + std::to_string(k);
      ASSERT_TRUE(a.EditEntry(RecordIdHex(*id), e).ok());
    }
    w.Sync(a);
  }
  ASSERT_GE(CountFiles(w.JournalDir(a) / "snapshots", ".jsnap"), 1u);
  // Two changes after the newest snapshot: the new device reads them as changes.
  EntryEdit tail;
  tail.title = "after the snapshot";
  ASSERT_TRUE(a.EditEntry(RecordIdHex(ids[0]), tail).ok());
  w.Sync(a);

  Journal& b = w.Add("phone");
  SyncResult r = w.Sync(b);
  EXPECT_FALSE(r.report.snapshot_loaded.empty());
  EXPECT_FALSE(r.report.rebuilt_from_snapshot);
  // The snapshot, the key check, a's device file and the few changes after the snapshot: far
  // fewer downloads than a's 30 changes.
  EXPECT_LE(r.report.downloaded_changes, 3u);
  EXPECT_LE(r.calls.gets, 8u) << "gets " << r.calls.gets;
  ExpectSameState(a, b);
  // And it goes on merging as usual.
  EntryEdit more;
  more.body = "from the phone";
  ASSERT_TRUE(b.EditEntry(RecordIdHex(ids[5]), more).ok());
  w.Sync(b);
  w.Sync(a);
  ExpectSameState(a, b);
}

TEST(LongLived, ADamagedSnapshotIsRefusedAndAnOlderOneOrTheChangesAreUsed) {
  World w;
  Journal& a = w.Add("laptop");
  for (int i = 0; i < 60; ++i) {
    auto made = a.NewEntry({"entry " + std::to_string(i), "words " + std::to_string(i), {}});
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    w.Sync(a);
  }
  std::vector<fs::path> snaps;
  for (const auto& e : fs::directory_iterator(w.JournalDir(a) / "snapshots")) snaps.push_back(e.path());
  ASSERT_GE(snaps.size(), 1u);
  std::sort(snaps.begin(), snaps.end());
  std::string bytes = ::jsync::testing::ReadFileBytes(snaps.back());
  bytes[bytes.size() / 2] ^= 0x20;
  ::jsync::testing::WriteFileBytes(snaps.back(), bytes);

  Journal& b = w.Add("phone");
  auto r = b.Sync();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const auto& p : r->report.problems) ADD_FAILURE() << p.message;
  bool said = false;
  for (const auto& n : r->report.notices) said |= n.find("was refused") != std::string::npos;
  EXPECT_TRUE(said);
  EXPECT_NE(r->report.snapshot_loaded, snaps.back().filename().string());
  ExpectSameState(a, b);
}

// A holder of the journal key who is not the author: the newest snapshot re-signed with
// another Ed25519 key (its encryption still authenticates) is refused for its signature, and the
// new device starts from an older one or the changes.
TEST(LongLived, ASnapshotSignedByAnotherKeyIsRefused) {
  World w;
  Journal& a = w.Add("laptop");
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(a.NewEntry({"entry " + std::to_string(i), "words", {}}).ok());
    w.Sync(a);
  }
  std::vector<fs::path> snaps;
  for (const auto& e : fs::directory_iterator(w.JournalDir(a) / "snapshots")) snaps.push_back(e.path());
  ASSERT_GE(snaps.size(), 1u);
  std::sort(snaps.begin(), snaps.end());
  std::string text = ::jsync::testing::ReadFileBytes(snaps.back());
  Bytes file(text.begin(), text.end());
  const size_t body = file.size() - crypto::kSignatureSize;
  const crypto::KeyPair forger = crypto::NewSigningKey();
  auto sig = crypto::SignLabeled(forger.priv, format::kSnapshotSignatureLabel,
                                 ByteSpan(file).first(body));
  ASSERT_TRUE(sig.ok());
  std::copy(sig->begin(), sig->end(), file.begin() + static_cast<std::ptrdiff_t>(body));
  ASSERT_TRUE(format::SnapshotSignatureValid(file, forger.pub));
  ::jsync::testing::WriteFileBytes(snaps.back(), std::string(file.begin(), file.end()));

  Journal& b = w.Add("phone");
  auto r = b.Sync();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const auto& p : r->report.problems) ADD_FAILURE() << p.message;
  bool said = false;
  for (const auto& n : r->report.notices) said |= n.find("is not signed by device") != std::string::npos;
  EXPECT_TRUE(said);
  EXPECT_NE(r->report.snapshot_loaded, snaps.back().filename().string());
  ExpectSameState(a, b);
  // verify --read-data names it too.
  sync::AuditOptions read_all;
  read_all.read_data = true;
  auto audit = b.Verify(read_all);
  ASSERT_TRUE(audit.ok()) << audit.status().ToString();
  bool named = false;
  for (const auto& p : audit->report.problems) named |= p.message.find("not signed by its author") != std::string::npos;
  EXPECT_TRUE(named);
}

TEST(LongLived, ADeviceBackAfterFiveThousandChangesDownloadsAFewSegments) {
  World w;
  Journal& a = w.Add("laptop");
  Journal& b = w.Add("phone");
  auto id = a.NewEntry({"diary", "", {}});
  ASSERT_TRUE(id.ok());
  w.Sync(a);
  w.Sync(b);
  // 5,000 small changes, each published alone as a watcher does after a burst of typing.
  for (int i = 0; i < 5000; ++i) {
    EntryEdit e;
    e.body_splices = {{static_cast<size_t>(i), 0, U"x"}};
    ASSERT_TRUE(a.EditEntry(RecordIdHex(*id), e).ok());
    auto p = a.Publish();
    ASSERT_TRUE(p.ok()) << p.status().ToString();
  }
  SyncResult wrote = w.Sync(a);
  EXPECT_GT(wrote.report.segments_written, 0u);
  SyncResult r = w.Sync(b);
  const uint64_t files = r.report.downloaded_segments;
  EXPECT_GE(r.report.merged_changes, 5000u);
  EXPECT_LE(r.calls.gets, 20u) << "segments " << files << ", changes " << r.report.downloaded_changes;
  ExpectSameState(a, b);
}

void OfflineAcrossThreePruneRounds(bool segments) {
  sync::LifecycleOptions o = SmallThresholds();
  o.segments = segments;
  World w(o);
  Journal& a = w.Add("laptop");
  Journal& b = w.Add("desktop");
  Journal& z = w.Add("old-phone");
  std::vector<RecordId> ids;
  for (int i = 0; i < 5; ++i) {
    auto id = a.NewEntry({"shared " + std::to_string(i), "first words", {"x"}});
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
  }
  w.Sync(a);
  w.Sync(b);
  w.Sync(z);
  // z writes once, so the others know it (its change says what it merged), then goes quiet.
  EntryEdit hello;
  hello.add_tags = {"seen-by-z"};
  ASSERT_TRUE(z.EditEntry(RecordIdHex(ids[0]), hello).ok());
  w.Sync(z);
  w.Sync(a);
  w.Sync(b);
  // z goes offline and keeps writing into the same entries.
  for (int i = 0; i < 5; ++i) {
    EntryEdit e;
    e.body_splices = {{0, 0, U"z was here. "}};
    e.add_tags = {"offline"};
    ASSERT_TRUE(z.EditEntry(RecordIdHex(ids[i]), e).ok());
  }
  auto zid = z.NewEntry({"written offline", "on a plane", {}});
  ASSERT_TRUE(zid.ok());

  for (int round = 0; round < 3; ++round) {
    w.Advance(10 * kDay);
    for (int k = 0; k < 80; ++k) {
      Journal& who = k % 2 ? a : b;
      EntryEdit e;
      e.body_splices = {{0, 0, U32("r" + std::to_string(round) + "." + std::to_string(k) + " ")}};
      ASSERT_TRUE(who.EditEntry(RecordIdHex(ids[k % 5]), e).ok());
      w.Sync(who);
    }
    w.Sync(a);
    w.Sync(b);
    w.Sync(a);
  }
  // a and b pruned their early change files: z's cursor points below what the cloud holds.
  const fs::path a_changes =
      w.JournalDir(a) / "changes" / DeviceIdHex(a.device_id());
  EXPECT_FALSE(fs::exists(a_changes / "0000000000000001.jchg"));

  SyncResult back = w.Sync(z, /*full=*/true);
  std::string said;
  for (const auto& n : back.report.notices) said += n + "\n";
  // Without segments the pruned files are gone: only a snapshot helps. With them, the
  // segments of what was pruned are gone too once the prune passed them.
  EXPECT_TRUE(back.report.rebuilt_from_snapshot) << said;
  for (int i = 0; i < 3; ++i) {
    w.Sync(z);
    w.Sync(a);
    w.Sync(b);
  }
  ExpectSameState(a, z);
  ExpectSameState(b, z);
  auto entries = a.ListEntries();
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 6u);  // nothing lost, nothing duplicated
  for (const auto& e : *entries) {
    if (e.id == *zid) continue;
    EXPECT_NE(e.body.find("z was here. "), std::string::npos) << e.body;
    EXPECT_NE(e.body.find("r2."), std::string::npos) << e.body;
    EXPECT_NE(e.body.find("r0."), std::string::npos) << e.body;
    EXPECT_NE(std::find(e.tags.begin(), e.tags.end(), "offline"), e.tags.end());
  }
}

TEST(LongLived, AnOfflineDeviceCatchesUpAfterThreePruneRoundsAndKeepsItsEdits) {
  OfflineAcrossThreePruneRounds(/*segments=*/true);
}

TEST(LongLived, WithoutSegmentsTheOfflineDeviceRebuildsFromASnapshot) {
  OfflineAcrossThreePruneRounds(/*segments=*/false);
}

// Ten devices, many snapshot rounds, pruning on: everyone converges and a new device's cold
// sync reads one snapshot and the tail. JSYNC_LONG_ROUNDS raises the rounds (1,000 for the
// figure in docs/benchmarks.md).
TEST(LongLived, TenDevicesThroughManySnapshotRoundsConverge) {
  const char* env = std::getenv("JSYNC_LONG_ROUNDS");
  const int rounds = env ? std::atoi(env) : 40;
  const uint64_t seed = ::jsync::testing::SeedFromEnv(15);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (rerun: JSYNC_SEED=" + std::to_string(seed) + ")");
  std::mt19937_64 rng(seed);
  sync::LifecycleOptions o = SmallThresholds();
  o.snapshot_min_ops = 25;
  World w(o);
  std::vector<Journal*> devices;
  for (int i = 0; i < 10; ++i) devices.push_back(&w.Add("dev" + std::to_string(i)));
  std::vector<RecordId> ids;
  for (int i = 0; i < 8; ++i) {
    auto id = devices[0]->NewEntry({"entry " + std::to_string(i), "", {}});
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
  }
  for (auto* d : devices) w.Sync(*d);
  uint64_t snapshots = 0, pruned = 0;
  for (int round = 0; round < rounds; ++round) {
    w.Advance(3600 * 1000);
    for (int k = 0; k < 3; ++k) {
      Journal& d = *devices[rng() % devices.size()];
      EntryEdit e;
      e.body_splices = {{0, 0, U32("r" + std::to_string(round) + " ")}};
      if (rng() % 4 == 0) e.title = "title " + std::to_string(round);
      ASSERT_TRUE(d.EditEntry(RecordIdHex(ids[rng() % ids.size()]), e).ok());
      SyncResult r = w.Sync(d);
      snapshots += !r.report.snapshot_written.empty();
      pruned += r.report.pruned_files;
    }
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (auto* d : devices) w.Sync(*d);
  }
  for (auto* d : devices) ExpectSameState(*devices[0], *d);
  EXPECT_GT(snapshots, 0u);
  EXPECT_GT(pruned, 0u);
  // The audit takes pruned logs for what they are: covered by snapshots, not gaps.
  for (bool read_data : {false, true}) {
    sync::AuditOptions audit;
    audit.read_data = read_data;
    auto v = devices[3]->Verify(audit);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    for (const auto& p : v->report.problems) ADD_FAILURE() << p.code << ": " << p.message;
  }

  Journal& fresh = w.Add("new-phone");
  SyncResult r = w.Sync(fresh);
  EXPECT_FALSE(r.report.snapshot_loaded.empty());
  ExpectSameState(*devices[0], fresh);
  // One snapshot, the device files, and only changes after the snapshot.
  EXPECT_LT(r.report.downloaded_changes, 40u);
}

}  // namespace
}  // namespace jsync

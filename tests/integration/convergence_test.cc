// Randomized multi-device convergence: concurrent edits on skewed clocks, random sync order
// and offline periods, then every device must hold byte-identical state and no entry that
// nobody deleted may be missing. Each seed is one ctest case; a failure names its seed,
// and JSYNC_SEED=N reruns one seed through ConvergenceSeed.FromEnvironment.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <set>
#include <sstream>

#include "core/journal/journal.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

using jsync::testing::TempDir;
using jsync::testing::TestInitOptions;

struct Device {
  std::unique_ptr<Journal> journal;
  bool online = true;
};

const char* kWords[] = {"rain", "coffee", "Grüße", "walk",   "🙂",   "train",
                        "idea", "late",   "quiet", "market", "letter", "sun"};

std::string RandomText(std::mt19937_64& rng, int max_words) {
  std::string s;
  for (int n = static_cast<int>(rng() % max_words); n >= 0; --n) {
    if (!s.empty()) s += ' ';
    s += kWords[rng() % std::size(kWords)];
  }
  return s;
}

std::string Describe(const std::vector<Entry>& entries) {
  std::ostringstream out;
  for (const auto& e : entries) {
    out << RecordIdHex(e.id) << " | " << e.title << " | " << e.body << " |";
    for (const auto& t : e.tags) out << " #" << t;
    for (const auto& c : e.conflicts) {
      out << " conflict:" << c.field;
      for (const auto& v : c.values) out << "=" << v.value;
    }
    out << " | " << e.created_ms << "/" << e.updated_ms << "\n";
  }
  return out.str();
}

std::string RawState(Journal& j) {
  auto records = j.store().ListRecords(kEntries);
  EXPECT_TRUE(records.ok());
  std::string out;
  for (const auto& r : *records) {
    Bytes enc = r.state.Encode();
    out += RecordIdHex(r.id) + ":" + ToHex(enc) + "\n";
  }
  return out;
}

void SyncOrFail(Device& d, const std::string& who) {
  auto r = d.journal->Sync();
  ASSERT_TRUE(r.ok()) << who << ": " << r.status().ToString();
  for (const auto& p : r->report.problems) ADD_FAILURE() << who << ": " << p.message;
}

void RunScenario(uint64_t seed, int steps) {
  SCOPED_TRACE("seed " + std::to_string(seed) + " (rerun: JSYNC_SEED=" + std::to_string(seed) +
               " jsync_integration_tests --gtest_filter=ConvergenceSeed.*)");
  std::mt19937_64 rng(seed);
  TempDir dir;
  const int n = 2 + static_cast<int>(rng() % 3);  // 2..4 devices
  uint64_t now = 1'700'000'000'000;
  std::vector<Device> devices(n);
  for (int i = 0; i < n; ++i) {
    // Clocks up to two hours apart: causality must not depend on them.
    const int64_t skew = static_cast<int64_t>(rng() % 14'400'000) - 7'200'000;
    ClockFn clock = [&now, skew] {
      return static_cast<uint64_t>(static_cast<int64_t>(now) + skew);
    };
    const std::string home = dir / ("home" + std::to_string(i));
    auto init =
        Journal::Init(home, TestInitOptions(dir / "cloud", "dev" + std::to_string(i)), clock);
    ASSERT_TRUE(init.ok()) << init.status().ToString();
    ASSERT_EQ(init->joined, i > 0);
    auto j = Journal::Open(home, ::jsync::testing::HostStorage(), clock);
    ASSERT_TRUE(j.ok()) << j.status().ToString();
    devices[i].journal = std::move(*j);
  }

  std::set<RecordId> created, deleted;
  for (int step = 0; step < steps; ++step) {
    now += rng() % 3000;
    Device& d = devices[rng() % n];
    auto visible = d.journal->ListEntries();
    ASSERT_TRUE(visible.ok());
    const bool has_entries = !visible->empty();
    const Entry* target = has_entries ? &(*visible)[rng() % visible->size()] : nullptr;
    const int action = static_cast<int>(rng() % 100);
    if (action < 18 || !has_entries) {
      std::vector<std::string> tags;
      for (int t = static_cast<int>(rng() % 3); t > 0; --t) tags.push_back(kWords[rng() % 4]);
      auto id = d.journal->NewEntry({RandomText(rng, 3), RandomText(rng, 12), tags});
      ASSERT_TRUE(id.ok()) << id.status().ToString();
      created.insert(*id);
    } else if (action < 40) {
      EntryEdit edit;
      if (rng() % 2)
        edit.title = RandomText(rng, 3);
      else
        edit.body = RandomText(rng, 12);
      ASSERT_TRUE(d.journal->EditEntry(RecordIdHex(target->id), edit).ok());
    } else if (action < 50) {
      EntryEdit edit;
      edit.add_tags = {kWords[rng() % 4]};
      ASSERT_TRUE(d.journal->EditEntry(RecordIdHex(target->id), edit).ok());
    } else if (action < 56) {
      if (target->tags.empty()) continue;
      EntryEdit edit;
      edit.remove_tags = {target->tags[rng() % target->tags.size()]};
      ASSERT_TRUE(d.journal->EditEntry(RecordIdHex(target->id), edit).ok());
    } else if (action < 62) {
      ASSERT_TRUE(d.journal->RemoveEntry(RecordIdHex(target->id)).ok());
      deleted.insert(target->id);
    } else if (action < 90) {
      if (d.online) SyncOrFail(d, "sync during the run");
    } else {
      d.online = !d.online;  // go offline, or come back
    }
  }

  // Everybody comes back online. Two rounds suffice: the first uploads everything, the
  // second downloads it (every dependency was uploaded before anyone could depend on it).
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < n; ++i) SyncOrFail(devices[i], "final sync of device " + std::to_string(i));
  }

  auto reference = devices[0].journal->ListEntries();
  ASSERT_TRUE(reference.ok());
  const std::string want_entries = Describe(*reference);
  const std::string want_state = RawState(*devices[0].journal);
  for (int i = 1; i < n; ++i) {
    auto got = devices[i].journal->ListEntries();
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(Describe(*got), want_entries) << "device " << i << " differs from device 0";
    EXPECT_EQ(RawState(*devices[i].journal), want_state) << "device " << i << " CRDT state";
  }
  std::set<RecordId> present;
  for (const auto& e : *reference) present.insert(e.id);
  for (const RecordId& id : created) {
    if (!deleted.contains(id)) {
      EXPECT_TRUE(present.contains(id)) << "entry " << RecordIdHex(id) << " was lost";
    }
  }
  for (int i = 0; i < n; ++i) {
    auto st = devices[i].journal->GetStatus();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->outbox_ops, 0u);
    EXPECT_EQ(st->unuploaded_changes, 0u);
  }
}

class Convergence : public ::testing::TestWithParam<uint64_t> {};

TEST_P(Convergence, AllDevicesEndIdentical) { RunScenario(GetParam(), 60); }

// A few hundred seeds in the default suite; thousands under the `long` label.
INSTANTIATE_TEST_SUITE_P(Seeds, Convergence, ::testing::Range<uint64_t>(1, 301));

TEST(ConvergenceSeed, FromEnvironment) {
  if (!std::getenv("JSYNC_SEED")) GTEST_SKIP() << "set JSYNC_SEED to replay one seed";
  RunScenario(jsync::testing::SeedFromEnv(0), 60);
}

TEST(ConvergenceLong, ManySeeds) {
  const char* count = std::getenv("JSYNC_LONG_SEEDS");
  if (!count) GTEST_SKIP() << "set JSYNC_LONG_SEEDS (the `long` ctest label does)";
  const uint64_t n = std::strtoull(count, nullptr, 10);
  for (uint64_t seed = 1000; seed < 1000 + n && !HasFailure(); ++seed) RunScenario(seed, 120);
}

}  // namespace
}  // namespace jsync

#include "providers/conformance/conformance_suite.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "providers/conformance/conformance_fixture.h"
#include "host/transfer_pool.h"
#include "providers/sdk/jsync_provider.h"

namespace jsync::conformance {
namespace {

std::vector<ConformanceTarget>& Registry() {
  static std::vector<ConformanceTarget> targets;
  return targets;
}

}  // namespace

void RegisterConformanceTarget(ConformanceTarget target) {
  Registry().push_back(std::move(target));
}

const std::vector<ConformanceTarget>& ConformanceTargets() { return Registry(); }

namespace internal {
namespace {

using provider::FaultPlan;

// The fault-plan syntax JSYNC_FAULTS and --provider-faults use (host/http_client.h).
TEST(FaultPlanSyntax, ParsesSchedulesAndRejectsTypos) {
  auto plan = FaultPlan::Parse("429@3, 503@5-6,reset@7+,torn:put@2,401@11,507@13,timeout@1");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->faults.size(), 7u);
  using Kind = FaultPlan::Kind;
  auto kind_at = [&](uint64_t n, const std::string& method, uint64_t nth_of_method) {
    const FaultPlan::Fault* f = plan->Match(n, method, nth_of_method);
    return f ? std::optional<Kind>(f->kind) : std::nullopt;
  };
  EXPECT_EQ(kind_at(1, "GET", 1), Kind::kTimeout);
  EXPECT_EQ(kind_at(2, "GET", 2), std::nullopt);
  EXPECT_EQ(kind_at(2, "PUT", 2), Kind::kTorn);  // the 2nd PUT, whatever its overall number
  EXPECT_EQ(kind_at(3, "GET", 3), Kind::k429);
  EXPECT_EQ(kind_at(4, "GET", 4), std::nullopt);
  EXPECT_EQ(kind_at(5, "GET", 5), Kind::k503);
  EXPECT_EQ(kind_at(6, "GET", 6), Kind::k503);
  EXPECT_EQ(kind_at(7, "GET", 7), Kind::kReset);
  EXPECT_EQ(kind_at(1000, "GET", 1000), Kind::kReset);
  EXPECT_TRUE(FaultPlan::Parse("")->faults.empty());
  for (const char* bad : {"429", "429@", "429@0", "429@x", "418@1", "503@5-4", "torn:@1", "@3"}) {
    auto r = FaultPlan::Parse(bad);
    EXPECT_TRUE(r.status().Is(Code::kInvalid)) << bad;
  }
}

// ---- ordinary behaviour (with the target's provider faults on, if it asks) -------------------

class ConformanceTest : public ConformanceBase {
 protected:
  void SetUp() override { Open(target().provider_faults, target().real_time); }
  // What the faults did, in the XML report (--gtest_output=xml).
  void TearDown() override {
    if (policy_ == nullptr) return;
    RecordProperty("retries", std::to_string(retries()));
    RecordProperty("provider_faults_injected", std::to_string(faulty_->injected()));
    if (http_ != nullptr) {
      RecordProperty("http_requests", std::to_string(http_->stats().requests));
      RecordProperty("http_faults_injected", std::to_string(http_->stats().injected));
      RecordProperty("http_refreshes", std::to_string(http_->stats().refreshes));
    }
  }
};

// A fresh location is empty, and a missing object is kNotFound (not an empty object).
TEST_P(ConformanceTest, FreshLocationIsEmpty) {
  EXPECT_FALSE(p().Describe().empty());
  EXPECT_TRUE(ListsExactly(p(), "", {}));
  auto missing = p().Get("nothing/here", provider::kNoSizeLimit);
  EXPECT_TRUE(missing.status().Is(Code::kNotFound)) << missing.status().ToString();
  auto range = p().GetRange("nothing/here", 3, 5);
  EXPECT_TRUE(range.status().Is(Code::kNotFound)) << range.status().ToString();
}

// Put then Get returns the very bytes at 0, 1, 4 KiB and 1 MiB; List reports each size.
TEST_P(ConformanceTest, RoundTripSmallSizes) {
  std::map<std::string, Bytes> objects;
  for (size_t size : {size_t{0}, size_t{1}, 4 * kKiB, kMiB}) {
    objects["roundtrip/size-" + std::to_string(size)] = Pattern(size, size + 1);
  }
  for (const auto& [path, bytes] : objects) ASSERT_NO_FATAL_FAILURE(Put(path, bytes));
  for (const auto& [path, bytes] : objects)
    EXPECT_TRUE(ReadsBack(p(), path, bytes));
  EXPECT_TRUE(ListsExactly(p(), "roundtrip/", Under(objects, "")));
}

// A 50 MiB object survives the round trip (and a range read of its tail).
TEST_P(ConformanceTest, RoundTrip50MiB) {
  if (!target().large) GTEST_SKIP() << "large objects are off for this target (--no-large)";
  const Bytes big = Pattern(50 * kMiB, 50);
  ASSERT_NO_FATAL_FAILURE(Put("large/fifty", big));
  EXPECT_TRUE(SameBytes(p().Get("large/fifty", provider::kNoSizeLimit), big));
  const Bytes tail(big.end() - static_cast<std::ptrdiff_t>(kKiB), big.end());
  EXPECT_TRUE(SameBytes(p().GetRange("large/fifty", big.size() - kKiB, UINT64_MAX), tail));
  EXPECT_TRUE(ListsExactly(p(), "large/", {{"large/fifty", big.size()}}));
}

// Every read the engine makes carries a size limit: an object at the limit is read, one over it
// is refused as corrupt with a message naming it and the limit, and nothing past the limit is
// handed over (the host asks for [0, limit + 1) and caps what it collects; ABI-2 plugins may
// announce the size first so nothing is downloaded).
TEST_P(ConformanceTest, GetIsBoundedByTheLimit) {
  const Bytes bytes = Pattern(3 * kKiB, 3);
  ASSERT_NO_FATAL_FAILURE(Put("bounded/obj", bytes));
  EXPECT_TRUE(SameBytes(p().Get("bounded/obj", bytes.size()), bytes)) << "exactly at the limit";
  for (uint64_t limit : {uint64_t{0}, uint64_t{1}, uint64_t{kKiB}, uint64_t{bytes.size() - 1}}) {
    auto over = p().Get("bounded/obj", limit);
    ASSERT_FALSE(over.ok()) << "read " << over->size() << " bytes with a limit of " << limit;
    EXPECT_EQ(over.status().code(), Code::kCorrupt) << over.status().ToString();
    EXPECT_NE(over.status().message().find("bounded/obj"), std::string::npos)
        << over.status().message();
    EXPECT_NE(over.status().message().find("limit"), std::string::npos) << over.status().message();
  }
  auto missing = p().Get("bounded/none", kKiB);
  EXPECT_EQ(missing.status().code(), Code::kNotFound) << missing.status().ToString();
}

// PutIfAbsent: the same bytes again are success (a retried upload); other bytes — same
// length, longer, shorter, empty — are kExists and leave the original untouched.
TEST_P(ConformanceTest, PutIfAbsentKeepsTheFirstBytes) {
  const Bytes original = Pattern(5000, 1);
  ASSERT_NO_FATAL_FAILURE(Put("once/obj", original));
  for (int i = 0; i < 2; ++i) {
    Status again = p().PutIfAbsent("once/obj", original);
    EXPECT_TRUE(again.ok()) << again.ToString();
  }
  for (const Bytes& other : {Pattern(5000, 2), Pattern(6000, 1), Pattern(10, 1), Bytes()}) {
    Status s = p().PutIfAbsent("once/obj", other);
    EXPECT_TRUE(s.Is(Code::kExists)) << other.size() << " other bytes: " << s.ToString();
  }
  EXPECT_TRUE(SameBytes(p().Get("once/obj", provider::kNoSizeLimit), original));
  // An empty object is an object too: other bytes do not replace it.
  ASSERT_NO_FATAL_FAILURE(Put("once/empty", Bytes()));
  EXPECT_TRUE(p().PutIfAbsent("once/empty", Bytes()).ok());
  Status s = p().PutIfAbsent("once/empty", B("x"));
  EXPECT_TRUE(s.Is(Code::kExists)) << s.ToString();
  EXPECT_TRUE(SameBytes(p().Get("once/empty", provider::kNoSizeLimit), Bytes()));
  EXPECT_TRUE(ListsExactly(p(), "once/", {{"once/empty", 0}, {"once/obj", original.size()}}));
}

// Retrying after an answer was lost is safe: the upload (or removal) happened, the caller saw
// a timeout, the host policy retried, and there is exactly one intact object (or none).
TEST_P(ConformanceTest, RetryAfterALostAnswerIsIdempotent) {
  const Bytes bytes = Pattern(20 * kKiB, 3);
  faulty_->set_plan(Plan("timeout:PUT@1-2"));
  const uint64_t before = retries();
  ASSERT_NO_FATAL_FAILURE(Put("retry/obj", bytes));
  // Two lost answers, two retries (more only when the transport has faults on, JSYNC_FAULTS).
  EXPECT_GE(retries() - before, 2u);
  EXPECT_LE(retries() - before, 2u + (http_ ? http_->stats().injected : 0u));
  EXPECT_TRUE(SameBytes(p().Get("retry/obj", provider::kNoSizeLimit), bytes));
  EXPECT_TRUE(ListsExactly(p(), "retry/", {{"retry/obj", bytes.size()}}));
  faulty_->set_plan(Plan("timeout:REMOVE@1"));
  Status removed = p().Remove("retry/obj");
  EXPECT_TRUE(removed.ok()) << removed.ToString();
  auto gone = p().Get("retry/obj", provider::kNoSizeLimit);
  EXPECT_TRUE(gone.status().Is(Code::kNotFound)) << gone.status().ToString();
  EXPECT_TRUE(ListsExactly(p(), "retry/", {}));
}

// Many objects (2,500 by default) under nested prefixes: every listing is complete, sorted,
// without duplicates, and a prefix filters exactly (a string prefix, not a folder: "many/d1"
// also matches "many/d1x/..."), across pages (the host's List follows them).
TEST_P(ConformanceTest, ListsManyObjectsCompletelyAndFiltersPrefixesExactly) {
  const int n = target().list_files;
  std::map<std::string, Bytes> all;
  for (int i = 0; i < n; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "many/d%d/obj-%05d", i % 5, i);
    all[name] = B("object " + std::to_string(i));
  }
  // (No name is both an object and a folder: folder-backed providers cannot store that.)
  for (const char* decoy :
       {"many/d1x/inner", "many/d1/sub/deep", "manyfold/a", "man", "many.txt", "top"}) {
    all[decoy] = B(std::string("decoy ") + decoy);
  }
  for (const auto& [path, bytes] : all) ASSERT_NO_FATAL_FAILURE(Put(path, bytes));
  for (const std::string prefix :
       {"", "many/", "many/d1/", "many/d1", "many/d1/obj-0001", "many/d1/obj-", "man", "many",
        "many/d9/", "many/d1/sub/", "t", "zzz", "many/d1/obj-00001"}) {
    EXPECT_TRUE(ListsExactly(p(), prefix, Under(all, prefix)));
  }
  // Spot-check contents at both ends.
  EXPECT_TRUE(
      SameBytes(p().Get("many/d0/obj-00000", provider::kNoSizeLimit), all["many/d0/obj-00000"]));
  char last[64];
  std::snprintf(last, sizeof last, "many/d%d/obj-%05d", (n - 1) % 5, n - 1);
  EXPECT_TRUE(SameBytes(p().Get(last, provider::kNoSizeLimit), all[last]));
}

// Range reads at the start, in the middle, at and past the end, and open-ended.
TEST_P(ConformanceTest, RangeReads) {
  const Bytes data = Pattern(10000, 4);
  ASSERT_NO_FATAL_FAILURE(Put("range/obj", data));
  struct Case {
    uint64_t offset, length;
  };
  for (const Case c :
       {Case{0, 10}, Case{0, 1}, Case{4995, 10}, Case{9990, 10}, Case{9995, 10}, Case{9999, 1},
        Case{10000, 5}, Case{12000, 5}, Case{0, 10000}, Case{0, 20000}, Case{1234, UINT64_MAX},
        Case{0, UINT64_MAX}, Case{10000, UINT64_MAX}, Case{0, 0}, Case{500, 0}}) {
    const uint64_t begin = std::min<uint64_t>(c.offset, data.size());
    const uint64_t end = c.length > data.size() - begin ? data.size() : begin + c.length;
    const Bytes want(data.begin() + static_cast<std::ptrdiff_t>(begin),
                     data.begin() + static_cast<std::ptrdiff_t>(end));
    EXPECT_TRUE(SameBytes(p().GetRange("range/obj", c.offset, c.length), want))
        << "offset " << c.offset << " length " << c.length;
  }
  auto missing = p().GetRange("range/none", 5, 10);
  EXPECT_TRUE(missing.status().Is(Code::kNotFound)) << missing.status().ToString();
}

// Names in any script, with spaces and punctuation, 200-byte segments and deep paths are
// stored, listed and read back under the very same name.
TEST_P(ConformanceTest, UnicodeSpacesAndLongNames) {
  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "é";  // 200 bytes of UTF-8
  const std::vector<std::string> names = {
      "Grüße/日本語 file.txt",
      "with space/a b  c.txt",
      "naïve café/☕ 😀.bin",
      "long/" + std::string(200, 'a'),
      "long/" + accents + "/x",
      "odd/a+b=c&d;e,f@g!h'i(j)~$",
      "odd/per%25cent %41",
      "odd/question?hash#",
      "deep/a/b/c/d/e/f/g/h/i/j/k.txt",
  };
  std::map<std::string, Bytes> all;
  for (size_t i = 0; i < names.size(); ++i) all[names[i]] = B("content " + std::to_string(i));
  for (const auto& [path, bytes] : all) ASSERT_NO_FATAL_FAILURE(Put(path, bytes));
  for (const auto& [path, bytes] : all)
    EXPECT_TRUE(ReadsBack(p(), path, bytes));
  EXPECT_TRUE(ListsExactly(p(), "", Under(all, "")));
  EXPECT_TRUE(ListsExactly(p(), "Grüße/", Under(all, "Grüße/")));
  EXPECT_TRUE(ListsExactly(p(), "naïve", Under(all, "naïve")));
  EXPECT_TRUE(ListsExactly(p(), "long/" + accents, Under(all, "long/" + accents)));
  Status removed = p().Remove("with space/a b  c.txt");
  EXPECT_TRUE(removed.ok()) << removed.ToString();
  all.erase("with space/a b  c.txt");
  EXPECT_TRUE(ListsExactly(p(), "", Under(all, "")));
}

// Remove is idempotent, a removed object is kNotFound and unlisted, and its name is free again.
TEST_P(ConformanceTest, RemoveIsIdempotent) {
  ASSERT_NO_FATAL_FAILURE(Put("rm/a", B("first")));
  ASSERT_NO_FATAL_FAILURE(Put("rm/b", B("stays")));
  for (int i = 0; i < 2; ++i) {
    Status s = p().Remove("rm/a");
    EXPECT_TRUE(s.ok()) << "removal " << i + 1 << ": " << s.ToString();
  }
  Status never = p().Remove("rm/never-existed");
  EXPECT_TRUE(never.ok()) << never.ToString();
  auto gone = p().Get("rm/a", provider::kNoSizeLimit);
  EXPECT_TRUE(gone.status().Is(Code::kNotFound)) << gone.status().ToString();
  EXPECT_TRUE(ListsExactly(p(), "rm/", {{"rm/b", 5}}));
  ASSERT_NO_FATAL_FAILURE(Put("rm/a", B("second life")));
  EXPECT_TRUE(SameBytes(p().Get("rm/a", provider::kNoSizeLimit), B("second life")));
}

// Where the provider declares a change feed, every object added after a cursor is reported,
// through Provider::Changes on the provider under test (the host policy on top, so the feed
// rides out the same faults as every other call).
TEST_P(ConformanceTest, ChangeFeedReportsEveryNewObject) {
  if (!p().capabilities().change_feed) {
    GTEST_SKIP() << p().Describe() << " declares no change feed (JSYNC_CAP_CHANGE_FEED unset)";
  }
  ASSERT_NO_FATAL_FAILURE(Put("feed/before", B("before the cursor")));
  auto start = p().Changes("");
  ASSERT_TRUE(start.ok()) << start.status().ToString();
  ASSERT_FALSE(start->expired) << "an empty cursor asks for a start cursor; it cannot expire";
  EXPECT_TRUE(start->changed.empty()) << "a start cursor reports nothing";
  ASSERT_FALSE(start->cursor.empty()) << "no start cursor";
  std::map<std::string, Bytes> added;
  for (int i = 0; i < 25; ++i) added["feed/obj-" + std::to_string(i)] = Pattern(100 + i, i);
  for (const auto& [path, bytes] : added) ASSERT_NO_FATAL_FAILURE(Put(path, bytes));
  std::map<std::string, uint64_t> reported;
  std::string cursor = start->cursor;
  for (int round = 0; round < 100; ++round) {
    auto page = p().Changes(cursor);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_FALSE(page->expired) << "a cursor the feed just gave was refused";
    for (const auto& o : page->changed) {
      EXPECT_EQ(o.path.find(JSYNC_TEMP_PREFIX), std::string::npos) << o.path;
      reported[o.path] = o.size;
    }
    ASSERT_FALSE(page->cursor.empty()) << "a feed page without a next cursor";
    cursor = page->cursor;
    if (page->changed.empty()) break;
  }
  for (const auto& [path, bytes] : added) {
    auto it = reported.find(path);
    if (it == reported.end()) {
      ADD_FAILURE() << "the change feed never reported " << path;
    } else {
      EXPECT_EQ(it->second, bytes.size()) << path;
    }
  }
}

// The threading contract: several instances of one location, each used by its own thread at
// the same time (as the host's transfer pool does), lose no object, tear none, and agree on
// who won a contested name; then a pool of them downloads a batch, answered in order.
TEST_P(ConformanceTest, ConcurrentInstancesOfOneLocation) {
  if (!target().reopen) {
    GTEST_SKIP() << "this runner gives the suite no way to open a second instance of a "
                    "location (ConformanceTarget::reopen)";
  }
  if (target().max_concurrency == 1) {
    GTEST_SKIP() << "the plugin allows one instance of a location at a time (max_concurrency 1)";
  }
  constexpr int kThreads = 4, kEach = 8;
  std::vector<std::unique_ptr<provider::PolicyProvider>> instances;
  for (int t = 0; t < kThreads; ++t) {
    auto bare = target().reopen();
    ASSERT_TRUE(bare.ok()) << "opening instance " << t << ": " << bare.status().ToString();
    // Each thread its own policy: nothing but the location is shared. Real time, as in the
    // host: a server may answer a racing request with a transient refusal (rclone's 423 Locked
    // on a MKCOL while another request holds the collection), which only a retry that really
    // waits outlasts.
    instances.push_back(std::make_unique<provider::PolicyProvider>(
        std::move(bare).value(), retry_, provider::PacerPolicy{}, provider::QuotaPolicy{},
        provider::PolicyEnv::Real()));
  }
  std::map<std::string, Bytes> want;
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kEach; ++i)
      want["conc/t" + std::to_string(t) + "/o" + std::to_string(i)] =
          Pattern(1 + (static_cast<size_t>(t * kEach + i) * 37 * kKiB) % (300 * kKiB),
                  1000 + t * kEach + i);
  std::mutex mu;
  std::vector<std::string> failures;
  std::vector<int> won_contest(kThreads, 0);
  auto fail = [&](std::string what) {
    std::lock_guard lock(mu);
    failures.push_back(std::move(what));
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      provider::Provider& p = *instances[t];
      const std::string mine = "conc/t" + std::to_string(t) + "/";
      for (const auto& [path, bytes] : want) {
        if (!path.starts_with(mine)) continue;
        Status s = p.PutIfAbsent(path, bytes);
        if (!s.ok()) fail("put " + path + ": " + s.ToString());
      }
      // Everyone races for one name with other bytes: exactly one wins.
      Status s = p.PutIfAbsent("conc/contested", Pattern(50 * kKiB, 7000 + t));
      if (s.ok()) {
        won_contest[t] = 1;
      } else if (!s.Is(Code::kExists)) {
        fail("contested put: " + s.ToString());
      }
      // Read what the others wrote meanwhile: whatever is there is whole.
      for (const auto& [path, bytes] : want) {
        auto got = p.Get(path, 1 * kMiB);
        if (!got.ok() && got.status().Is(Code::kNotFound)) continue;  // not written yet
        if (!SameBytes(got, bytes)) fail("a concurrent read of " + path + " was torn or wrong");
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& f : failures) ADD_FAILURE() << f;
  int winners = 0;
  for (int w : won_contest) winners += w;
  auto contested = p().Get("conc/contested", 1 * kMiB);
  ASSERT_TRUE(contested.ok()) << contested.status().ToString();
  int holds = 0;
  for (int t = 0; t < kThreads; ++t) {
    if (won_contest[t] && SameBytes(contested, Pattern(50 * kKiB, 7000 + t))) ++holds;
  }
  EXPECT_EQ(holds, 1) << "the contested name holds no winner's whole bytes";
  if (target().atomic_concurrent_create) {
    EXPECT_EQ(winners, 1) << "PutIfAbsent of one name from several instances at once";
  } else {
    EXPECT_GE(winners, 1);
    if (winners > 1) {
      std::printf("note: %d racers for one name were all told they created it (this server's "
                  "create-if-absent is not atomic under concurrency)\n", winners);
    }
  }
  auto listed = Under(want, "conc/");
  listed["conc/contested"] = 50 * kKiB;
  EXPECT_TRUE(ListsExactly(p(), "conc/", listed));

  // The host's pool over these instances: one batch, answered in request order.
  std::vector<provider::GetRequest> batch;
  for (const auto& [path, bytes] : want) batch.push_back({path, 1 * kMiB});
  batch.push_back({"conc/absent", 1 * kMiB});
  std::reverse(batch.begin(), batch.end());
  auto first = std::move(instances[0]);
  auto rest = std::make_shared<std::vector<std::unique_ptr<provider::PolicyProvider>>>(
      std::move(instances));
  auto next = std::make_shared<size_t>(1);
  provider::TransferPool pool(
      std::move(first),
      [rest, next]() -> Result<std::unique_ptr<provider::Provider>> {
        if (*next >= rest->size()) return Status::Fatal("no more instances");
        return std::unique_ptr<provider::Provider>(std::move((*rest)[(*next)++]));
      },
      kThreads);
  auto results = pool.GetMany(batch);
  ASSERT_EQ(results.size(), batch.size());
  EXPECT_TRUE(results[0].status().Is(Code::kNotFound)) << results[0].status().ToString();
  for (size_t i = 1; i < batch.size(); ++i) {
    EXPECT_TRUE(SameBytes(results[i], want.at(batch[i].path))) << batch[i].path;
  }
  EXPECT_EQ(pool.instances(), static_cast<size_t>(kThreads));
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ConformanceTest);
INSTANTIATE_TEST_SUITE_P(Provider, ConformanceTest, ::testing::ValuesIn(TargetIndexes()),
                         TargetName);

}  // namespace
}  // namespace internal
}  // namespace jsync::conformance

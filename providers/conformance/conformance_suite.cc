#include "providers/conformance/conformance_suite.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "core/provider/host_policy.h"
#include "core/provider/plugin_provider.h"
#include "providers/conformance/faulty_provider.h"
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

namespace {

using provider::FaultPlan;
using provider::HttpClient;
using provider::ObjectInfo;
using provider::PluginProvider;
using provider::PolicyEnv;
using provider::PolicyProvider;
using provider::Provider;
using provider::RetryPolicy;

constexpr size_t kKiB = 1024;
constexpr size_t kMiB = 1024 * 1024;

// A clock for the host policy on which sleeping takes no time.
struct SimulatedTime {
  int64_t now_ms = 0;
  int64_t slept_ms = 0;
  std::mt19937_64 rng{20240601};
};

PolicyEnv SimulatedEnv(const std::shared_ptr<SimulatedTime>& t) {
  return {[t] { return t->now_ms; },
          [t](int64_t ms) {
            t->now_ms += ms;
            t->slept_ms += ms;
          },
          [t] { return t->rng(); }};
}

// Deterministic bytes, different for every seed.
Bytes Pattern(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ull + n);
  Bytes b(n);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x = rng();
    std::copy_n(reinterpret_cast<const uint8_t*>(&x), 8, b.data() + i);
  }
  for (; i < n; ++i) b[i] = static_cast<uint8_t>(rng());
  return b;
}

Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }

FaultPlan Plan(const std::string& spec) {
  auto plan = FaultPlan::Parse(spec);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? *plan : FaultPlan{};
}

// Compares without printing megabytes when they differ.
::testing::AssertionResult SameBytes(const Result<Bytes>& got, const Bytes& want) {
  if (!got.ok()) return ::testing::AssertionFailure() << got.status().ToString();
  if (got->size() != want.size()) {
    return ::testing::AssertionFailure()
           << "got " << got->size() << " bytes, want " << want.size();
  }
  auto diff = std::mismatch(got->begin(), got->end(), want.begin());
  if (diff.first != got->end()) {
    return ::testing::AssertionFailure()
           << "bytes differ from offset " << (diff.first - got->begin()) << " of " << want.size();
  }
  return ::testing::AssertionSuccess();
}

// Lists `prefix` and checks the answer is exactly `want` (path -> size): sorted, no
// duplicates, no temporary upload names, nothing missing or extra, sizes right.
::testing::AssertionResult ListsExactly(Provider& p, const std::string& prefix,
                                        const std::map<std::string, uint64_t>& want) {
  auto listed = p.List(prefix);
  if (!listed.ok()) {
    return ::testing::AssertionFailure() << "List('" << prefix << "'): " << listed.status().ToString();
  }
  std::vector<std::string> problems;
  for (size_t i = 0; i < listed->size(); ++i) {
    const ObjectInfo& o = (*listed)[i];
    if (o.path.find(JSYNC_TEMP_PREFIX) != std::string::npos) {
      problems.push_back("temporary name listed: " + o.path);
    }
    if (i > 0 && !((*listed)[i - 1].path < o.path)) {
      problems.push_back("not sorted or duplicated: '" + (*listed)[i - 1].path + "' then '" +
                         o.path + "'");
    }
    auto it = want.find(o.path);
    if (it == want.end()) {
      problems.push_back("unexpected: " + o.path);
    } else if (it->second != o.size) {
      problems.push_back(o.path + " has size " + std::to_string(o.size) + ", want " +
                         std::to_string(it->second));
    }
  }
  std::set<std::string> seen;
  for (const auto& o : *listed) seen.insert(o.path);
  for (const auto& [path, size] : want) {
    if (!seen.count(path)) problems.push_back("missing: " + path);
  }
  if (problems.empty()) return ::testing::AssertionSuccess();
  auto failure = ::testing::AssertionFailure();
  failure << "List('" << prefix << "') returned " << listed->size() << " objects, want "
          << want.size() << "; " << problems.size() << " problems:";
  for (size_t i = 0; i < problems.size() && i < 20; ++i) failure << "\n  " << problems[i];
  return failure;
}

// The objects of `all` whose path starts with `prefix` (what List must answer).
std::map<std::string, uint64_t> Under(const std::map<std::string, Bytes>& all,
                                      const std::string& prefix) {
  std::map<std::string, uint64_t> out;
  for (const auto& [path, bytes] : all) {
    if (path.starts_with(prefix)) out[path] = bytes.size();
  }
  return out;
}

// The stack every test talks to: PolicyProvider -> FaultyProvider -> the target's provider.
class ConformanceBase : public ::testing::TestWithParam<size_t> {
 protected:
  const ConformanceTarget& target() const { return ConformanceTargets()[GetParam()]; }

  void Open(const std::string& provider_faults, bool real_time) {
    ASSERT_TRUE(target().open) << "target " << target().name << " has no open function";
    auto opened = target().open();
    ASSERT_TRUE(opened.ok()) << "opening " << target().name << ": " << opened.status().ToString();
    std::unique_ptr<Provider> bare = std::move(opened).value();
    ASSERT_NE(bare, nullptr);
    if (auto* plugin = dynamic_cast<PluginProvider*>(bare.get())) http_ = &plugin->http();
    auto faulty = std::make_unique<FaultyProvider>(std::move(bare), Plan(provider_faults));
    faulty_ = faulty.get();
    time_ = std::make_shared<SimulatedTime>();
    policy_ = std::make_unique<PolicyProvider>(std::move(faulty), retry_, provider::PacerPolicy{},
                                               provider::QuotaPolicy{},
                                               real_time ? PolicyEnv::Real() : SimulatedEnv(time_));
  }

  Provider& p() { return *policy_; }
  uint64_t retries() const { return policy_->stats().retries; }

  void Put(const std::string& path, const Bytes& bytes) {
    Status s = p().PutIfAbsent(path, bytes);
    ASSERT_TRUE(s.ok()) << "put " << path << ": " << s.ToString();
  }

  RetryPolicy retry_;
  std::unique_ptr<PolicyProvider> policy_;
  FaultyProvider* faulty_ = nullptr;  // owned by policy_
  HttpClient* http_ = nullptr;        // the plugin's client, when the target is a plugin
  std::shared_ptr<SimulatedTime> time_;
};

std::string TargetName(const ::testing::TestParamInfo<size_t>& info) {
  return ConformanceTargets()[info.param].name;
}

std::vector<size_t> TargetIndexes() {
  std::vector<size_t> out(ConformanceTargets().size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = i;
  return out;
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
  auto missing = p().Get("nothing/here");
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
  for (const auto& [path, bytes] : objects) EXPECT_TRUE(SameBytes(p().Get(path), bytes)) << path;
  EXPECT_TRUE(ListsExactly(p(), "roundtrip/", Under(objects, "")));
}

// A 50 MiB object survives the round trip (and a range read of its tail).
TEST_P(ConformanceTest, RoundTrip50MiB) {
  if (!target().large) GTEST_SKIP() << "large objects are off for this target (--no-large)";
  const Bytes big = Pattern(50 * kMiB, 50);
  ASSERT_NO_FATAL_FAILURE(Put("large/fifty", big));
  EXPECT_TRUE(SameBytes(p().Get("large/fifty"), big));
  const Bytes tail(big.end() - static_cast<std::ptrdiff_t>(kKiB), big.end());
  EXPECT_TRUE(SameBytes(p().GetRange("large/fifty", big.size() - kKiB, UINT64_MAX), tail));
  EXPECT_TRUE(ListsExactly(p(), "large/", {{"large/fifty", big.size()}}));
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
  EXPECT_TRUE(SameBytes(p().Get("once/obj"), original));
  // An empty object is an object too: other bytes do not replace it.
  ASSERT_NO_FATAL_FAILURE(Put("once/empty", Bytes()));
  EXPECT_TRUE(p().PutIfAbsent("once/empty", Bytes()).ok());
  Status s = p().PutIfAbsent("once/empty", B("x"));
  EXPECT_TRUE(s.Is(Code::kExists)) << s.ToString();
  EXPECT_TRUE(SameBytes(p().Get("once/empty"), Bytes()));
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
  EXPECT_TRUE(SameBytes(p().Get("retry/obj"), bytes));
  EXPECT_TRUE(ListsExactly(p(), "retry/", {{"retry/obj", bytes.size()}}));
  faulty_->set_plan(Plan("timeout:REMOVE@1"));
  Status removed = p().Remove("retry/obj");
  EXPECT_TRUE(removed.ok()) << removed.ToString();
  auto gone = p().Get("retry/obj");
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
  for (const char* decoy : {"many/d1x/inner", "many/d1/sub/deep", "manyfold/a", "man", "many.txt",
                            "top"}) {
    all[decoy] = B(std::string("decoy ") + decoy);
  }
  for (const auto& [path, bytes] : all) ASSERT_NO_FATAL_FAILURE(Put(path, bytes));
  for (const std::string prefix :
       {"", "many/", "many/d1/", "many/d1", "many/d1/obj-0001", "many/d1/obj-", "man", "many",
        "many/d9/", "many/d1/sub/", "t", "zzz", "many/d1/obj-00001"}) {
    EXPECT_TRUE(ListsExactly(p(), prefix, Under(all, prefix)));
  }
  // Spot-check contents at both ends.
  EXPECT_TRUE(SameBytes(p().Get("many/d0/obj-00000"), all["many/d0/obj-00000"]));
  char last[64];
  std::snprintf(last, sizeof last, "many/d%d/obj-%05d", (n - 1) % 5, n - 1);
  EXPECT_TRUE(SameBytes(p().Get(last), all[last]));
}

// Range reads at the start, in the middle, at and past the end, and open-ended.
TEST_P(ConformanceTest, RangeReads) {
  const Bytes data = Pattern(10000, 4);
  ASSERT_NO_FATAL_FAILURE(Put("range/obj", data));
  struct Case {
    uint64_t offset, length;
  };
  for (const Case c : {Case{0, 10}, Case{0, 1}, Case{4995, 10}, Case{9990, 10}, Case{9995, 10},
                       Case{9999, 1}, Case{10000, 5}, Case{12000, 5}, Case{0, 10000},
                       Case{0, 20000}, Case{1234, UINT64_MAX}, Case{0, UINT64_MAX},
                       Case{10000, UINT64_MAX}, Case{0, 0}, Case{500, 0}}) {
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
  for (const auto& [path, bytes] : all) EXPECT_TRUE(SameBytes(p().Get(path), bytes)) << path;
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
  auto gone = p().Get("rm/a");
  EXPECT_TRUE(gone.status().Is(Code::kNotFound)) << gone.status().ToString();
  EXPECT_TRUE(ListsExactly(p(), "rm/", {{"rm/b", 5}}));
  ASSERT_NO_FATAL_FAILURE(Put("rm/a", B("second life")));
  EXPECT_TRUE(SameBytes(p().Get("rm/a"), B("second life")));
}

// Where the provider declares a change feed, every object added after a cursor is reported.
TEST_P(ConformanceTest, ChangeFeedReportsEveryNewObject) {
  if (!p().capabilities().change_feed) {
    GTEST_SKIP() << p().Describe() << " declares no change feed (JSYNC_CAP_CHANGE_FEED unset)";
  }
  if (!target().changes) {
    GTEST_SKIP() << "the provider declares a change feed, but this runner gives the suite no "
                    "way to read it (ConformanceTarget::changes)";
  }
  ASSERT_NO_FATAL_FAILURE(Put("feed/before", B("before the cursor")));
  auto start = target().changes("");
  ASSERT_TRUE(start.ok()) << start.status().ToString();
  EXPECT_TRUE(start->objects.empty()) << "a start cursor reports nothing";
  ASSERT_FALSE(start->next_cursor.empty()) << "no start cursor";
  std::map<std::string, Bytes> added;
  for (int i = 0; i < 25; ++i) added["feed/obj-" + std::to_string(i)] = Pattern(100 + i, i);
  for (const auto& [path, bytes] : added) ASSERT_NO_FATAL_FAILURE(Put(path, bytes));
  std::map<std::string, uint64_t> reported;
  std::string cursor = start->next_cursor;
  for (int round = 0; round < 100; ++round) {
    auto page = target().changes(cursor);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& o : page->objects) {
      EXPECT_EQ(o.path.find(JSYNC_TEMP_PREFIX), std::string::npos) << o.path;
      reported[o.path] = o.size;
    }
    if (!page->next_cursor.empty()) cursor = page->next_cursor;
    if (page->objects.empty()) break;
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

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ConformanceTest);
INSTANTIATE_TEST_SUITE_P(Provider, ConformanceTest, ::testing::ValuesIn(TargetIndexes()),
                         TargetName);

// ---- provider-level faults below the host policy (every target) ------------------------------

class ConformanceFaultTest : public ConformanceBase {
 protected:
  void SetUp() override {
    Open("", /*real_time=*/false);
    // Exact counts need the transport quiet: JSYNC_FAULTS applies to the ordinary tests.
    if (http_ != nullptr) http_->set_fault_plan(std::nullopt);
  }
};

// Throttling, outages, resets and lost answers spread over a whole workload: the host policy
// retries each once, honours every Retry-After, and nothing is lost, duplicated or corrupted.
TEST_P(ConformanceFaultTest, TransientFaultsCorruptNothing) {
  // Every third call fails once, cycling through the transient kinds.
  const char* kinds[] = {"429", "503", "reset", "timeout", "torn"};
  std::string spec;
  for (int i = 0, call = 2; call < 600; ++i, call += 3) {
    spec += (spec.empty() ? "" : ",") + std::string(kinds[i % 5]) + "@" + std::to_string(call);
  }
  faulty_->set_plan(Plan(spec));
  std::map<std::string, Bytes> all;
  for (int i = 0; i < 30; ++i) all["flaky/obj-" + std::to_string(i)] = Pattern(i * 700, i);
  for (const auto& [path, bytes] : all) ASSERT_NO_FATAL_FAILURE(Put(path, bytes));
  EXPECT_TRUE(ListsExactly(p(), "", Under(all, "")));
  for (const auto& [path, bytes] : all) EXPECT_TRUE(SameBytes(p().Get(path), bytes)) << path;
  for (int i = 0; i < 10; ++i) {
    const std::string path = "flaky/obj-" + std::to_string(i);
    Status s = p().Remove(path);
    EXPECT_TRUE(s.ok()) << s.ToString();
    all.erase(path);
    auto gone = p().Get(path);
    EXPECT_TRUE(gone.status().Is(Code::kNotFound)) << gone.status().ToString();
  }
  EXPECT_TRUE(ListsExactly(p(), "flaky/", Under(all, "")));
  for (const auto& [path, bytes] : all) EXPECT_TRUE(SameBytes(p().Get(path), bytes)) << path;
  // Each isolated fault cost exactly one retry, and every 429's wait was honoured.
  EXPECT_GT(faulty_->injected(), 30u);
  EXPECT_EQ(retries(), faulty_->injected());
  const uint64_t throttled = (faulty_->injected() + 4) / 5;
  EXPECT_GE(time_->slept_ms, static_cast<int64_t>(throttled * 1000));
}

// A fault that never clears gives up within the policy's attempts and its time budget, and
// the object is intact once the fault is gone.
TEST_P(ConformanceFaultTest, FaultThatNeverClearsGivesUp) {
  const Bytes bytes = Pattern(3000, 9);
  ASSERT_NO_FATAL_FAILURE(Put("stuck/obj", bytes));
  faulty_->set_plan(Plan("503@1+"));
  uint64_t before = retries();
  auto got = p().Get("stuck/obj");
  EXPECT_TRUE(got.status().Is(Code::kRetryable)) << got.status().ToString();
  EXPECT_EQ(faulty_->calls(), static_cast<uint64_t>(retry_.max_attempts));
  EXPECT_EQ(retries() - before, static_cast<uint64_t>(retry_.max_attempts - 1));
  // A long Retry-After: the policy stops before waiting past max_total_ms.
  faulty_->set_plan(Plan("429@1+"), /*retry_after_ms=*/50'000);
  const int64_t start = time_->now_ms;
  Status put = p().PutIfAbsent("stuck/other", bytes);
  EXPECT_TRUE(put.Is(Code::kRetryable)) << put.ToString();
  EXPECT_EQ(faulty_->calls(), 3u) << "50 s waits fit twice into the 120 s budget";
  EXPECT_LE(time_->now_ms - start, retry_.max_total_ms);
  faulty_->set_plan(FaultPlan{});
  EXPECT_TRUE(SameBytes(p().Get("stuck/obj"), bytes));
  auto other = p().Get("stuck/other");
  EXPECT_TRUE(other.status().Is(Code::kNotFound)) << other.status().ToString();
  EXPECT_TRUE(ListsExactly(p(), "stuck/", {{"stuck/obj", bytes.size()}}));
}

// A full account is kQuotaExceeded at once (no retry), stores nothing, harms nothing.
TEST_P(ConformanceFaultTest, FullQuotaIsSurfacedNotRetried) {
  ASSERT_NO_FATAL_FAILURE(Put("quota/kept", B("kept")));
  faulty_->set_plan(Plan("507:PUT@1+"));
  const uint64_t before = retries();
  Status s = p().PutIfAbsent("quota/new", Pattern(4096, 1));
  EXPECT_TRUE(s.Is(Code::kQuotaExceeded)) << s.ToString();
  EXPECT_EQ(faulty_->calls(), 1u);
  EXPECT_EQ(retries(), before);
  EXPECT_TRUE(SameBytes(p().Get("quota/kept"), B("kept")));
  EXPECT_TRUE(ListsExactly(p(), "quota/", {{"quota/kept", 4}}));
  faulty_->set_plan(FaultPlan{});
  ASSERT_NO_FATAL_FAILURE(Put("quota/new", Pattern(4096, 1)));
}

// Credentials refused for good are kAuthExpired at once (re-link needed), never retried.
TEST_P(ConformanceFaultTest, ExpiredAuthIsSurfacedNotRetried) {
  ASSERT_NO_FATAL_FAILURE(Put("auth/kept", B("kept")));
  faulty_->set_plan(Plan("401@1+"));
  const uint64_t before = retries();
  auto got = p().Get("auth/kept");
  EXPECT_TRUE(got.status().Is(Code::kAuthExpired)) << got.status().ToString();
  Status put = p().PutIfAbsent("auth/new", B("x"));
  EXPECT_TRUE(put.Is(Code::kAuthExpired)) << put.ToString();
  EXPECT_EQ(faulty_->calls(), 2u);
  EXPECT_EQ(retries(), before);
  faulty_->set_plan(FaultPlan{});
  EXPECT_TRUE(ListsExactly(p(), "auth/", {{"auth/kept", 4}}));
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ConformanceFaultTest);
INSTANTIATE_TEST_SUITE_P(Provider, ConformanceFaultTest, ::testing::ValuesIn(TargetIndexes()),
                         TargetName);

// ---- transport faults in the host's HTTP client (plugins that use host->http) ---------------

class ConformanceHttpFaultTest : public ConformanceFaultTest {
 protected:
  // Skips unless the provider reaches the network through the host's HttpClient; leaves
  // "probe/p" stored.
  void RequireHttp() {
    if (http_ == nullptr) {
      GTEST_SKIP() << p().Describe() << " is not a plugin: there is no host HTTP client to "
                                        "inject transport faults into (the provider-level "
                                        "fault tests cover it)";
    }
    ASSERT_NO_FATAL_FAILURE(Put("probe/p", B("probe")));
    if (http_->stats().requests == 0) {
      GTEST_SKIP() << p().Describe() << " made no HTTP requests: transport faults do not apply "
                                        "(the provider-level fault tests cover it)";
    }
  }
  void SetHttpFaults(const std::string& spec) { http_->set_fault_plan(Plan(spec)); }
};

#define JSYNC_REQUIRE_HTTP()                      \
  ASSERT_NO_FATAL_FAILURE(RequireHttp());         \
  if (IsSkipped()) return

// A PUT whose body is cut half-way is retried; no partial object is ever visible or listed.
TEST_P(ConformanceHttpFaultTest, TornUploadIsNeverVisible) {
  JSYNC_REQUIRE_HTTP();
  const Bytes bytes = Pattern(256 * kKiB, 5);
  SetHttpFaults("torn:PUT@1");
  const uint64_t before = retries();
  ASSERT_NO_FATAL_FAILURE(Put("torn/obj", bytes));
  EXPECT_EQ(http_->stats().injected, 1u);
  EXPECT_EQ(retries() - before, 1u);
  EXPECT_TRUE(SameBytes(p().Get("torn/obj"), bytes));
  EXPECT_TRUE(ListsExactly(p(), "", {{"probe/p", 5}, {"torn/obj", bytes.size()}}));
}

// Every request an upload makes may fail — reset, lost answer, torn body, 503, 429 — and the
// upload still ends with exactly one intact object, at most one retry per fault.
TEST_P(ConformanceHttpFaultTest, EveryStepOfAnUploadMayFail) {
  JSYNC_REQUIRE_HTTP();
  ASSERT_NO_FATAL_FAILURE(Put("steps/first", B("makes the folder")));
  uint64_t start = http_->stats().requests;
  ASSERT_NO_FATAL_FAILURE(Put("steps/clean", Pattern(20 * kKiB, 0)));
  const uint64_t steps = http_->stats().requests - start;
  ASSERT_GT(steps, 0u);
  std::map<std::string, Bytes> all = {{"steps/first", B("makes the folder")},
                                      {"steps/clean", Pattern(20 * kKiB, 0)}};
  uint64_t total_retries = 0;
  int seed = 1;
  for (const std::string kind : {"reset", "timeout", "torn", "503", "429"}) {
    for (uint64_t k = 1; k <= steps; ++k) {
      const std::string path = "steps/" + kind + "-" + std::to_string(k);
      all[path] = Pattern(20 * kKiB, ++seed);
      SetHttpFaults(kind + "@" + std::to_string(k));
      const uint64_t before = retries();
      ASSERT_NO_FATAL_FAILURE(Put(path, all[path])) << kind << " on request " << k;
      EXPECT_LE(retries() - before, 1u) << kind << " on request " << k;
      total_retries += retries() - before;
      http_->set_fault_plan(std::nullopt);
      EXPECT_TRUE(SameBytes(p().Get(path), all[path])) << kind << " on request " << k;
    }
  }
  EXPECT_GT(total_retries, 0u);
  EXPECT_TRUE(ListsExactly(p(), "steps/", Under(all, "")));
}

// Reads, listings and removals ride out each transient transport fault with one retry.
TEST_P(ConformanceHttpFaultTest, ReadsListingsAndRemovalsSurviveTransportFaults) {
  JSYNC_REQUIRE_HTTP();
  std::map<std::string, Bytes> all = {{"probe/p", B("probe")}};
  for (int i = 0; i < 6; ++i) {
    all["ops/obj-" + std::to_string(i)] = Pattern(3000 + i, i);
    ASSERT_NO_FATAL_FAILURE(Put("ops/obj-" + std::to_string(i), all["ops/obj-" + std::to_string(i)]));
  }
  int victim = 0;
  for (const std::string kind : {"reset", "timeout", "503", "429"}) {
    SetHttpFaults(kind + "@1");
    uint64_t before = retries();
    EXPECT_TRUE(SameBytes(p().Get("ops/obj-5"), all["ops/obj-5"])) << kind;
    EXPECT_EQ(retries() - before, 1u) << kind << " on a read";
    SetHttpFaults(kind + "@1");
    before = retries();
    EXPECT_TRUE(ListsExactly(p(), "", Under(all, ""))) << kind;
    EXPECT_GE(retries() - before, 1u) << kind << " on a listing";
    const std::string path = "ops/obj-" + std::to_string(victim++);
    SetHttpFaults(kind + "@1");
    Status s = p().Remove(path);
    EXPECT_TRUE(s.ok()) << kind << ": " << s.ToString();
    all.erase(path);
    http_->set_fault_plan(std::nullopt);
    auto gone = p().Get(path);
    EXPECT_TRUE(gone.status().Is(Code::kNotFound)) << kind << ": " << gone.status().ToString();
  }
  EXPECT_TRUE(ListsExactly(p(), "", Under(all, "")));
}

// A 429 carries Retry-After: 1; the policy waits at least that long before the retry.
TEST_P(ConformanceHttpFaultTest, ThrottlingHonoursRetryAfter) {
  JSYNC_REQUIRE_HTTP();
  SetHttpFaults("429@1");
  const int64_t slept = time_->slept_ms;
  EXPECT_TRUE(SameBytes(p().Get("probe/p"), B("probe")));
  EXPECT_EQ(retries(), 1u);
  EXPECT_GE(time_->slept_ms - slept, 1000);
}

// An expired token (one 401) is refreshed exactly once and the call goes through, unretried.
TEST_P(ConformanceHttpFaultTest, ExpiredTokenIsRefreshedOnce) {
  JSYNC_REQUIRE_HTTP();
  if (target().credentials == nullptr) {
    GTEST_SKIP() << "the target gives the suite no credentials to count refreshes on";
  }
  SetHttpFaults("401@1");
  int before = target().credentials->refreshes();
  EXPECT_TRUE(SameBytes(p().Get("probe/p"), B("probe")));
  EXPECT_EQ(target().credentials->refreshes() - before, 1);
  EXPECT_EQ(http_->stats().refreshes, 1u);
  EXPECT_EQ(retries(), 0u);
  SetHttpFaults("401:PUT@1");
  before = target().credentials->refreshes();
  ASSERT_NO_FATAL_FAILURE(Put("auth/after-refresh", B("fresh")));
  EXPECT_EQ(target().credentials->refreshes() - before, 1);
  EXPECT_TRUE(SameBytes(p().Get("auth/after-refresh"), B("fresh")));
}

// Credentials that stay refused after the refresh surface as kAuthExpired, not retried.
TEST_P(ConformanceHttpFaultTest, AuthThatNeverRecoversIsAuthExpired) {
  JSYNC_REQUIRE_HTTP();
  SetHttpFaults("401@1+");
  const int before = target().credentials ? target().credentials->refreshes() : 0;
  auto got = p().Get("probe/p");
  EXPECT_TRUE(got.status().Is(Code::kAuthExpired)) << got.status().ToString();
  Status put = p().PutIfAbsent("auth/never", B("x"));
  EXPECT_TRUE(put.Is(Code::kAuthExpired)) << put.ToString();
  EXPECT_EQ(retries(), 0u);
  if (target().credentials) {
    // One refresh per refused exchange, each followed by exactly one resend.
    const int refreshes = target().credentials->refreshes() - before;
    EXPECT_GE(refreshes, 2);
    EXPECT_EQ(static_cast<uint64_t>(refreshes), http_->stats().refreshes);
    EXPECT_EQ(http_->stats().requests, 2 * http_->stats().refreshes);
  }
  http_->set_fault_plan(std::nullopt);
  EXPECT_TRUE(ListsExactly(p(), "", {{"probe/p", 5}}));
}

// HTTP 507 (full account) is kQuotaExceeded, not retried, and leaves no object behind.
TEST_P(ConformanceHttpFaultTest, InsufficientStorageIsQuotaExceeded) {
  JSYNC_REQUIRE_HTTP();
  SetHttpFaults("507:PUT@1+");
  Status s = p().PutIfAbsent("quota/new", Pattern(64 * kKiB, 2));
  EXPECT_TRUE(s.Is(Code::kQuotaExceeded)) << s.ToString();
  EXPECT_EQ(retries(), 0u);
  http_->set_fault_plan(std::nullopt);
  auto got = p().Get("quota/new");
  EXPECT_TRUE(got.status().Is(Code::kNotFound)) << got.status().ToString();
  EXPECT_TRUE(ListsExactly(p(), "", {{"probe/p", 5}}));
  ASSERT_NO_FATAL_FAILURE(Put("quota/new", Pattern(64 * kKiB, 2)));
}

// A service that stays unavailable is given up on after the policy's attempts.
TEST_P(ConformanceHttpFaultTest, UnavailableForeverGivesUp) {
  JSYNC_REQUIRE_HTTP();
  uint64_t start = http_->stats().requests;
  EXPECT_TRUE(SameBytes(p().Get("probe/p"), B("probe")));
  const uint64_t per_read = http_->stats().requests - start;
  SetHttpFaults("503@1+");
  auto got = p().Get("probe/p");
  EXPECT_TRUE(got.status().Is(Code::kRetryable)) << got.status().ToString();
  EXPECT_EQ(retries(), static_cast<uint64_t>(retry_.max_attempts - 1));
  EXPECT_GE(http_->stats().requests, static_cast<uint64_t>(retry_.max_attempts));
  EXPECT_LE(http_->stats().requests, per_read * static_cast<uint64_t>(retry_.max_attempts));
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ConformanceHttpFaultTest);
INSTANTIATE_TEST_SUITE_P(Provider, ConformanceHttpFaultTest,
                         ::testing::ValuesIn(TargetIndexes()), TargetName);

}  // namespace
}  // namespace jsync::conformance

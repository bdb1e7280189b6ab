// The fault tests of the conformance suite: faults injected below the host policy, at the
// provider level (FaultyProvider, every target) and in the host's HTTP client (FaultPlan, for
// plugins that reach the network through host->http). The host policy runs on a simulated
// clock here, so retries, waits and give-ups are counted exactly and nothing sleeps.
#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "providers/conformance/conformance_fixture.h"
#include "providers/sdk/jsync_provider.h"

namespace jsync::conformance::internal {
namespace {

using provider::FaultPlan;

// ---- provider-level faults below the host policy (every target) ------------------------------

class ConformanceFaultTest : public ConformanceBase {
 protected:
  void SetUp() override {
    Open("", /*real_time=*/false);
    // Exact counts need the transport quiet: JSYNC_FAULTS applies to the ordinary tests.
    if (http_ != nullptr) http_->set_fault_plan(std::nullopt);
  }
};

// A change-feed read is a provider call like any other: the fault layer fails it (CHANGES)
// and the host policy retries it, honouring the 429's wait, into the same answer.
TEST_P(ConformanceFaultTest, ChangeFeedIsRetriedByTheHostPolicy) {
  if (!p().capabilities().change_feed) {
    GTEST_SKIP() << p().Describe() << " declares no change feed (JSYNC_CAP_CHANGE_FEED unset)";
  }
  auto start = p().Changes("");
  ASSERT_TRUE(start.ok()) << start.status().ToString();
  ASSERT_FALSE(start->cursor.empty()) << "no start cursor";
  ASSERT_NO_FATAL_FAILURE(Put("feed/after", B("after the cursor")));
  faulty_->set_plan(Plan("503:CHANGES@1,429:CHANGES@2,timeout:CHANGES@3"));
  bool seen = false;
  std::string cursor = start->cursor;
  for (int round = 0; round < 20 && !seen; ++round) {
    auto page = p().Changes(cursor);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_FALSE(page->expired) << "a cursor the feed just gave was refused";
    for (const auto& o : page->changed) seen = seen || o.path == "feed/after";
    cursor = page->cursor;
    if (page->changed.empty()) break;
  }
  EXPECT_TRUE(seen) << "the change feed never reported feed/after";
  EXPECT_EQ(faulty_->injected(), 3u);
  EXPECT_EQ(retries(), 3u) << "each injected fault is one retry";
  EXPECT_GE(time_->slept_ms, 1000) << "the 429's Retry-After was not honoured";
}

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
  for (const auto& [path, bytes] : all)
    EXPECT_TRUE(ReadsBack(p(), path, bytes));
  for (int i = 0; i < 10; ++i) {
    const std::string path = "flaky/obj-" + std::to_string(i);
    Status s = p().Remove(path);
    EXPECT_TRUE(s.ok()) << s.ToString();
    all.erase(path);
    auto gone = p().Get(path, provider::kNoSizeLimit);
    EXPECT_TRUE(gone.status().Is(Code::kNotFound)) << gone.status().ToString();
  }
  EXPECT_TRUE(ListsExactly(p(), "flaky/", Under(all, "")));
  for (const auto& [path, bytes] : all)
    EXPECT_TRUE(ReadsBack(p(), path, bytes));
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
  auto got = p().Get("stuck/obj", provider::kNoSizeLimit);
  EXPECT_TRUE(got.status().Is(Code::kRetryable)) << got.status().ToString();
  EXPECT_EQ(faulty_->calls(), static_cast<uint64_t>(retry_.max_attempts));
  EXPECT_EQ(retries() - before, static_cast<uint64_t>(retry_.max_attempts - 1));
  // A service's Retry-After is honoured in full (outside the backoff budget), up to the
  // attempt limit; a demand longer than max_service_wait_ms fails at once, without waiting.
  faulty_->set_plan(Plan("429@1+"), /*retry_after_ms=*/50'000);
  int64_t start = time_->now_ms;
  Status put = p().PutIfAbsent("stuck/other", bytes);
  EXPECT_TRUE(put.Is(Code::kRetryable)) << put.ToString();
  EXPECT_EQ(faulty_->calls(), static_cast<uint64_t>(retry_.max_attempts));
  EXPECT_GE(time_->now_ms - start, 50'000 * (retry_.max_attempts - 1)) << "waited as asked";
  faulty_->set_plan(Plan("429@1+"), /*retry_after_ms=*/retry_.max_service_wait_ms + 1000);
  start = time_->now_ms;
  put = p().PutIfAbsent("stuck/other", bytes);
  EXPECT_TRUE(put.Is(Code::kRetryable)) << put.ToString();
  EXPECT_EQ(faulty_->calls(), 1u);
  EXPECT_LE(time_->now_ms - start, 1000);
  faulty_->set_plan(FaultPlan{});
  EXPECT_TRUE(SameBytes(p().Get("stuck/obj", provider::kNoSizeLimit), bytes));
  auto other = p().Get("stuck/other", provider::kNoSizeLimit);
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
  EXPECT_TRUE(SameBytes(p().Get("quota/kept", provider::kNoSizeLimit), B("kept")));
  EXPECT_TRUE(ListsExactly(p(), "quota/", {{"quota/kept", 4}}));
  faulty_->set_plan(FaultPlan{});
  ASSERT_NO_FATAL_FAILURE(Put("quota/new", Pattern(4096, 1)));
}

// Credentials refused for good are kAuthExpired at once (re-link needed), never retried.
TEST_P(ConformanceFaultTest, ExpiredAuthIsSurfacedNotRetried) {
  ASSERT_NO_FATAL_FAILURE(Put("auth/kept", B("kept")));
  faulty_->set_plan(Plan("401@1+"));
  const uint64_t before = retries();
  auto got = p().Get("auth/kept", provider::kNoSizeLimit);
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
      GTEST_SKIP() << p().Describe()
                   << " is not a plugin: there is no host HTTP client to "
                      "inject transport faults into (the provider-level "
                      "fault tests cover it)";
    }
    ASSERT_NO_FATAL_FAILURE(Put("probe/p", B("probe")));
    if (http_->stats().requests == 0) {
      GTEST_SKIP() << p().Describe()
                   << " made no HTTP requests: transport faults do not apply "
                      "(the provider-level fault tests cover it)";
    }
  }
  void SetHttpFaults(const std::string& spec) { http_->set_fault_plan(Plan(spec)); }
};

#define JSYNC_REQUIRE_HTTP()              \
  ASSERT_NO_FATAL_FAILURE(RequireHttp()); \
  if (IsSkipped()) return

// An upload whose body is cut half-way is retried; no partial object is ever visible or listed.
TEST_P(ConformanceHttpFaultTest, TornUploadIsNeverVisible) {
  JSYNC_REQUIRE_HTTP();
  const Bytes bytes = Pattern(256 * kKiB, 5);
  SetHttpFaults("torn:" + target().upload_method + "@1");
  const uint64_t before = retries();
  ASSERT_NO_FATAL_FAILURE(Put("torn/obj", bytes));
  EXPECT_EQ(http_->stats().injected, 1u);
  EXPECT_EQ(retries() - before, 1u);
  EXPECT_TRUE(SameBytes(p().Get("torn/obj", provider::kNoSizeLimit), bytes));
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
      EXPECT_TRUE(SameBytes(p().Get(path, provider::kNoSizeLimit), all[path]))
          << kind << " on request " << k;
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
    ASSERT_NO_FATAL_FAILURE(
        Put("ops/obj-" + std::to_string(i), all["ops/obj-" + std::to_string(i)]));
  }
  int victim = 0;
  for (const std::string kind : {"reset", "timeout", "503", "429"}) {
    SetHttpFaults(kind + "@1");
    uint64_t before = retries();
    EXPECT_TRUE(SameBytes(p().Get("ops/obj-5", provider::kNoSizeLimit), all["ops/obj-5"])) << kind;
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
    auto gone = p().Get(path, provider::kNoSizeLimit);
    EXPECT_TRUE(gone.status().Is(Code::kNotFound)) << kind << ": " << gone.status().ToString();
  }
  EXPECT_TRUE(ListsExactly(p(), "", Under(all, "")));
}

// A 429 carries Retry-After: 1; the policy waits at least that long before the retry.
TEST_P(ConformanceHttpFaultTest, ThrottlingHonoursRetryAfter) {
  JSYNC_REQUIRE_HTTP();
  SetHttpFaults("429@1");
  const int64_t slept = time_->slept_ms;
  EXPECT_TRUE(SameBytes(p().Get("probe/p", provider::kNoSizeLimit), B("probe")));
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
  EXPECT_TRUE(SameBytes(p().Get("probe/p", provider::kNoSizeLimit), B("probe")));
  EXPECT_EQ(target().credentials->refreshes() - before, 1);
  EXPECT_EQ(http_->stats().refreshes, 1u);
  EXPECT_EQ(retries(), 0u);
  SetHttpFaults("401:" + target().upload_method + "@1");
  before = target().credentials->refreshes();
  ASSERT_NO_FATAL_FAILURE(Put("auth/after-refresh", B("fresh")));
  EXPECT_EQ(target().credentials->refreshes() - before, 1);
  EXPECT_TRUE(SameBytes(p().Get("auth/after-refresh", provider::kNoSizeLimit), B("fresh")));
}

// Credentials that stay refused after the refresh surface as kAuthExpired, not retried.
TEST_P(ConformanceHttpFaultTest, AuthThatNeverRecoversIsAuthExpired) {
  JSYNC_REQUIRE_HTTP();
  SetHttpFaults("401@1+");
  const int before = target().credentials ? target().credentials->refreshes() : 0;
  auto got = p().Get("probe/p", provider::kNoSizeLimit);
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
  SetHttpFaults("507:" + target().upload_method + "@1+");
  Status s = p().PutIfAbsent("quota/new", Pattern(64 * kKiB, 2));
  EXPECT_TRUE(s.Is(Code::kQuotaExceeded)) << s.ToString();
  EXPECT_EQ(retries(), 0u);
  http_->set_fault_plan(std::nullopt);
  auto got = p().Get("quota/new", provider::kNoSizeLimit);
  EXPECT_TRUE(got.status().Is(Code::kNotFound)) << got.status().ToString();
  EXPECT_TRUE(ListsExactly(p(), "", {{"probe/p", 5}}));
  ASSERT_NO_FATAL_FAILURE(Put("quota/new", Pattern(64 * kKiB, 2)));
}

// A service that stays unavailable is given up on after the policy's attempts.
TEST_P(ConformanceHttpFaultTest, UnavailableForeverGivesUp) {
  JSYNC_REQUIRE_HTTP();
  uint64_t start = http_->stats().requests;
  EXPECT_TRUE(SameBytes(p().Get("probe/p", provider::kNoSizeLimit), B("probe")));
  const uint64_t per_read = http_->stats().requests - start;
  SetHttpFaults("503@1+");
  auto got = p().Get("probe/p", provider::kNoSizeLimit);
  EXPECT_TRUE(got.status().Is(Code::kRetryable)) << got.status().ToString();
  EXPECT_EQ(retries(), static_cast<uint64_t>(retry_.max_attempts - 1));
  EXPECT_GE(http_->stats().requests, static_cast<uint64_t>(retry_.max_attempts));
  EXPECT_LE(http_->stats().requests, per_read * static_cast<uint64_t>(retry_.max_attempts));
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ConformanceHttpFaultTest);
INSTANTIATE_TEST_SUITE_P(Provider, ConformanceHttpFaultTest, ::testing::ValuesIn(TargetIndexes()),
                         TargetName);

}  // namespace
}  // namespace jsync::conformance::internal

// The host's retry, pacing and quota policy, on a simulated clock (nothing sleeps for real).
#include "host/host_policy.h"

#include <gtest/gtest.h>

#include <deque>

namespace jsync::provider {
namespace {

// A provider that answers from a script of statuses, then succeeds.
class ScriptedProvider final : public Provider {
 public:
  std::deque<Status> script;
  int calls = 0;
  QuotaInfo quota{0, 0};
  bool has_quota = false;
  std::string Describe() const override { return "scripted"; }
  Status Next() {
    ++calls;
    if (script.empty()) return Status::Ok();
    Status s = script.front();
    script.pop_front();
    return s;
  }
  Status PutIfAbsent(const std::string&, ByteSpan) override { return Next(); }
  Result<Bytes> Get(const std::string&, uint64_t) override {
    Status s = Next();
    if (!s.ok()) return s;
    return Bytes{1, 2, 3};
  }
  Result<std::vector<ObjectInfo>> List(const std::string&) override {
    Status s = Next();
    if (!s.ok()) return s;
    return std::vector<ObjectInfo>{};
  }
  Status Remove(const std::string&) override { return Next(); }
  Capabilities capabilities() const override {
    Capabilities c;
    c.quota = has_quota;
    return c;
  }
  Result<QuotaInfo> Quota() override { return quota; }
};

struct FakeEnv {
  int64_t now = 0;
  std::vector<int64_t> sleeps;
  std::vector<std::string> announced;
  uint64_t next_random = 0;
  PolicyEnv Env() {
    return {[this] { return now; },
            [this](int64_t ms) {
              sleeps.push_back(ms);
              now += ms;
            },
            [this] { return next_random++; },
            [this](const std::string& m) { announced.push_back(m); }};
  }
};

TEST(Backoff, FullJitterWithinAnExponentialCeilingAndHonoursRetryAfter) {
  RetryPolicy p;
  p.base_delay_ms = 100;
  p.max_delay_ms = 1000;
  EXPECT_EQ(BackoffDelayMs(p, 0, -1, 0), 0);
  EXPECT_EQ(BackoffDelayMs(p, 0, -1, 100), 100);  // ceiling 100: random % 101
  EXPECT_LE(BackoffDelayMs(p, 3, -1, 12345), 800);
  EXPECT_LE(BackoffDelayMs(p, 20, -1, ~0ull), 1000) << "capped";
  EXPECT_EQ(BackoffDelayMs(p, 0, 5000, 0), 5000) << "the service's Retry-After wins";
}

TEST(PolicyProvider, RetriesTransientFailuresThenSucceeds) {
  auto inner = std::make_unique<ScriptedProvider>();
  ScriptedProvider* raw = inner.get();
  raw->script = {Status::Retryable("503"), Status::Retryable("429").WithRetryAfter(2000)};
  FakeEnv env;
  PolicyProvider p(std::move(inner), RetryPolicy{}, PacerPolicy{}, QuotaPolicy{}, env.Env());
  EXPECT_TRUE(p.PutIfAbsent("a", AsBytes("x")).ok());
  EXPECT_EQ(raw->calls, 3);
  ASSERT_EQ(env.sleeps.size(), 2u);
  EXPECT_GE(env.sleeps[1], 2000) << "waited at least what Retry-After asked";
  EXPECT_EQ(p.stats().retries, 2u);
}

TEST(PolicyProvider, GivesUpAfterTheAttemptLimit) {
  auto inner = std::make_unique<ScriptedProvider>();
  ScriptedProvider* raw = inner.get();
  for (int i = 0; i < 100; ++i) raw->script.push_back(Status::Retryable("down"));
  FakeEnv env;
  RetryPolicy policy;
  policy.max_attempts = 4;
  PolicyProvider p(std::move(inner), policy, PacerPolicy{}, QuotaPolicy{}, env.Env());
  Status s = p.Remove("a");
  EXPECT_EQ(s.code(), Code::kRetryable);
  EXPECT_NE(s.message().find("after 4 attempts"), std::string::npos) << s.message();
  EXPECT_EQ(raw->calls, 4);
}

TEST(PolicyProvider, GivesUpWhenItsOwnBackoffWouldPassTheTimeLimit) {
  auto inner = std::make_unique<ScriptedProvider>();
  ScriptedProvider* raw = inner.get();
  for (int i = 0; i < 100; ++i) raw->script.push_back(Status::Retryable("503"));
  FakeEnv env;
  env.next_random = ~0ull >> 1;  // the longest jitter each time
  RetryPolicy policy;
  policy.max_attempts = 100;
  policy.max_total_ms = 10'000;
  PolicyProvider p(std::move(inner), policy, PacerPolicy{}, QuotaPolicy{}, env.Env());
  Status s = p.Remove("a");
  EXPECT_EQ(s.code(), Code::kRetryable);
  EXPECT_NE(s.message().find("gave up"), std::string::npos) << s.message();
  int64_t slept = 0;
  for (int64_t ms : env.sleeps) slept += ms;
  EXPECT_LE(slept, 10'000);
}

TEST(PolicyProvider, AServiceWaitLongerThanItsCeilingFailsWithoutSleeping) {
  auto inner = std::make_unique<ScriptedProvider>();
  inner->script = {Status::Retryable("429").WithRetryAfter(3'600'000)};
  FakeEnv env;
  PolicyProvider p(std::move(inner), RetryPolicy{}, PacerPolicy{}, QuotaPolicy{}, env.Env());
  p.set_service_name("onedrive");
  Status s = p.Remove("a");
  EXPECT_EQ(s.code(), Code::kRetryable);
  EXPECT_NE(s.message().find("onedrive asked to wait 60 min"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("run the sync again later"), std::string::npos) << s.message();
  EXPECT_TRUE(env.sleeps.empty());
}

// OneDrive answers a throttled first sync with Retry-After: 120 or more (reference §12): the
// host waits it out, outside its own backoff budget, and says so once.
TEST(PolicyProvider, LongRetryAfterIsHonouredAndAnnouncedOnce) {
  auto inner = std::make_unique<ScriptedProvider>();
  ScriptedProvider* raw = inner.get();
  raw->script = {Status::Retryable("HTTP 429").WithRetryAfter(120'000),
                 Status::Retryable("HTTP 429").WithRetryAfter(300'000)};
  FakeEnv env;
  PolicyProvider p(std::move(inner), RetryPolicy{}, PacerPolicy{}, QuotaPolicy{}, env.Env());
  p.set_service_name("onedrive");
  EXPECT_TRUE(p.PutIfAbsent("a", AsBytes("x")).ok());
  EXPECT_EQ(raw->calls, 3);
  ASSERT_EQ(env.sleeps.size(), 2u);
  EXPECT_GE(env.sleeps[0], 120'000);
  EXPECT_GE(env.sleeps[1], 300'000);
  ASSERT_EQ(env.announced.size(), 2u) << "each new wait is announced";
  EXPECT_NE(env.announced[0].find("onedrive asked jsync to slow down (HTTP 429): waiting 2 min"),
            std::string::npos)
      << env.announced[0];
  EXPECT_NE(env.announced[1].find("waiting 5 min"), std::string::npos) << env.announced[1];
}

TEST(PolicyProvider, ShortWaitsAreNotAnnounced) {
  auto inner = std::make_unique<ScriptedProvider>();
  inner->script = {Status::Retryable("429").WithRetryAfter(1'000)};
  FakeEnv env;
  PolicyProvider p(std::move(inner), RetryPolicy{}, PacerPolicy{}, QuotaPolicy{}, env.Env());
  EXPECT_TRUE(p.Remove("a").ok());
  EXPECT_TRUE(env.announced.empty());
}

// A 429 seen by one instance holds every instance sharing the pacer (the transfer pool's):
// none starts a request before the wait ends.
TEST(PolicyProvider, ARetryAfterHoldsEveryInstanceSharingThePacer) {
  auto pacer = std::make_shared<Pacer>(PacerPolicy{});
  FakeEnv env;
  auto first = std::make_unique<ScriptedProvider>();
  first->script = {Status::Retryable("429").WithRetryAfter(120'000)};
  PolicyProvider a(std::move(first), RetryPolicy{}, pacer, QuotaPolicy{}, env.Env());
  PolicyProvider b(std::make_unique<ScriptedProvider>(), RetryPolicy{}, pacer, QuotaPolicy{},
                   env.Env());
  EXPECT_TRUE(a.Remove("x").ok());
  // On the simulated clock a's sleep has passed when it returns: b calls half-way through it.
  env.now -= 60'000;
  env.sleeps.clear();
  EXPECT_TRUE(b.Remove("y").ok());
  ASSERT_EQ(env.sleeps.size(), 1u);
  EXPECT_GE(env.sleeps[0], 60'000) << "b waited for the rest of the hold before its call";
}

TEST(Pacer, TheSameHoldReportedByAnotherInstanceIsNotNew) {
  Pacer pacer(PacerPolicy{});
  EXPECT_TRUE(pacer.HoldUntil(120'000));
  EXPECT_FALSE(pacer.HoldUntil(119'900)) << "another instance's 429 of the same window";
  EXPECT_FALSE(pacer.HoldUntil(120'500));
  EXPECT_TRUE(pacer.HoldUntil(300'000));
  EXPECT_EQ(pacer.Reserve(100'000), 200'000);
  EXPECT_EQ(pacer.Reserve(400'000), 0);
}

TEST(PolicyProvider, PermanentErrorsAreNotRetried) {
  for (Status st : {Status::NotFound("x"), Status(Code::kAuthExpired, "relink"),
                    Status(Code::kQuotaExceeded, "full"), Status::Invalid("bad")}) {
    auto inner = std::make_unique<ScriptedProvider>();
    ScriptedProvider* raw = inner.get();
    raw->script = {st};
    FakeEnv env;
    PolicyProvider p(std::move(inner), RetryPolicy{}, PacerPolicy{}, QuotaPolicy{}, env.Env());
    EXPECT_EQ(p.Remove("a").code(), st.code());
    EXPECT_EQ(raw->calls, 1);
  }
}

TEST(PolicyProvider, GetManyRetriesAndPacesEachElement) {
  auto inner = std::make_unique<ScriptedProvider>();
  ScriptedProvider* raw = inner.get();
  // The first element fails once, the second is refused for good: answers stay in order.
  raw->script = {Status::Retryable("503"), Status::Ok(), Status::NotFound("gone")};
  FakeEnv env;
  PolicyProvider p(std::move(inner), RetryPolicy{}, PacerPolicy{100, 1}, QuotaPolicy{}, env.Env());
  auto results = p.GetMany({{"a", kNoSizeLimit}, {"b", kNoSizeLimit}, {"c", kNoSizeLimit}});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].ok());
  EXPECT_TRUE(results[1].status().Is(Code::kNotFound));
  EXPECT_TRUE(results[2].ok());
  EXPECT_EQ(raw->calls, 4);
  EXPECT_EQ(p.stats().retries, 1u);
  EXPECT_GE(p.stats().waited_ms, 300u) << "every attempt was paced";
}

TEST(PolicyProvider, PacerSpacesCallsAfterTheBurst) {
  auto inner = std::make_unique<ScriptedProvider>();
  FakeEnv env;
  PacerPolicy pacer{100, 2};
  PolicyProvider p(std::move(inner), RetryPolicy{}, pacer, QuotaPolicy{}, env.Env());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(p.Remove("a").ok());
  // Two calls ride the burst, the other three wait 100 ms each.
  ASSERT_EQ(env.sleeps.size(), 3u);
  EXPECT_EQ(env.now, 300);
}

TEST(PolicyProvider, RefusesAnUploadThatCannotFitBeforeSendingIt) {
  auto inner = std::make_unique<ScriptedProvider>();
  ScriptedProvider* raw = inner.get();
  raw->has_quota = true;
  raw->quota = {900u << 20, 1000u << 20};
  FakeEnv env;
  PolicyProvider p(std::move(inner), RetryPolicy{}, PacerPolicy{}, QuotaPolicy{}, env.Env());
  Bytes big(200u << 20, 0);
  Status s = p.PutIfAbsent("big", big);
  EXPECT_EQ(s.code(), Code::kQuotaExceeded);
  EXPECT_NE(s.message().find("free"), std::string::npos) << s.message();
  EXPECT_EQ(raw->calls, 0) << "nothing was sent";
  Bytes small(10u << 20, 0);
  EXPECT_TRUE(p.PutIfAbsent("small", small).ok());
}

}  // namespace
}  // namespace jsync::provider

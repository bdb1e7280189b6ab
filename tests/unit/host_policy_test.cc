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
  uint64_t next_random = 0;
  PolicyEnv Env() {
    return {[this] { return now; },
            [this](int64_t ms) {
              sleeps.push_back(ms);
              now += ms;
            },
            [this] { return next_random++; }};
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

TEST(PolicyProvider, GivesUpWhenWaitingWouldPassTheTimeLimit) {
  auto inner = std::make_unique<ScriptedProvider>();
  ScriptedProvider* raw = inner.get();
  raw->script = {Status::Retryable("429").WithRetryAfter(600'000)};
  FakeEnv env;
  PolicyProvider p(std::move(inner), RetryPolicy{}, PacerPolicy{}, QuotaPolicy{}, env.Env());
  Status s = p.Remove("a");
  EXPECT_EQ(s.code(), Code::kRetryable);
  EXPECT_NE(s.message().find("gave up"), std::string::npos);
  EXPECT_TRUE(env.sleeps.empty());
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
  PolicyProvider p(std::move(inner), RetryPolicy{}, PacerPolicy{100, 1}, QuotaPolicy{},
                   env.Env());
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

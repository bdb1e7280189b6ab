// The watcher's timers: the adaptive poll (fast after activity, backing off when idle, further
// after failures, a push never inside a backoff) and the seal debounce.
#include <gtest/gtest.h>

#include "live/poll_schedule.h"
#include "live/relay_config.h"
#include "live/seal_debounce.h"

namespace jsync::live {
namespace {

PollOptions Opts() {
  PollOptions o;
  o.min_ms = 15'000;
  o.max_ms = 300'000;
  o.failure_min_ms = 5'000;
  o.failure_max_ms = 300'000;
  o.push_floor_ms = 1'000;
  return o;
}

TEST(PollSchedule, TheFirstCycleRunsAtOnce) {
  PollSchedule s(Opts(), 1);
  EXPECT_EQ(s.due(), 0);
}

TEST(PollSchedule, IdleCyclesBackOffToTheCeilingWithJitter) {
  PollSchedule s(Opts(), 7);
  int64_t now = 1'000'000;
  std::vector<int64_t> gaps;
  for (int i = 0; i < 12; ++i) {
    s.Succeeded(now, /*moved=*/false);
    gaps.push_back(s.due() - now);
    now = s.due();
  }
  // 30 s, 60 s, ... within 10 % jitter, capped at 5 min.
  EXPECT_GE(gaps[0], 27'000);
  EXPECT_LE(gaps[0], 33'000);
  for (size_t i = 1; i < gaps.size(); ++i) EXPECT_LE(gaps[i], 330'000) << i;
  EXPECT_GE(gaps.back(), 270'000);
}

TEST(PollSchedule, ActivityReturnsToTheFastInterval) {
  PollSchedule s(Opts(), 3);
  int64_t now = 0;
  for (int i = 0; i < 8; ++i) s.Succeeded(now, false);
  EXPECT_EQ(s.interval(), 300'000);
  s.Activity(now);
  EXPECT_EQ(s.interval(), 15'000);
  EXPECT_LE(s.due(), now + 16'500);
  s.Succeeded(now, /*moved=*/true);
  EXPECT_LE(s.due(), now + 16'500);
}

TEST(PollSchedule, FailuresBackOffExponentiallyAndHonourRetryAfter) {
  PollSchedule s(Opts(), 11);
  int64_t now = 0;
  int64_t last_wait = 0;
  for (int i = 1; i <= 10; ++i) {
    s.Failed(now);
    const int64_t wait = s.due() - now;
    const int64_t cap = std::min<int64_t>(300'000, 5'000LL << (i - 1));
    EXPECT_GE(wait, cap / 2) << i;  // never hammering a provider that is down
    EXPECT_LE(wait, cap) << i;
    last_wait = wait;
    now = s.due();
  }
  EXPECT_GE(last_wait, 150'000);
  s.Failed(now, /*retry_after_ms=*/900'000);
  EXPECT_GE(s.due() - now, 900'000);
  s.Succeeded(now, false);
  EXPECT_EQ(s.failures(), 0);
}

TEST(PollSchedule, APushComesSoonButNotInsideABackoffOrABurst) {
  PollSchedule s(Opts(), 5);
  s.Succeeded(10'000, false);
  s.Pushed(10'200);
  EXPECT_EQ(s.due(), 11'000);  // the push floor after the last cycle
  s.Succeeded(11'000, false);
  s.Pushed(20'000);
  EXPECT_EQ(s.due(), 20'000);
  s.Failed(20'000);
  const int64_t backoff = s.due();
  s.Pushed(20'001);
  EXPECT_EQ(s.due(), backoff);
}

TEST(PollSchedule, ARetryDropsTheBackoff) {
  PollSchedule s(Opts(), 13);
  for (int i = 0; i < 6; ++i) s.Failed(0);
  EXPECT_GE(s.due(), 80'000);
  s.Retry(1'000);
  EXPECT_EQ(s.due(), 1'000);
  s.Pushed(1'001);  // no longer held back by the dropped backoff
  EXPECT_EQ(s.due(), 1'000);
}

TEST(PollSchedule, AWakeFromSleepIsOneCycleFromNow) {
  PollSchedule s(Opts(), 9);
  s.Succeeded(0, false);
  // The machine slept for an hour: the overdue cycle runs once, the next is scheduled from
  // when it ended, not from when the missed ones would have been.
  const int64_t woke = 3'600'000;
  EXPECT_LT(s.due(), woke);
  s.Succeeded(woke, false);
  EXPECT_GT(s.due(), woke + 50'000);
}

TEST(SealDebounce, QuietPeriodAndMaximumDelay) {
  SealDebounce d({300, 2'000});
  EXPECT_FALSE(d.due().has_value());
  d.Edited(1'000);
  EXPECT_EQ(*d.due(), 1'300);
  // Typing on keeps pushing it back, up to the bound.
  for (int64_t t = 1'100; t < 4'000; t += 100) d.Edited(t);
  EXPECT_EQ(*d.due(), 3'000);
  d.Published();
  EXPECT_FALSE(d.pending());
  d.Edited(5'000);
  EXPECT_EQ(*d.due(), 5'300);
}

TEST(RelayConfig, AddressesAreCheckedAndHooksDerived) {
  EXPECT_TRUE(CheckRelayUrl("ws://127.0.0.1:8080").ok());
  EXPECT_TRUE(CheckRelayUrl("wss://relay.example.org/jsync").ok());
  for (const char* bad : {"http://x", "ws://", "ws://:80", "wss:///path", "ws://a b",
                          "ws://user@host", "ws://host/?q=1", "relay.example.org",
                          "ws://host:99999", "ws://host:abc"}) {
    Status s = CheckRelayUrl(bad);
    EXPECT_TRUE(s.Is(Code::kInvalid)) << bad;
    EXPECT_NE(s.message().find("relay address"), std::string::npos) << s.message();
  }
  EXPECT_EQ(HookUrl("wss://relay.example.org/jsync/", "ab"),
            "https://relay.example.org/jsync/v1/hook/ab");
  EXPECT_EQ(HookUrl("ws://127.0.0.1:9", "cd"), "http://127.0.0.1:9/v1/hook/cd");
}

}  // namespace
}  // namespace jsync::live

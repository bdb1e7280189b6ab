// When the watcher next looks at the cloud by itself: fast just after activity, backing off
// while nothing happens, and further back off after failures — always from "now", so a
// laptop waking from sleep or a network coming back costs one cycle, not a burst of the ones
// it missed. Pure logic over a caller's monotonic clock (milliseconds), seeded jitter.
#pragma once

#include <cstdint>
#include <random>

namespace jsync::live {

struct PollOptions {
  int64_t min_ms = 15'000;   // the interval after activity
  int64_t max_ms = 300'000;  // the idle ceiling
  int64_t failure_min_ms = 5'000;
  int64_t failure_max_ms = 300'000;
  int64_t push_floor_ms = 1'000;  // a push never starts cycles closer together than this
};

class PollSchedule {
 public:
  PollSchedule(const PollOptions& options, uint64_t seed);

  // A cycle ended; `moved` when it merged or published something (back to the fast interval).
  void Succeeded(int64_t now, bool moved);
  // A cycle failed; the next one waits the failure backoff and at least `retry_after_ms`.
  void Failed(int64_t now, int64_t retry_after_ms = 0);
  // A local edit or a remote nudge: the idle interval starts over.
  void Activity(int64_t now);
  // A push said the cloud changed: a cycle soon, but never closer than push_floor_ms to the
  // last one, and never inside a failure backoff.
  void Pushed(int64_t now, int64_t floor_ms = -1);  // floor_ms < 0: push_floor_ms
  // What failed may work now (the account was linked again): a cycle at once, backoff dropped.
  void Retry(int64_t now);

  int64_t due() const { return due_; }
  int64_t interval() const { return interval_; }
  int failures() const { return failures_; }

 private:
  int64_t Jittered(int64_t ms, double spread);

  PollOptions options_;
  std::mt19937_64 rng_;
  int64_t interval_;
  int64_t due_ = 0;  // the first cycle runs at once
  int64_t last_end_ = INT64_MIN / 2;
  int64_t backoff_until_ = INT64_MIN / 2;
  int failures_ = 0;
};

}  // namespace jsync::live

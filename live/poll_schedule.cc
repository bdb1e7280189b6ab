#include "live/poll_schedule.h"

#include <algorithm>

namespace jsync::live {

PollSchedule::PollSchedule(const PollOptions& options, uint64_t seed)
    : options_(options), rng_(seed), interval_(options.min_ms) {}

int64_t PollSchedule::Jittered(int64_t ms, double spread) {
  // Devices that went idle together must not poll in lockstep forever.
  std::uniform_real_distribution<double> u(1.0 - spread, 1.0 + spread);
  return std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(ms) * u(rng_)));
}

void PollSchedule::Succeeded(int64_t now, bool moved) {
  failures_ = 0;
  last_end_ = now;
  backoff_until_ = INT64_MIN / 2;
  if (moved) {
    interval_ = options_.min_ms;
  } else {
    interval_ = std::min(options_.max_ms, interval_ * 2);
  }
  due_ = now + Jittered(interval_, 0.1);
}

void PollSchedule::Failed(int64_t now, int64_t retry_after_ms) {
  ++failures_;
  last_end_ = now;
  const int shift = std::min(failures_ - 1, 20);
  const int64_t cap = std::min(options_.failure_max_ms, options_.failure_min_ms << shift);
  // "Equal jitter": at least half the backoff, so a failing provider is never hammered.
  std::uniform_int_distribution<int64_t> half(0, cap / 2);
  const int64_t wait = std::max(cap / 2 + half(rng_), retry_after_ms);
  backoff_until_ = now + wait;
  due_ = backoff_until_;
}

void PollSchedule::Activity(int64_t now) {
  interval_ = options_.min_ms;
  if (failures_ == 0) due_ = std::min(due_, now + Jittered(interval_, 0.1));
}

void PollSchedule::Retry(int64_t now) {
  backoff_until_ = INT64_MIN / 2;
  due_ = now;
}

void PollSchedule::Pushed(int64_t now, int64_t floor_ms) {
  const int64_t floor = floor_ms < 0 ? options_.push_floor_ms : floor_ms;
  const int64_t earliest = std::max({now, last_end_ + floor, backoff_until_});
  due_ = std::min(due_, earliest);
  interval_ = options_.min_ms;
}

}  // namespace jsync::live

// A token bucket: `capacity` frames at once, refilled at `per_second`. The relay keeps one per
// connection (100 burst, 50/s) and one per room (400 burst, 200/s). Not thread-safe: the owner
// serialises calls (a connection's strand, the hub's mutex).
#pragma once

#include <chrono>

namespace jsync::relay {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  TokenBucket(double capacity, double per_second, Clock::time_point now = Clock::now())
      : capacity_(capacity), per_second_(per_second), tokens_(capacity), last_(now) {}

  // Takes one token; false (and nothing taken) when the bucket is empty.
  bool Take(Clock::time_point now = Clock::now());

 private:
  double capacity_;
  double per_second_;
  double tokens_;
  Clock::time_point last_;
};

inline constexpr double kConnectionBurst = 100, kConnectionPerSecond = 50;
inline constexpr double kRoomBurst = 400, kRoomPerSecond = 200;

}  // namespace jsync::relay

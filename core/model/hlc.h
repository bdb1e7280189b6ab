// Hybrid logical clock: 48-bit physical milliseconds and a 16-bit logical counter in one
// uint64, so comparing two HLCs as integers orders them.
//
// Not thread-safe; one per device, persisted by the store so it never runs backwards
// across restarts.
#pragma once

#include <cstdint>
#include <functional>

namespace jsync {

using Hlc = uint64_t;

inline uint64_t HlcMillis(Hlc h) { return h >> 16; }
inline uint16_t HlcLogical(Hlc h) { return static_cast<uint16_t>(h & 0xffff); }
inline Hlc MakeHlc(uint64_t millis, uint16_t logical) { return millis << 16 | logical; }

// Wall-clock milliseconds since the Unix epoch; injectable so tests can skew devices.
using ClockFn = std::function<uint64_t()>;
uint64_t SystemMillis();

class HybridClock {
 public:
  explicit HybridClock(ClockFn clock = SystemMillis, Hlc last = 0)
      : clock_(std::move(clock)), last_(last) {}

  // A new timestamp, strictly greater than every one issued or observed before.
  Hlc Now();
  // Takes in a timestamp seen on another device so later local ones sort after it.
  void Observe(Hlc remote);
  Hlc last() const { return last_; }
  // This device's wall clock now (what the user's clock says; may be far from the HLC).
  uint64_t WallNow() const { return clock_(); }

 private:
  ClockFn clock_;
  Hlc last_;
};

}  // namespace jsync

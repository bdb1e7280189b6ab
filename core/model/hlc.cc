#include "core/model/hlc.h"

#include <chrono>

namespace jsync {

uint64_t SystemMillis() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

Hlc HybridClock::Now() {
  const uint64_t wall = clock_() & ((uint64_t{1} << 48) - 1);
  // When the logical counter of a millisecond is used up, borrowing the next millisecond
  // keeps the clock strictly increasing.
  last_ = std::max(MakeHlc(wall, 0), last_ + 1);
  return last_;
}

void HybridClock::Observe(Hlc remote) {
  if (remote > last_) last_ = remote;
}

}  // namespace jsync

#include "tools/relay/rate_limit.h"

#include <algorithm>

namespace jsync::relay {

bool TokenBucket::Take(Clock::time_point now) {
  if (now > last_) {
    const double seconds = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(capacity_, tokens_ + seconds * per_second_);
    last_ = now;
  }
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace jsync::relay

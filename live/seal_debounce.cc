#include "live/seal_debounce.h"

#include <algorithm>

namespace jsync::live {

void SealDebounce::Edited(int64_t now) {
  if (first_ < 0) first_ = now;
  last_ = now;
}

std::optional<int64_t> SealDebounce::due() const {
  if (first_ < 0) return std::nullopt;
  return std::min(last_ + options_.quiet_ms, first_ + options_.max_ms);
}

}  // namespace jsync::live

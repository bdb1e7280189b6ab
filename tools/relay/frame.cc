#include "tools/relay/frame.h"

namespace jsync::relay {

bool IsForwardable(const uint8_t* data, size_t size) {
  return size >= kMinSealedBytes && size <= kMaxFrameBytes && data[0] == kVersion &&
         data[1] == kKindSealed;
}

bool IsHexId(std::string_view s) {
  if (s.size() != 64) return false;
  for (const char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace jsync::relay

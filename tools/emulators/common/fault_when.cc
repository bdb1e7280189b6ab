#include "tools/emulators/common/fault_when.h"

#include <cctype>

namespace jsync::emulator {
bool ParseCount(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  *out = std::stoull(s);
  return *out >= 1;
}

bool ParseRequestRange(const std::string& when, RequestRange* out) {
  if (!when.empty() && when.back() == '+') {
    out->last = UINT64_MAX;
    return ParseCount(when.substr(0, when.size() - 1), &out->first);
  }
  if (const size_t dash = when.find('-'); dash != std::string::npos) {
    return ParseCount(when.substr(0, dash), &out->first) &&
           ParseCount(when.substr(dash + 1), &out->last) && out->last >= out->first;
  }
  if (!ParseCount(when, &out->first)) return false;
  out->last = out->first;
  return true;
}

}  // namespace jsync::emulator

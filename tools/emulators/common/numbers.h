// Decimal numbers as the emulators accept them in headers, query parameters and their own tokens.
#pragma once

#include <cctype>
#include <cstdint>
#include <string>

namespace jsync::emulator {

// Digits only (no sign), at most 18 of them; false otherwise.
inline bool ParseDecimal(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  *out = std::stoll(s);
  return true;
}

}  // namespace jsync::emulator

// What the emulators' --faults parsers share: the @WHEN grammar (N, N-M, N+ counting requests
// from 1) and the table that names each fault kind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace jsync::emulator {

// Request numbers first..last (inclusive); the default covers every request.
struct RequestRange {
  uint64_t first = 1;
  uint64_t last = UINT64_MAX;
  bool Contains(uint64_t n) const { return n >= first && n <= last; }
};

// A decimal count >= 1 (at most 18 digits); false otherwise.
bool ParseCount(const std::string& s, uint64_t* out);

// "N", "N-M" (M >= N) or "N+"; false when it is none of these.
bool ParseRequestRange(const std::string& when, RequestRange* out);

template <typename Kind>
struct KindName {
  Kind kind;
  const char* name;
};

template <typename Kind, size_t N>
const char* NameOfKind(const KindName<Kind> (&table)[N], Kind kind) {
  for (const auto& k : table)
    if (k.kind == kind) return k.name;
  return "?";
}

// False when `name` is not in the table.
template <typename Kind, size_t N>
bool KindOfName(const KindName<Kind> (&table)[N], const std::string& name, Kind* out) {
  for (const auto& k : table) {
    if (name == k.name) {
      *out = k.kind;
      return true;
    }
  }
  return false;
}

}  // namespace jsync::emulator

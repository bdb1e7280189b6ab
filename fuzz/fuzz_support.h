// Shared by the fuzz targets: the fixed test key and the helpers that turn fuzzer bytes into
// the inputs a decoder sees after authentication.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>

#include "core/crypto/secret.h"
#include "core/util/bytes.h"

namespace jsync::fuzz {

// The master key of every keyed target (and of the seeds make_seeds.cc writes): bytes 1..32.
inline crypto::SecretKey TestKey() {
  std::array<uint8_t, crypto::kKeySize> k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i + 1);
  return crypto::SecretKey(k);
}

inline ByteSpan Span(const uint8_t* data, size_t size) { return ByteSpan(data, size); }

// A broken invariant (decode -> encode -> decode differs): report it as a crash.
[[noreturn]] inline void Fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

}  // namespace jsync::fuzz

// The few OpenSSL primitives the engine uses: randomness, SHA-256, HKDF-SHA256, scrypt.
#pragma once

#include <array>
#include <string_view>

#include "core/crypto/secret.h"
#include "core/util/bytes.h"

namespace jsync::crypto {

using Sha256 = std::array<uint8_t, 32>;

// Fills `out` from the OS-seeded CSPRNG; aborts the process if OpenSSL cannot (no safe fallback).
void RandomBytes(std::span<uint8_t> out);
template <size_t N>
std::array<uint8_t, N> RandomArray() {
  std::array<uint8_t, N> a;
  RandomBytes(a);
  return a;
}

Sha256 HashSha256(ByteSpan data);

// HKDF-SHA256 (RFC 5869) of a 32-byte key into another 32-byte key.
Result<SecretKey> HkdfSha256(const SecretKey& ikm, ByteSpan salt, std::string_view info);

struct ScryptParams {
  uint8_t log2_n = 17;  // N = 2^17
  uint32_t r = 8;
  uint32_t p = 1;
};
// REQUIRES: params within the limits checked by ValidateScryptParams.
Result<SecretKey> Scrypt(std::string_view passphrase, ByteSpan salt, const ScryptParams& params);
// Largest accepted N*r (memory: 128 * N * r bytes = 1 GiB) and N*r*p (16x the default work).
inline constexpr uint64_t kMaxScryptNR = uint64_t{1} << 23;
inline constexpr uint64_t kMaxScryptWork = uint64_t{1} << 24;
// Refuses parameters that are too weak to protect a passphrase or too costly to run (checked
// before any work, so a hostile key file costs nothing).
Status ValidateScryptParams(const ScryptParams& params);

}  // namespace jsync::crypto

#include "auth/pkce.h"

#include <openssl/crypto.h>

#include <array>

#include "core/crypto/primitives.h"

namespace jsync::auth {

std::string Base64Url(ByteSpan data) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : data) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::string NewCodeVerifier() {
  auto octets = crypto::RandomArray<32>();
  return Base64Url(octets);
}

std::string S256Challenge(const std::string& verifier) {
  auto digest = crypto::HashSha256(
      ByteSpan(reinterpret_cast<const uint8_t*>(verifier.data()), verifier.size()));
  return Base64Url(digest);
}

std::string NewState() {
  auto octets = crypto::RandomArray<16>();
  return Base64Url(octets);
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace jsync::auth

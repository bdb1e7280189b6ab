// Fixed-size secret key material that is wiped when it goes out of scope.
#pragma once

#include <openssl/crypto.h>

#include <array>
#include <cstdint>

namespace jsync::crypto {

inline constexpr size_t kKeySize = 32;  // AES-256

class SecretKey {
 public:
  SecretKey() { bytes_.fill(0); }
  explicit SecretKey(const std::array<uint8_t, kKeySize>& b) : bytes_(b) {}
  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* data() { return bytes_.data(); }
  static constexpr size_t size() { return kKeySize; }

 private:
  std::array<uint8_t, kKeySize> bytes_;
};

}  // namespace jsync::crypto

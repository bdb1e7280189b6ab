// QuickXorHash, OneDrive's content hash (the one hash every account type reports), to tell a
// retried upload from a clash by name: 160 bits of state, byte i XORed in at bit (i * 11) mod
// 160, then the 64-bit length XORed into the last 8 bytes little-endian; shown as base64. Not
// a cryptographic hash (nothing here is), so it is written out rather than taken from OpenSSL,
// which has none. Header-only so tests/unit can check it against rclone's vectors without
// loading the plugin.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace jsync_onedrive {

class QuickXorHash {
 public:
  static constexpr size_t kBytes = 20;

  void Update(const uint8_t* data, size_t len) {
    for (size_t i = 0; i < len; ++i) {
      const size_t bit = static_cast<size_t>((length_ + i) * 11 % (kBytes * 8));
      const size_t at = bit / 8;
      const unsigned shift = static_cast<unsigned>(bit % 8);
      const unsigned value = static_cast<unsigned>(data[i]) << shift;
      state_[at] ^= static_cast<uint8_t>(value & 0xff);
      if (shift != 0) state_[(at + 1) % kBytes] ^= static_cast<uint8_t>(value >> 8);
    }
    length_ += len;
  }

  std::array<uint8_t, kBytes> Digest() const {
    std::array<uint8_t, kBytes> out = state_;
    for (size_t i = 0; i < 8; ++i) {
      out[kBytes - 8 + i] ^= static_cast<uint8_t>((length_ >> (8 * i)) & 0xff);
    }
    return out;
  }

  // The digest as Graph spells it (standard base64, padded).
  std::string Base64() const {
    static const char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const std::array<uint8_t, kBytes> d = Digest();
    std::string out;
    for (size_t i = 0; i < d.size(); i += 3) {
      const uint32_t b0 = d[i];
      const uint32_t b1 = i + 1 < d.size() ? d[i + 1] : 0;
      const uint32_t b2 = i + 2 < d.size() ? d[i + 2] : 0;
      const uint32_t n = (b0 << 16) | (b1 << 8) | b2;
      out.push_back(kAlphabet[(n >> 18) & 63]);
      out.push_back(kAlphabet[(n >> 12) & 63]);
      out.push_back(i + 1 < d.size() ? kAlphabet[(n >> 6) & 63] : '=');
      out.push_back(i + 2 < d.size() ? kAlphabet[n & 63] : '=');
    }
    return out;
  }

 private:
  std::array<uint8_t, kBytes> state_{};
  uint64_t length_ = 0;
};

inline std::string QuickXorHashBase64(const uint8_t* data, size_t len) {
  QuickXorHash h;
  h.Update(data, len);
  return h.Base64();
}

}  // namespace jsync_onedrive

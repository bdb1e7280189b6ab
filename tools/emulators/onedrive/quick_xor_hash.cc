#include "tools/emulators/onedrive/quick_xor_hash.h"

#include <openssl/evp.h>

namespace jsync::emulator::onedrive {

void QuickXorHash::Update(std::string_view bytes) {
  // The bit offset advances by 11 per byte and wraps at 160; a byte that starts in the state's
  // last byte spills its high bits into byte 0 (the wrap from bit 159 to bit 0).
  uint64_t offset = (length_ * 11) % 160;
  for (unsigned char c : bytes) {
    const unsigned at = static_cast<unsigned>(offset / 8);
    const unsigned shifted = static_cast<unsigned>(c) << (offset % 8);
    state_[at] ^= static_cast<uint8_t>(shifted & 0xff);
    state_[(at + 1) % 20] ^= static_cast<uint8_t>(shifted >> 8);
    offset = (offset + 11) % 160;
  }
  length_ += bytes.size();
}

std::string QuickXorHash::Base64Digest() const {
  uint8_t digest[20];
  for (int i = 0; i < 20; ++i) digest[i] = state_[i];
  for (int i = 0; i < 8; ++i) digest[12 + i] ^= static_cast<uint8_t>(length_ >> (8 * i));
  unsigned char out[32];
  const int n = EVP_EncodeBlock(out, digest, 20);
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

std::string QuickXorHashBase64(std::string_view bytes) {
  QuickXorHash h;
  h.Update(bytes);
  return h.Base64Digest();
}

}  // namespace jsync::emulator::onedrive

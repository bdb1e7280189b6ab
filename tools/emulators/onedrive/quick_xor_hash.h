// QuickXorHash, the content hash every OneDrive account type reports (file.hashes.quickXorHash):
// byte i of the input is XORed into a 160-bit state at bit offset (i * 11) mod 160, then the
// 64-bit length (little-endian) into the last 8 bytes. Not a cryptographic hash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace jsync::emulator::onedrive {

class QuickXorHash {
 public:
  void Update(std::string_view bytes);
  // The 20-byte digest, standard base64 (what Graph returns).
  std::string Base64Digest() const;

 private:
  uint8_t state_[20] = {};
  uint64_t length_ = 0;
};

std::string QuickXorHashBase64(std::string_view bytes);

}  // namespace jsync::emulator::onedrive

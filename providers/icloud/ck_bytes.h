// Byte helpers of the iCloud plugin, on OpenSSL: the SHA-256 a record carries for its content
// (CloudKit's own fileChecksum is server-minted and cannot be checked, icloud.md §5.1) and the
// base64 of BYTES fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jsync_icloud {

// Lower-case hex SHA-256 of the bytes.
std::string Sha256Hex(const uint8_t* data, size_t len);

// Incremental SHA-256, for content that arrives in pieces (an asset download).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const uint8_t* data, size_t len);
  std::string HexDigest();  // once

 private:
  void* ctx_;
};

std::string Base64Encode(const uint8_t* data, size_t len);
// nullopt for text that is not standard, padded base64.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace jsync_icloud

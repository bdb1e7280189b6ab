// Per-file encryption: every file gets its own key, HKDF-SHA256(master key, random salt, info),
// so no (key, nonce) pair ever repeats even if a nonce generator failed.
#pragma once

#include <string_view>

#include "core/crypto/aead.h"
#include "core/crypto/primitives.h"

namespace jsync::crypto {

inline constexpr size_t kSaltSize = 32;
using Salt = std::array<uint8_t, kSaltSize>;

// Domain-separation labels: a key derived for one kind of file never opens another kind.
inline constexpr std::string_view kChangeFileInfo = "jsync change v1";
inline constexpr std::string_view kDeviceFileInfo = "jsync device v1";

Result<Bytes> SealFile(const SecretKey& master, std::string_view info, const Salt& salt,
                       const Nonce& nonce, ByteSpan header, ByteSpan plaintext);
Result<Bytes> OpenFile(const SecretKey& master, std::string_view info, const Salt& salt,
                       const Nonce& nonce, ByteSpan header, ByteSpan sealed);

}  // namespace jsync::crypto

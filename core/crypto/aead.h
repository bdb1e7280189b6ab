// AES-256-GCM sealing and opening: the only cipher the engine uses.
//
// Open() authenticates before releasing any plaintext and reports every forgery, truncation
// or wrong key as the same kCorrupt status, so callers cannot leak which part failed.
#pragma once

#include <array>

#include "core/crypto/secret.h"
#include "core/util/bytes.h"

namespace jsync::crypto {

inline constexpr size_t kNonceSize = 12;
inline constexpr size_t kTagSize = 16;
using Nonce = std::array<uint8_t, kNonceSize>;

// Returns ciphertext || 16-byte tag.
Result<Bytes> AeadSeal(const SecretKey& key, const Nonce& nonce, ByteSpan aad, ByteSpan plaintext);
// `sealed` is ciphertext || tag as AeadSeal produced it.
Result<Bytes> AeadOpen(const SecretKey& key, const Nonce& nonce, ByteSpan aad, ByteSpan sealed);

}  // namespace jsync::crypto

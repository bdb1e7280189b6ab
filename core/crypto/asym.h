// Public-key primitives through OpenSSL 3 EVP: Ed25519 signatures (device identity) and X25519
// key agreement (wrapping a key to a recipient). Private keys are 32-byte SecretKeys (an Ed25519
// seed, an X25519 scalar), public keys 32 raw bytes. docs/decisions/0036-device-keys.md.
#pragma once

#include <array>
#include <string_view>

#include "core/crypto/secret.h"
#include "core/util/bytes.h"

namespace jsync::crypto {

inline constexpr size_t kPublicKeySize = 32;
inline constexpr size_t kSignatureSize = 64;
using PublicKey = std::array<uint8_t, kPublicKeySize>;
using Signature = std::array<uint8_t, kSignatureSize>;

struct KeyPair {
  SecretKey priv;
  PublicKey pub{};
};

// --- Ed25519
KeyPair NewSigningKey();
Result<PublicKey> SigningPublicKey(const SecretKey& seed);
Result<Signature> Sign(const SecretKey& seed, ByteSpan message);
bool VerifySignature(const PublicKey& pub, ByteSpan message, const Signature& sig);

// Signs "jsync sig v1\0" || label || "\0" || SHA-256(data): a signature made for one kind of
// object (label) never verifies as another, and a large file is hashed once, not copied.
Result<Signature> SignLabeled(const SecretKey& seed, std::string_view label, ByteSpan data);
bool VerifyLabeled(const PublicKey& pub, std::string_view label, ByteSpan data,
                   const Signature& sig);

// --- X25519
KeyPair NewAgreementKey();
Result<PublicKey> AgreementPublicKey(const SecretKey& priv);
// kCorrupt when the peer key is of low order (the shared secret would be all zeros).
Result<SecretKey> Agree(const SecretKey& priv, const PublicKey& peer);

// A wrap to a recipient: ephemeral X25519 key, ECDH with the recipient's public key,
// HKDF-SHA256(shared, salt = ephemeral pub || recipient pub, info "jsync wrap v1") as the
// AES-256-GCM key. Output: ephemeral pub (32) || nonce (12) || ciphertext || tag (16).
// `aad` binds the wrap to its context (the key file header).
inline constexpr size_t kWrapOverhead = kPublicKeySize + 12 + 16;
Result<Bytes> WrapTo(const PublicKey& recipient, ByteSpan aad, ByteSpan plaintext);
// kCorrupt for a wrap made for another key or altered.
Result<Bytes> UnwrapWith(const SecretKey& priv, ByteSpan aad, ByteSpan wrapped);

}  // namespace jsync::crypto

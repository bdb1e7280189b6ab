#include "core/crypto/aead.h"

#include <openssl/evp.h>

#include <climits>
#include <memory>

namespace jsync::crypto {
namespace {

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherCtx NewCtx() { return CipherCtx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free); }

bool FitsInt(size_t n) { return n <= static_cast<size_t>(INT_MAX); }

}  // namespace

Result<Bytes> AeadSeal(const SecretKey& key, const Nonce& nonce, ByteSpan aad, ByteSpan plaintext) {
  if (!FitsInt(plaintext.size()) || !FitsInt(aad.size())) return Status::Invalid("too large");
  CipherCtx ctx = NewCtx();
  Bytes out(plaintext.size() + kTagSize);
  int len = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data(), &len, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize,
                          out.data() + plaintext.size()) != 1) {
    return Status::Fatal("AES-GCM encryption failed");
  }
  return out;
}

Result<Bytes> AeadOpen(const SecretKey& key, const Nonce& nonce, ByteSpan aad, ByteSpan sealed) {
  static const Status kForged =
      Status::Corrupt("authentication failed (tampered, truncated or wrong key)");
  if (sealed.size() < kTagSize) return kForged;
  if (!FitsInt(sealed.size()) || !FitsInt(aad.size())) return Status::Invalid("too large");
  const size_t ct_size = sealed.size() - kTagSize;
  CipherCtx ctx = NewCtx();
  Bytes out(ct_size);
  int len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, sealed.data(), static_cast<int>(ct_size)) !=
          1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize,
                          const_cast<uint8_t*>(sealed.data() + ct_size)) != 1) {
    return Status::Fatal("AES-GCM decryption setup failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &len) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return kForged;
  }
  return out;
}

}  // namespace jsync::crypto

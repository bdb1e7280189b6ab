#include "core/crypto/file_cipher.h"

namespace jsync::crypto {

Result<Bytes> SealFile(const SecretKey& master, std::string_view info, const Salt& salt,
                       const Nonce& nonce, ByteSpan header, ByteSpan plaintext) {
  JSYNC_ASSIGN_OR_RETURN(SecretKey key, HkdfSha256(master, salt, info));
  return AeadSeal(key, nonce, header, plaintext);
}

Result<Bytes> OpenFile(const SecretKey& master, std::string_view info, const Salt& salt,
                       const Nonce& nonce, ByteSpan header, ByteSpan sealed) {
  JSYNC_ASSIGN_OR_RETURN(SecretKey key, HkdfSha256(master, salt, info));
  return AeadOpen(key, nonce, header, sealed);
}

}  // namespace jsync::crypto

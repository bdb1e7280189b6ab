#include "core/crypto/primitives.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <memory>

namespace jsync::crypto {

void RandomBytes(std::span<uint8_t> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
}

Sha256 HashSha256(ByteSpan data) {
  Sha256 h;
  SHA256(data.data(), data.size(), h.data());
  return h;
}

Result<SecretKey> HkdfSha256(const SecretKey& ikm, ByteSpan salt, std::string_view info) {
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr),
                                                        EVP_KDF_free);
  if (!kdf) return Status::Fatal("OpenSSL has no HKDF");
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf.get()),
                                                                EVP_KDF_CTX_free);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(ikm.data()), ikm.size()),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()), salt.size()),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
                         OSSL_PARAM_construct_end()};
  SecretKey out;
  if (!ctx || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return Status::Fatal("HKDF derivation failed");
  }
  return out;
}

Status ValidateScryptParams(const ScryptParams& params) {
  // 2^10 is the floor kept for tests and constrained devices; 2^22 is reachable only with
  // r <= 2 (the N*r cap below).
  if (params.log2_n < 10 || params.log2_n > 22) {
    return Status::Invalid("scrypt log2(N) must be between 10 and 22");
  }
  if (params.r < 1 || params.r > 32 || params.p < 1 || params.p > 16) {
    return Status::Invalid("scrypt r must be 1..32 and p 1..16");
  }
  // Each bound alone still lets N = 2^22, r = 32, p = 16 through: 16 GiB and many minutes,
  // which a key file planted in the cloud could make every device attempt. Cap the product:
  // at most 1 GiB of memory (128 * N * r) and 16 times the default work (N * r * p).
  const uint64_t n_r = (uint64_t{1} << params.log2_n) * params.r;
  if (n_r > kMaxScryptNR || n_r * params.p > kMaxScryptWork) {
    return Status::Invalid("scrypt cost too high: N*r must be at most 2^23 (1 GiB of memory) "
                           "and N*r*p at most 2^24");
  }
  return Status::Ok();
}

Result<SecretKey> Scrypt(std::string_view passphrase, ByteSpan salt, const ScryptParams& params) {
  JSYNC_RETURN_IF_ERROR(ValidateScryptParams(params));
  const uint64_t n = uint64_t{1} << params.log2_n;
  // OpenSSL refuses more than 32 MiB unless told; scrypt needs 128*N*r*p bytes plus slack.
  const uint64_t maxmem = 128 * n * params.r * params.p + (uint64_t{64} << 20);
  SecretKey out;
  if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(), salt.data(), salt.size(), n, params.r,
                     params.p, maxmem, out.data(), out.size()) != 1) {
    return Status::Fatal("scrypt key derivation failed (out of memory?)");
  }
  return out;
}

}  // namespace jsync::crypto

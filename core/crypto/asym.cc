#include "core/crypto/asym.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "core/crypto/aead.h"
#include "core/crypto/primitives.h"

namespace jsync::crypto {
namespace {

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

constexpr std::string_view kWrapInfo = "jsync wrap v1";
constexpr std::string_view kSigPrefix = "jsync sig v1";

Pkey PrivateKey(int type, const SecretKey& priv) {
  return Pkey(EVP_PKEY_new_raw_private_key(type, nullptr, priv.data(), priv.size()),
              EVP_PKEY_free);
}

Result<PublicKey> PublicOf(int type, const SecretKey& priv) {
  Pkey key = PrivateKey(type, priv);
  PublicKey pub{};
  size_t len = pub.size();
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), pub.data(), &len) != 1 || len != pub.size()) {
    return Status::Fatal("OpenSSL cannot derive a public key");
  }
  return pub;
}

KeyPair NewPair(int type) {
  KeyPair kp;
  // Random bytes are a valid private key for both curves (X25519 clamps, Ed25519 hashes).
  RandomBytes(std::span<uint8_t>(kp.priv.data(), kp.priv.size()));
  auto pub = PublicOf(type, kp.priv);
  if (!pub.ok()) std::abort();  // the library lacks the curve: no safe way on
  kp.pub = *pub;
  return kp;
}

Bytes LabeledMessage(std::string_view label, ByteSpan data) {
  Bytes m(kSigPrefix.begin(), kSigPrefix.end());
  m.push_back(0);
  m.insert(m.end(), label.begin(), label.end());
  m.push_back(0);
  Sha256 h = HashSha256(data);
  m.insert(m.end(), h.begin(), h.end());
  return m;
}

}  // namespace

KeyPair NewSigningKey() { return NewPair(EVP_PKEY_ED25519); }

Result<PublicKey> SigningPublicKey(const SecretKey& seed) { return PublicOf(EVP_PKEY_ED25519, seed); }

Result<Signature> Sign(const SecretKey& seed, ByteSpan message) {
  Pkey key = PrivateKey(EVP_PKEY_ED25519, seed);
  MdCtx md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  Signature sig{};
  size_t len = sig.size();
  if (!key || !md || EVP_DigestSignInit(md.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(md.get(), sig.data(), &len, message.data(), message.size()) != 1 ||
      len != sig.size()) {
    return Status::Fatal("Ed25519 signing failed");
  }
  return sig;
}

bool VerifySignature(const PublicKey& pub, ByteSpan message, const Signature& sig) {
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pub.data(), pub.size()),
           EVP_PKEY_free);
  MdCtx md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return key && md &&
         EVP_DigestVerifyInit(md.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
         EVP_DigestVerify(md.get(), sig.data(), sig.size(), message.data(), message.size()) == 1;
}

Result<Signature> SignLabeled(const SecretKey& seed, std::string_view label, ByteSpan data) {
  return Sign(seed, LabeledMessage(label, data));
}

bool VerifyLabeled(const PublicKey& pub, std::string_view label, ByteSpan data,
                   const Signature& sig) {
  return VerifySignature(pub, LabeledMessage(label, data), sig);
}

KeyPair NewAgreementKey() { return NewPair(EVP_PKEY_X25519); }

Result<PublicKey> AgreementPublicKey(const SecretKey& priv) {
  return PublicOf(EVP_PKEY_X25519, priv);
}

Result<SecretKey> Agree(const SecretKey& priv, const PublicKey& peer) {
  Pkey mine = PrivateKey(EVP_PKEY_X25519, priv);
  Pkey theirs(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(), peer.size()),
              EVP_PKEY_free);
  if (!mine || !theirs) return Status::Corrupt("not an X25519 key");
  PkeyCtx ctx(EVP_PKEY_CTX_new(mine.get(), nullptr), EVP_PKEY_CTX_free);
  SecretKey shared;
  size_t len = shared.size();
  // OpenSSL refuses a peer key of low order here (an all-zero shared secret).
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), theirs.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), shared.data(), &len) != 1 || len != shared.size()) {
    return Status::Corrupt("X25519 key agreement failed (a malformed public key)");
  }
  return shared;
}

namespace {

Result<SecretKey> WrapKey(const SecretKey& shared, const PublicKey& ephemeral,
                          const PublicKey& recipient) {
  Bytes salt(ephemeral.begin(), ephemeral.end());
  salt.insert(salt.end(), recipient.begin(), recipient.end());
  return HkdfSha256(shared, salt, kWrapInfo);
}

}  // namespace

Result<Bytes> WrapTo(const PublicKey& recipient, ByteSpan aad, ByteSpan plaintext) {
  KeyPair eph = NewAgreementKey();
  JSYNC_ASSIGN_OR_RETURN(SecretKey shared, Agree(eph.priv, recipient));
  JSYNC_ASSIGN_OR_RETURN(SecretKey key, WrapKey(shared, eph.pub, recipient));
  Nonce nonce = RandomArray<kNonceSize>();
  JSYNC_ASSIGN_OR_RETURN(Bytes sealed, AeadSeal(key, nonce, aad, plaintext));
  Bytes out(eph.pub.begin(), eph.pub.end());
  out.insert(out.end(), nonce.begin(), nonce.end());
  out.insert(out.end(), sealed.begin(), sealed.end());
  return out;
}

Result<Bytes> UnwrapWith(const SecretKey& priv, ByteSpan aad, ByteSpan wrapped) {
  if (wrapped.size() < kWrapOverhead) return Status::Corrupt("wrapped key is truncated");
  PublicKey eph{};
  std::memcpy(eph.data(), wrapped.data(), eph.size());
  Nonce nonce{};
  std::memcpy(nonce.data(), wrapped.data() + eph.size(), nonce.size());
  JSYNC_ASSIGN_OR_RETURN(PublicKey mine, AgreementPublicKey(priv));
  JSYNC_ASSIGN_OR_RETURN(SecretKey shared, Agree(priv, eph));
  JSYNC_ASSIGN_OR_RETURN(SecretKey key, WrapKey(shared, eph, mine));
  return AeadOpen(key, nonce, aad, wrapped.subspan(eph.size() + nonce.size()));
}

}  // namespace jsync::crypto

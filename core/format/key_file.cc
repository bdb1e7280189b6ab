#include "core/format/key_file.h"

#include <cstring>
#include <string>

#include "core/crypto/aead.h"
#include "core/crypto/primitives.h"

namespace jsync::format {
namespace {

constexpr size_t kAadSize = 88;

Bytes EncodeHeader(const KeyFileInfo& info, const crypto::Salt& salt, const crypto::Nonce& nonce) {
  ByteWriter w;
  w.Raw(AsBytes(std::string_view(kKeyMagic, sizeof kKeyMagic)));
  w.U16(kKeyVersion);
  w.U8(kKdfScrypt);
  w.U8(info.params.log2_n);
  w.U32(info.params.r);
  w.U32(info.params.p);
  w.Raw(salt);
  w.Raw(info.journal);
  w.U64(info.key_id);
  w.Raw(nonce);
  return w.Take();
}

struct ParsedKeyFile {
  KeyFileInfo info;
  crypto::Salt salt;
  crypto::Nonce nonce;
};

Result<ParsedKeyFile> Parse(ByteSpan file) {
  if (file.size() != kKeyFileSize) return Status::Corrupt("key file has the wrong size");
  ByteReader r(file);
  if (std::memcmp(r.Raw(8).data(), kKeyMagic, 8) != 0) {
    return Status::Corrupt("not a journal-sync key file (bad magic)");
  }
  if (uint16_t v = r.U16(); v != kKeyVersion) {
    return Status::Corrupt("key file version " + std::to_string(v) + " is not supported");
  }
  if (r.U8() != kKdfScrypt) return Status::Corrupt("key file names an unknown KDF");
  ParsedKeyFile p;
  p.info.params.log2_n = r.U8();
  p.info.params.r = r.U32();
  p.info.params.p = r.U32();
  p.salt = r.Array<crypto::kSaltSize>();
  p.info.journal = r.Array<16>();
  p.info.key_id = r.U64();
  p.nonce = r.Array<crypto::kNonceSize>();
  if (!r.ok() || r.position() != kAadSize) return Status::Corrupt("key file is malformed");
  if (Status s = crypto::ValidateScryptParams(p.info.params); !s.ok()) {
    return Status::Corrupt("key file has unacceptable scrypt parameters: " + s.message());
  }
  return p;
}

}  // namespace

Result<Bytes> WrapMasterKey(const crypto::SecretKey& master, std::string_view passphrase,
                            const KeyFileInfo& info) {
  auto salt = crypto::RandomArray<crypto::kSaltSize>();
  auto nonce = crypto::RandomArray<crypto::kNonceSize>();
  JSYNC_ASSIGN_OR_RETURN(crypto::SecretKey kek, crypto::Scrypt(passphrase, salt, info.params));
  Bytes out = EncodeHeader(info, salt, nonce);
  JSYNC_ASSIGN_OR_RETURN(Bytes sealed,
                         crypto::AeadSeal(kek, nonce, out, ByteSpan(master.data(), master.size())));
  out.insert(out.end(), sealed.begin(), sealed.end());
  return out;
}

Result<KeyFileInfo> ReadKeyFileInfo(ByteSpan file) {
  if (KeyFileVersion(file) == kKeyVersionV2) {
    JSYNC_ASSIGN_OR_RETURN(KeyFileV2 v2, ParseKeyFileV2(file));
    KeyFileInfo info{v2.journal, v2.key_id, {}, kKeyVersionV2, v2.epoch};
    if (const KeyRecipient* r = v2.Find(RecipientKind::kPassphrase)) info.params = r->params;
    return info;
  }
  JSYNC_ASSIGN_OR_RETURN(ParsedKeyFile p, Parse(file));
  return p.info;
}

Result<crypto::SecretKey> UnwrapMasterKey(ByteSpan file, std::string_view passphrase) {
  if (KeyFileVersion(file) == kKeyVersionV2) {
    JSYNC_ASSIGN_OR_RETURN(KeyFileV2 v2, ParseKeyFileV2(file));
    const KeyRecipient* r = v2.Find(RecipientKind::kPassphrase);
    if (!r) return Status::Corrupt("the key file has no passphrase wrap");
    JSYNC_ASSIGN_OR_RETURN(crypto::KeyPair pair, PassphraseKeyPair(passphrase, r->salt, r->params));
    if (pair.pub != r->pub) return Status::Corrupt("wrong passphrase");
    auto key = UnwrapEpochKey(v2, file, *r, pair.priv);
    if (!key.ok()) return Status::Corrupt("wrong passphrase (or the key file was altered)");
    return key;
  }
  JSYNC_ASSIGN_OR_RETURN(ParsedKeyFile p, Parse(file));
  JSYNC_ASSIGN_OR_RETURN(crypto::SecretKey kek, crypto::Scrypt(passphrase, p.salt, p.info.params));
  auto plain = crypto::AeadOpen(kek, p.nonce, file.first(kAadSize), file.subspan(kAadSize));
  if (!plain.ok()) {
    return Status::Corrupt("wrong passphrase (or the key file was altered)");
  }
  crypto::SecretKey master;
  std::memcpy(master.data(), plain->data(), master.size());
  OPENSSL_cleanse(plain->data(), plain->size());
  return master;
}

// --- Version 2 -------------------------------------------------------------------------------

namespace {

constexpr std::string_view kRecoveryInfo = "jsync recovery v1";
constexpr size_t kEpochWrapSize = crypto::kWrapOverhead + crypto::kKeySize;
constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr size_t kRecoveryChecksum = 3;
constexpr size_t kRecoveryChars = (crypto::kKeySize + kRecoveryChecksum) * 8 / 5;  // 56

Bytes EncodeHeaderV2(const JournalId& journal, KeyId key_id, uint32_t epoch, KeyId previous,
                     uint64_t created_ms, DeviceId writer) {
  ByteWriter w;
  w.Raw(AsBytes(std::string_view(kKeyMagic, sizeof kKeyMagic)));
  w.U16(kKeyVersionV2);
  w.Raw(journal);
  w.U64(key_id);
  w.U32(epoch);
  w.U64(previous);
  w.U64(created_ms);
  w.U64(writer);
  return w.Take();
}

}  // namespace

const KeyRecipient* KeyFileV2::Find(RecipientKind kind, DeviceId device) const {
  for (const auto& r : recipients) {
    if (r.kind == kind && (kind != RecipientKind::kDevice || r.device == device)) return &r;
  }
  return nullptr;
}

uint16_t KeyFileVersion(ByteSpan file) {
  if (file.size() < 10 || std::memcmp(file.data(), kKeyMagic, 8) != 0) return 0;
  const uint16_t v = static_cast<uint16_t>(file[8] | file[9] << 8);
  return v == kKeyVersion || v == kKeyVersionV2 ? v : 0;
}

Result<Bytes> SealKeyFileV2(const NewEpoch& e, const crypto::SecretKey& writer_sign_seed) {
  if (e.recipients.empty() || e.recipients.size() > kMaxKeyRecipients) {
    return Status::Invalid("a key epoch needs 1 to 255 recipients");
  }
  if (e.revoked.size() > kMaxRevokedDevices) return Status::Invalid("too many revoked devices");
  Bytes header = EncodeHeaderV2(e.journal, e.key_id, e.epoch, e.previous, e.created_ms, e.writer);
  ByteWriter w;
  w.Raw(header);
  w.U8(static_cast<uint8_t>(e.recipients.size()));
  for (const auto& r : e.recipients) {
    w.U8(static_cast<uint8_t>(r.kind));
    w.U64(r.kind == RecipientKind::kDevice ? r.device : 0);
    w.Raw(r.pub);
    if (r.kind == RecipientKind::kPassphrase) {
      w.U8(r.params.log2_n);
      w.U32(r.params.r);
      w.U32(r.params.p);
      w.Raw(r.salt);
    }
    JSYNC_ASSIGN_OR_RETURN(Bytes wrap,
                           crypto::WrapTo(r.pub, header, ByteSpan(e.key.data(), e.key.size())));
    w.U16(static_cast<uint16_t>(wrap.size()));
    w.Raw(wrap);
  }
  w.U16(static_cast<uint16_t>(e.revoked.size()));
  for (const auto& rv : e.revoked) {
    w.U64(rv.device);
    w.U64(rv.through_seq);
    w.U64(rv.by);
    w.U64(rv.at_ms);
    w.U32(rv.epoch);
  }
  ByteWriter old;
  old.U32(static_cast<uint32_t>(e.old_keys.size()));
  for (const auto& k : e.old_keys) {
    old.U64(k.id);
    old.Raw(ByteSpan(k.key.data(), k.key.size()));
  }
  auto nonce = crypto::RandomArray<crypto::kNonceSize>();
  auto sealed = crypto::AeadSeal(e.key, nonce, header, old.bytes());
  OPENSSL_cleanse(old.bytes().data(), old.bytes().size());
  JSYNC_RETURN_IF_ERROR(sealed.status());
  w.Raw(nonce);
  w.U32(static_cast<uint32_t>(sealed->size()));
  w.Raw(*sealed);
  JSYNC_ASSIGN_OR_RETURN(crypto::Signature sig,
                         crypto::SignLabeled(writer_sign_seed, kKeySignatureLabel, w.bytes()));
  w.Raw(sig);
  if (w.bytes().size() > kMaxKeyFileSize) {
    return Status::Invalid(
        "the key file would be larger than its limit (too many devices or "
        "epochs)");
  }
  return w.Take();
}

Result<KeyFileV2> ParseKeyFileV2(ByteSpan file) {
  if (file.size() > kMaxKeyFileSize) return Status::Corrupt("key file is larger than its limit");
  if (KeyFileVersion(file) != kKeyVersionV2) {
    return Status::Corrupt("not a journal-sync key file version 2");
  }
  if (file.size() < kKeyHeaderV2Size + crypto::kSignatureSize) {
    return Status::Corrupt("key file is truncated");
  }
  ByteReader r(file.first(file.size() - crypto::kSignatureSize));
  r.Raw(10);
  KeyFileV2 k;
  k.journal = r.Array<16>();
  k.key_id = r.U64();
  k.epoch = r.U32();
  k.previous = r.U64();
  k.created_ms = r.U64();
  k.writer = r.U64();
  if (k.epoch == 0 || k.key_id == 0) return Status::Corrupt("key file names epoch or key 0");
  const size_t n = r.U8();
  if (n == 0) return Status::Corrupt("key file has no recipients");
  for (size_t i = 0; i < n && r.ok(); ++i) {
    KeyRecipient rc;
    const uint8_t kind = r.U8();
    if (kind < 1 || kind > 3) return Status::Corrupt("key file names an unknown recipient kind");
    rc.kind = static_cast<RecipientKind>(kind);
    rc.device = r.U64();
    rc.pub = r.Array<crypto::kPublicKeySize>();
    if (rc.kind == RecipientKind::kPassphrase) {
      rc.params.log2_n = r.U8();
      rc.params.r = r.U32();
      rc.params.p = r.U32();
      rc.salt = r.Array<crypto::kSaltSize>();
      if (r.ok()) {
        if (Status s = crypto::ValidateScryptParams(rc.params); !s.ok()) {
          return Status::Corrupt("key file has unacceptable scrypt parameters: " + s.message());
        }
      }
    }
    const size_t len = r.U16();
    if (len != kEpochWrapSize) return Status::Corrupt("key file has a malformed wrap");
    ByteSpan wrap = r.Raw(len);
    rc.wrap.assign(wrap.begin(), wrap.end());
    if ((rc.kind == RecipientKind::kDevice) != (rc.device != 0)) {
      return Status::Corrupt("key file has a malformed recipient");
    }
    k.recipients.push_back(std::move(rc));
  }
  const size_t m = r.U16();
  if (m > kMaxRevokedDevices) return Status::Corrupt("key file names too many revoked devices");
  for (size_t i = 0; i < m && r.ok(); ++i) {
    RevokedDevice rv;
    rv.device = r.U64();
    rv.through_seq = r.U64();
    rv.by = r.U64();
    rv.at_ms = r.U64();
    rv.epoch = r.U32();
    k.revoked.push_back(rv);
  }
  k.old_nonce = r.Array<crypto::kNonceSize>();
  const size_t sealed = r.U32();
  if (sealed > r.remaining() || sealed < crypto::kTagSize + 4) {
    return Status::Corrupt("key file is malformed (old epochs)");
  }
  ByteSpan old = r.Raw(sealed);
  k.old_sealed.assign(old.begin(), old.end());
  if (!r.ok()) return Status::Corrupt("key file is truncated or malformed");
  if (!r.AtEnd()) return Status::Corrupt("key file has trailing bytes");
  k.signed_size = file.size() - crypto::kSignatureSize;
  std::memcpy(k.signature.data(), file.data() + k.signed_size, crypto::kSignatureSize);
  return k;
}

bool KeyFileSignatureValid(const KeyFileV2& parsed, ByteSpan file, const crypto::PublicKey& pub) {
  if (parsed.signed_size + crypto::kSignatureSize != file.size()) return false;
  return crypto::VerifyLabeled(pub, kKeySignatureLabel, file.first(parsed.signed_size),
                               parsed.signature);
}

Result<crypto::SecretKey> UnwrapEpochKey(const KeyFileV2& parsed, ByteSpan file,
                                         const KeyRecipient& recipient,
                                         const crypto::SecretKey& priv) {
  (void)parsed;
  auto plain = crypto::UnwrapWith(priv, file.first(kKeyHeaderV2Size), recipient.wrap);
  if (!plain.ok() || plain->size() != crypto::kKeySize) {
    return Status::Corrupt("the key file's wrap does not open with this key");
  }
  crypto::SecretKey key;
  std::memcpy(key.data(), plain->data(), key.size());
  OPENSSL_cleanse(plain->data(), plain->size());
  return key;
}

Result<std::vector<EpochKey>> OpenOldEpochs(const KeyFileV2& parsed, ByteSpan file,
                                            const crypto::SecretKey& epoch_key) {
  auto plain = crypto::AeadOpen(epoch_key, parsed.old_nonce, file.first(kKeyHeaderV2Size),
                                parsed.old_sealed);
  if (!plain.ok()) return Status::Corrupt("the key file's earlier epochs do not open");
  ByteReader r(*plain);
  const size_t n = r.U32();
  std::vector<EpochKey> out;
  if (n * (8 + crypto::kKeySize) != r.remaining()) {
    OPENSSL_cleanse(plain->data(), plain->size());
    return Status::Corrupt("the key file's earlier epochs are malformed");
  }
  for (size_t i = 0; i < n; ++i) {
    EpochKey k;
    k.id = r.U64();
    ByteSpan key = r.Raw(crypto::kKeySize);
    std::memcpy(k.key.data(), key.data(), crypto::kKeySize);
    out.push_back(k);
  }
  OPENSSL_cleanse(plain->data(), plain->size());
  return out;
}

Result<crypto::KeyPair> PassphraseKeyPair(std::string_view passphrase, const crypto::Salt& salt,
                                          const crypto::ScryptParams& params) {
  JSYNC_RETURN_IF_ERROR(crypto::ValidateScryptParams(params));
  crypto::KeyPair pair;
  JSYNC_ASSIGN_OR_RETURN(pair.priv, crypto::Scrypt(passphrase, salt, params));
  JSYNC_ASSIGN_OR_RETURN(pair.pub, crypto::AgreementPublicKey(pair.priv));
  return pair;
}

Result<KeyRecipient> NewPassphraseRecipient(std::string_view passphrase,
                                            const crypto::ScryptParams& params) {
  KeyRecipient r;
  r.kind = RecipientKind::kPassphrase;
  r.params = params;
  r.salt = crypto::RandomArray<crypto::kSaltSize>();
  JSYNC_ASSIGN_OR_RETURN(crypto::KeyPair pair, PassphraseKeyPair(passphrase, r.salt, params));
  r.pub = pair.pub;
  return r;
}

std::string RecoveryKeyText(const RecoverySecret& secret) {
  Bytes raw(secret.data(), secret.data() + secret.size());
  const crypto::Sha256 sum = crypto::HashSha256(raw);
  raw.insert(raw.end(), sum.begin(), sum.begin() + kRecoveryChecksum);
  std::string chars;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : raw) {
    acc = acc << 8 | b;
    bits += 8;
    while (bits >= 5) {
      chars.push_back(kBase32[(acc >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  OPENSSL_cleanse(raw.data(), raw.size());
  std::string out;
  for (size_t i = 0; i < chars.size(); ++i) {
    if (i > 0 && i % 4 == 0) out.push_back('-');
    out.push_back(chars[i]);
  }
  OPENSSL_cleanse(chars.data(), chars.size());
  return out;
}

Result<RecoverySecret> ParseRecoveryKey(std::string_view text) {
  std::string chars;
  for (char c : text) {
    if (c == '-' || c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!std::strchr(kBase32, c) || c == '\0') {
      return Status::Invalid(
          "the recovery key holds a character that is not in it (only A-Z, "
          "2-7 and dashes): check what was typed");
    }
    chars.push_back(c);
  }
  if (chars.size() != kRecoveryChars) {
    return Status::Invalid("the recovery key has " + std::to_string(chars.size()) +
                           " characters, not " + std::to_string(kRecoveryChars) +
                           ": check what was typed");
  }
  Bytes raw;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : chars) {
    acc = acc << 5 | static_cast<uint32_t>(std::strchr(kBase32, c) - kBase32);
    bits += 5;
    if (bits >= 8) {
      raw.push_back(static_cast<uint8_t>(acc >> (bits - 8)));
      bits -= 8;
    }
  }
  OPENSSL_cleanse(chars.data(), chars.size());
  RecoverySecret secret;
  std::memcpy(secret.data(), raw.data(), secret.size());
  const crypto::Sha256 sum = crypto::HashSha256(ByteSpan(raw.data(), secret.size()));
  const bool ok = std::memcmp(sum.data(), raw.data() + secret.size(), kRecoveryChecksum) == 0;
  OPENSSL_cleanse(raw.data(), raw.size());
  if (!ok) {
    return Status::Invalid(
        "the recovery key is mistyped (its checksum does not match): check "
        "what was typed");
  }
  return secret;
}

Result<crypto::KeyPair> RecoveryKeyPair(const RecoverySecret& secret) {
  crypto::KeyPair pair;
  const std::array<uint8_t, 32> salt{};  // no salt to store: the secret is random already
  JSYNC_ASSIGN_OR_RETURN(pair.priv, crypto::HkdfSha256(secret, salt, kRecoveryInfo));
  JSYNC_ASSIGN_OR_RETURN(pair.pub, crypto::AgreementPublicKey(pair.priv));
  return pair;
}

}  // namespace jsync::format

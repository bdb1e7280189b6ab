#include "core/format/key_file.h"

#include <cstring>

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
  JSYNC_ASSIGN_OR_RETURN(ParsedKeyFile p, Parse(file));
  return p.info;
}

Result<crypto::SecretKey> UnwrapMasterKey(ByteSpan file, std::string_view passphrase) {
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

}  // namespace jsync::format

#include "core/format/change_file.h"

#include <zstd.h>

#include <cstdio>
#include <cstring>

#include "core/format/op_codec.h"

namespace jsync::format {
namespace {

// Bytes of one version-vector entry: device u64, seq u64, and in version 2 the head tag.
constexpr size_t VvEntrySize(uint16_t version) {
  return version == kChangeVersionV1 ? 16 : 16 + kHeadTagSize;
}

Bytes EncodeHeader(const ChangeHeader& h) {
  ByteWriter w;
  w.Raw(AsBytes(std::string_view(kChangeMagic, sizeof kChangeMagic)));
  w.U16(h.version);
  w.U8(kCipherAes256Gcm);
  w.U8(kCompressionZstd);
  w.Raw(h.journal);
  w.U64(h.device);
  w.U64(h.seq);
  w.U64(h.key_id);
  w.Raw(h.salt);
  w.Raw(h.nonce);
  w.Raw(h.prev_hash);
  w.U32(static_cast<uint32_t>(h.vv.size()));
  for (const auto& [device, entry] : h.vv) {
    w.U64(device);
    w.U64(entry.seq);
    w.Raw(*entry.head);
  }
  return w.Take();
}

Result<Bytes> Compress(ByteSpan plain) {
  Bytes out(ZSTD_compressBound(plain.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), plain.data(), plain.size(), 3);
  if (ZSTD_isError(n)) return Status::Fatal(std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

Result<Bytes> Decompress(ByteSpan compressed) {
  unsigned long long size = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
      size > kMaxChangeBodySize) {
    return Status::Corrupt("change body is not a bounded zstd frame");
  }
  Bytes out(size);
  size_t n = ZSTD_decompress(out.data(), out.size(), compressed.data(), compressed.size());
  if (ZSTD_isError(n) || n != size) return Status::Corrupt("change body does not decompress");
  return out;
}

}  // namespace

std::string KeyIdHex(KeyId id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

HeadTag HeadTagOf(const crypto::Sha256& hash) {
  HeadTag tag;
  std::memcpy(tag.data(), hash.data(), tag.size());
  return tag;
}

Result<Bytes> SealChange(const crypto::SecretKey& master, ChangeHeader& header,
                         const std::vector<Op>& ops, const crypto::SecretKey* signer) {
  for (const auto& [device, entry] : header.vv) {
    if (!entry.head) return Status::Invalid("version vector entry without a head tag");
  }
  header.version = signer ? kChangeVersion : kChangeVersionV2;
  header.salt = crypto::RandomArray<crypto::kSaltSize>();
  header.nonce = crypto::RandomArray<crypto::kNonceSize>();
  Bytes out = EncodeHeader(header);
  JSYNC_ASSIGN_OR_RETURN(Bytes body, Compress(EncodeOps(ops)));
  JSYNC_ASSIGN_OR_RETURN(Bytes sealed, crypto::SealFile(master, crypto::kChangeFileInfo,
                                                        header.salt, header.nonce, out, body));
  out.insert(out.end(), sealed.begin(), sealed.end());
  if (signer) {
    JSYNC_ASSIGN_OR_RETURN(crypto::Signature sig,
                           crypto::SignLabeled(*signer, kChangeSignatureLabel, out));
    out.insert(out.end(), sig.begin(), sig.end());
  }
  if (out.size() > kMaxChangeFileSize) return Status::Invalid("change file would be too large");
  return out;
}

bool ChangeSignatureValid(const ParsedChange& parsed, ByteSpan file,
                          const crypto::PublicKey& pub) {
  if (parsed.signature_size != crypto::kSignatureSize || file.size() < parsed.signature_size) {
    return false;
  }
  const ByteSpan signed_part = file.first(file.size() - parsed.signature_size);
  crypto::Signature sig{};
  std::memcpy(sig.data(), file.data() + signed_part.size(), sig.size());
  return crypto::VerifyLabeled(pub, kChangeSignatureLabel, signed_part, sig);
}

Result<ParsedChange> ParseChangeHeader(ByteSpan file) {
  if (file.size() > kMaxChangeFileSize) return Status::Corrupt("change file is too large");
  ByteReader r(file);
  ByteSpan magic = r.Raw(sizeof kChangeMagic);
  if (!r.ok() || std::memcmp(magic.data(), kChangeMagic, sizeof kChangeMagic) != 0) {
    return Status::Corrupt("not a journal-sync change file (bad magic)");
  }
  uint16_t version = r.U16();
  if (r.ok() && version != kChangeVersion && version != kChangeVersionV2 &&
      version != kChangeVersionV1) {
    return Status::Corrupt("change file format version " + std::to_string(version) +
                           " is not supported (this build reads versions 1 to 3)");
  }
  uint8_t cipher = r.U8(), compression = r.U8();
  if (r.ok() && (cipher != kCipherAes256Gcm || compression != kCompressionZstd)) {
    return Status::Corrupt("unknown cipher or compression in change file");
  }
  ParsedChange p;
  ChangeHeader& h = p.header;
  h.version = version;
  h.journal = r.Array<16>();
  h.device = r.U64();
  h.seq = r.U64();
  h.key_id = r.U64();
  h.salt = r.Array<crypto::kSaltSize>();
  h.nonce = r.Array<crypto::kNonceSize>();
  h.prev_hash = r.Array<32>();
  uint32_t vv_count = r.U32();
  const size_t entry_size = VvEntrySize(version);
  if (vv_count > kMaxVersionVectorEntries || vv_count * uint64_t{entry_size} > r.remaining()) {
    r.Fail();
  }
  DeviceId last = 0;
  for (uint32_t i = 0; r.ok() && i < vv_count; ++i) {
    DeviceId d = r.U64();
    VvEntry entry;
    entry.seq = r.U64();
    if (version != kChangeVersionV1) entry.head = r.Array<kHeadTagSize>();
    if (i > 0 && d <= last) return Status::Corrupt("version vector is not sorted");
    if (d == 0 || entry.seq == 0) return Status::Corrupt("version vector names no change");
    last = d;
    h.vv[d] = entry;
  }
  if (!r.ok()) return Status::Corrupt("change file header is truncated");
  p.signature_size = version == kChangeVersion ? crypto::kSignatureSize : 0;
  if (r.remaining() < crypto::kTagSize + p.signature_size) {
    return Status::Corrupt("change file is truncated");
  }
  p.header_size = r.position();
  return p;
}

Result<std::vector<Op>> OpenChange(const crypto::SecretKey& master, const ParsedChange& parsed,
                                   ByteSpan file) {
  ByteSpan header = file.first(parsed.header_size);
  if (file.size() < parsed.header_size + parsed.signature_size) {
    return Status::Corrupt("change file is truncated");
  }
  ByteSpan sealed = file.subspan(parsed.header_size,
                                 file.size() - parsed.header_size - parsed.signature_size);
  JSYNC_ASSIGN_OR_RETURN(Bytes body,
                         crypto::OpenFile(master, crypto::kChangeFileInfo, parsed.header.salt,
                                          parsed.header.nonce, header, sealed));
  JSYNC_ASSIGN_OR_RETURN(Bytes plain, Decompress(body));
  return DecodeOps(plain, parsed.header.device);
}

}  // namespace jsync::format

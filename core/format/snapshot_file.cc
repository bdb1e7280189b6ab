#include "core/format/snapshot_file.h"

#include <zstd.h>

#include <cstring>
#include <memory>

namespace jsync::format {
namespace {

constexpr size_t kFixedHeaderSize = 8 + 2 + 1 + 1 + 16 + 8 + 8 + 8 + crypto::kSaltSize +
                                    crypto::kNonceSize + 4;
constexpr size_t kVvEntrySize = 8 + 8 + 32;
constexpr uint8_t kBodyVersion = 1;

Bytes EncodeHeader(const SnapshotHeader& h) {
  ByteWriter w;
  w.Raw(AsBytes(std::string_view(kSnapshotMagic, sizeof kSnapshotMagic)));
  w.U16(kSnapshotVersion);
  w.U8(kCipherAes256Gcm);
  w.U8(kCompressionZstd);
  w.Raw(h.journal);
  w.U64(h.device);
  w.U64(h.hlc);
  w.U64(h.key_id);
  w.Raw(h.salt);
  w.Raw(h.nonce);
  w.U32(static_cast<uint32_t>(h.vv.size()));
  for (const auto& [device, e] : h.vv) {
    w.U64(device);
    w.U64(e.seq);
    w.Raw(e.hash);
  }
  return w.Take();
}

struct CctxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DctxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Streams the body into one zstd frame, so the plaintext of a large journal is never held
// whole: only the compressed bytes grow.
class BodyCompressor {
 public:
  BodyCompressor() : cctx_(ZSTD_createCCtx()) {
    ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_checksumFlag, 0);
  }
  Status Add(ByteSpan bytes) {
    pending_.insert(pending_.end(), bytes.begin(), bytes.end());
    if (pending_.size() >= (1u << 20)) return Flush(ZSTD_e_continue);
    return Status::Ok();
  }
  Result<Bytes> Finish() {
    JSYNC_RETURN_IF_ERROR(Flush(ZSTD_e_end));
    return std::move(out_);
  }

 private:
  Status Flush(ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{pending_.data(), pending_.size(), 0};
    for (;;) {
      const size_t room = ZSTD_CStreamOutSize();
      const size_t at = out_.size();
      out_.resize(at + room);
      ZSTD_outBuffer ob{out_.data() + at, room, 0};
      size_t left = ZSTD_compressStream2(cctx_.get(), &ob, &in, mode);
      out_.resize(at + ob.pos);
      if (ZSTD_isError(left)) return Status::Fatal(std::string("zstd: ") + ZSTD_getErrorName(left));
      const bool done = mode == ZSTD_e_end ? left == 0 : in.pos == in.size;
      if (done) break;
    }
    pending_.clear();
    return Status::Ok();
  }
  std::unique_ptr<ZSTD_CCtx, CctxFree> cctx_;
  Bytes pending_;
  Bytes out_;
};

Result<Bytes> DecompressBody(ByteSpan compressed) {
  std::unique_ptr<ZSTD_DCtx, DctxFree> dctx(ZSTD_createDCtx());
  Bytes out;
  ZSTD_inBuffer in{compressed.data(), compressed.size(), 0};
  size_t last = 1;
  while (in.pos < in.size || last != 0) {
    const size_t at = out.size();
    const size_t room = ZSTD_DStreamOutSize();
    if (at + room > kMaxSnapshotBodySize + room) {
      return Status::Corrupt("snapshot body exceeds " + std::to_string(kMaxSnapshotBodySize >> 20) +
                             " MiB");
    }
    out.resize(at + room);
    ZSTD_outBuffer ob{out.data() + at, room, 0};
    last = ZSTD_decompressStream(dctx.get(), &ob, &in);
    out.resize(at + ob.pos);
    if (ZSTD_isError(last)) return Status::Corrupt("snapshot body does not decompress");
    if (ob.pos == 0 && in.pos == in.size && last != 0) {
      return Status::Corrupt("snapshot body is truncated");
    }
    if (last == 0 && in.pos != in.size) {
      return Status::Corrupt("snapshot body has bytes after its frame");
    }
  }
  if (out.size() > kMaxSnapshotBodySize) return Status::Corrupt("snapshot body is too large");
  return out;
}

}  // namespace

Result<Bytes> SealSnapshot(const crypto::SecretKey& master, SnapshotHeader& header,
                           const RecordSource& records) {
  header.salt = crypto::RandomArray<crypto::kSaltSize>();
  header.nonce = crypto::RandomArray<crypto::kNonceSize>();
  Bytes head = EncodeHeader(header);
  BodyCompressor body;
  // The record count comes last so records can be streamed without counting them first.
  ByteWriter version;
  version.U8(kBodyVersion);
  JSYNC_RETURN_IF_ERROR(body.Add(version.bytes()));
  uint64_t count = 0;
  JSYNC_RETURN_IF_ERROR(records([&](const SnapshotRecord& rec) -> Status {
    ByteWriter w;
    w.U8(1);  // a record follows
    w.Str(rec.collection);
    w.Raw(rec.id);
    w.Blob(rec.state);
    ++count;
    return body.Add(w.bytes());
  }));
  ByteWriter end;
  end.U8(0);
  end.Varint(count);
  JSYNC_RETURN_IF_ERROR(body.Add(end.bytes()));
  JSYNC_ASSIGN_OR_RETURN(Bytes compressed, body.Finish());
  JSYNC_ASSIGN_OR_RETURN(Bytes sealed, crypto::SealFile(master, kSnapshotFileInfo, header.salt,
                                                        header.nonce, head, compressed));
  head.insert(head.end(), sealed.begin(), sealed.end());
  if (head.size() > kMaxSnapshotFileSize) {
    return Status::Invalid("the journal's state is over the snapshot size limit");
  }
  return head;
}

Result<ParsedSnapshot> ParseSnapshotHeader(ByteSpan file) {
  if (file.size() < kFixedHeaderSize + crypto::kTagSize || file.size() > kMaxSnapshotFileSize) {
    return Status::Corrupt("snapshot has an impossible size");
  }
  ByteReader r(file);
  if (std::memcmp(r.Raw(8).data(), kSnapshotMagic, 8) != 0) {
    return Status::Corrupt("not a journal-sync snapshot (bad magic)");
  }
  if (r.U16() != kSnapshotVersion) return Status::Corrupt("unsupported snapshot version");
  if (r.U8() != kCipherAes256Gcm) return Status::Corrupt("unsupported snapshot cipher");
  if (r.U8() != kCompressionZstd) return Status::Corrupt("unsupported snapshot compression");
  ParsedSnapshot out;
  SnapshotHeader& h = out.header;
  h.journal = r.Array<16>();
  h.device = r.U64();
  h.hlc = r.U64();
  h.key_id = r.U64();
  h.salt = r.Array<crypto::kSaltSize>();
  h.nonce = r.Array<crypto::kNonceSize>();
  const uint32_t n = r.U32();
  if (!r.ok() || n > kMaxVersionVectorEntries ||
      static_cast<uint64_t>(n) * kVvEntrySize + crypto::kTagSize > r.remaining()) {
    return Status::Corrupt("snapshot header is truncated");
  }
  DeviceId previous = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const DeviceId device = r.U64();
    SnapshotVvEntry e;
    e.seq = r.U64();
    e.hash = r.Array<32>();
    if (device == 0 || e.seq == 0 || (i > 0 && device <= previous)) {
      return Status::Corrupt("snapshot version vector is not sorted, or names device 0 or seq 0");
    }
    previous = device;
    h.vv[device] = e;
  }
  if (h.device == 0 || h.hlc == 0) return Status::Corrupt("snapshot names no author or time");
  out.header_size = r.position();
  return out;
}

Result<uint64_t> OpenSnapshot(const crypto::SecretKey& master, const ParsedSnapshot& parsed,
                              ByteSpan file,
                              const std::function<Status(const SnapshotRecord&)>& sink) {
  const SnapshotHeader& h = parsed.header;
  JSYNC_ASSIGN_OR_RETURN(Bytes compressed,
                         crypto::OpenFile(master, kSnapshotFileInfo, h.salt, h.nonce,
                                          file.first(parsed.header_size),
                                          file.subspan(parsed.header_size)));
  JSYNC_ASSIGN_OR_RETURN(Bytes body, DecompressBody(compressed));
  compressed = Bytes();
  ByteReader r(body);
  if (r.U8() != kBodyVersion) return Status::Corrupt("unsupported snapshot body version");
  uint64_t count = 0;
  SnapshotRecord rec;
  for (;;) {
    const uint8_t tag = r.U8();
    if (!r.ok()) return Status::Corrupt("snapshot body is truncated");
    if (tag == 0) break;
    if (tag != 1) return Status::Corrupt("snapshot body has an unknown entry");
    rec.collection = r.Str();
    rec.id = r.Array<16>();
    ByteSpan state = r.Blob();
    if (!r.ok()) return Status::Corrupt("snapshot body is truncated");
    rec.state.assign(state.begin(), state.end());
    JSYNC_RETURN_IF_ERROR(sink(rec));
    ++count;
  }
  const uint64_t said = r.Varint();
  if (!r.ok() || !r.AtEnd() || said != count) {
    return Status::Corrupt("snapshot body ends wrongly");
  }
  return count;
}

}  // namespace jsync::format

#include "core/format/snapshot_file.h"

#include <zstd.h>

#include <cstring>
#include <memory>

namespace jsync::format {
namespace {

constexpr size_t kFixedHeaderSize =
    8 + 2 + 1 + 1 + 16 + 8 + 8 + 8 + crypto::kSaltSize + crypto::kNonceSize + 4;
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

// Decompresses the body a piece at a time, so only the compressed bytes and the record being
// read are held, never the whole plaintext (a 100,000-entry journal's is hundreds of MiB).
class BodyStream {
 public:
  explicit BodyStream(ByteSpan compressed)
      : dctx_(ZSTD_createDCtx()), in_{compressed.data(), compressed.size(), 0} {}

  // The unread plaintext; More() appends to it.
  ByteSpan pending() const { return ByteSpan(buf_).subspan(pos_); }
  void Consume(size_t n) { pos_ += n; }
  bool done() const { return frame_done_; }

  // Adds at least one byte of plaintext, or reports the end of the frame (false).
  Result<bool> More() {
    if (frame_done_) return false;
    if (pos_ > 0 && pos_ >= buf_.size() / 2) {  // drop what is read, keeping the buffer small
      buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
      pos_ = 0;
    }
    for (;;) {
      const size_t at = buf_.size();
      const size_t room = ZSTD_DStreamOutSize();
      buf_.resize(at + room);
      ZSTD_outBuffer ob{buf_.data() + at, room, 0};
      const size_t left = ZSTD_decompressStream(dctx_.get(), &ob, &in_);
      buf_.resize(at + ob.pos);
      if (ZSTD_isError(left)) return Status::Corrupt("snapshot body does not decompress");
      total_ += ob.pos;
      if (total_ > kMaxSnapshotBodySize) {
        return Status::Corrupt("snapshot body exceeds " +
                               std::to_string(kMaxSnapshotBodySize >> 20) + " MiB");
      }
      if (left == 0) {
        if (in_.pos != in_.size) return Status::Corrupt("snapshot body has bytes after its frame");
        frame_done_ = true;
        return ob.pos > 0;
      }
      if (ob.pos > 0) return true;
      if (in_.pos == in_.size) return Status::Corrupt("snapshot body is truncated");
    }
  }

 private:
  std::unique_ptr<ZSTD_DCtx, DctxFree> dctx_;
  ZSTD_inBuffer in_;
  Bytes buf_;
  size_t pos_ = 0;
  uint64_t total_ = 0;
  bool frame_done_ = false;
};

}  // namespace

Result<Bytes> SealSnapshot(const crypto::SecretKey& master, const crypto::SecretKey& signer,
                           SnapshotHeader& header, const RecordSource& records) {
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
  JSYNC_ASSIGN_OR_RETURN(crypto::Signature sig,
                         crypto::SignLabeled(signer, kSnapshotSignatureLabel, head));
  head.insert(head.end(), sig.begin(), sig.end());
  if (head.size() > kMaxSnapshotFileSize) {
    return Status::Invalid("the journal's state is over the snapshot size limit");
  }
  return head;
}

Result<ParsedSnapshot> ParseSnapshotHeader(ByteSpan file) {
  if (file.size() < kFixedHeaderSize + crypto::kTagSize + crypto::kSignatureSize ||
      file.size() > kMaxSnapshotFileSize) {
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
      static_cast<uint64_t>(n) * kVvEntrySize + crypto::kTagSize + crypto::kSignatureSize >
          r.remaining()) {
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

bool SnapshotSignatureValid(ByteSpan file, const crypto::PublicKey& pub) {
  if (file.size() < crypto::kSignatureSize) return false;
  const ByteSpan signed_part = file.first(file.size() - crypto::kSignatureSize);
  crypto::Signature sig{};
  std::memcpy(sig.data(), file.data() + signed_part.size(), sig.size());
  return crypto::VerifyLabeled(pub, kSnapshotSignatureLabel, signed_part, sig);
}

Result<uint64_t> OpenSnapshot(const crypto::SecretKey& master, const ParsedSnapshot& parsed,
                              ByteSpan file,
                              const std::function<Status(const SnapshotRecord&)>& sink) {
  const SnapshotHeader& h = parsed.header;
  const size_t sealed_end = file.size() - crypto::kSignatureSize;  // ParseSnapshotHeader checked
  JSYNC_ASSIGN_OR_RETURN(
      Bytes compressed,
      crypto::OpenFile(master, kSnapshotFileInfo, h.salt, h.nonce, file.first(parsed.header_size),
                       file.subspan(parsed.header_size, sealed_end - parsed.header_size)));
  return ReadSnapshotBody(compressed, sink);
}

Result<uint64_t> ReadSnapshotBody(ByteSpan compressed,
                                  const std::function<Status(const SnapshotRecord&)>& sink) {
  BodyStream body(compressed);
  // Each step reads one entry from what is decompressed so far; a short read asks for more.
  auto next = [&](const std::function<bool(ByteReader&)>& read) -> Result<bool> {
    for (;;) {
      ByteReader r(body.pending());
      if (read(r) && r.ok()) {
        body.Consume(r.position());
        return true;
      }
      JSYNC_ASSIGN_OR_RETURN(bool more, body.More());
      if (!more) return false;
    }
  };
  bool version_ok = false;
  JSYNC_ASSIGN_OR_RETURN(bool have, next([&](ByteReader& r) {
                           version_ok = r.U8() == kBodyVersion;
                           return true;
                         }));
  if (!have) return Status::Corrupt("snapshot body is truncated");
  if (!version_ok) return Status::Corrupt("unsupported snapshot body version");
  uint64_t count = 0;
  SnapshotRecord rec;
  for (;;) {
    uint8_t tag = 0;
    JSYNC_ASSIGN_OR_RETURN(have, next([&](ByteReader& r) {
                             tag = r.U8();
                             if (tag != 1) return true;  // the end, or an unknown entry
                             rec.collection = r.Str();
                             rec.id = r.Array<16>();
                             ByteSpan state = r.Blob();
                             if (r.ok()) rec.state.assign(state.begin(), state.end());
                             return true;
                           }));
    if (!have) return Status::Corrupt("snapshot body is truncated");
    if (tag == 0) break;
    if (tag != 1) return Status::Corrupt("snapshot body has an unknown entry");
    JSYNC_RETURN_IF_ERROR(sink(rec));
    ++count;
  }
  uint64_t said = 0;
  JSYNC_ASSIGN_OR_RETURN(have, next([&](ByteReader& r) {
                           said = r.Varint();
                           return true;
                         }));
  // Nothing may follow the count: the frame must end right there.
  while (have && body.pending().empty() && !body.done()) {
    JSYNC_ASSIGN_OR_RETURN(bool more, body.More());
    if (!more) break;
  }
  if (!have || !body.pending().empty() || said != count) {
    return Status::Corrupt("snapshot body ends wrongly");
  }
  return count;
}

}  // namespace jsync::format

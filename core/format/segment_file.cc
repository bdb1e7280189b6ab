#include "core/format/segment_file.h"

#include <cstring>

namespace jsync::format {
namespace {

constexpr size_t kFixedSize = 8 + 2 + 16 + 8 + 8 + 8 + 4;

}  // namespace

Result<Bytes> BuildSegment(const SegmentHeader& header, const std::vector<ByteSpan>& changes) {
  if (changes.empty() || header.first == 0 || header.last - header.first + 1 != changes.size() ||
      changes.size() > kMaxSegmentChanges) {
    return Status::Invalid("a segment needs its changes first..last");
  }
  size_t total = kFixedSize + 4 * changes.size();
  for (ByteSpan c : changes) total += c.size();
  if (total > kMaxSegmentFileSize) return Status::Invalid("segment would exceed its size limit");
  ByteWriter w;
  w.bytes().reserve(total);
  w.Raw(AsBytes(std::string_view(kSegmentMagic, sizeof kSegmentMagic)));
  w.U16(kSegmentVersion);
  w.Raw(header.journal);
  w.U64(header.device);
  w.U64(header.first);
  w.U64(header.last);
  w.U32(static_cast<uint32_t>(changes.size()));
  for (ByteSpan c : changes) w.U32(static_cast<uint32_t>(c.size()));
  for (ByteSpan c : changes) w.Raw(c);
  return w.Take();
}

Result<ParsedSegment> ParseSegment(ByteSpan file) {
  if (file.size() < kFixedSize || file.size() > kMaxSegmentFileSize) {
    return Status::Corrupt("segment has an impossible size");
  }
  ByteReader r(file);
  if (std::memcmp(r.Raw(8).data(), kSegmentMagic, 8) != 0) {
    return Status::Corrupt("not a journal-sync segment (bad magic)");
  }
  if (r.U16() != kSegmentVersion) return Status::Corrupt("unsupported segment version");
  ParsedSegment out;
  out.header.journal = r.Array<16>();
  out.header.device = r.U64();
  out.header.first = r.U64();
  out.header.last = r.U64();
  const uint32_t count = r.U32();
  if (!r.ok() || out.header.first == 0 || out.header.last < out.header.first ||
      out.header.last - out.header.first + 1 != count || count > kMaxSegmentChanges ||
      static_cast<uint64_t>(count) * 4 > r.remaining()) {
    return Status::Corrupt("segment header is inconsistent");
  }
  std::vector<uint32_t> sizes(count);
  uint64_t sum = 0;
  for (auto& s : sizes) {
    s = r.U32();
    sum += s;
  }
  if (!r.ok() || sum != r.remaining()) {
    return Status::Corrupt("segment lengths do not add up to its size");
  }
  out.changes.reserve(count);
  for (uint32_t s : sizes) out.changes.push_back(r.Raw(s));
  return out;
}

}  // namespace jsync::format

// Segment file v1 (`.jseg`): one device's change files first..last, byte for byte, in one
// object, so a device that is far behind downloads a few segments instead of thousands of
// small files. The segment adds no cryptography of its own: each change inside is verified
// exactly as if it had been downloaded alone (name binding, AEAD, hash chain, version vector).
// Byte layout in docs/formats.md.
#pragma once

#include <vector>

#include "core/model/ids.h"
#include "core/util/bytes.h"
#include "core/util/status.h"

namespace jsync::format {

inline constexpr char kSegmentMagic[8] = {'J', 'S', 'Y', 'N', 'C', 'S', 'E', 'G'};
inline constexpr uint16_t kSegmentVersion = 1;
// Readers refuse a larger segment before reading it; writers never make one.
inline constexpr size_t kMaxSegmentFileSize = 64u << 20;
inline constexpr uint32_t kMaxSegmentChanges = 1u << 16;

struct SegmentHeader {
  JournalId journal{};
  DeviceId device = 0;
  uint64_t first = 0;
  uint64_t last = 0;
};

// kInvalid when the changes would not fit kMaxSegmentFileSize.
Result<Bytes> BuildSegment(const SegmentHeader& header, const std::vector<ByteSpan>& changes);

struct ParsedSegment {
  SegmentHeader header;
  std::vector<ByteSpan> changes;  // into the file: change first + i
};
// Checks the framing only; the changes are still to be verified one by one.
Result<ParsedSegment> ParseSegment(ByteSpan file);

}  // namespace jsync::format

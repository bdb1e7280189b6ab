// --faults SPEC: a comma list of KIND[@WHEN]; WHEN is N, N-M or N+ and counts Drive API requests
// (OAuth endpoints are not counted) from 1. Without @WHEN the fault applies to every request.
// The first entry matching a request wins. Kinds: rate, 429, 429-date, 500, 502, 503, drop,
// drop-after, drop-upload, expire-token, quota (see README.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/util/status.h"

namespace jsync::emulator::gdrive {

enum class FaultKind { kRate, k429, k500, k502, k503, kDrop, kDropUpload, kExpireToken, kQuota,
                       kDropAfter, k429Date };

struct Fault {
  FaultKind kind = FaultKind::k500;
  uint64_t first = 1;
  uint64_t last = UINT64_MAX;
};

struct FaultSpec {
  std::vector<Fault> faults;
  // kInvalid naming the bad entry.
  static Result<FaultSpec> Parse(const std::string& spec);
  const Fault* Match(uint64_t nth) const;
};

const char* FaultKindName(FaultKind kind);

}  // namespace jsync::emulator::gdrive

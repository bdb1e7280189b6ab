// --faults SPEC for the Graph emulator: a comma list of KIND[:ARGS][@WHEN]; WHEN is N, N-M or N+
// and counts Graph, upload and download requests (identity endpoints are not counted) from 1.
// Without @WHEN a fault applies to every request. Kinds (README.md):
//   answered at once:  429[:S|:none] 503[:S|:none] 500 502 504 509 drop drop-after
//   armed, then spent by the next request they fit: drop-upload (a fragment), drop-download
//   (a download), expire-download (a download: 401 as if expired), expire-token (a request with a
//   token), quota and 423 (a write), resync (delta) throttle-every:N:S (no @WHEN): after every N
//   requests, 429 for S seconds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/util/status.h"

namespace jsync::emulator::onedrive {

enum class FaultKind {
  k429,
  k503,
  k500,
  k502,
  k504,
  k509,
  kDrop,
  kDropAfter,
  kDropUpload,
  kDropDownload,
  kExpireToken,
  kQuota,
  k423,
  kResync,
  kExpireDownload,
};

struct Fault {
  FaultKind kind = FaultKind::k500;
  std::string retry_after = "5";  // 429/503: the header value; "" sends none
  uint64_t first = 1;
  uint64_t last = UINT64_MAX;
};

struct FaultSpec {
  std::vector<Fault> faults;
  int64_t throttle_every = 0;  // 0: off
  int64_t throttle_seconds = 0;

  // kInvalid naming the bad entry.
  static Result<FaultSpec> Parse(const std::string& spec);
};

const char* FaultKindName(FaultKind kind);
// Faults that wait for a request they fit rather than answering the matched one.
bool IsArmed(FaultKind kind);

}  // namespace jsync::emulator::onedrive

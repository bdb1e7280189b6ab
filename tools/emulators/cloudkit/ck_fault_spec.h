// --faults SPEC for the CloudKit emulator: a comma list of KIND[:S][/OP][@WHEN], the same
// grammar as the OneDrive emulator's plus an optional operation filter. WHEN is N, N-M or N+ and
// counts, from 1, the requests the entry matches: API requests (the op after the database
// segment, e.g. "records/modify", "users/caller", "tokens/create"), asset uploads ("_upload")
// and asset downloads ("_download"). Sign-in, admin and courier requests are never counted.
// Without @WHEN an entry applies to every request it matches. Kinds (README.md):
//   throttle[:S|:none] (alias 429)   429 THROTTLED, retryAfter S (default 5)
//   unavailable[:S|:none] (alias 503) 503 TRY_AGAIN_LATER, retryAfter S (default 5)
//   500 502 504                      INTERNAL_ERROR / bare gateway errors
//   drop                             the connection is closed without an answer
//   drop-after                       the request is carried out, then the connection is closed
//   auth (alias 421)                 421 AUTHENTICATION_REQUIRED with a redirectURL
// Faults are answered before the web-auth-token check: they neither spend nor rotate a token.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/util/status.h"

namespace jsync::emulator::cloudkit {

enum class FaultKind { kThrottle, kUnavailable, k500, k502, k504, kDrop, kDropAfter, kAuth };

struct Fault {
  FaultKind kind = FaultKind::k500;
  int64_t retry_after_s = 5;  // throttle/unavailable; -1: no retryAfter
  std::string op;             // "": every counted request
  uint64_t first = 1;
  uint64_t last = UINT64_MAX;
};

struct FaultSpec {
  std::vector<Fault> faults;
  // kInvalid naming the bad entry.
  static Result<FaultSpec> Parse(const std::string& spec);
};

const char* FaultKindName(FaultKind kind);

}  // namespace jsync::emulator::cloudkit

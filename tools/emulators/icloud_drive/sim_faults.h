// The iCloud Drive simulator's --faults: KIND@WHEN,... where WHEN counts deliveries (a file
// arriving in one root) or, for drop-event, file events, from 1 (tools/emulators/README.md).
//   drop-event@N     the N-th file event is lost: that change waits for the next full rescan
//   evict@N          the file of the N-th delivery is evicted to a stub right after it arrived
//   conflict@N       a duplicate "name 2.ext" with other bytes appears beside the N-th delivery
//   conflict-same@N  the same with identical bytes
#pragma once

#include <string>
#include <vector>

#include "core/util/status.h"
#include "tools/emulators/common/fault_when.h"

namespace jsync::emulator::icloud_drive {

enum class FaultKind { kDropEvent, kEvict, kConflict, kConflictSame };

struct Fault {
  FaultKind kind;
  RequestRange when;
};

struct FaultPlan {
  std::vector<Fault> faults;
  static Result<FaultPlan> Parse(const std::string& spec);
  // Whether a fault of `kind` covers event/delivery number n.
  bool Has(FaultKind kind, uint64_t n) const;
};

}  // namespace jsync::emulator::icloud_drive

#include "tools/emulators/icloud_drive/sim_faults.h"

namespace jsync::emulator::icloud_drive {
namespace {

constexpr KindName<FaultKind> kKinds[] = {
    {FaultKind::kDropEvent, "drop-event"},
    {FaultKind::kEvict, "evict"},
    {FaultKind::kConflict, "conflict"},
    {FaultKind::kConflictSame, "conflict-same"},
};

}  // namespace

Result<FaultPlan> FaultPlan::Parse(const std::string& spec) {
  FaultPlan plan;
  size_t pos = 0;
  while (pos < spec.size()) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string::npos) comma = spec.size();
    const std::string item = spec.substr(pos, comma - pos);
    pos = comma + 1;
    if (item.empty()) continue;
    const size_t at = item.find('@');
    Fault f{};
    if (at == std::string::npos || !KindOfName(kKinds, item.substr(0, at), &f.kind) ||
        !ParseRequestRange(item.substr(at + 1), &f.when)) {
      return Status::Invalid("bad fault \"" + item +
                             "\" (want drop-event|evict|conflict|conflict-same@N, @N-M or @N+)");
    }
    plan.faults.push_back(f);
  }
  return plan;
}

bool FaultPlan::Has(FaultKind kind, uint64_t n) const {
  for (const Fault& f : faults)
    if (f.kind == kind && f.when.Contains(n)) return true;
  return false;
}

}  // namespace jsync::emulator::icloud_drive

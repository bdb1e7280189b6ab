#include "tools/emulators/gdrive/fault_spec.h"

#include <sstream>

#include "tools/emulators/common/fault_when.h"

namespace jsync::emulator::gdrive {
namespace {

constexpr KindName<FaultKind> kKinds[] = {
    {FaultKind::kRate, "rate"},
    {FaultKind::k429, "429"},
    {FaultKind::k429Date, "429-date"},
    {FaultKind::k500, "500"},
    {FaultKind::k502, "502"},
    {FaultKind::k503, "503"},
    {FaultKind::kDrop, "drop"},
    {FaultKind::kDropUpload, "drop-upload"},
    {FaultKind::kExpireToken, "expire-token"},
    {FaultKind::kQuota, "quota"},
    {FaultKind::kDropAfter, "drop-after"},
};

}  // namespace

const char* FaultKindName(FaultKind kind) { return NameOfKind(kKinds, kind); }

Result<FaultSpec> FaultSpec::Parse(const std::string& spec) {
  FaultSpec out;
  std::stringstream in(spec);
  std::string entry;
  while (std::getline(in, entry, ',')) {
    if (entry.empty()) continue;
    const size_t at = entry.find('@');
    const std::string kind = entry.substr(0, at);
    Fault fault;
    if (!KindOfName(kKinds, kind, &fault.kind)) {
      return Status::Invalid("--faults: unknown fault kind '" + kind + "' in '" + entry +
                             "' (kinds: rate, 429, 429-date, 500, 502, 503, drop, drop-after, "
                             "drop-upload, expire-token, quota)");
    }
    if (at != std::string::npos) {
      const std::string when = entry.substr(at + 1);
      RequestRange range;
      const bool ok = ParseRequestRange(when, &range);
      fault.first = range.first;
      fault.last = range.last;
      if (!ok) {
        return Status::Invalid("--faults: bad request range '" + when + "' in '" + entry +
                               "' (use N, N-M or N+, counting from 1)");
      }
    }
    out.faults.push_back(fault);
  }
  return out;
}

const Fault* FaultSpec::Match(uint64_t nth) const {
  for (const auto& f : faults)
    if (nth >= f.first && nth <= f.last) return &f;
  return nullptr;
}

}  // namespace jsync::emulator::gdrive

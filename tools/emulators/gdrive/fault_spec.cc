#include "tools/emulators/gdrive/fault_spec.h"

#include <cctype>
#include <sstream>

namespace jsync::emulator::gdrive {
namespace {

struct KindName {
  FaultKind kind;
  const char* name;
};
constexpr KindName kKinds[] = {
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

bool ParseCount(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  *out = std::stoull(s);
  return *out >= 1;
}

}  // namespace

const char* FaultKindName(FaultKind kind) {
  for (const auto& k : kKinds)
    if (k.kind == kind) return k.name;
  return "?";
}

Result<FaultSpec> FaultSpec::Parse(const std::string& spec) {
  FaultSpec out;
  std::stringstream in(spec);
  std::string entry;
  while (std::getline(in, entry, ',')) {
    if (entry.empty()) continue;
    const size_t at = entry.find('@');
    const std::string kind = entry.substr(0, at);
    Fault fault;
    bool known = false;
    for (const auto& k : kKinds) {
      if (kind == k.name) {
        fault.kind = k.kind;
        known = true;
      }
    }
    if (!known) {
      return Status::Invalid("--faults: unknown fault kind '" + kind + "' in '" + entry +
                             "' (kinds: rate, 429, 429-date, 500, 502, 503, drop, drop-after, "
                             "drop-upload, expire-token, quota)");
    }
    if (at != std::string::npos) {
      const std::string when = entry.substr(at + 1);
      bool ok;
      if (!when.empty() && when.back() == '+') {
        ok = ParseCount(when.substr(0, when.size() - 1), &fault.first);
        fault.last = UINT64_MAX;
      } else if (const size_t dash = when.find('-'); dash != std::string::npos) {
        ok = ParseCount(when.substr(0, dash), &fault.first) &&
             ParseCount(when.substr(dash + 1), &fault.last) && fault.last >= fault.first;
      } else {
        ok = ParseCount(when, &fault.first);
        fault.last = fault.first;
      }
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

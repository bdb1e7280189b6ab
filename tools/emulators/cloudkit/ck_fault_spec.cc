#include "tools/emulators/cloudkit/ck_fault_spec.h"

#include <sstream>

#include "tools/emulators/common/fault_when.h"
#include "tools/emulators/common/numbers.h"

namespace jsync::emulator::cloudkit {
namespace {

// The first name of a kind is the one logged; the numeric aliases match the other emulators.
constexpr KindName<FaultKind> kKinds[] = {
    {FaultKind::kThrottle, "throttle"}, {FaultKind::kThrottle, "429"},
    {FaultKind::kUnavailable, "unavailable"}, {FaultKind::kUnavailable, "503"},
    {FaultKind::k500, "500"},           {FaultKind::k502, "502"},
    {FaultKind::k504, "504"},           {FaultKind::kDrop, "drop"},
    {FaultKind::kDropAfter, "drop-after"}, {FaultKind::kAuth, "auth"},
    {FaultKind::kAuth, "421"},
};

constexpr const char* kKindList =
    "throttle[:S|:none] (429), unavailable[:S|:none] (503), 500, 502, 504, drop, drop-after, "
    "auth (421)";

}  // namespace

const char* FaultKindName(FaultKind kind) { return NameOfKind(kKinds, kind); }

Result<FaultSpec> FaultSpec::Parse(const std::string& spec) {
  FaultSpec out;
  std::stringstream in(spec);
  std::string entry;
  while (std::getline(in, entry, ',')) {
    if (entry.empty()) continue;
    auto bad = [&](const std::string& why) {
      return Status::Invalid("--faults: " + why + " in '" + entry + "' (kinds: " + kKindList +
                             "; then optionally /OP such as /records/modify; WHEN: @N, @N-M or "
                             "@N+, counting from 1 the requests the entry matches)");
    };
    const size_t at = entry.find('@');
    std::string head = entry.substr(0, at);
    Fault fault;
    if (const size_t slash = head.find('/'); slash != std::string::npos) {
      fault.op = head.substr(slash + 1);
      head = head.substr(0, slash);
      if (fault.op.empty()) return bad("empty operation after '/'");
    }
    const size_t colon = head.find(':');
    const std::string kind = head.substr(0, colon);
    if (!KindOfName(kKinds, kind, &fault.kind)) return bad("unknown fault kind '" + kind + "'");
    if (colon != std::string::npos) {
      const std::string arg = head.substr(colon + 1);
      if (fault.kind != FaultKind::kThrottle && fault.kind != FaultKind::kUnavailable)
        return bad("only throttle and unavailable take an argument");
      int64_t seconds = 0;
      if (arg == "none") {
        fault.retry_after_s = -1;
      } else if (ParseDecimal(arg, &seconds)) {
        fault.retry_after_s = seconds;
      } else {
        return bad("bad retryAfter seconds '" + arg + "'");
      }
    }
    if (at != std::string::npos) {
      const std::string when = entry.substr(at + 1);
      RequestRange range;
      if (!ParseRequestRange(when, &range)) return bad("bad request range '" + when + "'");
      fault.first = range.first;
      fault.last = range.last;
    }
    out.faults.push_back(fault);
  }
  return out;
}

}  // namespace jsync::emulator::cloudkit

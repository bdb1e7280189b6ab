#include "tools/emulators/onedrive/fault_spec.h"

#include <cctype>
#include <sstream>

#include "tools/emulators/common/fault_when.h"

namespace jsync::emulator::onedrive {
namespace {

constexpr KindName<FaultKind> kKinds[] = {
    {FaultKind::k429, "429"},
    {FaultKind::k503, "503"},
    {FaultKind::k500, "500"},
    {FaultKind::k502, "502"},
    {FaultKind::k504, "504"},
    {FaultKind::k509, "509"},
    {FaultKind::kDrop, "drop"},
    {FaultKind::kDropAfter, "drop-after"},
    {FaultKind::kDropUpload, "drop-upload"},
    {FaultKind::kDropDownload, "drop-download"},
    {FaultKind::kExpireToken, "expire-token"},
    {FaultKind::kQuota, "quota"},
    {FaultKind::k423, "423"},
    {FaultKind::kResync, "resync"},
    {FaultKind::kExpireDownload, "expire-download"},
};

constexpr const char* kKindList =
    "429[:S|:none], 503[:S|:none], 500, 502, 504, 509, drop, drop-after, drop-upload, "
    "drop-download, expire-download, expire-token, quota, 423, resync, throttle-every:N:S";

// A Retry-After in delta-seconds, integer or decimal ("2.128", as Graph's sample shows).
bool ValidSeconds(const std::string& s) {
  if (s.empty() || s.size() > 12) return false;
  bool dot = false;
  for (char c : s) {
    if (c == '.' && !dot) {
      dot = true;
    } else if (!std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return s.front() != '.' && s.back() != '.';
}

}  // namespace

const char* FaultKindName(FaultKind kind) { return NameOfKind(kKinds, kind); }

bool IsArmed(FaultKind kind) {
  switch (kind) {
    case FaultKind::kDropUpload:
    case FaultKind::kDropDownload:
    case FaultKind::kExpireToken:
    case FaultKind::kQuota:
    case FaultKind::k423:
    case FaultKind::kResync:
    case FaultKind::kExpireDownload:
      return true;
    default:
      return false;
  }
}

Result<FaultSpec> FaultSpec::Parse(const std::string& spec) {
  FaultSpec out;
  std::stringstream in(spec);
  std::string entry;
  while (std::getline(in, entry, ',')) {
    if (entry.empty()) continue;
    const size_t at = entry.find('@');
    const std::string head = entry.substr(0, at);
    const size_t colon = head.find(':');
    const std::string kind = head.substr(0, colon);
    const std::string args = colon == std::string::npos ? "" : head.substr(colon + 1);
    auto bad = [&](const std::string& why) {
      return Status::Invalid("--faults: " + why + " in '" + entry + "' (kinds: " + kKindList +
                             "; WHEN: @N, @N-M or @N+, counting from 1)");
    };
    if (kind == "throttle-every") {
      const size_t c2 = args.find(':');
      uint64_t every = 0, seconds = 0;
      if (c2 == std::string::npos || !ParseCount(args.substr(0, c2), &every) ||
          !ParseCount(args.substr(c2 + 1), &seconds) || at != std::string::npos)
        return bad("throttle-every needs :N:S (both at least 1) and no @WHEN");
      out.throttle_every = static_cast<int64_t>(every);
      out.throttle_seconds = static_cast<int64_t>(seconds);
      continue;
    }
    Fault fault;
    if (!KindOfName(kKinds, kind, &fault.kind)) return bad("unknown fault kind '" + kind + "'");
    if (colon != std::string::npos) {
      if (fault.kind != FaultKind::k429 && fault.kind != FaultKind::k503)
        return bad("only 429 and 503 take an argument");
      if (args == "none") {
        fault.retry_after.clear();
      } else if (ValidSeconds(args)) {
        fault.retry_after = args;
      } else {
        return bad("bad Retry-After seconds '" + args + "'");
      }
    }
    if (at != std::string::npos) {
      const std::string when = entry.substr(at + 1);
      RequestRange range;
      const bool ok = ParseRequestRange(when, &range);
      fault.first = range.first;
      fault.last = range.last;
      if (!ok) return bad("bad request range '" + when + "'");
    }
    out.faults.push_back(fault);
  }
  return out;
}

}  // namespace jsync::emulator::onedrive

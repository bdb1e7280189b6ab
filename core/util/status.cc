#include "core/util/status.h"

namespace jsync {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kNotFound:
      return "not_found";
    case Code::kExists:
      return "exists";
    case Code::kRetryable:
      return "retryable";
    case Code::kAuthExpired:
      return "auth_expired";
    case Code::kQuotaExceeded:
      return "quota_exceeded";
    case Code::kInvalid:
      return "invalid";
    case Code::kFatal:
      return "fatal";
    case Code::kCorrupt:
      return "corrupt";
    case Code::kGap:
      return "gap";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace jsync

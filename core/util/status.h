// Status and Result<T>: errors as values across every module boundary.
//
// Codes are chosen by what the caller must do (retry, re-link, stop, fix input).
// The primary set mirrors the provider status taxonomy in DESIGN.md; codes are
// only ever appended, never renumbered.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace jsync {

enum class Code : int {
  kOk = 0,
  kNotFound = 1,
  kExists = 2,
  kRetryable = 3,
  kAuthExpired = 4,
  kQuotaExceeded = 5,
  kInvalid = 6,  // bad input from a caller (arguments, configuration)
  kFatal = 7,    // cannot continue (I/O failure, broken local store)
  kCorrupt = 8,  // remote or local data failed verification (tampered, truncated, foreign)
  kGap = 9,      // a change file is missing from a device's log
};

const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Exists(std::string m) { return {Code::kExists, std::move(m)}; }
  static Status Invalid(std::string m) { return {Code::kInvalid, std::move(m)}; }
  static Status Fatal(std::string m) { return {Code::kFatal, std::move(m)}; }
  static Status Corrupt(std::string m) { return {Code::kCorrupt, std::move(m)}; }
  static Status Gap(std::string m) { return {Code::kGap, std::move(m)}; }
  static Status Retryable(std::string m) { return {Code::kRetryable, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool Is(Code c) const { return code_ == c; }

  // "corrupt: change 3 of device ab..: authentication failed"
  std::string ToString() const;

  // Prefixes the message with context, keeping the code.
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    Status s(code_, context + ": " + message_);
    s.retry_after_ms_ = retry_after_ms_;
    return s;
  }

  // kRetryable: how long the service asked to wait before retrying; -1 when it did not say.
  int64_t retry_after_ms() const { return retry_after_ms_; }
  Status WithRetryAfter(int64_t ms) const {
    Status s = *this;
    s.retry_after_ms_ = ms;
    return s;
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
  int64_t retry_after_ms_ = -1;
};

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace jsync

#define JSYNC_CONCAT_INNER(a, b) a##b
#define JSYNC_CONCAT(a, b) JSYNC_CONCAT_INNER(a, b)

// Returns the status from the enclosing function when it is not ok.
#define JSYNC_RETURN_IF_ERROR(expr)        \
  do {                                     \
    ::jsync::Status _jsync_st = (expr);    \
    if (!_jsync_st.ok()) return _jsync_st; \
  } while (0)

// Declares `lhs` from a Result, returning its status on failure.
#define JSYNC_ASSIGN_OR_RETURN(lhs, expr) \
  JSYNC_ASSIGN_OR_RETURN_IMPL(JSYNC_CONCAT(_jsync_res_, __LINE__), lhs, expr)
#define JSYNC_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

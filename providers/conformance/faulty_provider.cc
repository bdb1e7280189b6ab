#include "providers/conformance/faulty_provider.h"

#include <algorithm>

namespace jsync::conformance {
namespace {

template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}
const Status& StatusOf(const Status& s) { return s; }

}  // namespace

FaultyProvider::FaultyProvider(std::unique_ptr<provider::Provider> inner, provider::FaultPlan plan,
                               int64_t retry_after_ms)
    : ProviderWrapper(std::move(inner)), plan_(std::move(plan)), retry_after_ms_(retry_after_ms) {}

void FaultyProvider::set_plan(provider::FaultPlan plan, int64_t retry_after_ms) {
  plan_ = std::move(plan);
  retry_after_ms_ = retry_after_ms;
  calls_ = injected_ = passed_ = 0;
  by_method_.clear();
}

template <typename Fn>
auto FaultyProvider::Call(const std::string& method, const std::string& what, Fn fn)
    -> decltype(fn()) {
  ++calls_;
  auto it = std::find_if(by_method_.begin(), by_method_.end(),
                         [&](const auto& e) { return e.first == method; });
  if (it == by_method_.end()) it = by_method_.insert(by_method_.end(), {method, 0});
  const uint64_t nth_of_method = ++it->second;
  const provider::FaultPlan::Fault* fault = plan_.Match(calls_, method, nth_of_method);
  if (fault == nullptr) {
    ++passed_;
    return fn();
  }
  ++injected_;
  const std::string where = what + " (injected fault, call " + std::to_string(calls_) + ")";
  using Kind = provider::FaultPlan::Kind;
  switch (fault->kind) {
    case Kind::k429:
      return Status::Retryable(where + ": throttled").WithRetryAfter(retry_after_ms_);
    case Kind::k503:
      return Status::Retryable(where + ": service unavailable");
    case Kind::kReset:
    case Kind::kTorn:
      return Status::Retryable(where + ": connection reset");
    case Kind::kTimeout: {
      ++passed_;
      auto real = fn();
      (void)StatusOf(real);  // the caller never learns the outcome
      return Status::Retryable(where + ": timed out after the call was made");
    }
    case Kind::k507:
      return Status(Code::kQuotaExceeded, where + ": the account is full");
    case Kind::k401:
      return Status(Code::kAuthExpired, where + ": the credentials were refused after a refresh");
  }
  return Status::Fatal(where + ": unknown fault kind");
}

Status FaultyProvider::PutIfAbsent(const std::string& path, ByteSpan bytes) {
  return Call("PUT", "put " + path, [&] { return target().PutIfAbsent(path, bytes); });
}

Result<Bytes> FaultyProvider::Get(const std::string& path, uint64_t max_size) {
  return Call("GET", "get " + path, [&] { return target().Get(path, max_size); });
}

Result<Bytes> FaultyProvider::GetRange(const std::string& path, uint64_t offset, uint64_t length) {
  return Call("GET", "get " + path, [&] { return target().GetRange(path, offset, length); });
}

Result<std::vector<provider::ObjectInfo>> FaultyProvider::List(const std::string& prefix) {
  return Call("LIST", "list " + prefix, [&] { return target().List(prefix); });
}

Result<std::vector<provider::ObjectInfo>> FaultyProvider::ListTemporary(const std::string& prefix) {
  return Call("LIST", "list " + prefix, [&] { return target().ListTemporary(prefix); });
}

Status FaultyProvider::Remove(const std::string& path) {
  return Call("REMOVE", "remove " + path, [&] { return target().Remove(path); });
}

Result<provider::QuotaInfo> FaultyProvider::Quota() {
  return Call("QUOTA", "quota", [&] { return target().Quota(); });
}

Result<provider::ChangePage> FaultyProvider::Changes(const std::string& cursor) {
  return Call("CHANGES", "change feed", [&] { return target().Changes(cursor); });
}

Status FaultyProvider::Watch(const std::string& webhook_url) {
  return Call("WATCH", "watch", [&] { return target().Watch(webhook_url); });
}

}  // namespace jsync::conformance

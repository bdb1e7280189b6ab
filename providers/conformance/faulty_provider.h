// FaultyProvider: a Provider decorator that fails calls the way a flaky or full cloud does,
// stacked *below* the host policy (PolicyProvider) so retries, backoff and status surfacing are
// exercised end to end without a network — the provider-level counterpart of the HTTP
// FaultPlan in host/http_client.h (LevelDB's fault-injection Env, SQLite's shim VFS).
//
// It takes the same FaultPlan. Calls are numbered from 1 per decorator, every call counting
// (retries too); a plan entry's METHOD is one of PUT, GET (Get and GetRange), LIST (List and
// ListTemporary), REMOVE, QUOTA, CHANGES, WATCH. It is a ProviderWrapper: what it does not
// fail (Describe, capabilities) is forwarded as is. What each kind does here:
//   429                kRetryable with retry_after_ms (the constructor's); the call is not made
//   503, reset, torn   kRetryable, no retry_after; not made (a call cannot be torn from
//                      outside the provider, so torn is a reset at this level)
//   timeout            the call IS made, then its answer is replaced by kRetryable: the caller
//                      cannot tell whether it happened, so the retry must be idempotent
//   507                kQuotaExceeded; not made
//   401                kAuthExpired (what a plugin reports after the host's refresh failed)
// Thread-safety: like any Provider, one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "host/http_client.h"
#include "core/provider/provider.h"

namespace jsync::conformance {

class FaultyProvider final : public provider::ProviderWrapper {
 public:
  FaultyProvider(std::unique_ptr<provider::Provider> inner, provider::FaultPlan plan,
                 int64_t retry_after_ms = 1000);

  std::string Describe() const override { return target().Describe() + " (faulty)"; }
  Status PutIfAbsent(const std::string& path, ByteSpan bytes) override;
  Result<Bytes> Get(const std::string& path, uint64_t max_size) override;
  Result<Bytes> GetRange(const std::string& path, uint64_t offset, uint64_t length) override;
  Result<std::vector<provider::ObjectInfo>> List(const std::string& prefix) override;
  Result<std::vector<provider::ObjectInfo>> ListTemporary(const std::string& prefix) override;
  Status Remove(const std::string& path) override;
  Result<provider::QuotaInfo> Quota() override;
  Result<provider::ChangePage> Changes(const std::string& cursor) override;
  Status Watch(const std::string& webhook_url) override;

  // Replaces the plan (and the 429 wait) and restarts the call numbering and counters.
  void set_plan(provider::FaultPlan plan, int64_t retry_after_ms = 1000);

  // Calls received (injected ones included) and faults injected so far.
  uint64_t calls() const { return calls_; }
  uint64_t injected() const { return injected_; }
  // Calls that reached the inner provider.
  uint64_t passed() const { return passed_; }

 private:
  template <typename Fn>
  auto Call(const std::string& method, const std::string& what, Fn fn) -> decltype(fn());

  provider::FaultPlan plan_;
  int64_t retry_after_ms_;
  uint64_t calls_ = 0;
  uint64_t injected_ = 0;
  uint64_t passed_ = 0;
  std::vector<std::pair<std::string, uint64_t>> by_method_;
};

}  // namespace jsync::conformance

// The policy the host wraps around every provider call, so no plugin re-implements it:
// retries with exponential backoff and full jitter (honouring Retry-After, bounded in attempts
// and total time), a pacer (minimum interval with a burst allowance), and a quota check before
// large uploads. Clock, sleep and randomness are injected so tests never sleep for real.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/provider/provider.h"

namespace jsync::provider {

struct PolicyEnv {
  std::function<int64_t()> now_ms;  // monotonic milliseconds
  std::function<void(int64_t)> sleep_ms;
  std::function<uint64_t()> random;  // uniform 64-bit
  // Told, before it starts, of every wait the service asked for (Retry-After) that a person
  // would notice (kAnnouncedWaitMs or longer): "OneDrive asked ... waiting 120 s". May be null.
  std::function<void(const std::string&)> on_wait;
  static PolicyEnv Real(std::function<void(const std::string&)> on_wait = nullptr);
};

struct RetryPolicy {
  int max_attempts = 7;
  int64_t base_delay_ms = 250;
  int64_t max_delay_ms = 30'000;
  int64_t max_total_ms = 120'000;  // a call gives up once its own backoff would pass this
  // A wait the service asks for (Retry-After) is honoured up to this long whatever the budget
  // above: OneDrive and Drive ask for 60-300 s when they throttle a first sync, and a request
  // before the wait ends only extends it. A longer demand fails the call.
  int64_t max_service_wait_ms = 900'000;
};

// Service-requested waits at least this long are announced (PolicyEnv::on_wait).
inline constexpr int64_t kAnnouncedWaitMs = 5'000;

// Delay before retry number `attempt` (0-based): uniform in [0, min(max, base * 2^attempt)],
// but never shorter than the wait the service asked for.
int64_t BackoffDelayMs(const RetryPolicy& policy, int attempt, int64_t retry_after_ms,
                       uint64_t random);

struct PacerPolicy {
  int64_t min_interval_ms = 0;  // 0: no pacing
  int burst = 1;                // calls allowed back to back before pacing applies
};

// A token bucket shared by every instance of one location (host/transfer_pool.h), so the
// rate stays capped however many threads transfer at once. Thread-safe.
class Pacer {
 public:
  explicit Pacer(PacerPolicy policy) : policy_(policy), tokens_(policy.burst) {}
  // Takes one token at `now_ms`; returns how long the caller must wait before its call (0: go
  // now). Each waiter holds its place: concurrent callers get successive slots.
  int64_t Reserve(int64_t now_ms);
  // The service asked every client of this account to hold off until `until_ms` (a 429's
  // Retry-After): no instance sharing this pacer starts a call before then. True when this
  // starts a new hold (not the same one other instances already reported, give or take 1 s).
  bool HoldUntil(int64_t until_ms);
  const PacerPolicy& policy() const { return policy_; }

 private:
  std::mutex mu_;
  PacerPolicy policy_;
  double tokens_;
  int64_t last_refill_ms_ = -1;
  int64_t hold_until_ms_ = -1;
};

struct QuotaPolicy {
  uint64_t check_above_bytes = 1u << 20;  // uploads at least this large check quota first
  int64_t cache_ms = 60'000;              // how long a quota answer is trusted
};

struct PolicyStats {
  uint64_t retries = 0;
  uint64_t waited_ms = 0;
};

class PolicyProvider final : public ProviderWrapper {
 public:
  PolicyProvider(std::unique_ptr<Provider> inner, RetryPolicy retry, PacerPolicy pacer,
                 QuotaPolicy quota, PolicyEnv env);
  // With a pacer shared with other instances of the same location.
  PolicyProvider(std::unique_ptr<Provider> inner, RetryPolicy retry, std::shared_ptr<Pacer> pacer,
                 QuotaPolicy quota, PolicyEnv env);
  // `service` names the cloud in announced waits ("onedrive").
  void set_service_name(std::string service) { service_ = std::move(service); }

  Status PutIfAbsent(const std::string& path, ByteSpan bytes) override;
  Result<Bytes> Get(const std::string& path, uint64_t max_size) override;
  // Retry and pacing per element.
  std::vector<Result<Bytes>> GetMany(const std::vector<GetRequest>& requests) override;
  Result<Bytes> GetRange(const std::string& path, uint64_t offset, uint64_t length) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Result<std::vector<ObjectInfo>> ListTemporary(const std::string& prefix) override;
  Status Remove(const std::string& path) override;
  Result<QuotaInfo> Quota() override;
  Result<ChangePage> Changes(const std::string& cursor) override;
  Status Watch(const std::string& webhook_url) override;

  const PolicyStats& stats() const { return stats_; }

 private:
  template <typename Fn>
  auto Call(const std::string& what, Fn fn) -> decltype(fn());
  void Pace();
  Status CheckQuota(uint64_t size);

  RetryPolicy retry_;
  std::shared_ptr<Pacer> pacer_;
  QuotaPolicy quota_policy_;
  PolicyEnv env_;
  std::string service_ = "the cloud";
  PolicyStats stats_;
  std::optional<QuotaInfo> quota_;
  int64_t quota_at_ms_ = 0;
};

}  // namespace jsync::provider

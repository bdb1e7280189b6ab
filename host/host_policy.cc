#include "host/host_policy.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

namespace jsync::provider {
namespace {

template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}
const Status& StatusOf(const Status& s) { return s; }

std::string Mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / 1048576.0);
  return buf;
}

std::string Seconds(int64_t ms) {
  if (ms < 60'000 || ms % 60'000 != 0) return std::to_string((ms + 999) / 1000) + " s";
  return std::to_string(ms / 60'000) + " min";
}

}  // namespace

PolicyEnv PolicyEnv::Real(std::function<void(const std::string&)> on_wait) {
  auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
  return {[] {
            using namespace std::chrono;
            return static_cast<int64_t>(
                duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
          },
          [](int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); },
          [rng] { return (*rng)(); }, std::move(on_wait)};
}

int64_t BackoffDelayMs(const RetryPolicy& policy, int attempt, int64_t retry_after_ms,
                       uint64_t random) {
  const int shift = std::min(attempt, 30);
  const int64_t ceiling = std::min(policy.max_delay_ms, policy.base_delay_ms << shift);
  const int64_t jitter =
      ceiling > 0 ? static_cast<int64_t>(random % static_cast<uint64_t>(ceiling + 1)) : 0;
  return std::max(jitter, retry_after_ms);
}

bool Pacer::HoldUntil(int64_t until_ms) {
  std::lock_guard lock(mu_);
  const bool fresh = until_ms > hold_until_ms_ + 1000;
  hold_until_ms_ = std::max(hold_until_ms_, until_ms);
  return fresh;
}

int64_t Pacer::Reserve(int64_t now_ms) {
  std::lock_guard lock(mu_);
  // Inside a hold, callers queue behind its end: the pacing below starts from there.
  const int64_t held = hold_until_ms_ > now_ms ? hold_until_ms_ - now_ms : 0;
  now_ms += held;
  if (policy_.min_interval_ms <= 0) return held;
  const auto interval = static_cast<double>(policy_.min_interval_ms);
  if (last_refill_ms_ < 0) last_refill_ms_ = now_ms;
  if (now_ms > last_refill_ms_) {
    tokens_ = std::min<double>(policy_.burst,
                               tokens_ + static_cast<double>(now_ms - last_refill_ms_) / interval);
    last_refill_ms_ = now_ms;
  }
  // A negative balance is the queue of callers already waiting: each new one waits behind them.
  tokens_ -= 1;
  return held + (tokens_ >= 0 ? 0 : static_cast<int64_t>(-tokens_ * interval + 0.999));
}

PolicyProvider::PolicyProvider(std::unique_ptr<Provider> inner, RetryPolicy retry,
                               PacerPolicy pacer, QuotaPolicy quota, PolicyEnv env)
    : PolicyProvider(std::move(inner), retry, std::make_shared<Pacer>(pacer), quota,
                     std::move(env)) {}

PolicyProvider::PolicyProvider(std::unique_ptr<Provider> inner, RetryPolicy retry,
                               std::shared_ptr<Pacer> pacer, QuotaPolicy quota, PolicyEnv env)
    : ProviderWrapper(std::move(inner)),
      retry_(retry),
      pacer_(std::move(pacer)),
      quota_policy_(quota),
      env_(std::move(env)) {}

void PolicyProvider::Pace() {
  const int64_t wait = pacer_->Reserve(env_.now_ms());
  if (wait <= 0) return;
  env_.sleep_ms(wait);
  stats_.waited_ms += static_cast<uint64_t>(wait);
}

template <typename Fn>
auto PolicyProvider::Call(const std::string& what, Fn fn) -> decltype(fn()) {
  const int64_t start = env_.now_ms();
  int64_t service_waited = 0;  // outside the backoff budget
  for (int attempt = 0;; ++attempt) {
    Pace();
    auto result = fn();
    const Status& st = StatusOf(result);
    if (!st.Is(Code::kRetryable)) return result;
    if (attempt + 1 >= retry_.max_attempts) {
      return Status::Retryable(what + " still failing after " + std::to_string(attempt + 1) +
                               " attempts: " + st.message());
    }
    const int64_t asked = st.retry_after_ms();
    if (asked > retry_.max_service_wait_ms) {
      return Status::Retryable(what + ": " + service_ + " asked to wait " + Seconds(asked) +
                               ", longer than jsync waits in one go (" +
                               Seconds(retry_.max_service_wait_ms) +
                               "); run the sync again later (" + st.message() + ")");
    }
    const int64_t delay = BackoffDelayMs(retry_, attempt, asked, env_.random());
    if (asked > 0) {
      // Every instance of this account holds off, not only this call: a request before the
      // end of the wait only earns another one.
      const bool fresh = pacer_->HoldUntil(env_.now_ms() + asked);
      if (fresh && asked >= kAnnouncedWaitMs && env_.on_wait) {
        env_.on_wait(service_ + " asked jsync to slow down (" + st.message() + "): waiting " +
                     Seconds(asked) + " before the next request, as it asked");
      }
    } else if (env_.now_ms() - start - service_waited + delay > retry_.max_total_ms) {
      return Status::Retryable(what + " gave up: waiting " + std::to_string(delay) +
                               " ms more would pass the " + std::to_string(retry_.max_total_ms) +
                               " ms limit (" + st.message() + ")");
    }
    env_.sleep_ms(delay);
    if (asked > 0) service_waited += delay;
    ++stats_.retries;
    stats_.waited_ms += static_cast<uint64_t>(delay);
  }
}

Status PolicyProvider::CheckQuota(uint64_t size) {
  if (size < quota_policy_.check_above_bytes || !target().capabilities().quota) return Status::Ok();
  const int64_t now = env_.now_ms();
  if (!quota_ || now - quota_at_ms_ > quota_policy_.cache_ms) {
    auto q = Call("quota", [&] { return target().Quota(); });
    if (!q.ok()) return Status::Ok();  // unknown quota: let the upload find out
    quota_ = *q;
    quota_at_ms_ = now;
  }
  if (quota_->total > 0 && quota_->used + size > quota_->total) {
    return Status(Code::kQuotaExceeded,
                  "the account is full: this upload needs " + Mib(size) + " but only " +
                      Mib(quota_->total - std::min(quota_->used, quota_->total)) + " of " +
                      Mib(quota_->total) +
                      " are free; local changes stay queued until space "
                      "returns");
  }
  return Status::Ok();
}

Status PolicyProvider::PutIfAbsent(const std::string& path, ByteSpan bytes) {
  JSYNC_RETURN_IF_ERROR(CheckQuota(bytes.size()));
  Status st = Call("upload of " + path, [&] { return target().PutIfAbsent(path, bytes); });
  if (st.Is(Code::kQuotaExceeded))
    quota_.reset();
  else if (st.ok() && quota_)
    quota_->used += bytes.size();
  return st;
}

Result<Bytes> PolicyProvider::Get(const std::string& path, uint64_t max_size) {
  return Call("download of " + path, [&] { return target().Get(path, max_size); });
}

std::vector<Result<Bytes>> PolicyProvider::GetMany(const std::vector<GetRequest>& requests) {
  std::vector<Result<Bytes>> out;
  out.reserve(requests.size());
  for (const GetRequest& r : requests) out.push_back(Get(r.path, r.max_size));
  return out;
}

Result<Bytes> PolicyProvider::GetRange(const std::string& path, uint64_t offset, uint64_t length) {
  return Call("download of " + path, [&] { return target().GetRange(path, offset, length); });
}

Result<std::vector<ObjectInfo>> PolicyProvider::List(const std::string& prefix) {
  return Call("listing of " + prefix, [&] { return target().List(prefix); });
}

Result<std::vector<ObjectInfo>> PolicyProvider::ListTemporary(const std::string& prefix) {
  return Call("listing of " + prefix, [&] { return target().ListTemporary(prefix); });
}

Status PolicyProvider::Remove(const std::string& path) {
  return Call("removal of " + path, [&] { return target().Remove(path); });
}

Result<QuotaInfo> PolicyProvider::Quota() {
  return Call("quota", [&] { return target().Quota(); });
}

}  // namespace jsync::provider

namespace jsync::provider {

Result<ChangePage> PolicyProvider::Changes(const std::string& cursor) {
  return Call("change feed", [&] { return target().Changes(cursor); });
}

Status PolicyProvider::Watch(const std::string& webhook_url) {
  return Call("watch", [&] { return target().Watch(webhook_url); });
}

}  // namespace jsync::provider

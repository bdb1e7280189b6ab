// A provider layer that makes every download take `delay_ms` and records how many were in
// flight at once across all layers sharing one InFlight: shows that transfers overlap.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/provider/provider.h"

namespace jsync::testing {

struct InFlight {
  std::atomic<int> now{0};
  std::atomic<int> max{0};
  std::atomic<uint64_t> gets{0};
  std::mutex mu;
  std::vector<std::string> order;  // paths in the order their downloads started
};

class LatencyProvider final : public provider::ProviderWrapper {
 public:
  LatencyProvider(std::unique_ptr<provider::Provider> inner, int delay_ms,
                  std::shared_ptr<InFlight> stats)
      : ProviderWrapper(std::move(inner)), delay_ms_(delay_ms), stats_(std::move(stats)) {}

  Result<Bytes> Get(const std::string& path, uint64_t max_size) override {
    {
      std::lock_guard lock(stats_->mu);
      stats_->order.push_back(path);
    }
    const int n = ++stats_->now;
    int seen = stats_->max.load();
    while (n > seen && !stats_->max.compare_exchange_weak(seen, n)) {
    }
    ++stats_->gets;
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    auto r = target().Get(path, max_size);
    --stats_->now;
    return r;
  }
  // One after another through Get above, so the latency applies to batches too.
  std::vector<Result<Bytes>> GetMany(const std::vector<provider::GetRequest>& reqs) override {
    return Provider::GetMany(reqs);
  }

 private:
  int delay_ms_;
  std::shared_ptr<InFlight> stats_;
};

}  // namespace jsync::testing

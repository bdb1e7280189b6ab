#include "host/transfer_pool.h"

#include <algorithm>
#include <atomic>
#include <thread>

namespace jsync::provider {

TransferPool::TransferPool(std::unique_ptr<Provider> first, Opener open_more, int max_parallel)
    : ProviderWrapper(std::move(first)),
      open_more_(std::move(open_more)),
      max_parallel_(std::max(1, open_more_ ? max_parallel : 1)) {}

std::vector<Result<Bytes>> TransferPool::GetMany(const std::vector<GetRequest>& requests) {
  const size_t want = std::min<size_t>(static_cast<size_t>(max_parallel_), requests.size());
  // Instances are opened only when a batch needs them; one that fails to open just means
  // fewer transfers at once (the batch still completes on the others).
  while (instances() < want) {
    auto opened = open_more_();
    if (!opened.ok()) break;
    more_.push_back(std::move(opened).value());
  }
  const size_t workers = std::min(want, instances());
  if (workers <= 1) return target().GetMany(requests);

  std::vector<Result<Bytes>> results(requests.size(), Result<Bytes>(Status::Retryable("not run")));
  std::atomic<size_t> next{0};
  auto work = [&](Provider& instance) {
    for (size_t i = next++; i < requests.size(); i = next++) {
      results[i] = instance.Get(requests[i].path, requests[i].max_size);
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  for (size_t w = 1; w < workers; ++w) threads.emplace_back(work, std::ref(*more_[w - 1]));
  work(target());
  for (auto& t : threads) t.join();
  return results;
}

}  // namespace jsync::provider

#include "core/sync/prefetch.h"

#include <algorithm>

namespace jsync::sync {

Prefetcher::Prefetcher(provider::Provider& provider, std::vector<std::string> plan,
                       PrefetchOptions options, std::map<std::string, Bytes> held)
    : provider_(provider), plan_(std::move(plan)), options_(options), held_(std::move(held)) {
  for (const auto& [path, bytes] : held_) held_bytes_ += bytes.size();
  std::erase_if(plan_, [this](const std::string& p) { return held_.contains(p); });
  if (options_.batch == 0) {
    options_.batch = 4 * static_cast<size_t>(std::max(1, provider_.max_parallel()));
  }
}

Result<Bytes> Prefetcher::Get(const std::string& path) {
  if (auto it = held_.find(path); it != held_.end()) {
    Bytes bytes = std::move(it->second);
    held_bytes_ -= bytes.size();
    held_.erase(it);
    return bytes;
  }
  std::vector<provider::GetRequest> batch{{path, options_.max_size}};
  // Without overlap there is nothing to gain from fetching ahead, only memory to spend.
  const uint64_t room =
      options_.budget_bytes > held_bytes_ ? options_.budget_bytes - held_bytes_ : 0;
  // Fetch ahead only with half the budget free: the held files drain as the merge goes on,
  // and a nearly full budget would only buy downloads capped too small to succeed.
  if (provider_.max_parallel() > 1 && options_.batch > 1 && room >= options_.budget_bytes / 2) {
    std::vector<std::string> ahead;
    for (; next_ < plan_.size() && ahead.size() + 1 < options_.batch; ++next_) {
      const std::string& p = plan_[next_];
      if (p != path && !held_.contains(p)) ahead.push_back(p);
    }
    if (!ahead.empty()) {
      const uint64_t cap = std::min<uint64_t>(options_.max_size, room / ahead.size());
      for (auto& p : ahead) batch.push_back({std::move(p), cap});
    }
  }
  auto results = provider_.GetMany(batch);
  for (size_t i = 1; i < results.size(); ++i) {
    if (!results[i].ok()) continue;
    held_bytes_ += results[i]->size();
    held_.emplace(batch[i].path, std::move(results[i]).value());
  }
  return std::move(results[0]);
}

std::vector<std::string> RoundRobin(const std::vector<std::vector<std::string>>& per_device) {
  std::vector<std::string> out;
  for (size_t round = 0;; ++round) {
    bool any = false;
    for (const auto& paths : per_device) {
      if (round < paths.size()) {
        out.push_back(paths[round]);
        any = true;
      }
    }
    if (!any) return out;
  }
}

}  // namespace jsync::sync

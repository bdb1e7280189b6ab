// Wraps a provider and counts calls and bytes moved, for `sync --json` and the benchmarks.
#pragma once

#include "core/provider/provider.h"

namespace jsync::provider {

struct ProviderCounters {
  uint64_t puts = 0, gets = 0, lists = 0, removes = 0;
  uint64_t feeds = 0;  // change feed reads (Changes)
  uint64_t bytes_up = 0, bytes_down = 0;
  uint64_t calls() const { return puts + gets + lists + removes + feeds; }
};

class CountingProvider final : public ProviderWrapper {
 public:
  explicit CountingProvider(std::unique_ptr<Provider> inner) : ProviderWrapper(std::move(inner)) {}

  Status PutIfAbsent(const std::string& path, ByteSpan bytes) override {
    ++counters_.puts;
    counters_.bytes_up += bytes.size();
    return target().PutIfAbsent(path, bytes);
  }
  Result<Bytes> Get(const std::string& path, uint64_t max_size) override {
    ++counters_.gets;
    auto r = target().Get(path, max_size);
    if (r.ok()) counters_.bytes_down += r->size();
    return r;
  }
  // Each element counts as one get, as if it were a Get of its own.
  std::vector<Result<Bytes>> GetMany(const std::vector<GetRequest>& requests) override {
    counters_.gets += requests.size();
    auto results = target().GetMany(requests);
    for (const auto& r : results)
      if (r.ok()) counters_.bytes_down += r->size();
    return results;
  }
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    ++counters_.lists;
    return target().List(prefix);
  }
  Result<std::vector<ObjectInfo>> ListTemporary(const std::string& prefix) override {
    ++counters_.lists;
    return target().ListTemporary(prefix);
  }
  Status Remove(const std::string& path) override {
    ++counters_.removes;
    return target().Remove(path);
  }
  Result<Bytes> GetRange(const std::string& path, uint64_t offset, uint64_t length) override {
    ++counters_.gets;
    auto r = target().GetRange(path, offset, length);
    if (r.ok()) counters_.bytes_down += r->size();
    return r;
  }
  Result<ChangePage> Changes(const std::string& cursor) override {
    ++counters_.feeds;
    return target().Changes(cursor);
  }

  const ProviderCounters& counters() const { return counters_; }

 private:
  ProviderCounters counters_;
};

}  // namespace jsync::provider

// Wraps a provider and counts calls and bytes moved, for `sync --json` and the benchmarks.
#pragma once

#include "core/provider/provider.h"

namespace jsync::provider {

struct ProviderCounters {
  uint64_t puts = 0, gets = 0, lists = 0, removes = 0;
  uint64_t bytes_up = 0, bytes_down = 0;
  uint64_t calls() const { return puts + gets + lists + removes; }
};

class CountingProvider final : public Provider {
 public:
  explicit CountingProvider(std::unique_ptr<Provider> inner) : inner_(std::move(inner)) {}

  std::string Describe() const override { return inner_->Describe(); }
  Status PutIfAbsent(const std::string& path, ByteSpan bytes) override {
    ++counters_.puts;
    counters_.bytes_up += bytes.size();
    return inner_->PutIfAbsent(path, bytes);
  }
  Result<Bytes> Get(const std::string& path, uint64_t max_size) override {
    ++counters_.gets;
    auto r = inner_->Get(path, max_size);
    if (r.ok()) counters_.bytes_down += r->size();
    return r;
  }
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    ++counters_.lists;
    return inner_->List(prefix);
  }
  Result<std::vector<ObjectInfo>> ListTemporary(const std::string& prefix) override {
    ++counters_.lists;
    return inner_->ListTemporary(prefix);
  }
  Status Remove(const std::string& path) override {
    ++counters_.removes;
    return inner_->Remove(path);
  }
  Result<Bytes> GetRange(const std::string& path, uint64_t offset, uint64_t length) override {
    ++counters_.gets;
    auto r = inner_->GetRange(path, offset, length);
    if (r.ok()) counters_.bytes_down += r->size();
    return r;
  }
  Capabilities capabilities() const override { return inner_->capabilities(); }
  Result<QuotaInfo> Quota() override { return inner_->Quota(); }

  const ProviderCounters& counters() const { return counters_; }

 private:
  std::unique_ptr<Provider> inner_;
  ProviderCounters counters_;
};

}  // namespace jsync::provider

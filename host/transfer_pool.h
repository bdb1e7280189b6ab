// Runs a batch of downloads (Provider::GetMany) on up to K instances of one location at once,
// as rclone's --transfers: the engine stays single-threaded and only the fetching overlaps.
//
// The plugin ABI's threading contract (providers/sdk/jsync_provider.h) says one instance is
// never called from two threads at once, so each worker thread has an instance of its own:
// the first is the wrapped provider, the others are opened lazily through `open_more` (same
// plugin, location, options and credentials; credential sources are thread-safe). Each
// instance carries its own retry policy; they share one pacer, which caps the rate across all.
// Every other call goes to the first instance, on the caller's thread.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "core/provider/provider.h"

namespace jsync::provider {

// The default number of transfers at once when a plugin does not declare its own.
inline constexpr int kDefaultTransfers = 4;

class TransferPool final : public ProviderWrapper {
 public:
  using Opener = std::function<Result<std::unique_ptr<Provider>>()>;
  TransferPool(std::unique_ptr<Provider> first, Opener open_more, int max_parallel);

  std::vector<Result<Bytes>> GetMany(const std::vector<GetRequest>& requests) override;
  int max_parallel() const override { return max_parallel_; }

  // Instances opened so far (the first included).
  size_t instances() const { return 1 + more_.size(); }

 private:
  Opener open_more_;
  int max_parallel_;
  std::vector<std::unique_ptr<Provider>> more_;
};

}  // namespace jsync::provider

// Downloads the change files a merge will ask for ahead of it, in batches through
// Provider::GetMany, so a provider that overlaps transfers (the host's transfer pool) fetches
// K at once while the merge itself stays single-threaded and in exactly its own order.
//
// The plan is the order the merge is expected to ask (one file per device per sweep, devices
// in turn). Get(path) answers from what was fetched ahead, or fetches `path` together with the
// next files of the plan. Memory stays bounded: speculative downloads are each capped so that
// everything held plus everything asked for stays within budget_bytes (one a file over its
// cap is dropped and fetched again alone, at the full limit, when the merge asks for it). A
// speculative download that failed in any way is dropped too: the merge sees the failure of
// its own, unspeculative Get, exactly as without prefetching.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/provider/provider.h"

namespace jsync::sync {

struct PrefetchOptions {
  uint64_t max_size = provider::kNoSizeLimit;  // the limit of the files fetched (the format's)
  uint64_t budget_bytes = 64ull << 20;         // bytes held or asked for ahead of the merge
  size_t batch = 0;                            // files per GetMany; 0: 4 per parallel transfer
};

class Prefetcher {
 public:
  // `held`: files already downloaded (discovery's probes), answered first and counted in the
  // budget; they are taken out of the plan.
  Prefetcher(provider::Provider& provider, std::vector<std::string> plan, PrefetchOptions options,
             std::map<std::string, Bytes> held = {});

  // The whole object at `path` (at most options.max_size), as provider.Get would answer.
  Result<Bytes> Get(const std::string& path);

  uint64_t held_bytes() const { return held_bytes_; }

 private:
  provider::Provider& provider_;
  std::vector<std::string> plan_;
  PrefetchOptions options_;
  size_t next_ = 0;  // first plan entry not yet asked for
  std::map<std::string, Bytes> held_;
  uint64_t held_bytes_ = 0;
};

// Interleaves per-device lists of paths (each in seq order) the way the merge sweeps them:
// first of each device, then second of each, and so on.
std::vector<std::string> RoundRobin(const std::vector<std::vector<std::string>>& per_device);

}  // namespace jsync::sync

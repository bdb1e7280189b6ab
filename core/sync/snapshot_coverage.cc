#include "core/sync/snapshot_coverage.h"

#include <memory>

#include "core/format/snapshot_file.h"
#include "core/sync/remote_layout.h"

namespace jsync::sync {
namespace {

constexpr uint64_t kHeaderReadBytes = 64u << 10;

struct Headers {
  bool loaded = false;
  std::vector<std::pair<std::string, format::SnapshotVv>> vvs;
};

}  // namespace

CoverageRule SnapshotCoverage(provider::Provider& provider, const JournalId& journal) {
  auto headers = std::make_shared<Headers>();
  return [&provider, journal, headers](DeviceId device,
                                       uint64_t first_held) -> std::optional<Coverage> {
    if (!headers->loaded) {
      headers->loaded = true;
      auto listing = provider.List(SnapshotsPrefix(journal));
      if (listing.ok()) {
        for (const auto& o : *listing) {
          if (!ParseSnapshotPath(journal, o.path)) continue;
          auto head = provider.GetRange(o.path, 0, kHeaderReadBytes);
          if (!head.ok()) continue;
          auto parsed = format::ParseSnapshotHeader(*head);
          if (!parsed.ok() || parsed->header.journal != journal) continue;
          headers->vvs.emplace_back(o.path, parsed->header.vv);
        }
      }
    }
    std::optional<Coverage> best;
    for (const auto& [path, vv] : headers->vvs) {
      auto it = vv.find(device);
      if (it == vv.end() || it->second.seq + 1 < first_held) continue;
      Coverage c;
      c.by = "snapshot " + path;
      if (it->second.seq + 1 == first_held) c.head = it->second.hash;
      if (!best || c.head) best = c;
    }
    return best;
  };
}

}  // namespace jsync::sync

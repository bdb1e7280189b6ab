// How a sync cycle learns what the cloud holds, at a cost that does not grow with the history
// (docs/decisions/0024-discovery-cost.md):
//
//   change feed (capabilities().change_feed): the store mirrors the journal's names
//     (Store::RemoteNames) and the feed's cursor (meta "feed_cursor"). A cycle reads the feed
//     since the cursor — one request when nothing changed — and applies it to the mirror and
//     the cursor in one transaction. With no cursor, an expired one, or removals the feed
//     cannot name, and once a week: a start cursor, then one full listing that replaces the
//     mirror.
//   no feed (folder, WebDAV): probes. One listing of devices/, and for each device one
//     download of its next change (what the merge needs anyway; for this device, its next
//     own slot, which must be empty); a device whose next change is there gets its changes/
//     folder listed, this device's taken slot a full listing. A full listing of the journal — which is what
//     finds lost or rolled-back files, own files to re-upload and a lost key file — runs on
//     the first sync, when asked, and once the last one is older than an interval (a day).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/format/change_file.h"
#include "core/provider/provider.h"
#include "core/store/store.h"

namespace jsync::sync {

inline constexpr const char* kFeedCursorMeta = "feed_cursor";
inline constexpr const char* kLastFullListingMeta = "last_full_listing_ms";
inline constexpr int64_t kDefaultFullListingIntervalMs = 24LL * 3600 * 1000;

struct DiscoveryOptions {
  bool full_listing = false;  // list everything this cycle, whatever the provider offers
  int64_t full_listing_interval_ms = kDefaultFullListingIntervalMs;  // providers without a feed
};

// What one look at the cloud found.
struct RemoteView {
  std::vector<provider::ObjectInfo> listing;  // sorted by path
  // True when `listing` names everything under the journal (a full listing, or the feed's
  // mirror); false after probes, which see only the next change of each device.
  bool complete = true;
  std::map<std::string, Bytes> prefetched;  // changes the probes downloaded, by path
  std::string method;                       // "feed", "listing" or "probe": for reports
  // A full listing made by the probing path: the caller records it as the last one
  // (kLastFullListingMeta) only once its cycle completes, so a cycle that crashed or failed
  // after listing lists again next time instead of probing (a first sync that crashed would
  // otherwise probe for seq 1 of logs pruned long ago and find nothing new for a day).
  std::optional<uint64_t> full_listing_at;
};

struct DiscoveryContext {
  store::Store& store;
  provider::Provider& provider;
  JournalId journal{};
  DeviceId device = 0;  // this device: never probed
  uint64_t now_ms = 0;  // wall clock, for the full-listing interval
};

// One look at the cloud (see the header comment). Notices (an expired feed cursor) go to
// `notices`; failures that stop the cycle come back as a Status.
Result<RemoteView> LookAtRemote(const DiscoveryContext& ctx, const DiscoveryOptions& options,
                                std::vector<std::string>& notices);

// Records an object this device just wrote in the feed's mirror, so the next cycle does not
// take it for missing before the feed reports it. No-op for providers without a feed.
Status NoteUploaded(const DiscoveryContext& ctx, const std::string& path, uint64_t size);

}  // namespace jsync::sync

#include "core/sync/discovery.h"

#include <algorithm>
#include <set>

#include "core/format/change_file.h"
#include "core/sync/remote_layout.h"

namespace jsync::sync {
namespace {

// The feed's start cursor first, then the listing: whatever is written in between shows up
// in both, never in neither.
Result<std::vector<provider::ObjectInfo>> RelistIntoMirror(const DiscoveryContext& ctx) {
  JSYNC_ASSIGN_OR_RETURN(provider::ChangePage start, ctx.provider.Changes(""));
  if (start.expired || start.cursor.empty()) {
    return Status::Retryable("the change feed of " + ctx.provider.Describe() +
                             " gave no start cursor");
  }
  JSYNC_ASSIGN_OR_RETURN(auto listing, ctx.provider.List(JournalRoot(ctx.journal)));
  auto txn = ctx.store.Begin();
  JSYNC_RETURN_IF_ERROR(txn.began());
  JSYNC_RETURN_IF_ERROR(ctx.store.ClearRemoteNames());
  for (const auto& o : listing) JSYNC_RETURN_IF_ERROR(ctx.store.PutRemoteName(o));
  JSYNC_RETURN_IF_ERROR(ctx.store.SetMeta(kFeedCursorMeta, start.cursor));
  JSYNC_RETURN_IF_ERROR(ctx.store.SetMeta(kLastFullListingMeta, std::to_string(ctx.now_ms)));
  JSYNC_RETURN_IF_ERROR(txn.Commit());
  return listing;
}

Status ApplyFeedPage(const DiscoveryContext& ctx, const provider::ChangePage& page) {
  const std::string root = JournalRoot(ctx.journal);
  auto txn = ctx.store.Begin();
  JSYNC_RETURN_IF_ERROR(txn.began());
  // Removals first: a name removed and written again within one page is there now.
  for (const auto& path : page.removed) {
    if (path.starts_with(root)) JSYNC_RETURN_IF_ERROR(ctx.store.RemoveRemoteName(path));
  }
  for (const auto& o : page.changed) {
    if (o.path.starts_with(root)) JSYNC_RETURN_IF_ERROR(ctx.store.PutRemoteName(o));
  }
  JSYNC_RETURN_IF_ERROR(ctx.store.SetMeta(kFeedCursorMeta, page.cursor));
  return txn.Commit();
}

bool FullListingDue(const DiscoveryContext& ctx, const DiscoveryOptions& options,
                    const std::optional<std::string>& last) {
  if (options.full_listing || !last) return true;
  char* end = nullptr;
  const unsigned long long at = std::strtoull(last->c_str(), &end, 10);
  if (end == last->c_str()) return true;
  // A clock set back makes "last" lie in the future: list rather than wait for it.
  if (ctx.now_ms < at) return true;
  return ctx.now_ms - at >= static_cast<uint64_t>(options.full_listing_interval_ms);
}

Result<RemoteView> ThroughFeed(const DiscoveryContext& ctx, const DiscoveryOptions& options,
                               std::vector<std::string>& notices) {
  JSYNC_ASSIGN_OR_RETURN(auto cursor, ctx.store.GetMeta(kFeedCursorMeta));
  JSYNC_ASSIGN_OR_RETURN(auto last, ctx.store.GetMeta(kLastFullListingMeta));
  // A feed is trusted, yet the mirror is checked against a listing once a week: whatever a
  // service's feed ever failed to report is found within that time.
  DiscoveryOptions weekly = options;
  weekly.full_listing_interval_ms = options.full_listing_interval_ms * 7;
  bool relist = !cursor || cursor->empty() || FullListingDue(ctx, weekly, last);
  RemoteView view;
  view.method = "feed";
  if (!relist) {
    JSYNC_ASSIGN_OR_RETURN(provider::ChangePage page, ctx.provider.Changes(*cursor));
    if (page.expired) {
      notices.push_back("the change feed of " + ctx.provider.Describe() +
                        " no longer accepts where this device left it (it expires after a "
                        "long time offline): listed the journal's folder again instead");
      relist = true;
    } else if (page.unnamed_removals) {
      relist = true;  // the feed said something went but not what: a listing tells
    } else {
      JSYNC_RETURN_IF_ERROR(ApplyFeedPage(ctx, page));
    }
  }
  if (relist) {
    JSYNC_ASSIGN_OR_RETURN(view.listing, RelistIntoMirror(ctx));
    view.method = "listing";
  } else {
    JSYNC_ASSIGN_OR_RETURN(view.listing, ctx.store.RemoteNames());
  }
  return view;
}

Result<RemoteView> ThroughProbes(const DiscoveryContext& ctx, const DiscoveryOptions& options) {
  RemoteView view;
  JSYNC_ASSIGN_OR_RETURN(auto last, ctx.store.GetMeta(kLastFullListingMeta));
  if (FullListingDue(ctx, options, last)) {
    JSYNC_ASSIGN_OR_RETURN(view.listing, ctx.provider.List(JournalRoot(ctx.journal)));
    view.full_listing_at = ctx.now_ms;
    view.method = "listing";
    return view;
  }
  // This device's own next slot: something there means another home writes as this id (a
  // copied home ran ahead), which only a full listing lets the cycle judge.
  JSYNC_ASSIGN_OR_RETURN(store::Cursor sealed, ctx.store.LastSealed());
  auto own = ctx.provider.Get(ChangePath(ctx.journal, ctx.device, sealed.seq + 1),
                              format::kMaxChangeFileSize);
  if (!own.ok() && !own.status().Is(Code::kNotFound) && !own.status().Is(Code::kCorrupt)) {
    return own.status();
  }
  if (!own.status().Is(Code::kNotFound)) {
    DiscoveryOptions full = options;
    full.full_listing = true;
    return ThroughProbes(ctx, full);
  }
  view.method = "probe";
  view.complete = false;
  JSYNC_ASSIGN_OR_RETURN(view.listing, ctx.provider.List(DevicesPrefix(ctx.journal)));
  // Every other device this one knows of, by its device file or by what it merged from it.
  std::set<DeviceId> others;
  for (const auto& o : view.listing) {
    if (auto d = ParseDevicePath(ctx.journal, o.path)) others.insert(*d);
  }
  JSYNC_ASSIGN_OR_RETURN(auto cursors, ctx.store.Cursors());
  for (const auto& [d, cursor] : cursors) others.insert(d);
  others.erase(ctx.device);
  for (DeviceId d : others) {
    const uint64_t next = cursors.contains(d) ? cursors[d].seq + 1 : 1;
    const std::string path = ChangePath(ctx.journal, d, next);
    auto got = ctx.provider.Get(path, format::kMaxChangeFileSize);
    if (!got.ok() && got.status().Is(Code::kNotFound)) continue;
    if (!got.ok() && !got.status().Is(Code::kCorrupt)) return got.status();
    // Something is there: learn the device's whole log (one listing) so the merge sees the
    // rest of it and any gap. A refused object is listed and refused again by the merge.
    if (got.ok()) view.prefetched[path] = std::move(got).value();
    JSYNC_ASSIGN_OR_RETURN(auto log, ctx.provider.List(DeviceChangesPrefix(ctx.journal, d)));
    const bool listed = std::any_of(log.begin(), log.end(),
                                    [&](const provider::ObjectInfo& o) { return o.path == path; });
    view.listing.insert(view.listing.end(), log.begin(), log.end());
    if (!listed) view.listing.push_back({path, 0});  // removed right after the probe
  }
  std::sort(view.listing.begin(), view.listing.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  return view;
}

}  // namespace

Result<RemoteView> LookAtRemote(const DiscoveryContext& ctx, const DiscoveryOptions& options,
                                std::vector<std::string>& notices) {
  if (ctx.provider.capabilities().change_feed) {
    auto view = ThroughFeed(ctx, options, notices);
    // A provider that claims a feed but cannot serve one is probed like any other.
    if (view.ok() || !view.status().Is(Code::kNotFound)) return view;
  }
  return ThroughProbes(ctx, options);
}

Status NoteUploaded(const DiscoveryContext& ctx, const std::string& path, uint64_t size) {
  if (!ctx.provider.capabilities().change_feed) return Status::Ok();
  JSYNC_ASSIGN_OR_RETURN(auto cursor, ctx.store.GetMeta(kFeedCursorMeta));
  if (!cursor) return Status::Ok();  // no mirror yet: the first listing will see it
  return ctx.store.PutRemoteName({path, size});
}

}  // namespace jsync::sync

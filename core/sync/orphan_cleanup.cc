#include "core/sync/orphan_cleanup.h"

#include <string>

#include "core/model/hlc.h"
#include "core/sync/remote_layout.h"
#include "core/util/escape.h"
#include "providers/sdk/jsync_provider.h"

namespace jsync::sync {
namespace {

constexpr const char* kLastCleanupMeta = "orphan_cleanup_ms";

std::string FileName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Removes the old temporary files under `prefix` for which `own` says yes.
template <typename Own>
uint64_t Sweep(provider::Provider& provider, const std::string& prefix, int64_t now_ms, Own own,
               SyncReport& report) {
  auto temps = provider.ListTemporary(prefix);
  if (!temps.ok()) {
    report.notices.push_back("could not look for leftover upload files under " +
                             EscapeForDisplay(prefix) + ": " + temps.status().message());
    return 0;
  }
  uint64_t removed = 0;
  for (const auto& t : *temps) {
    // Without a time we cannot tell an orphan from an upload in flight: keep it.
    if (t.mtime_ms < 0 || now_ms - t.mtime_ms < kOrphanUploadAgeMs) continue;
    if (t.kind != provider::ObjectKind::kFile || !own(FileName(t.path))) continue;
    Status st = provider.Remove(t.path);
    if (!st.ok()) {
      report.notices.push_back("could not remove leftover upload file " + EscapeForDisplay(t.path) +
                               ": " + st.message());
      continue;
    }
    ++removed;
  }
  return removed;
}

}  // namespace

uint64_t RemoveOwnOrphanUploads(provider::Provider& provider, const JournalId& journal,
                                DeviceId device, int64_t now_ms, SyncReport& report) {
  // Only this device writes under changes/<device>/: every temporary file there is its own.
  uint64_t removed = Sweep(
      provider, DeviceChangesPrefix(journal, device), now_ms,
      [](const std::string&) { return true; }, report);
  // The devices folder is shared: only ".jsync-tmp-<own device file name>-..." is ours.
  const std::string own_device_temp =
      std::string(JSYNC_TEMP_PREFIX) + FileName(DevicePath(journal, device)) + "-";
  removed += Sweep(
      provider, DevicesPrefix(journal), now_ms,
      [&](const std::string& name) { return name.starts_with(own_device_temp); }, report);
  if (removed > 0) {
    report.notices.push_back("removed " + std::to_string(removed) +
                             " leftover upload file(s) of this device from interrupted uploads");
  }
  return removed;
}

void MaybeRemoveOwnOrphanUploads(const SyncContext& ctx, SyncReport& report) {
  const auto now = static_cast<int64_t>(SystemMillis());
  auto last = ctx.store.GetMeta(kLastCleanupMeta);
  if (last.ok() && last->has_value()) {
    try {
      const int64_t at = std::stoll(**last);
      if (at <= now && now - at < kOrphanCleanupEveryMs) return;
    } catch (...) {
      // A malformed value: run, and write a good one.
    }
  }
  RemoveOwnOrphanUploads(ctx.provider, ctx.journal, ctx.device, now, report);
  (void)ctx.store.SetMeta(kLastCleanupMeta, std::to_string(now));
}

}  // namespace jsync::sync

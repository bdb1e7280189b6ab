// Removes the temporary upload files (".jsync-tmp-*") this device's killed uploads left in the
// cloud. Only its own: those in its own changes folder (no other device writes there) and, in
// the shared devices folder, those named for its own device file (plugins put the target's
// name in the temporary name). Only old ones: a temporary file younger than
// kOrphanUploadAgeMs may still be an upload in flight (another process, a slow share, a clock
// that differs from the storage's). See docs/decisions/0018-hostile-cloud-folder.md.
#pragma once

#include <cstdint>

#include "core/provider/provider.h"
#include "core/sync/sync_engine.h"

namespace jsync::sync {

inline constexpr int64_t kOrphanUploadAgeMs = 60 * 60 * 1000;          // 1 hour
inline constexpr int64_t kOrphanCleanupEveryMs = 24 * 60 * 60 * 1000;  // one look a day

// The step itself. Never fails the sync: a listing or removal that fails is a notice, and the
// next cleanup tries again. Returns how many files were removed.
uint64_t RemoveOwnOrphanUploads(provider::Provider& provider, const JournalId& journal,
                                DeviceId device, int64_t now_ms, SyncReport& report);

// Runs the step at most once per kOrphanCleanupEveryMs (the time of the last run is kept in the
// local store), so an ordinary sync costs no extra listing.
void MaybeRemoveOwnOrphanUploads(const SyncContext& ctx, SyncReport& report);

}  // namespace jsync::sync

// Where uploads are written before they are moved into the synced folder. iCloud uploads
// whatever appears in its tree, a half-written temporary file included, so temporaries live
// outside it (reference/icloud.md §6), on the same volume: link() and rename() cannot cross
// volumes (EXDEV), and a copy would not be atomic.
#pragma once

#include <string>

#include "jsync_provider.h"

namespace jsync_icloud_drive {

// The default staging folder: ~/Library/Caches/journal-sync/staging on macOS (inside
// ~/Library/Mobile Documents would be synced), else $XDG_CACHE_HOME/journal-sync/staging
// (~/.cache/...). "" when no home folder is known.
std::string DefaultStagingDir();

// Makes `staging` (or the default when it is empty) and checks it against the location: not
// inside it, not inside iCloud Drive (macOS), on the same volume. *out: its absolute path.
int PrepareStaging(const std::string& staging, const std::string& location, std::string* out,
                   jsync_error* err);

// Removes this plugin's temporaries older than a day from the staging folder (left behind by
// a killed upload). Best effort.
void RemoveStaleTemporaries(const std::string& staging, int64_t now_ms);

// The one message for EXDEV.
std::string CrossVolumeMessage(const std::string& staging, const std::string& location);

}  // namespace jsync_icloud_drive

// The journal's custom zone (change tracking and atomic batches exist only in custom zones,
// icloud.md §1). Made lazily by the first operation that needs it (open makes no request, so a
// device opens offline) and again after CloudKit says ZONE_NOT_FOUND: the user erased the app's
// iCloud data; the host then lists again and every device re-uploads what it wrote.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "icloud_instance.h"

namespace jsync_icloud {

// {"zoneName": inst->zone}
nlohmann::json ZoneId(const jsync_instance* inst);

// zones/modify create, unless this instance made or found it already. Creating a zone that
// exists is success (so is EXISTS: the web answer is undocumented, icloud.md §1).
int EnsureZone(jsync_instance* inst, std::string_view what, jsync_error* err);

// Forget the zone (after ZONE_NOT_FOUND), so the next EnsureZone makes it again.
inline void ForgetZone(jsync_instance* inst) { inst->zone_ready = false; }

}  // namespace jsync_icloud

// The change feed (Graph delta), push (Graph subscriptions) and quota (/me/drive).
//
// Feed: personal drives run delta on the app folder; business drives only allow delta on the
// drive root, so the plugin runs it there and keeps what lies under the app folder. The cursor
// is Graph's deltaLink (an absolute URL, refused unless it stays on api_base's origin). No
// cursor: delta?token=latest gives the start cursor and nothing else. Delta items carry no
// path, only their parent's id: the plugin names paths from the ids it has seen (delta
// includes the ancestors of what changed), asking Graph for an id it does not know. Deleted
// items become removals when their path is known, and an unnamed removal (the host lists
// again) when not. 410 resyncRequired is JSYNC_NOT_FOUND_CURSOR_EXPIRED.
#pragma once

#include <cstdint>

#include "onedrive_instance.h"

namespace jsync_onedrive {

int DoChanges(jsync_instance* inst, const char* cursor, jsync_list_sink* out, jsync_error* err);
int DoWatch(jsync_instance* inst, const char* webhook_url, jsync_error* err);
int DoQuota(jsync_instance* inst, uint64_t* used, uint64_t* total, jsync_error* err);

// An ISO-8601 UTC time with milliseconds ("2026-01-01T11:23:00.000Z") for Unix ms.
std::string FormatGraphTime(int64_t unix_ms);

}  // namespace jsync_onedrive

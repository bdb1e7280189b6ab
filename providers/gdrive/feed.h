// The change feed (changes.getStartPageToken / changes.list, with a listing as the fallback
// when Drive refuses a page token), push (changes.watch) and quota (about.get).
#pragma once

#include <cstdint>

#include "gdrive_instance.h"

namespace jsync_gdrive {

int DoChanges(jsync_instance* inst, const char* cursor, jsync_list_sink* out, jsync_error* err);
int DoWatch(jsync_instance* inst, const char* webhook_url, jsync_error* err);
int DoQuota(jsync_instance* inst, uint64_t* used, uint64_t* total, jsync_error* err);

}  // namespace jsync_gdrive

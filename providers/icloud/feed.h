// The change feed (icloud.md §4). The cursor holds two CloudKit sync tokens: the database's
// (changes/database: which zones changed) and the journal zone's (changes/zone: what changed
// in it). A poll asks changes/database first, so a quiet poll is one small request; only when
// the journal's zone is among the changed zones does it walk changes/zone from its token,
// every page in one call, reporting new records as objects and tombstones as removals (record
// names are reversible, ck_names.h, so a removal names its object).
//   no cursor: the start cursor (both tokens walked to the end, nothing emitted; the zone is
//              made if missing);
//   a token CloudKit refuses, or a zone that is gone (ZONE_NOT_FOUND: the user erased the
//   app's iCloud data): JSYNC_NOT_FOUND_CURSOR_EXPIRED, nothing emitted; the host takes a start
//   cursor and lists again, and each device re-uploads what it wrote.
#pragma once

#include "icloud_instance.h"

namespace jsync_icloud {

int DoChanges(jsync_instance* inst, const char* cursor, jsync_list_sink* out, jsync_error* err);

}  // namespace jsync_icloud

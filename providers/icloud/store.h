// put/get/list/remove on the journal's zone (records.h for the mapping).
//   put(if_absent): records/modify `create` (atomic false); EXISTS -> records/lookup of the
//     size and sha256: the same bytes are an earlier attempt whose answer was lost (success),
//     others JSYNC_EXISTS. A plain put is forceReplace.
//   get: records/lookup, then the inline bytes, the asset or the parts; a full read is checked
//     against the record's sha256 and size (CloudKit's checksum cannot be checked).
//   list: a whole changes/zone walk without a token, one page per call, the page token being
//     CloudKit's syncToken; records/query is unfit (its index lags, icloud.md §3).
//   remove: forceDelete (NOT_FOUND is success), the parts after the main record.
// ZONE_NOT_FOUND: the zone is made again and a put tried once more; get and list see nothing.
#pragma once

#include <cstdint>

#include "icloud_instance.h"

namespace jsync_icloud {

int DoPut(jsync_instance* inst, const char* path, const uint8_t* data, size_t len, int if_absent,
          jsync_error* err);
int DoGet(jsync_instance* inst, const char* path, uint64_t offset, uint64_t length,
          jsync_sink* out, jsync_error* err);
int DoList(jsync_instance* inst, const char* prefix, const char* page_token, jsync_list_sink* out,
           jsync_error* err);
int DoRemove(jsync_instance* inst, const char* path, jsync_error* err);

// Whether `path` is a name this plugin can store (a valid relative path with a record name).
bool StorablePath(const char* path);

}  // namespace jsync_icloud

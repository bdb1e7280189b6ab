// The object operations of the provider table: put (idempotent create-if-absent), get (range
// reads through the pre-authenticated download link), list (prefix, pages over the folder
// tree) and remove, on top of items and upload.
#pragma once

#include <cstdint>

#include "onedrive_instance.h"

namespace jsync_onedrive {

int DoPut(jsync_instance* inst, const char* path, const uint8_t* data, size_t len, int if_absent,
          jsync_error* err);
int DoGet(jsync_instance* inst, const char* path, uint64_t offset, uint64_t length, jsync_sink* out,
          jsync_error* err);
int DoList(jsync_instance* inst, const char* prefix, const char* page_token, jsync_list_sink* out,
           jsync_error* err);
int DoRemove(jsync_instance* inst, const char* path, jsync_error* err);

}  // namespace jsync_onedrive

// CloudKit assets (icloud.md §5.1): content too large for a record's BYTES field.
//   upload: assets/upload names the record and field and hands out an upload URL (valid 15
//           minutes); the bytes are POSTed there (pre-authenticated: no account token goes
//           there) and the answer's singleFile dictionary is the receipt a records/modify puts in
//           the field.
//   download: a record's asset field holds a downloadURL with the literal placeholder ${f}
//           (a file name, URL-encoded); it expires, so a refused URL means "look the record
//           up again", which the host's retry does.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "icloud_instance.h"

namespace jsync_icloud {

// Uploads `len` bytes for field `field` of record `record_name` (type `record_type`); *receipt
// gets the singleFile dictionary.
int UploadAsset(jsync_instance* inst, const std::string& record_name, const char* record_type,
                const char* field, const uint8_t* data, size_t len, std::string_view what,
                nlohmann::json* receipt, jsync_error* err);

// Streams bytes [offset, offset + length) of the asset `asset` (a field value from a lookup)
// into `out`; *delivered counts them. `size` is the asset's size from our own record.
int DownloadAsset(jsync_instance* inst, const nlohmann::json& asset, uint64_t size,
                  uint64_t offset, uint64_t length, jsync_sink* out, std::string_view what,
                  uint64_t* delivered, jsync_error* err);

}  // namespace jsync_icloud

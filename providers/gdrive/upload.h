// Creating a file with a pre-generated id: multipart (metadata + bytes in one request) up to
// the instance's resumable_threshold, resumable above it. Simple uploadType=media is never
// used: it cannot carry the name, the parent (appDataFolder) or the id.
//
// Resumable sessions are kept in the instance by UploadKey(path, md5), so when a PUT of the
// bytes is cut (dropped connection, 5xx) and the host retries the same put, the retry asks
// Drive how much it holds (`Content-Range: bytes */N`) and sends only the rest.
#pragma once

#include <string>

#include "drive_client.h"
#include "gdrive_instance.h"

namespace jsync_gdrive {

struct UploadResult {
  DriveFile file;          // the created file (on JSYNC_OK without id_in_use)
  bool id_in_use = false;  // Drive answered 409: a file with this id exists already
};

// Creates file `id` named `name` in appDataFolder holding [data, data+len).
int CreateFile(jsync_instance* inst, const std::string& key, const std::string& id,
               const std::string& name, const uint8_t* data, size_t len, const std::string& what,
               UploadResult* result, jsync_error* err);

}  // namespace jsync_gdrive

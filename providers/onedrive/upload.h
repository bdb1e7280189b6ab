// Uploads: one simple PUT up to simple_upload_max, an upload session above it.
//
// Simple: PUT :/content?@microsoft.graph.conflictBehavior=fail with If-None-Match: * (a taken
// name answers 409 or 412). Session: POST :/createUploadSession (conflictBehavior fail), then
// the bytes in fragment_size pieces (multiples of 320 KiB) with Content-Range to the session's
// pre-authenticated uploadUrl through http_without_credentials. A fragment cut by a dropped
// connection, or refused as overlapping (416), is followed by a GET of the session and the rest
// is sent from its nextExpectedRanges (at most kMaxResumes times per call); a 5xx, 429 or 423
// keeps the session for the host's retry, which resumes the same way; a session that is gone
// (404) is started over once. The session is kept in the instance by (item path, bytes' hash),
// so a retried put resumes instead of starting again.
#pragma once

#include <cstdint>
#include <string>

#include "onedrive_instance.h"

namespace jsync_onedrive {

inline constexpr int kMaxResumes = 3;

// Stores [data, data + len) at `item_path` (under the app folder). *taken turns true (and
// JSYNC_OK is returned) when the name is taken (409 nameAlreadyExists, 412): the caller
// compares. if_absent false replaces what is there.
int Upload(jsync_instance* inst, const std::string& item_path, const uint8_t* data, size_t len,
           bool if_absent, const std::string& quick_xor, const std::string& what, bool* taken,
           jsync_error* err);

}  // namespace jsync_onedrive

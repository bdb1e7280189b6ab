// The Drive plugin's HTTP layer: request URLs (query encoding), one exchange through the
// host's services table (the SDK's jsync_plugin::Exchange over host->http), Drive's JSON
// (int64 values as strings), and the mapping of Drive's errors (HTTP status +
// errors[0].reason) onto the provider status taxonomy.
//
// Nothing here retries or sleeps: the host does that around every provider call. Messages
// name the operation and say what Drive said; they never contain a credential or an upload
// session URI (the host injects the token; the plugin never sees it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jsync_plugin_util.h"
#include "jsync_provider.h"

namespace jsync_gdrive {

// The SDK's request and answer (jsync_plugin_util.h): Response::body holds a JSON answer
// (2xx, up to Request::body_limit) or Drive's error document (status >= 300); a download
// streams through a Request::target instead.
using jsync_plugin::Fail;
using jsync_plugin::Request;
using jsync_plugin::Response;

using Params = std::vector<std::pair<std::string, std::string>>;

// Percent-encodes a query component (everything but A-Z a-z 0-9 - . _ ~).
std::string QueryEscape(std::string_view s);
// base + "?" + k=v&... (nothing appended for no params).
std::string WithQuery(const std::string& base, const Params& params);

// One exchange (jsync_plugin::Exchange) whose failure messages start "Google Drive <what>:".
// JSYNC_OK when a response arrived (any status, in *response), else the host's transport code
// with `err` filled.
inline int DriveExchange(const jsync_host_services* host, const Request& request,
                         Response* response, std::string_view what, jsync_error* err) {
  return jsync_plugin::Exchange(host, request, response, "Google Drive " + std::string(what), err);
}

// ---- errors ----------------------------------------------------------------------------------

// Drive's error body: {"error":{"code":403,"message":"...","errors":[{"reason":"...",...}]}}.
struct DriveError {
  std::string reason;    // errors[0].reason, "" when absent or not JSON
  std::string message;   // error.message
  std::string location;  // errors[0].location
};
DriveError ParseDriveError(const std::string& body);

// Maps an unsuccessful answer to `what` (e.g. "put journals/x") onto a provider code: the
// SDK's mapping (jsync_plugin::CodeFromHttpStatus: 401 AUTH_EXPIRED, the host already
// refreshed once; 404 NOT_FOUND; 429 RETRYABLE_THROTTLED; 507 QUOTA_EXCEEDED; 5xx
// RETRYABLE_UNAVAILABLE; ...) except for 403, which Drive's reason decides: user/
// rateLimitExceeded RETRYABLE_THROTTLED, storageQuotaExceeded QUOTA_EXCEEDED, scope and
// permission reasons AUTH_EXPIRED (re-consent), others FATAL. Retryable codes carry the
// answer's Retry-After (delta-seconds or an HTTP-date).
int FailFromResponse(const jsync_host_services* host, std::string_view what,
                     const Response& response, jsync_error* err);

// ---- Drive's File resource -------------------------------------------------------------------

struct DriveFile {
  std::string id;
  std::string name;
  uint64_t size = 0;
  std::string md5;           // md5Checksum, "" when Drive gave none
  std::string created_time;  // RFC 3339 (fixed width: compares as a string)
  bool trashed = false;
};

// Fields every file request asks for.
inline constexpr const char* kFileFields = "id,name,size,md5Checksum,createdTime,trashed";

// Parses one File JSON object (int64 as a string or a number). False when it has no id.
bool ParseFile(const void* json_object, DriveFile* out);
// Parses a File from a JSON text.
bool ParseFileText(const std::string& text, DriveFile* out);
// Drive's int64 (a decimal string, or a JSON integer from emulators); false for anything else.
bool ParseInt64Value(const void* json_value, uint64_t* out);

// ---- URLs ------------------------------------------------------------------------------------

struct Endpoints {
  std::string api;     // {api_base}/drive/v3
  std::string upload;  // {api_base}/upload/drive/v3
};

}  // namespace jsync_gdrive

// The Drive plugin's HTTP layer: request URLs (query encoding), one exchange through the
// host's services table (host->http), Drive's JSON (int64 values as strings), and the mapping
// of Drive's errors (HTTP status + errors[0].reason) onto the provider status taxonomy.
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

#include "jsync_provider.h"

namespace jsync_gdrive {

using Params = std::vector<std::pair<std::string, std::string>>;

// Percent-encodes a query component (everything but A-Z a-z 0-9 - . _ ~).
std::string QueryEscape(std::string_view s);
// base + "?" + k=v&... (nothing appended for no params).
std::string WithQuery(const std::string& base, const Params& params);

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;  // collected 2xx/4xx/5xx body (up to the request's limit)
  std::string Header(std::string_view lower_name) const;  // last value, "" when absent
};

// Where the body of a download goes (instead of Response::body). Called only for 200/206.
struct BodySink {
  jsync_sink* out = nullptr;
  uint64_t skip = 0;       // bytes to drop first (a server that ignored Range)
  uint64_t remaining = 0;  // bytes to pass on, then stop
  bool consumer_stopped = false;
};

struct Request {
  const char* method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  const uint8_t* body = nullptr;
  size_t body_len = 0;
  size_t body_limit = 16u << 20;  // a larger answer is an error (JSON answers are small)
  BodySink* sink = nullptr;       // stream 200/206 bodies here
};

// One exchange. JSYNC_OK when a response arrived (any status, in *response), else the host's
// transport code with `err` filled (message prefixed by `what`).
int Exchange(const jsync_host_services* host, const Request& request, Response* response,
             std::string_view what, jsync_error* err);

// ---- errors ----------------------------------------------------------------------------------

// Fills err (retry_after_ms -1) and returns code.
int Fail(jsync_error* err, int code, std::string_view message);

// Drive's error body: {"error":{"code":403,"message":"...","errors":[{"reason":"...",...}]}}.
struct DriveError {
  std::string reason;    // errors[0].reason, "" when absent or not JSON
  std::string message;   // error.message
  std::string location;  // errors[0].location
};
DriveError ParseDriveError(const std::string& body);

// Maps an unsuccessful answer to `what` (e.g. "put journals/x") onto a provider code:
// 401 AUTH_EXPIRED (the host already refreshed once); 403 user/rateLimitExceeded and 429
// RETRYABLE_THROTTLED (+Retry-After); 403 storageQuotaExceeded and 507 QUOTA_EXCEEDED; 403
// scope/permission reasons AUTH_EXPIRED (re-consent); 404 NOT_FOUND; 400 INVALID; 408
// RETRYABLE_NETWORK; 5xx RETRYABLE_UNAVAILABLE; anything else FATAL.
int FailFromResponse(const jsync_host_services* host, std::string_view what,
                     const Response& response, jsync_error* err);

int64_t ParseRetryAfter(std::string_view value, int64_t now_ms);

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

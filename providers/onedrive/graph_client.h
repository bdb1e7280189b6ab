// The OneDrive plugin's HTTP layer: one exchange through the host (host->http for Graph, which
// injects the account's token; host->http_without_credentials for the pre-authenticated upload
// and download URLs Graph hands out, decision 0027), Graph's error envelope, and the mapping of
// Graph's answers onto the provider status taxonomy.
//
// Nothing here retries or sleeps: the host does that around every provider call (decision
// 0028). Messages name the operation and the object and say what Graph said; they never hold
// a token, an upload session's URL or a download link (both carry their own authorization).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "jsync_plugin_util.h"
#include "jsync_provider.h"

namespace jsync_onedrive {

using jsync_plugin::Fail;
using jsync_plugin::Request;
using jsync_plugin::Response;

// Graph's error body: {"error":{"code","message","innerError":{"code",...,"innerError":...}}}
// (older OneDrive answers spell it innererror).
struct GraphError {
  std::string code;                    // error.code, "" when absent or not JSON
  std::string message;                 // error.message
  std::vector<std::string> inner;      // the inner codes, outermost first
  bool Has(std::string_view c) const;  // code or an inner code equals c (any case)
};
GraphError ParseGraphError(const std::string& body);

// The wait an answer asks for: Retry-After as delta-seconds ("120"), decimal seconds ("2.128",
// Graph's own sample) or an HTTP-date; -1 when absent or unreadable.
int64_t RetryAfterMs(const Response& response, int64_t now_ms);

// One exchange with Graph (credentials injected by the host). JSYNC_OK when an answer arrived,
// whatever its status; else the host's transport code, the message starting "OneDrive <what>:".
int GraphExchange(const jsync_host_services* host, const Request& request, Response* response,
                  std::string_view what, jsync_error* err);
// The same through http_without_credentials, for a pre-authenticated URL (an upload session's
// uploadUrl, a download link). JSYNC_INVALID when the host offers no such service.
int PreauthenticatedExchange(const jsync_host_services* host, const Request& request,
                             Response* response, std::string_view what, jsync_error* err);
// Whether the host offers http_without_credentials (ABI 3).
bool HasPreauthenticatedHttp(const jsync_host_services* host);

// Maps an answer `what` could not use onto a provider code:
//   401 AUTH_EXPIRED (the host already refreshed once: link again)
//   403 accessDenied AUTH_EXPIRED (consent missing: link again), other 403 FATAL
//   404 NOT_FOUND; 400/409/413/416 INVALID; 412 EXISTS
//   423 RETRYABLE_UNAVAILABLE (a lock someone else holds)
//   429, 509 RETRYABLE_THROTTLED; 500 502 503 504 RETRYABLE_UNAVAILABLE (Retry-After kept)
//   507 QUOTA_EXCEEDED (quotaLimitReached); anything else FATAL.
int FailFromResponse(const jsync_host_services* host, std::string_view what,
                     const Response& response, jsync_error* err);

// "OneDrive <what>: <detail>" with `code`.
int FailWith(jsync_error* err, int code, std::string_view what, std::string_view detail);

// base + "?" (or "&") + k=v pairs, each percent-encoded.
std::string WithQuery(const std::string& base,
                      const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace jsync_onedrive

// The WebDAV plugin's HTTP layer: URLs (base URL, percent-encoding), one exchange through the
// host's services table (host->http), and the mapping of HTTP statuses to provider codes.
//
// Nothing here retries or sleeps; the host does that around every provider call. Stateless
// apart from what a caller passes in; one exchange at a time per host services table.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jsync_provider.h"

namespace jsync_webdav {

// ---- URLs -------------------------------------------------------------------------------

// Percent-encodes one path segment: everything but A-Z a-z 0-9 - . _ ~ (UTF-8 bytes as %XX).
std::string EncodeSegment(std::string_view segment);
// Decodes %XX escapes (a malformed escape is kept as it is; '+' stays '+').
std::string PercentDecode(std::string_view s);
// Splits "a/b/c" at '/'. False when a segment is empty, "." or "..".
bool SplitPath(std::string_view path, std::vector<std::string>* segments);

// The location a journal lives at: "http(s)://host[:port]/some/path".
struct BaseUrl {
  std::string origin;                         // "http://127.0.0.1:8080"
  std::vector<std::string> raw_segments;      // path segments as given (already encoded)
  std::vector<std::string> decoded_segments;  // the same, percent-decoded

  // origin + "/" + raw segments + encoded `segments` (+ "/" when `collection`).
  std::string Url(const std::vector<std::string>& segments, bool collection) const;
  // origin + "/" + the first `n` of `raw` (encoded segments counted from the server root)
  // + "/": a collection URL for MKCOL.
  std::string RootCollectionUrl(const std::vector<std::string>& raw, size_t n) const;
  // `href` (an absolute URL or an absolute path, percent-encoded) relative to the location:
  // "" for the location itself, "a/b" for an object or collection below it (no trailing '/').
  // False when the href lies outside the location.
  bool Relative(std::string_view href, std::string* relative) const;
};

// Parses `location`; false with a reason when it is not an http(s) URL this plugin can use.
bool ParseBaseUrl(std::string_view location, BaseUrl* out, std::string* error);

// ---- one exchange ------------------------------------------------------------------------

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  // The last value of a header (`lower_name` lower-case), "" when absent.
  std::string Header(std::string_view lower_name) const;
};

// Receives a response body. The host may hand over bytes before it has reported the status
// or the headers; the exchange holds them back until Ready() says yes (or the end).
class BodyTarget {
 public:
  virtual ~BodyTarget() = default;
  // Whether bytes may be delivered now; status 0 means "not known yet".
  virtual bool Ready(int status, const Response& /*response*/) const { return status != 0; }
  // Takes the next bytes of the body of a response with `status`. Returns false to stop the
  // transfer (the exchange then still counts as complete).
  virtual bool Write(int status, const Response& response, const uint8_t* data, size_t len) = 0;
};

// Collects a 2xx body up to `limit` bytes (more is an error: `overflow` is set).
class StringTarget final : public BodyTarget {
 public:
  explicit StringTarget(size_t limit) : limit_(limit) {}
  bool Write(int status, const Response& response, const uint8_t* data, size_t len) override;
  std::string body;
  bool overflow = false;

 private:
  size_t limit_;
};

struct Request {
  const char* method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  const uint8_t* body = nullptr;
  size_t body_len = 0;
};

// Sends `request` through host->http. Returns JSYNC_OK when a response arrived (whatever its
// status, now in response->status), else the host's code for the transport failure with
// `err` filled. `target` may be null (the body is discarded).
int Exchange(const jsync_host_services* host, const Request& request, Response* response,
             BodyTarget* target, jsync_error* err);

// ---- statuses ----------------------------------------------------------------------------

// Fills `err` and returns the provider code for an unsuccessful HTTP answer to `method` on
// `what` (the object path relative to the location; never a credential): 401/403 auth,
// 404 not found, 429 and 5xx retryable (with Retry-After), 507 quota, others invalid/fatal.
int FailFromStatus(const jsync_host_services* host, std::string_view method, std::string_view what,
                   const Response& response, jsync_error* err);

// Milliseconds to wait from a Retry-After value (delta-seconds or an HTTP date), -1 if none.
int64_t ParseRetryAfter(std::string_view value, int64_t now_ms);

// Fills `err` (retry_after_ms -1) and returns `code`.
int Fail(jsync_error* err, int code, std::string_view message);

// Without leading and trailing spaces, tabs and line ends.
std::string_view Trim(std::string_view s);

}  // namespace jsync_webdav

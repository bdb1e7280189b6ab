// The WebDAV plugin's HTTP layer: URLs (base URL, percent-encoding) and WebDAV's reading of
// HTTP statuses. The exchange itself, Retry-After and Content-Range come from the SDK's
// jsync_plugin_util.h.
//
// Nothing here retries or sleeps; the host does that around every provider call. Stateless.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "jsync_plugin_util.h"
#include "jsync_provider.h"

namespace jsync_webdav {

using jsync_plugin::Fail;
using jsync_plugin::Trim;

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

// ---- statuses ----------------------------------------------------------------------------

// Fills `err` and returns the provider code for an unsuccessful HTTP answer to `method` on
// `what` (the object path relative to the location; never a credential): the SDK's mapping
// (jsync_plugin::CodeFromHttpStatus: 401/403 auth, 404 not found, 423, 429 and 5xx retryable
// with Retry-After, 507 quota, redirects invalid, ...) with WebDAV's hints added.
int FailFromStatus(const jsync_host_services* host, std::string_view method, std::string_view what,
                   const jsync_plugin::Response& response, jsync_error* err);

}  // namespace jsync_webdav

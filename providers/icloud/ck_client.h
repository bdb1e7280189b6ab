// The iCloud plugin's HTTP layer: one CloudKit Web Services call through the host (host->http
// adds ckAPIToken and the rotating ckWebAuthToken to the query string and keeps the rotated
// token, auth/cloudkit_credentials.h), CloudKit's error dictionaries, and their mapping onto
// the provider status taxonomy by serverErrorCode only (icloud.md §5.3; the one exception is
// the Advanced Data Protection reason, §2.1). Asset upload and download URLs carry their own
// authorization and go through http_without_credentials.
//
// Nothing here retries or sleeps: the host does that around every provider call. Messages
// start "iCloud <what>:" and never hold a URL (the query string holds the web auth token).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "icloud_instance.h"
#include "jsync_plugin_util.h"

namespace jsync_icloud {

using jsync_plugin::Fail;
using jsync_plugin::Request;
using jsync_plugin::Response;
using nlohmann::json;

// Typed reads of an answer's fields: the fallback when the field is absent or of another type
// (nlohmann's value() throws on a mistyped field, which would turn a hostile answer into a
// crash-shaped FATAL).
inline std::string StrOr(const json& j, const char* key, const std::string& fallback = "") {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                                 : fallback;
}
inline bool BoolOr(const json& j, const char* key, bool fallback = false) {
  return j.is_object() && j.contains(key) && j[key].is_boolean() ? j[key].get<bool>() : fallback;
}
// The zoneName of an entry's zoneID, "" when there is none.
inline std::string ZoneNameIn(const json& entry) {
  return entry.is_object() && entry.contains("zoneID") ? StrOr(entry["zoneID"], "zoneName") : "";
}

// An object path as messages show it: one line, at most 120 bytes.
std::string Shown(std::string_view path);

// A CloudKit error dictionary: a whole answer's, or one record's or zone's inside a 200.
struct CkError {
  std::string code;    // serverErrorCode, "" when absent
  std::string reason;  // reason
  int64_t retry_after_ms = -1;
};
// The error dictionary in `j`, if it is one (has a serverErrorCode).
bool ReadCkError(const json& j, CkError* out);

// The provider code for a CloudKit error (by serverErrorCode; `http_status` only when the
// answer has none: a bare 502 from a proxy). Fills err with "iCloud <what>: <sentence>".
int FailFromCkError(jsync_error* err, std::string_view what, const CkError& e, int http_status);

// "iCloud <what>: <detail>" with `code`.
int FailWith(jsync_error* err, int code, std::string_view what, std::string_view detail);

// POSTs `body` to {db}/{op} (GET when body is null) and parses the 200 answer into *out (a
// JSON object). Any other answer is mapped (FailFromCkError) and returned; a 200 that is not
// a JSON object is JSYNC_RETRYABLE_UNAVAILABLE. body_limit bounds the answer.
// *refused (when given) gets the error dictionary of a refused request.
int Call(jsync_instance* inst, std::string_view op, const json* body, json* out,
         std::string_view what, jsync_error* err, CkError* refused = nullptr,
         size_t body_limit = size_t{16} << 20);

// One exchange with a pre-authenticated URL (an asset upload or download URL).
int Preauthenticated(const jsync_host_services* host, const Request& request, Response* response,
                     std::string_view what, jsync_error* err);

}  // namespace jsync_icloud

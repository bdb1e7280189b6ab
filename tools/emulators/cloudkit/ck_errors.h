// CloudKit Web Services' answers: the error body {"uuid","serverErrorCode","reason"} (plus
// retryAfter in seconds, redirectURL), per-item error dictionaries carried inside an HTTP 200,
// JSON bodies, and the headers every API answer carries (icloud.md §1, §5.3).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "net/local_http_server.h"

namespace jsync::emulator::cloudkit {

inline constexpr const char* kCkJsonType = "application/json; charset=UTF-8";

// A request-level error. `retry_after_s` < 0: no retryAfter (the doc: not retryable).
net::LocalResponse CkError(int status, const std::string& code, const std::string& reason,
                           int64_t retry_after_s = -1);
net::LocalResponse CkJson(int status, const nlohmann::json& body);
// A per-record / per-zone error entry: {<key>: <id>, reason, serverErrorCode, uuid}.
nlohmann::json ItemError(const std::string& key, const nlohmann::json& id,
                         const std::string& code, const std::string& reason);
// X-Apple-Request-UUID, X-Apple-CloudKit-Version, X-Apple-User-Partition,
// X-Responding-Instance, Access-Control-Expose-Headers; Content-Type when the body has none.
void StampCloudKitHeaders(net::LocalResponse* r, const std::string& partition);

}  // namespace jsync::emulator::cloudkit

#include "ck_client.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace jsync_icloud {
namespace {

// At most this much of a reason reaches a message: one line, bounded.
constexpr size_t kMaxReason = 200;

// `text` on one line (control characters as spaces), cut at `max` bytes.
std::string OneLine(std::string_view text, size_t max = kMaxReason) {
  std::string out;
  for (const char c : text.substr(0, max)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c);
  }
  if (text.size() > max) out += "...";
  return out;
}

std::string Detail(const CkError& e) {
  std::string d = e.code.empty() ? std::string("an error") : e.code;
  if (!e.reason.empty()) d += " (" + OneLine(e.reason) + ")";
  return d;
}

// The one reason read (icloud.md §2.1): Advanced Data Protection refusing web access.
bool IsAdpRefusal(const CkError& e) {
  return e.code == "ACCESS_DENIED" &&
         e.reason.find("private db access disabled") != std::string::npos;
}

}  // namespace

std::string Shown(std::string_view path) { return OneLine(path, 120); }

bool ReadCkError(const json& j, CkError* out) {
  if (!j.is_object() || !j.contains("serverErrorCode") || !j["serverErrorCode"].is_string()) {
    return false;
  }
  *out = CkError{};
  out->code = j["serverErrorCode"].get<std::string>();
  if (j.contains("reason") && j["reason"].is_string()) out->reason = j["reason"];
  if (j.contains("retryAfter") && j["retryAfter"].is_number()) {
    // Seconds (icloud.md §5.3: the native CKErrorRetryAfterKey is seconds), bounded to a day.
    const double s = j["retryAfter"].get<double>();
    if (std::isfinite(s) && s >= 0) {
      out->retry_after_ms = static_cast<int64_t>(std::min(s, 86400.0) * 1000);
    }
  }
  return true;
}


int FailWith(jsync_error* err, int code, std::string_view what, std::string_view detail) {
  return Fail(err, code, "iCloud " + std::string(what) + ": " + std::string(detail));
}

int FailFromCkError(jsync_error* err, std::string_view what, const CkError& e, int http_status) {
  const std::string& c = e.code;
  if (c == "AUTHENTICATION_FAILED" || c == "AUTHENTICATION_REQUIRED") {
    return FailWith(err, JSYNC_AUTH_EXPIRED, what,
                    "CloudKit wants a new sign-in (" + c + "); run `jsync link icloud` again");
  }
  if (IsAdpRefusal(e)) {
    return FailWith(err, JSYNC_FATAL, what,
                    "iCloud Advanced Data Protection prevents web access to this account's "
                    "data; turn on \"Access iCloud Data on the Web\" (or Advanced Data "
                    "Protection off), or keep this journal in the iCloud Drive folder instead");
  }
  if (c == "QUOTA_EXCEEDED") {
    return FailWith(err, JSYNC_QUOTA_EXCEEDED, what,
                    "iCloud storage is full; uploads wait until space is freed (edits are kept)");
  }
  if (c == "THROTTLED") {
    return Fail(err, JSYNC_RETRYABLE_THROTTLED,
                "iCloud " + std::string(what) + ": CloudKit is throttling requests (THROTTLED)",
                e.retry_after_ms);
  }
  if (c == "TRY_AGAIN_LATER" || c == "INTERNAL_ERROR" || c == "CONFLICT") {
    return Fail(err, JSYNC_RETRYABLE_UNAVAILABLE, "iCloud " + std::string(what) + ": " + Detail(e),
                e.retry_after_ms);
  }
  if (c == "NOT_FOUND" || c == "ZONE_NOT_FOUND") return FailWith(err, JSYNC_NOT_FOUND, what, Detail(e));
  if (c == "EXISTS") return FailWith(err, JSYNC_EXISTS, what, Detail(e));
  if (c == "BAD_REQUEST" || c == "VALIDATING_REFERENCE_ERROR") {
    return FailWith(err, JSYNC_INVALID, what, "CloudKit refused the request: " + Detail(e));
  }
  if (c == "ACCESS_DENIED") {
    return FailWith(err, JSYNC_FATAL, what,
                    "CloudKit denies access (ACCESS_DENIED): check the container and the API "
                    "token's environment");
  }
  if (!c.empty()) return FailWith(err, JSYNC_FATAL, what, "CloudKit answered " + Detail(e));
  // No serverErrorCode (a proxy's page, a cut answer): the status is all there is.
  int code = http_status == 0 ? JSYNC_RETRYABLE_UNAVAILABLE : jsync_plugin::CodeFromHttpStatus(http_status);
  if (code == JSYNC_OK || code == JSYNC_EXISTS || code == JSYNC_NOT_FOUND) code = JSYNC_FATAL;
  // CloudKit's own meanings of these two statuses (icloud.md §5.3), also without a body.
  if (http_status == 413) {
    return FailWith(err, JSYNC_QUOTA_EXCEEDED, what,
                    "iCloud storage is full; uploads wait until space is freed (edits are kept)");
  }
  if (http_status == 421) {
    return FailWith(err, JSYNC_AUTH_EXPIRED, what,
                    "CloudKit wants a new sign-in; run `jsync link icloud` again");
  }
  if (JSYNC_PRIMARY(code) == JSYNC_RETRYABLE) {
    return Fail(err, code,
                "iCloud " + std::string(what) + ": CloudKit answered " +
                    jsync_plugin::HttpStatusText(http_status) + " without an error code",
                e.retry_after_ms);
  }
  return FailWith(err, code, what,
                  "CloudKit answered " + jsync_plugin::HttpStatusText(http_status) +
                      " without an error code");
}

int Call(jsync_instance* inst, std::string_view op, const json* body, json* out,
         std::string_view what, jsync_error* err, CkError* refused, size_t body_limit) {
  Request req;
  req.url = inst->db + "/" + std::string(op);
  std::string text;
  if (body != nullptr) {
    req.method = "POST";
    text = body->dump();
    req.headers = {{"Content-Type", "application/json"}};
    req.body = reinterpret_cast<const uint8_t*>(text.data());
    req.body_len = text.size();
  }
  req.body_limit = body_limit;
  Response resp;
  const std::string prefix = "iCloud " + std::string(what);
  const int rc = jsync_plugin::Exchange(inst->host, req, &resp, prefix, err);
  if (rc != JSYNC_OK) return rc;
  json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (resp.status != 200) {
    CkError e;
    if (!ReadCkError(j, &e)) e = CkError{};
    if (e.retry_after_ms < 0 && JSYNC_PRIMARY(jsync_plugin::CodeFromHttpStatus(resp.status)) ==
                                    JSYNC_RETRYABLE) {
      e.retry_after_ms =
          jsync_plugin::ParseRetryAfter(resp.Header("retry-after"), jsync_plugin::NowMs(inst->host));
    }
    if (refused != nullptr) *refused = e;
    return FailFromCkError(err, what, e, resp.status);
  }
  if (!j.is_object()) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what, "CloudKit's answer is not JSON");
  }
  *out = std::move(j);
  return JSYNC_OK;
}

int Preauthenticated(const jsync_host_services* host, const Request& request, Response* response,
                     std::string_view what, jsync_error* err) {
  return jsync_plugin::ExchangeWithoutCredentials(host, request, response,
                                                  "iCloud " + std::string(what), err);
}

}  // namespace jsync_icloud

#include "drive_client.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>

namespace jsync_gdrive {
namespace {

using nlohmann::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  const char* ws = " \t\r\n";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

struct ExchangeState {
  jsync_http_response raw{};
  Response* response = nullptr;
  size_t limit = 0;
  bool overflow = false;
  bool failed = false;
};

int OnBody(void* ctx, const uint8_t* data, size_t len) {
  auto* s = static_cast<ExchangeState*>(ctx);
  try {
    if (s->response->body.size() + len > s->limit) {
      s->overflow = true;
      return 1;
    }
    s->response->body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  } catch (...) {
    s->failed = true;
    return 1;
  }
}

void OnHeader(void* ctx, const char* name, const char* value) {
  auto* s = static_cast<ExchangeState*>(ctx);
  try {
    if (name != nullptr) s->response->headers.emplace_back(Lower(name), value ? value : "");
  } catch (...) {
    s->failed = true;
  }
}

// "bytes 100-199/1000" -> 100.
bool ContentRangeStart(const std::string& value, uint64_t* start) {
  const size_t p = value.find_first_of("0123456789*");
  if (p == std::string::npos || value[p] == '*') return false;
  uint64_t v = 0;
  size_t i = p;
  for (; i < value.size() && value[i] >= '0' && value[i] <= '9'; ++i) v = v * 10 + (value[i] - '0');
  if (i >= value.size() || value[i] != '-') return false;
  *start = v;
  return true;
}

// Passes a downloaded 200/206 body to the caller's sink.
void Deliver(BodySink* sink, const Response& r) {
  uint64_t skip = sink->skip;
  if (r.status == 206) {
    uint64_t start = 0;
    skip = ContentRangeStart(r.Header("content-range"), &start) && start <= sink->skip
               ? sink->skip - start
               : 0;
  }
  if (skip >= r.body.size()) return;
  const size_t n = static_cast<size_t>(std::min<uint64_t>(sink->remaining, r.body.size() - skip));
  if (n == 0) return;
  if (sink->out->write(sink->out->ctx, reinterpret_cast<const uint8_t*>(r.body.data()) + skip, n) !=
      0) {
    sink->consumer_stopped = true;
  }
}

std::string Reason(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 507:
      return "Insufficient Storage";
    default:
      return "";
  }
}

}  // namespace

std::string QueryEscape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string WithQuery(const std::string& base, const Params& params) {
  std::string url = base;
  char sep = base.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : params) {
    url.push_back(sep);
    url += QueryEscape(k) + "=" + QueryEscape(v);
    sep = '&';
  }
  return url;
}

std::string Response::Header(std::string_view lower_name) const {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (it->first == lower_name) return it->second;
  }
  return "";
}

int Fail(jsync_error* err, int code, std::string_view message) {
  err->retry_after_ms = -1;
  const size_t n = std::min(message.size(), sizeof err->message - 1);
  std::memcpy(err->message, message.data(), n);
  err->message[n] = '\0';
  return code;
}

int Exchange(const jsync_host_services* host, const Request& request, Response* response,
             std::string_view what, jsync_error* err) {
  *response = Response{};
  std::vector<jsync_header> headers;
  headers.reserve(request.headers.size());
  for (const auto& [name, value] : request.headers)
    headers.push_back({name.c_str(), value.c_str()});
  jsync_http_request req{};
  req.method = request.method;
  req.url = request.url.c_str();
  req.headers = headers.data();
  req.header_count = headers.size();
  req.body = request.body;
  req.body_len = request.body_len;
  req.timeout_ms = 0;

  ExchangeState state;
  state.response = response;
  state.limit = request.body_limit;
  state.raw.body = {&state, OnBody};
  state.raw.header_ctx = &state;
  state.raw.on_header = OnHeader;
  err->retry_after_ms = -1;
  err->message[0] = '\0';
  const int code = host->http(host->host, &req, &state.raw, err);
  if (state.failed) {
    return Fail(err, JSYNC_FATAL,
                "Google Drive " + std::string(what) + ": out of memory while reading the answer");
  }
  if (state.overflow) {
    return Fail(err, JSYNC_FATAL,
                "Google Drive " + std::string(what) + ": the answer is larger than " +
                    std::to_string(request.body_limit >> 20) + " MiB");
  }
  if (code != JSYNC_OK) {
    // The host's message describes the transport failure; it carries no credential.
    const std::string host_message = err->message;
    return Fail(err, code,
                "Google Drive " + std::string(what) + ": " +
                    (host_message.empty() ? std::string("the request failed") : host_message));
  }
  response->status = state.raw.status;
  if (response->status == 0) {
    return Fail(err, JSYNC_RETRYABLE_NETWORK,
                "Google Drive " + std::string(what) + ": no HTTP status in the answer");
  }
  if (request.sink != nullptr && (response->status == 200 || response->status == 206)) {
    Deliver(request.sink, *response);
  }
  return JSYNC_OK;
}

DriveError ParseDriveError(const std::string& body) {
  DriveError e;
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return e;
  const json& error = j["error"];
  if (error.contains("message") && error["message"].is_string()) e.message = error["message"];
  if (error.contains("errors") && error["errors"].is_array() && !error["errors"].empty()) {
    const json& first = error["errors"][0];
    if (first.is_object()) {
      if (first.contains("reason") && first["reason"].is_string()) e.reason = first["reason"];
      if (first.contains("location") && first["location"].is_string()) {
        e.location = first["location"];
      }
    }
  }
  return e;
}

int64_t ParseRetryAfter(std::string_view value, int64_t /*now_ms*/) {
  value = Trim(value);
  if (value.empty() || !std::all_of(value.begin(), value.end(),
                                    [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return -1;  // Google sends delta-seconds; an HTTP date is left to the host's backoff
  }
  int64_t seconds = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc()) return 24LL * 3600 * 1000;
  return std::min<int64_t>(seconds, 24LL * 3600) * 1000;
}

int FailFromResponse(const jsync_host_services* host, std::string_view what,
                     const Response& response, jsync_error* err) {
  const int status = response.status;
  const DriveError drive = ParseDriveError(response.body);
  std::string message = "Google Drive " + std::string(what) + ": HTTP " + std::to_string(status);
  if (!Reason(status).empty()) message += " " + Reason(status);
  if (!drive.reason.empty()) message += " (" + drive.reason + ")";
  if (!drive.message.empty()) message += ": " + drive.message;
  int code = JSYNC_FATAL;
  bool wants_retry_after = false;
  const std::string& r = drive.reason;
  if (status == 401) {
    code = JSYNC_AUTH_EXPIRED;
    message += " — Drive refused the account's token even after a refresh; link the account again";
  } else if (status == 403) {
    if (r == "userRateLimitExceeded" || r == "rateLimitExceeded") {
      code = JSYNC_RETRYABLE_THROTTLED;
      wants_retry_after = true;
    } else if (r == "storageQuotaExceeded" || r == "quotaExceeded") {
      code = JSYNC_QUOTA_EXCEEDED;
      message += " — the Google Drive storage is full";
    } else if (r == "insufficientPermissions" || r == "insufficientScopes" ||
               r == "insufficientFilePermissions" || r == "appNotAuthorizedToFile" ||
               r == "authError") {
      code = JSYNC_AUTH_EXPIRED;
      message += " — grant journal-sync access to its app data folder (link the account again)";
    } else {
      code = JSYNC_FATAL;  // dailyLimitExceeded, item limits, ...
    }
  } else if (status == 404) {
    code = JSYNC_NOT_FOUND;
  } else if (status == 400 || status == 411 || status == 413 || status == 416) {
    code = JSYNC_INVALID;
  } else if (status == 408) {
    code = JSYNC_RETRYABLE_NETWORK;
  } else if (status == 429) {
    code = JSYNC_RETRYABLE_THROTTLED;
    wants_retry_after = true;
  } else if (status == 507) {
    code = JSYNC_QUOTA_EXCEEDED;
    message += " — the Google Drive storage is full";
  } else if (status >= 500 && status <= 599) {
    code = JSYNC_RETRYABLE_UNAVAILABLE;
    wants_retry_after = true;
  }
  Fail(err, code, message);
  if (wants_retry_after) {
    const int64_t now = host->now_ms != nullptr ? host->now_ms(host->host) : 0;
    err->retry_after_ms = ParseRetryAfter(response.Header("retry-after"), now);
  }
  return code;
}

bool ParseFile(const void* json_object, DriveFile* out) {
  const json& j = *static_cast<const json*>(json_object);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) return false;
  DriveFile f;
  f.id = j["id"];
  if (j.contains("name") && j["name"].is_string()) f.name = j["name"];
  if (j.contains("size")) {
    const json& s = j["size"];
    if (s.is_string()) {
      const std::string text = s;
      uint64_t v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc() && p == text.data() + text.size()) f.size = v;
    } else if (s.is_number_unsigned() || s.is_number_integer()) {
      f.size = s.get<uint64_t>();
    }
  }
  if (j.contains("md5Checksum") && j["md5Checksum"].is_string()) {
    f.md5 = Lower(j["md5Checksum"].get<std::string>());
  }
  if (j.contains("createdTime") && j["createdTime"].is_string()) f.created_time = j["createdTime"];
  if (j.contains("trashed") && j["trashed"].is_boolean()) f.trashed = j["trashed"];
  *out = std::move(f);
  return true;
}

bool ParseInt64Value(const void* json_value, uint64_t* out) {
  const json& v = *static_cast<const json*>(json_value);
  if (v.is_number_unsigned() || v.is_number_integer()) {
    *out = v.get<uint64_t>();
    return true;
  }
  if (!v.is_string()) return false;
  const std::string& s = v.get_ref<const std::string&>();
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseFileText(const std::string& text, DriveFile* out) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return ParseFile(&j, out);
}

}  // namespace jsync_gdrive

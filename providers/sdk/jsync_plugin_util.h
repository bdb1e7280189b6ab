/*
 * journal-sync plugin helpers: optional, header-only C++17 over jsync_provider.h and the
 * standard library (plus POSIX strptime/timegm for HTTP dates). Installed with the SDK next to
 * jsync_provider.h; a plugin includes it with
 *
 *     #include "jsync_plugin_util.h"
 *
 * What is here (every plugin of this repository uses it; docs/plugin-guide.md, "Helpers"):
 *   - errors:        Fail (fill a jsync_error), CatchAll (no exception leaves a slot);
 *   - HTTP statuses: CodeFromHttpStatus (one mapping of HTTP statuses to JSYNC_* codes),
 *                    ReasonPhrase, HttpStatusText, FailHttp / FailFromHttpStatus;
 *   - Retry-After:   ParseRetryAfter (delta-seconds and HTTP-date, RFC 9110 §10.2.3),
 *                    ParseHttpDate (the three forms of §5.6.7);
 *   - ranges:        ParseContentRange, FormatContentRange, RangeHeaderValue (RFC 9110 §14);
 *   - random names:  RandomHex through host->random;
 *   - one exchange:  Request, Response, BodyTarget and Exchange over host->http (headers, status,
 *                    the body collected into a std::string under a cap, or streamed), and
 *                    RangeTarget, which streams a ranged download into get()'s sink.
 *
 * Nothing here retries, sleeps or keeps global state: the host does all of that around every
 * call. Nothing throws but std::bad_alloc from std::string and std::vector (Exchange and
 * CatchAll turn even that into JSYNC_FATAL). Everything lives in namespace jsync_plugin::v1 (an
 * inline namespace), so two plugins built against different versions of this header never
 * share a symbol even if one of them exports its inline functions.
 */
#ifndef JSYNC_PLUGIN_UTIL_H_
#define JSYNC_PLUGIN_UTIL_H_

#include <time.h> /* strptime, timegm (POSIX; glibc defines them for C++ by default) */

#include <algorithm>
#include <cstddef>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jsync_provider.h"

namespace jsync_plugin {
inline namespace v1 {

// ---- small text helpers ----------------------------------------------------------------------

// Without leading and trailing spaces, tabs and line ends.
inline std::string_view Trim(std::string_view s) noexcept {
  const char* ws = " \t\r\n";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

inline char LowerAscii(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Lower-cased ASCII (header names compare case-insensitively; UTF-8 bytes are kept).
inline std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = LowerAscii(c);
  return out;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

// A whole string of decimal digits as uint64 (false: empty, another character, or overflow).
inline bool ParseDecimal(std::string_view s, uint64_t* out) noexcept {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const auto d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

// ---- errors ------------------------------------------------------------------------------------

// Fills `err` and returns `code`, so a slot can `return Fail(err, JSYNC_INVALID, "...");`.
// The message is cut to fit jsync_error::message (always NUL-terminated); retry_after_ms is
// the wait the service asked for (-1: none). Never put a credential in `message`.
inline int Fail(jsync_error* err, int code, std::string_view message,
                int64_t retry_after_ms = -1) noexcept {
  if (err == nullptr) return code;
  err->retry_after_ms = retry_after_ms;
  const size_t n = std::min(message.size(), sizeof err->message - 1);
  std::memcpy(err->message, message.data(), n);
  err->message[n] = '\0';
  return code;
}

// Runs `body` (a callable returning a JSYNC_* code) and turns any exception into JSYNC_FATAL
// with "<what>: <e.what()>": no C++ exception may cross the ABI. Use it in every slot:
//   int MyGet(...) { return jsync_plugin::CatchAll(err, "myprovider get", [&]() -> int {...}); }
template <typename Body>
int CatchAll(jsync_error* err, std::string_view what, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(err, JSYNC_FATAL, std::string(what) + ": out of memory");
  } catch (const std::exception& e) {
    try {
      return Fail(err, JSYNC_FATAL, std::string(what) + ": " + e.what());
    } catch (...) {
      return Fail(err, JSYNC_FATAL, what);
    }
  } catch (...) {
    return Fail(err, JSYNC_FATAL, what);
  }
}

// ---- HTTP statuses -----------------------------------------------------------------------------

// The standard reason phrase of the statuses storage services send (RFC 9110 §15, RFC 4918),
// "" for others.
inline const char* ReasonPhrase(int status) noexcept {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 207:
      return "Multi-Status";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 422:
      return "Unprocessable Content";
    case 423:
      return "Locked";
    case 424:
      return "Failed Dependency";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    case 507:
      return "Insufficient Storage";
    case 508:
      return "Loop Detected";
    default:
      return "";
  }
}

// "HTTP 503 Service Unavailable" ("HTTP 599" for a status without a known phrase).
inline std::string HttpStatusText(int status) {
  std::string s = "HTTP " + std::to_string(status);
  const char* reason = ReasonPhrase(status);
  if (*reason != '\0') s += std::string(" ") + reason;
  return s;
}

// The one mapping of an HTTP answer onto the provider codes, for a plugin to refine where its
// service says more (Drive's 403 reasons, say):
//   2xx                                  JSYNC_OK
//   3xx (the host follows no redirect)   JSYNC_INVALID: the location should be the target
//   400 405 409 411 414 415 416 422      JSYNC_INVALID
//   401 403                              JSYNC_AUTH_EXPIRED (the host already refreshed once)
//   404                                  JSYNC_NOT_FOUND
//   408                                  JSYNC_RETRYABLE_NETWORK
//   423 (a lock someone else holds)      JSYNC_RETRYABLE_UNAVAILABLE
//   429                                  JSYNC_RETRYABLE_THROTTLED
//   507                                  JSYNC_QUOTA_EXCEEDED
//   501 505 508 510                      JSYNC_FATAL: retrying cannot fix them
//   other 5xx                            JSYNC_RETRYABLE_UNAVAILABLE
//   anything else (410, 412, 413, ...)   JSYNC_FATAL
inline int CodeFromHttpStatus(int status) noexcept {
  if (status >= 200 && status < 300) return JSYNC_OK;
  if (status >= 300 && status < 400) return JSYNC_INVALID;
  switch (status) {
    case 400:
    case 405:
    case 409:
    case 411:
    case 414:
    case 415:
    case 416:
    case 422:
      return JSYNC_INVALID;
    case 401:
    case 403:
      return JSYNC_AUTH_EXPIRED;
    case 404:
      return JSYNC_NOT_FOUND;
    case 408:
      return JSYNC_RETRYABLE_NETWORK;
    case 423:
      return JSYNC_RETRYABLE_UNAVAILABLE;
    case 429:
      return JSYNC_RETRYABLE_THROTTLED;
    case 507:
      return JSYNC_QUOTA_EXCEEDED;
    case 501:
    case 505:
    case 508:
    case 510:
      return JSYNC_FATAL;
    default:
      break;
  }
  if (status >= 500 && status < 600) return JSYNC_RETRYABLE_UNAVAILABLE;
  return JSYNC_FATAL;
}

// ---- Retry-After (RFC 9110 §10.2.3) ------------------------------------------------------------

// The longest wait a Retry-After may ask for; longer (or absurd) values are cut to it, so a
// broken server cannot park the host for a year.
constexpr int64_t kMaxRetryAfterMs = 24LL * 3600 * 1000;

// An HTTP-date (RFC 9110 §5.6.7) as Unix milliseconds: the preferred IMF-fixdate
// "Sun, 06 Nov 1994 08:49:37 GMT" and the two obsolete forms recipients must accept,
// RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" and asctime "Sun Nov  6 08:49:37 1994". Parsed by
// the C library's strptime and timegm (glibc matches the English names whatever LC_TIME says);
// a day that does not exist (Feb 30) is refused. False for anything else.
inline bool ParseHttpDate(std::string_view text, int64_t* unix_ms) {
  const std::string s(Trim(text));  // strptime wants a NUL-terminated string
  if (s.empty()) return false;
  static const char* const kForms[] = {
      "%a, %d %b %Y %H:%M:%S GMT",  // IMF-fixdate
      "%A, %d-%b-%y %H:%M:%S GMT",  // RFC 850 (two-digit year: 69-99 are 19xx, 00-68 20xx)
      "%a %b %d %H:%M:%S %Y",       // asctime (strptime skips the day's padding space)
  };
  for (const char* form : kForms) {
    struct tm parts;
    std::memset(&parts, 0, sizeof parts);
    const char* end = strptime(s.c_str(), form, &parts);
    if (end == nullptr || *end != '\0') continue;
    const int mday = parts.tm_mday;
    const int mon = parts.tm_mon;
    parts.tm_isdst = 0;
    const time_t t = timegm(&parts);
    if (parts.tm_mday != mday || parts.tm_mon != mon) return false;  // normalised: no such day
    *unix_ms = static_cast<int64_t>(t) * 1000;
    return true;
  }
  return false;
}

// Milliseconds to wait from a Retry-After value given the time now (Unix ms; host->now_ms):
// delta-seconds ("120") or an HTTP-date (a date in the past is 0: go now), at most
// kMaxRetryAfterMs; -1 when the header is absent or not one of the two forms. Put the result
// in jsync_error::retry_after_ms.
inline int64_t ParseRetryAfter(std::string_view value, int64_t now_ms) {
  value = Trim(value);
  if (value.empty()) return -1;
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    uint64_t seconds = 0;
    if (!ParseDecimal(value, &seconds) ||
        seconds > static_cast<uint64_t>(kMaxRetryAfterMs / 1000)) {
      return kMaxRetryAfterMs;
    }
    return static_cast<int64_t>(seconds) * 1000;
  }
  int64_t at_ms = 0;
  if (!ParseHttpDate(value, &at_ms)) return -1;
  if (at_ms <= now_ms) return 0;
  return std::min(at_ms - now_ms, kMaxRetryAfterMs);
}

// The host's clock (host->now_ms), or the system clock when the host offers none.
inline int64_t NowMs(const jsync_host_services* host) {
  if (host != nullptr && host->now_ms != nullptr) return host->now_ms(host->host);
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- ranges (RFC 9110 §14) ---------------------------------------------------------------------

// A Content-Range value: "bytes 0-99/1000", "bytes 0-99/*" (total unknown) or "bytes */1000"
// (the answer to an unsatisfiable range, with 416).
struct ContentRange {
  bool has_range = false;  // false: "bytes */total"
  uint64_t first = 0;      // first byte position, when has_range
  uint64_t last = 0;       // last byte position (inclusive), when has_range
  bool has_total = false;  // false: "/*"
  uint64_t total = 0;      // the complete length, when has_total
  // Bytes in the range (saturating at UINT64_MAX for "0-18446744073709551615").
  uint64_t length() const {
    if (!has_range) return 0;
    return last - first == UINT64_MAX ? UINT64_MAX : last - first + 1;
  }
};

// Parses a Content-Range header value (surrounding whitespace allowed, unit "bytes" in any
// case). False for another unit, a missing part, first > last, last >= total, both parts
// unknown ("bytes */*") or a number that does not fit 64 bits.
inline bool ParseContentRange(std::string_view value, ContentRange* out) {
  value = Trim(value);
  if (value.size() < 6 || !EqualsIgnoreCase(value.substr(0, 5), "bytes") || value[5] != ' ') {
    return false;
  }
  std::string_view rest = Trim(value.substr(6));
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string_view range = rest.substr(0, slash);
  const std::string_view total = rest.substr(slash + 1);
  ContentRange r;
  if (total != "*") {
    if (!ParseDecimal(total, &r.total)) return false;
    r.has_total = true;
  }
  if (range == "*") {
    if (!r.has_total) return false;
  } else {
    const size_t dash = range.find('-');
    if (dash == std::string_view::npos || !ParseDecimal(range.substr(0, dash), &r.first) ||
        !ParseDecimal(range.substr(dash + 1), &r.last) || r.first > r.last ||
        (r.has_total && r.last >= r.total)) {
      return false;
    }
    r.has_range = true;
  }
  *out = r;
  return true;
}

// "bytes first-last/total" (a resumable upload's chunk, a 206's header).
inline std::string FormatContentRange(uint64_t first, uint64_t last, uint64_t total) {
  return "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
         std::to_string(total);
}

// "bytes */total": no bytes in this message, the object has `total` (asking a resumable upload
// session how much it holds, or answering an unsatisfiable range).
inline std::string FormatContentRange(uint64_t total) { return "bytes */" + std::to_string(total); }

// The Range request header value for get()'s [offset, offset + length): "bytes=10-19", or
// "bytes=10-" when length is UINT64_MAX (to the end) or the end does not fit 64 bits.
// REQUIRES: length > 0 (a zero-length read needs no request).
inline std::string RangeHeaderValue(uint64_t offset, uint64_t length) {
  std::string v = "bytes=" + std::to_string(offset) + "-";
  if (length != UINT64_MAX && length > 0 && offset + length > offset) {
    v += std::to_string(offset + length - 1);
  }
  return v;
}

// ---- random names ------------------------------------------------------------------------------

// `bytes` random bytes from the host (host->random), as 2 * bytes lower-case hex digits: for
// temporary upload names, multipart boundaries, channel ids. Falls back to std::random_device
// when the host offers no random source.
inline std::string RandomHex(const jsync_host_services* host, size_t bytes) {
  std::vector<uint8_t> b(bytes);
  if (host != nullptr && host->random != nullptr) {
    if (bytes > 0) host->random(host->host, b.data(), b.size());
  } else {
    std::random_device rd;
    for (uint8_t& x : b) x = static_cast<uint8_t>(rd());
  }
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * bytes);
  for (uint8_t x : b) {
    s.push_back(kDigits[x >> 4]);
    s.push_back(kDigits[x & 15]);
  }
  return s;
}

// ---- one exchange over host->http --------------------------------------------------------------

struct Response {
  int status = 0;
  // Every header in the order received, names lower-cased.
  std::vector<std::pair<std::string, std::string>> headers;
  // The body of an answer with a status of 300 or more (the host passes at most 64 KiB of it:
  // Drive's JSON with its reason, a WebDAV error XML), and of a 2xx answer when the request
  // names no target. At most Request::body_limit bytes.
  std::string body;

  // The last value of header `name` (any case), "" when absent.
  std::string Header(std::string_view name) const {
    for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
      if (EqualsIgnoreCase(it->first, name)) return it->second;
    }
    return "";
  }
};

// Takes a 2xx body as it arrives instead of Response::body (a download into get()'s sink).
// The host may hand bytes over before it has reported the status and headers (today's host
// does: status and headers come once the transfer ends), so Exchange holds them back until
// Ready says yes, or the answer is complete.
class BodyTarget {
 public:
  virtual ~BodyTarget() = default;
  // Whether bytes may be delivered now. `status` is 2xx; `response` has the headers so far.
  virtual bool Ready(int /*status*/, const Response& /*response*/) const { return true; }
  // The next bytes of the 2xx body. False stops the transfer: the exchange still counts as
  // complete (JSYNC_OK), whatever the host says about the aborted transfer.
  virtual bool Write(int status, const Response& response, const uint8_t* data, size_t len) = 0;
};

// JSON answers and error documents are small; a download sets the limit from its range.
inline constexpr size_t kDefaultBodyLimit = size_t{16} << 20;

// offset + length + slack, saturating: the body_limit of a download of [offset, offset +
// length), so a server that ignores the Range (and sends from byte 0) still covers the range.
inline size_t DownloadBodyLimit(uint64_t offset, uint64_t length) {
  constexpr uint64_t kSlack = uint64_t{1} << 20;
  const uint64_t max = static_cast<uint64_t>(SIZE_MAX);
  if (length > max || offset > max - length || offset + length > max - kSlack) return SIZE_MAX;
  return static_cast<size_t>(offset + length + kSlack);
}

struct Request {
  const char* method = "GET";
  std::string url;  // absolute
  std::vector<std::pair<std::string, std::string>> headers;
  const uint8_t* body = nullptr;
  size_t body_len = 0;
  uint32_t timeout_ms = 0;  // 0: the host's default
  // The most body bytes held in memory. Collected into Response::body: more fails the exchange
  // with JSYNC_FATAL. Held back for a target: the transfer stops there and the target gets
  // these bytes once the status is known (set it to what the target can use at most, e.g.
  // DownloadBodyLimit).
  size_t body_limit = kDefaultBodyLimit;
  // Where a 2xx body goes; null: into Response::body.
  BodyTarget* target = nullptr;
};

namespace internal {

struct ExchangeState {
  jsync_http_response raw{};
  Response* response = nullptr;
  BodyTarget* target = nullptr;
  size_t limit = 0;
  std::string pending;  // 2xx bytes held back for the target
  int delivered_status = 0;
  bool stopped = false;   // the target said stop, or the held bytes reached the limit
  bool overflow = false;  // Response::body would pass the limit
  bool failed = false;    // a callback ran out of memory
};

inline bool Deliver(ExchangeState* s, int status, const uint8_t* data, size_t len) {
  s->delivered_status = status;
  if (!s->pending.empty()) {
    std::string held;
    held.swap(s->pending);
    if (!s->target->Write(status, *s->response, reinterpret_cast<const uint8_t*>(held.data()),
                          held.size())) {
      return false;
    }
  }
  return len == 0 || s->target->Write(status, *s->response, data, len);
}

// Keeps bytes in *to up to the limit; false (stop) when some did not fit.
inline bool Keep(ExchangeState* s, std::string* to, const uint8_t* data, size_t len) {
  const size_t room = s->limit - std::min(s->limit, to->size());
  to->append(reinterpret_cast<const char*>(data), std::min(room, len));
  return len <= room;
}

inline int OnBody(void* ctx, const uint8_t* data, size_t len) {
  auto* s = static_cast<ExchangeState*>(ctx);
  try {
    if (s->stopped) return 1;
    const int status = s->raw.status;
    bool go_on = true;
    if (s->target == nullptr || (status != 0 && (status < 200 || status >= 300))) {
      go_on = Keep(s, &s->response->body, data, len);  // a body to keep, or an error page
      if (!go_on) s->overflow = true;
    } else if (status == 0 || !s->target->Ready(status, *s->response)) {
      go_on = Keep(s, &s->pending, data, len);
    } else {
      go_on = Deliver(s, status, data, len);
    }
    if (!go_on) s->stopped = true;
    return go_on ? 0 : 1;
  } catch (...) {
    s->failed = true;
    s->stopped = true;
    return 1;
  }
}

inline void OnHeader(void* ctx, const char* name, const char* value) {
  auto* s = static_cast<ExchangeState*>(ctx);
  try {
    if (name != nullptr) s->response->headers.emplace_back(LowerAscii(name), value ? value : "");
  } catch (...) {
    s->failed = true;
  }
}

inline std::string SizeText(size_t bytes) {
  return bytes >= (size_t{1} << 20) ? std::to_string(bytes >> 20) + " MiB"
                                    : std::to_string(bytes) + " bytes";
}

}  // namespace internal

// One HTTP exchange through host->http (credentials injected by the host, one refresh on 401).
// Returns JSYNC_OK when an answer arrived, whatever its status (in response->status; the
// caller decides what a status means), also when the target said stop. Otherwise a code with
// `err` filled and its message prefixed by `what` (say "MyCloud get a/b"): the host's code for
// a transport failure, JSYNC_FATAL when Response::body would pass request.body_limit or memory
// ran out, and JSYNC_RETRYABLE_NETWORK for an answer without a status. Keeps no state.
inline int Exchange(const jsync_host_services* host, const Request& request, Response* response,
                    std::string_view what, jsync_error* err) {
  *response = Response{};
  Fail(err, JSYNC_OK, "");
  if (host == nullptr || host->http == nullptr) {
    return Fail(err, JSYNC_INVALID, std::string(what) + ": the host offers no HTTP service");
  }
  try {
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
    req.timeout_ms = request.timeout_ms;

    internal::ExchangeState state;
    state.response = response;
    state.target = request.target;
    state.limit = request.body_limit;
    state.raw.status = 0;
    state.raw.body = {&state, internal::OnBody};
    state.raw.header_ctx = &state;
    state.raw.on_header = internal::OnHeader;
    const int code = host->http(host->host, &req, &state.raw, err);
    const std::string prefix = std::string(what) + ": ";
    if (state.failed) {
      return Fail(err, JSYNC_FATAL, prefix + "out of memory while reading the answer");
    }
    if (state.overflow) {
      return Fail(err, JSYNC_FATAL,
                  prefix + "the answer is larger than " + internal::SizeText(request.body_limit));
    }
    if (code != JSYNC_OK && !state.stopped) {
      // The host's message describes the transport failure; it carries no credential.
      const char* begin = err->message;
      const std::string host_message(begin, std::find(begin, begin + sizeof err->message, '\0'));
      return Fail(
          err, code,
          prefix + (host_message.empty() ? std::string("the request failed") : host_message),
          err->retry_after_ms);
    }
    response->status = state.raw.status != 0 ? state.raw.status : state.delivered_status;
    if (response->status == 0) {
      return Fail(err, JSYNC_RETRYABLE_NETWORK, prefix + "no HTTP status in the answer");
    }
    Fail(err, JSYNC_OK, "");
    if (!state.pending.empty()) {
      if (response->status >= 200 && response->status < 300) {
        internal::Deliver(&state, response->status, nullptr, 0);
      } else {
        response->body.swap(state.pending);  // held back, then it turned out an error page
      }
    }
    return JSYNC_OK;
  } catch (...) {
    return Fail(err, JSYNC_FATAL, std::string(what) + ": out of memory while reading the answer");
  }
}

// Whether the host offers http_without_credentials (ABI 3).
inline bool HasHttpWithoutCredentials(const jsync_host_services* host) noexcept {
  return host != nullptr &&
         host->struct_size >= offsetof(jsync_host_services, http_without_credentials) +
                                  sizeof host->http_without_credentials &&
         host->http_without_credentials != nullptr;
}

// Exchange through host->http_without_credentials, for a URL that carries its own
// authorization (a pre-authenticated upload or download link): the account's credentials never
// go there (decision 0027). JSYNC_INVALID when the host offers no such service.
inline int ExchangeWithoutCredentials(const jsync_host_services* host, const Request& request,
                                      Response* response, std::string_view what,
                                      jsync_error* err) {
  if (!HasHttpWithoutCredentials(host)) {
    return Fail(err, JSYNC_INVALID,
                std::string(what) +
                    ": the host cannot send a request without the account's credentials "
                    "(http_without_credentials, plugin ABI 3); update journal-sync");
  }
  jsync_host_services bare = *host;
  bare.http = host->http_without_credentials;
  return Exchange(&bare, request, response, what, err);
}

// Streams bytes [offset, offset + length) of a 200 or 206 answer into get()'s sink: skips
// what a server that ignored (or widened) the Range sent before `offset`, passes on no more
// than `length` bytes, and stops when the sink says stop. With `ext` (JSYNC_GET_SINK; may be
// NULL) and offset 0 it first tells the host the object's total size from Content-Range or
// Content-Length. Set Request::body_limit to DownloadBodyLimit(offset, length).
class RangeTarget final : public BodyTarget {
 public:
  RangeTarget(jsync_sink* out, uint64_t offset, uint64_t length, const jsync_get_sink* ext)
      : out_(out), offset_(offset), length_(length), remaining_(length), ext_(ext) {}

  bool Ready(int status, const Response& response) const override {
    // Where a 206 body starts is in Content-Range: wait for it if the host streams first.
    return status != 206 || !response.Header("content-range").empty();
  }

  bool Write(int status, const Response& response, const uint8_t* data, size_t len) override {
    if (status != 200 && status != 206) return true;
    if (!started_) {
      started_ = true;
      ContentRange range;
      const bool ranged =
          status == 206 && ParseContentRange(response.Header("content-range"), &range);
      uint64_t total = 0;
      bool known = false;
      if (status == 206) {
        known = ranged && range.has_total;
        total = range.total;
      } else {
        known = ParseDecimal(Trim(response.Header("content-length")), &total);
      }
      if (ext_ != nullptr && ext_->size != nullptr && offset_ == 0 && known &&
          ext_->size(out_->ctx, total) != 0) {
        sink_stopped_ = true;
        return false;
      }
      skip_ = offset_;  // 200: the whole object, whatever was asked
      if (status == 206) {
        skip_ = 0;
        if (ranged && range.has_range) {
          if (range.first > offset_) {
            bad_range_ = true;
            return false;
          }
          skip_ = offset_ - range.first;
        }
      }
    }
    if (remaining_ == 0) return false;
    if (skip_ > 0) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(skip_, len));
      data += n;
      len -= n;
      skip_ -= n;
    }
    if (len == 0) return true;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, len));
    if (out_->write(out_->ctx, data, n) != 0) {
      sink_stopped_ = true;
      return false;
    }
    remaining_ -= n;
    delivered_ += n;
    return remaining_ > 0;
  }

  // A 206 whose Content-Range starts after the offset asked for: nothing was passed on.
  bool bad_range() const { return bad_range_; }
  // The sink's write or size said stop.
  bool sink_stopped() const { return sink_stopped_; }
  // Bytes passed to the sink.
  uint64_t delivered() const { return delivered_; }

  // The answer, complete as far as HTTP goes, held fewer of the bytes asked for than its own
  // headers promise (a 206 of "bytes 0-99/1000" carrying 50): what reached the sink is only a
  // prefix of the read. False when the sink or a bad range stopped it.
  bool EndedEarly(const Response& response) const {
    if (sink_stopped_ || bad_range_) return false;
    uint64_t end = 0;  // one past the object's last byte the answer covers
    if (response.status == 206) {
      ContentRange range;
      if (!ParseContentRange(response.Header("content-range"), &range) || !range.has_range) {
        return false;
      }
      end = range.last == UINT64_MAX ? UINT64_MAX : range.last + 1;
    } else if (response.status == 200 && response.Header("content-encoding").empty()) {
      if (!ParseDecimal(Trim(response.Header("content-length")), &end)) return false;
    } else {
      return false;
    }
    const uint64_t wanted_end = length_ > UINT64_MAX - offset_ ? UINT64_MAX : offset_ + length_;
    const uint64_t stop = std::min(end, wanted_end);
    return stop > offset_ && delivered_ < stop - offset_;
  }

 private:
  jsync_sink* out_;
  uint64_t offset_;
  uint64_t length_;
  uint64_t remaining_;
  const jsync_get_sink* ext_;
  uint64_t skip_ = 0;
  uint64_t delivered_ = 0;
  bool started_ = false;
  bool bad_range_ = false;
  bool sink_stopped_ = false;
};

// Fills `err` for an answer the caller does not accept, with `code` (CodeFromHttpStatus, or
// the plugin's own reading of the service's error) and `message`; for a JSYNC_RETRYABLE code
// also the wait from the answer's Retry-After. Returns `code`.
inline int FailHttp(const jsync_host_services* host, int code, std::string_view message,
                    const Response& response, jsync_error* err) {
  int64_t wait = -1;
  if (JSYNC_PRIMARY(code) == JSYNC_RETRYABLE) {
    wait = ParseRetryAfter(response.Header("retry-after"), NowMs(host));
  }
  return Fail(err, code, message, wait);
}

// The plain case: "<what>: HTTP 503 Service Unavailable", code from CodeFromHttpStatus,
// Retry-After honoured.
inline int FailFromHttpStatus(const jsync_host_services* host, std::string_view what,
                              const Response& response, jsync_error* err) {
  int code = CodeFromHttpStatus(response.status);
  if (code == JSYNC_OK) code = JSYNC_FATAL;  // a 2xx the caller did not expect
  return FailHttp(host, code, std::string(what) + ": " + HttpStatusText(response.status), response,
                  err);
}

}  // namespace v1
}  // namespace jsync_plugin

#endif /* JSYNC_PLUGIN_UTIL_H_ */

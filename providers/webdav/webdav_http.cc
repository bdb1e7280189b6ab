#include "webdav_http.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>

namespace jsync_webdav {
namespace {

bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Splits at '/', dropping empty parts.
std::vector<std::string_view> SplitNonEmpty(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= s.size()) {
    size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) slash = s.size();
    if (slash > start) parts.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// An HTTP date in any of the three forms RFC 9110 §5.6.7 accepts, as Unix milliseconds.
bool ParseHttpDate(std::string_view text, int64_t* ms) {
  static const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                  "jul", "aug", "sep", "oct", "nov", "dec"};
  std::string s(text);
  for (char& c : s) {
    if (c == ',' || c == '-') c = ' ';
  }
  int year = -1, month = -1, day = -1, hour = -1, minute = -1, second = -1;
  size_t pos = 0;
  while (pos < s.size()) {
    while (pos < s.size() && s[pos] == ' ') ++pos;
    size_t end = s.find(' ', pos);
    if (end == std::string::npos) end = s.size();
    std::string_view tok(s.data() + pos, end - pos);
    pos = end;
    if (tok.empty()) continue;
    if (tok.find(':') != std::string_view::npos) {
      if (std::sscanf(std::string(tok).c_str(), "%d:%d:%d", &hour, &minute, &second) != 3) {
        return false;
      }
    } else if (std::isalpha(static_cast<unsigned char>(tok[0])) != 0) {
      const std::string low = Lower(tok.substr(0, 3));
      for (int i = 0; i < 12; ++i) {
        if (tok.size() == 3 && low == kMonths[i]) month = i + 1;
      }
    } else {
      int v = 0;
      auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
      if (ec != std::errc() || p != tok.data() + tok.size()) return false;
      if (tok.size() == 4) {
        year = v;
      } else if (day < 0) {
        day = v;
      } else if (tok.size() == 2) {
        year = v < 70 ? 2000 + v : 1900 + v;
      }
    }
  }
  if (year < 1970 || month < 1 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 60) {
    return false;
  }
  const int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  *ms = ((days * 24 + hour) * 60 + minute) * 60000LL + second * 1000LL;
  return true;
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
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
    case 507:
      return "Insufficient Storage";
    default:
      return "";
  }
}

// ---- the exchange's callbacks --------------------------------------------------------------

struct ExchangeState {
  jsync_http_response raw{};
  Response* response = nullptr;
  BodyTarget* target = nullptr;
  std::string pending;  // bytes received before the target was ready for them
  int delivered_status = 0;
  bool stopped = false;  // the target asked to stop
  bool failed = false;   // a callback threw
};

bool Deliver(ExchangeState* s, int status, const uint8_t* data, size_t len) {
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

int OnBody(void* ctx, const uint8_t* data, size_t len) {
  auto* s = static_cast<ExchangeState*>(ctx);
  try {
    if (s->stopped) return 1;
    const int status = s->raw.status;
    if (!s->target->Ready(status, *s->response)) {
      s->pending.append(reinterpret_cast<const char*>(data), len);
      return 0;
    }
    if (!Deliver(s, status, data, len)) {
      s->stopped = true;
      return 1;
    }
    return 0;
  } catch (...) {
    s->failed = true;
    s->stopped = true;
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

}  // namespace

std::string_view Trim(std::string_view s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

// ---- URLs ----------------------------------------------------------------------------------

std::string EncodeSegment(std::string_view segment) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size() * 3);
  for (unsigned char c : segment) {
    if (IsUnreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool SplitPath(std::string_view path, std::vector<std::string>* segments) {
  segments->clear();
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string_view seg = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    segments->emplace_back(seg);
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

bool ParseBaseUrl(std::string_view location, BaseUrl* out, std::string* error) {
  const std::string lower = Lower(location.substr(0, 8));
  size_t scheme_len = 0;
  if (lower.rfind("http://", 0) == 0) {
    scheme_len = 7;
  } else if (lower.rfind("https://", 0) == 0) {
    scheme_len = 8;
  } else {
    *error = "the WebDAV location must be an http:// or https:// URL";
    return false;
  }
  std::string_view rest = location.substr(scheme_len);
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.empty()) {
    *error = "the WebDAV location names no server";
    return false;
  }
  if (authority.find('@') != std::string_view::npos) {
    *error =
        "the WebDAV location must not contain a user name or password: link the account "
        "with them instead";
    return false;
  }
  if (path.find_first_of("?#") != std::string_view::npos ||
      authority.find_first_of("?#") != std::string_view::npos) {
    *error = "the WebDAV location must not contain a query (?) or fragment (#)";
    return false;
  }
  BaseUrl base;
  base.origin = lower.substr(0, scheme_len - 3) + "://" + std::string(authority);
  for (std::string_view seg : SplitNonEmpty(path)) {
    std::string decoded = PercentDecode(seg);
    if (decoded == "." || decoded == ".." || decoded.find('/') != std::string::npos) {
      *error = "the WebDAV location's path may not contain '.', '..' or encoded '/' parts";
      return false;
    }
    base.raw_segments.emplace_back(seg);
    base.decoded_segments.push_back(std::move(decoded));
  }
  *out = std::move(base);
  return true;
}

std::string BaseUrl::Url(const std::vector<std::string>& segments, bool collection) const {
  std::string url = origin;
  for (const std::string& s : raw_segments) url += "/" + s;
  for (const std::string& s : segments) url += "/" + EncodeSegment(s);
  if (collection || (segments.empty() && raw_segments.empty())) url += "/";
  return url;
}

std::string BaseUrl::RootCollectionUrl(const std::vector<std::string>& raw, size_t n) const {
  std::string url = origin;
  for (size_t i = 0; i < n && i < raw.size(); ++i) url += "/" + raw[i];
  return url + "/";
}

bool BaseUrl::Relative(std::string_view href, std::string* relative) const {
  std::string_view p = href;
  const size_t scheme = p.find("://");
  if (scheme != std::string_view::npos && p.find('/') > scheme) {
    const size_t path_start = p.find('/', scheme + 3);
    p = path_start == std::string_view::npos ? std::string_view("/") : p.substr(path_start);
  }
  // No query or fragment is cut off: hrefs of resources have none, and some servers (npm
  // webdav-server) leave '?' and '#' in names unencoded.
  const std::vector<std::string_view> parts = SplitNonEmpty(p);
  if (parts.size() < decoded_segments.size()) return false;
  for (size_t i = 0; i < decoded_segments.size(); ++i) {
    if (PercentDecode(parts[i]) != decoded_segments[i]) return false;
  }
  relative->clear();
  for (size_t i = decoded_segments.size(); i < parts.size(); ++i) {
    if (!relative->empty()) relative->push_back('/');
    *relative += PercentDecode(parts[i]);
  }
  return true;
}

// ---- the exchange --------------------------------------------------------------------------

std::string Response::Header(std::string_view lower_name) const {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (it->first == lower_name) return it->second;
  }
  return "";
}

bool StringTarget::Write(int status, const Response& /*response*/, const uint8_t* data,
                         size_t len) {
  if (status < 200 || status >= 300) return true;  // an error page: not the answer
  if (body.size() + len > limit_) {
    overflow = true;
    return false;
  }
  body.append(reinterpret_cast<const char*>(data), len);
  return true;
}

int Exchange(const jsync_host_services* host, const Request& request, Response* response,
             BodyTarget* target, jsync_error* err) {
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
  state.target = target;
  state.raw.status = 0;
  state.raw.body = {&state, target != nullptr ? OnBody : nullptr};
  state.raw.header_ctx = &state;
  state.raw.on_header = OnHeader;
  err->retry_after_ms = -1;
  err->message[0] = '\0';
  const int code = host->http(host->host, &req, &state.raw, err);
  if (state.failed) {
    return Fail(
        err, JSYNC_FATAL,
        std::string("WebDAV ") + request.method + ": out of memory while reading the answer");
  }
  if (code != JSYNC_OK && !state.stopped) {
    if (err->message[0] == '\0') {
      Fail(err, code, std::string("WebDAV ") + request.method + ": the request failed");
    }
    return code;
  }
  response->status = state.raw.status != 0 ? state.raw.status : state.delivered_status;
  if (response->status == 0) {
    return Fail(err, JSYNC_RETRYABLE_NETWORK,
                std::string("WebDAV ") + request.method + ": no HTTP status in the answer");
  }
  if (target != nullptr && !state.stopped && !state.pending.empty()) {
    Deliver(&state, response->status, nullptr, 0);
  }
  return JSYNC_OK;
}

// ---- statuses ------------------------------------------------------------------------------

int Fail(jsync_error* err, int code, std::string_view message) {
  err->retry_after_ms = -1;
  const size_t n = std::min(message.size(), sizeof err->message - 1);
  std::memcpy(err->message, message.data(), n);
  err->message[n] = '\0';
  return code;
}

int64_t ParseRetryAfter(std::string_view value, int64_t now_ms) {
  value = Trim(value);
  if (value.empty()) return -1;
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); })) {
    int64_t seconds = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc()) return 24LL * 3600 * 1000;  // absurdly large: cap at a day
    return std::min<int64_t>(seconds, 24LL * 3600) * 1000;
  }
  int64_t at_ms = 0;
  if (!ParseHttpDate(value, &at_ms)) return -1;
  return std::max<int64_t>(0, at_ms - now_ms);
}

int FailFromStatus(const jsync_host_services* host, std::string_view method, std::string_view what,
                   const Response& response, jsync_error* err) {
  const int status = response.status;
  std::string message = "WebDAV " + std::string(method) + " " +
                        (what.empty() ? std::string("(journal folder)") : std::string(what)) +
                        ": HTTP " + std::to_string(status);
  if (*ReasonPhrase(status) != '\0') message += std::string(" ") + ReasonPhrase(status);
  int code = JSYNC_FATAL;
  bool wants_retry_after = false;
  switch (status) {
    case 401:
      code = JSYNC_AUTH_EXPIRED;
      message += ": the server refused the user name or password";
      break;
    case 403:
      code = JSYNC_AUTH_EXPIRED;
      message += ": the account may not do this here; check its rights to the folder";
      break;
    case 404:
      code = JSYNC_NOT_FOUND;
      break;
    case 408:
      code = JSYNC_RETRYABLE_NETWORK;
      break;
    case 423:  // a lock someone else holds: it expires or is released
      code = JSYNC_RETRYABLE_UNAVAILABLE;
      wants_retry_after = true;
      break;
    case 429:
      code = JSYNC_RETRYABLE_THROTTLED;
      wants_retry_after = true;
      break;
    case 500:
    case 502:
    case 503:
    case 504:
      code = JSYNC_RETRYABLE_UNAVAILABLE;
      wants_retry_after = true;
      break;
    case 507:
      code = JSYNC_QUOTA_EXCEEDED;
      message += ": the WebDAV account is full";
      break;
    case 301:
    case 302:
    case 303:
    case 307:
    case 308: {
      code = JSYNC_INVALID;
      const std::string to = response.Header("location");
      message += ": the server redirects";
      if (!to.empty() && to.find('@') == std::string::npos && to.size() < 200) {
        message += " to " + to;
      }
      message += "; use the address it redirects to as the location";
      break;
    }
    case 400:
    case 405:
    case 409:
    case 411:
    case 414:
    case 415:
    case 422:
      code = JSYNC_INVALID;
      break;
    case 413:
      code = JSYNC_FATAL;
      message += ": the object is larger than the server accepts";
      break;
    default:
      code = JSYNC_FATAL;
      break;
  }
  Fail(err, code, message);
  if (wants_retry_after) {
    const int64_t now = host->now_ms != nullptr ? host->now_ms(host->host) : 0;
    err->retry_after_ms = ParseRetryAfter(response.Header("retry-after"), now);
  }
  return code;
}

}  // namespace jsync_webdav

#include "graph_client.h"

#include <cmath>
#include <cstddef>
#include <nlohmann/json.hpp>

#include "onedrive_names.h"

namespace jsync_onedrive {
namespace {

using nlohmann::json;

// The member of `object` named `key` in any case (innerError / innererror), or nullptr.
const json* Member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (jsync_plugin::EqualsIgnoreCase(it.key(), key)) return &it.value();
  }
  return nullptr;
}

std::string StringMember(const json& object, std::string_view key) {
  const json* v = Member(object, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

// Graph's message, cut so one answer cannot fill the error buffer.
size_t FindBearer(const std::string& s, size_t from) {
  for (size_t i = from; i + 6 <= s.size(); ++i) {
    if (jsync_plugin::EqualsIgnoreCase(std::string_view(s).substr(i, 6), "bearer")) return i;
  }
  return std::string::npos;
}

// A service's text for one line of an error message: control characters become spaces (the
// message is one line), a credential a hostile or buggy service echoes back ("Bearer ...") is
// cut out (the plugin never holds the token, so it cannot look for it), and it stays short.
std::string Short(std::string s) {
  constexpr size_t kMax = 160;
  if (s.size() > 4 * kMax) s.resize(4 * kMax);
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  for (size_t at = 0; (at = FindBearer(s, at)) != std::string::npos;) {
    size_t begin = at + 6;
    while (begin < s.size() && s[begin] == ' ') ++begin;
    size_t end = begin;
    while (end < s.size() && s[end] != ' ' && s[end] != '"' && s[end] != '\'') ++end;
    s.replace(begin, end - begin, "[redacted]");
    at = begin + 10;
  }
  if (s.size() > kMax) s = s.substr(0, kMax) + "...";
  return s;
}

}  // namespace

bool GraphError::Has(std::string_view c) const {
  if (jsync_plugin::EqualsIgnoreCase(code, c)) return true;
  for (const std::string& i : inner) {
    if (jsync_plugin::EqualsIgnoreCase(i, c)) return true;
  }
  return false;
}

GraphError ParseGraphError(const std::string& body) {
  GraphError e;
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  const json* error = j.is_object() ? Member(j, "error") : nullptr;
  if (error == nullptr || !error->is_object()) return e;
  e.code = StringMember(*error, "code");
  e.message = StringMember(*error, "message");
  const json* inner = Member(*error, "innerError");
  for (int depth = 0; inner != nullptr && inner->is_object() && depth < 8; ++depth) {
    const std::string c = StringMember(*inner, "code");
    if (!c.empty()) e.inner.push_back(c);
    inner = Member(*inner, "innerError");
  }
  return e;
}

int64_t RetryAfterMs(const Response& response, int64_t now_ms) {
  const std::string value(jsync_plugin::Trim(response.Header("retry-after")));
  if (value.empty()) return -1;
  const size_t dot = value.find('.');
  if (dot != std::string::npos && dot > 0 &&
      value.find_first_not_of("0123456789.") == std::string::npos &&
      value.find('.', dot + 1) == std::string::npos && value.size() < 16) {
    const double seconds = std::strtod(value.c_str(), nullptr);
    const double ms = std::ceil(seconds * 1000.0);
    if (ms >= static_cast<double>(jsync_plugin::kMaxRetryAfterMs)) {
      return jsync_plugin::kMaxRetryAfterMs;
    }
    return static_cast<int64_t>(ms);
  }
  return jsync_plugin::ParseRetryAfter(value, now_ms);
}

int GraphExchange(const jsync_host_services* host, const Request& request, Response* response,
                  std::string_view what, jsync_error* err) {
  return jsync_plugin::Exchange(host, request, response, "OneDrive " + std::string(what), err);
}

bool HasPreauthenticatedHttp(const jsync_host_services* host) {
  return jsync_plugin::HasHttpWithoutCredentials(host);
}

int PreauthenticatedExchange(const jsync_host_services* host, const Request& request,
                             Response* response, std::string_view what, jsync_error* err) {
  return jsync_plugin::ExchangeWithoutCredentials(host, request, response,
                                                  "OneDrive " + std::string(what), err);
}

int FailWith(jsync_error* err, int code, std::string_view what, std::string_view detail) {
  return Fail(err, code, "OneDrive " + std::string(what) + ": " + std::string(detail));
}

int FailFromResponse(const jsync_host_services* host, std::string_view what,
                     const Response& response, jsync_error* err) {
  const int status = response.status;
  const GraphError graph = ParseGraphError(response.body);
  std::string message =
      "OneDrive " + std::string(what) + ": " + jsync_plugin::HttpStatusText(status);
  if (!graph.code.empty()) message += " (" + Short(graph.code) + ")";
  if (!graph.message.empty()) message += ": " + Short(graph.message);
  int code = JSYNC_FATAL;
  switch (status) {
    case 400:
    case 409:
    case 413:
    case 416:
      code = JSYNC_INVALID;
      break;
    case 401:
      code = JSYNC_AUTH_EXPIRED;
      message +=
          " — Microsoft refused the account's token even after a refresh; link the "
          "account again (jsync link onedrive)";
      break;
    case 403:
      if (graph.Has("accessDenied") || graph.code.empty()) {
        code = JSYNC_AUTH_EXPIRED;
        message +=
            " — the account did not grant journal-sync access to its app folder: link it "
            "again and consent (a personal account may need Files.ReadWrite)";
      } else {
        code = JSYNC_FATAL;
      }
      break;
    case 404:
      code = JSYNC_NOT_FOUND;
      break;
    case 412:
      code = JSYNC_EXISTS;
      break;
    case 423:
      code = JSYNC_RETRYABLE_UNAVAILABLE;
      message += " — the item is locked; trying again later";
      break;
    case 429:
    case 509:
      code = JSYNC_RETRYABLE_THROTTLED;
      break;
    case 500:
    case 502:
    case 503:
    case 504:
      code = JSYNC_RETRYABLE_UNAVAILABLE;
      break;
    case 507:
      code = JSYNC_QUOTA_EXCEEDED;
      message += " — the OneDrive storage is full";
      break;
    default:
      code = status >= 200 && status < 300 ? JSYNC_FATAL : jsync_plugin::CodeFromHttpStatus(status);
      if (code == JSYNC_OK || code == JSYNC_AUTH_EXPIRED) code = JSYNC_FATAL;
      break;
  }
  int64_t wait = -1;
  if (JSYNC_PRIMARY(code) == JSYNC_RETRYABLE)
    wait = RetryAfterMs(response, jsync_plugin::NowMs(host));
  return Fail(err, code, message, wait);
}

std::string WithQuery(const std::string& base,
                      const std::vector<std::pair<std::string, std::string>>& params) {
  std::string url = base;
  char sep = base.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : params) {
    url.push_back(sep);
    url += k + "=" + UrlEscape(v);  // keys are Graph's own ($top, token): sent as written
    sep = '&';
  }
  return url;
}

}  // namespace jsync_onedrive

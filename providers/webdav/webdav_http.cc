#include "webdav_http.h"

#include <algorithm>
#include <cctype>

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

}  // namespace

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

// ---- statuses ------------------------------------------------------------------------------

int FailFromStatus(const jsync_host_services* host, std::string_view method, std::string_view what,
                   const jsync_plugin::Response& response, jsync_error* err) {
  const int status = response.status;
  std::string message = "WebDAV " + std::string(method) + " " +
                        (what.empty() ? std::string("(journal folder)") : std::string(what)) +
                        ": " + jsync_plugin::HttpStatusText(status);
  int code = jsync_plugin::CodeFromHttpStatus(status);
  if (code == JSYNC_OK) code = JSYNC_FATAL;  // a success the caller could not use
  if (status == 401) {
    message += ": the server refused the user name or password";
  } else if (status == 403) {
    message += ": the account may not do this here; check its rights to the folder";
  } else if (status == 507) {
    message += ": the WebDAV account is full";
  } else if (status == 413) {
    message += ": the object is larger than the server accepts";
  } else if (status >= 300 && status < 400) {
    const std::string to = response.Header("location");
    message += ": the server redirects";
    if (!to.empty() && to.find('@') == std::string::npos && to.size() < 200) {
      message += " to " + to;
    }
    message += "; use the address it redirects to as the location";
  }
  return jsync_plugin::FailHttp(host, code, message, response, err);
}

}  // namespace jsync_webdav

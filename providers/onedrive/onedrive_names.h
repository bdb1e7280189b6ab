// Object paths <-> OneDrive item paths, and the pure arithmetic of the plugin (no I/O, no SDK),
// header-only so tests/unit check it without loading the plugin:
//   - an object "changes/d/1" of location "journal" is the item
//     Apps/<app>/journal/changes/d/1, addressed as
//     {graph}/me/drive/special/approot:/journal/changes/d/1: (each segment percent-encoded);
//   - a segment OneDrive cannot hold as typed (" * : < > ? \ | # %, control characters, a
//     leading space, a trailing space or dot) is stored with those bytes as %XX, so every object
//     name round-trips; names journal-sync itself writes ([A-Za-z0-9._-]) are stored unchanged;
//   - upload fragments (Content-Range math, nextExpectedRanges);
//   - the origin check on the links Graph hands back (@odata.nextLink, deltaLink).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace jsync_onedrive {

inline constexpr uint64_t kFragmentUnit = 327680;              // 320 KiB
inline constexpr uint64_t kMaxFragment = 192 * kFragmentUnit;  // 60 MiB
inline constexpr const char* kTempPrefix = ".jsync-tmp-";      // JSYNC_TEMP_PREFIX

// Relative, '/'-separated, no empty, "." or ".." part.
inline bool ValidObjectPath(std::string_view path) {
  if (path.empty()) return false;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const std::string_view seg = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

// A location: '/'-separated like a path (trailing '/' dropped); "" when unusable.
inline std::string NormalizeLocation(std::string_view location) {
  while (!location.empty() && location.back() == '/') location.remove_suffix(1);
  return ValidObjectPath(location) ? std::string(location) : std::string();
}

inline std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    if (end > start) out.emplace_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

namespace internal {
inline bool Forbidden(unsigned char c) {
  return c < 0x20 || c == 0x7f || c == '"' || c == '*' || c == ':' || c == '<' || c == '>' ||
         c == '?' || c == '\\' || c == '|' || c == '#' || c == '%';
}
inline void AppendEscaped(std::string* out, unsigned char c) {
  static const char kHex[] = "0123456789ABCDEF";
  out->push_back('%');
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 15]);
}
inline int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}
}  // namespace internal

// One object-path segment as the OneDrive item name it is stored under.
inline std::string EncodeName(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (size_t i = 0; i < segment.size(); ++i) {
    const auto c = static_cast<unsigned char>(segment[i]);
    const bool edge = (i == 0 && c == ' ') || (i + 1 == segment.size() && (c == ' ' || c == '.') &&
                                               segment != "." && segment != "..");
    if (internal::Forbidden(c) || edge) {
      internal::AppendEscaped(&out, c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// The object-path segment of an item name (the inverse of EncodeName; a '%' not followed by
// two hex digits, which only another client could have written, stays as it is).
inline std::string DecodeName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '%' && i + 2 < name.size()) {
      const int hi = internal::HexValue(name[i + 1]);
      const int lo = internal::HexValue(name[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(name[i]);
  }
  return out;
}

// The item path under the app folder (item names joined by '/') of `path` in `location`;
// path "" is the location's folder itself.
inline std::string ItemPath(const std::string& location, std::string_view path) {
  std::string out;
  for (const std::string& seg : SplitPath(location)) {
    if (!out.empty()) out.push_back('/');
    out += EncodeName(seg);
  }
  for (const std::string& seg : SplitPath(path)) {
    out.push_back('/');
    out += EncodeName(seg);
  }
  return out;
}

// The object path of an item path under the app folder ("" and false when it is not below
// `location`): the inverse of ItemPath.
inline bool ObjectPathOf(const std::string& location, std::string_view item_path,
                         std::string* path) {
  const std::string root = ItemPath(location, "");
  if (item_path.size() <= root.size() + 1 || item_path.substr(0, root.size()) != root ||
      item_path[root.size()] != '/') {
    return false;
  }
  std::string out;
  for (const std::string& seg : SplitPath(item_path.substr(root.size() + 1))) {
    if (!out.empty()) out.push_back('/');
    out += DecodeName(seg);
  }
  if (!ValidObjectPath(out)) return false;
  *path = std::move(out);
  return true;
}

// Whether an object path's last segment is a temporary upload name.
inline bool IsTemporary(std::string_view path) {
  const size_t slash = path.rfind('/');
  const std::string_view leaf = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return leaf.substr(0, std::string_view(kTempPrefix).size()) == kTempPrefix;
}

// Percent-encodes everything but A-Z a-z 0-9 - . _ ~ (a URL path segment or query value).
inline std::string UrlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      internal::AppendEscaped(&out, c);
    }
  }
  return out;
}

// {graph}/me/drive/special/approot for "", else {graph}/me/drive/special/approot:/a/b: (each
// item name percent-encoded; the colons are Graph's path-addressing syntax).
inline std::string ItemAddress(const std::string& graph, std::string_view item_path) {
  std::string url = graph + "/me/drive/special/approot";
  if (item_path.empty()) return url;
  url += ":";
  for (const std::string& seg : SplitPath(item_path)) url += "/" + UrlEscape(seg);
  url += ":";
  return url;
}

// ---- upload fragments ------------------------------------------------------------------------

// Whether a fragment size is one OneDrive accepts: a positive multiple of 320 KiB, at most
// 60 MiB.
inline bool ValidFragmentSize(uint64_t n) {
  return n > 0 && n % kFragmentUnit == 0 && n <= kMaxFragment;
}

// One past the last byte of the fragment that starts at `offset` of a `total`-byte upload.
inline uint64_t FragmentEnd(uint64_t offset, uint64_t total, uint64_t fragment) {
  return total - offset <= fragment ? total : offset + fragment;
}

// "bytes first-last/total" of the fragment [offset, end).
inline std::string FragmentRange(uint64_t offset, uint64_t end, uint64_t total) {
  return "bytes " + std::to_string(offset) + "-" + std::to_string(end - 1) + "/" +
         std::to_string(total);
}

// The first byte the session still expects, from nextExpectedRanges ("26-", "12345-55232");
// the smallest start of all ranges. False when none parses or a start lies past `total`.
inline bool NextExpectedStart(const std::vector<std::string>& ranges, uint64_t total,
                              uint64_t* start) {
  bool any = false;
  uint64_t best = 0;
  for (const std::string& r : ranges) {
    const size_t dash = r.find('-');
    const std::string first = r.substr(0, dash);
    if (first.empty() || first.find_first_not_of("0123456789") != std::string::npos ||
        first.size() > 19) {
      continue;
    }
    const uint64_t v = std::stoull(first);
    if (v >= total) return false;
    if (!any || v < best) best = v;
    any = true;
  }
  if (any) *start = best;
  return any;
}

// ---- links ----------------------------------------------------------------------------------

// "scheme://host[:port]" of an http(s) URL, lower-cased; "" when it is not one or carries user
// info.
inline std::string OriginOf(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "";
  std::string scheme(url.substr(0, scheme_end));
  for (char& c : scheme) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (scheme != "http" && scheme != "https") return "";
  const size_t host_start = scheme_end + 3;
  const size_t host_end = url.find_first_of("/?#", host_start);
  std::string authority(url.substr(host_start, host_end == std::string_view::npos
                                                   ? std::string_view::npos
                                                   : host_end - host_start));
  if (authority.empty() || authority.find('@') != std::string::npos) return "";
  for (char& c : authority) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return scheme + "://" + authority;
}

// Whether `link` (a page or delta link from an answer) stays on `origin` (OriginOf(api_base)).
inline bool SameOrigin(std::string_view link, const std::string& origin) {
  return !origin.empty() && OriginOf(link) == origin;
}

}  // namespace jsync_onedrive

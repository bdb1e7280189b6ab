#include "tools/relay/routes.h"

#include "tools/relay/frame.h"

namespace jsync::relay {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> Decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view pair = query.substr(pos, amp - pos);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return eq == std::string_view::npos ? std::string() : Decode(pair.substr(eq + 1));
    pos = amp + 1;
  }
  return std::nullopt;
}

Route ParseTarget(std::string_view target) {
  Route r;
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
  static constexpr std::string_view kRoomPrefix = "/v1/room/", kHookPrefix = "/v1/hook/";
  if (path == "/") {
    r.kind = Route::Kind::kRoot;
  } else if (path == "/v1/stats") {
    r.kind = Route::Kind::kStats;
  } else if (path.substr(0, kRoomPrefix.size()) == kRoomPrefix) {
    const std::string_view room = path.substr(kRoomPrefix.size());
    if (!IsHexId(room)) return r;
    r.room = std::string(room);
    r.kind = Route::Kind::kRoom;
    if (const auto hook = QueryParam(r.query, "hook")) {
      if (!IsHexId(*hook)) {
        r.kind = Route::Kind::kBadHook;
        return r;
      }
      r.hook = *hook;
    } else if (r.query.find("hook=") != std::string::npos) {
      r.kind = Route::Kind::kBadHook;  // present but badly encoded
    }
  } else if (path.substr(0, kHookPrefix.size()) == kHookPrefix) {
    const std::string_view hook = path.substr(kHookPrefix.size());
    if (!IsHexId(hook)) return r;
    r.hook = std::string(hook);
    r.kind = Route::Kind::kWebhook;
  }
  return r;
}

}  // namespace jsync::relay

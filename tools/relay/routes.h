// What a request target asks for: the relay's few paths, with the room and hook ids checked
// (64 lower-case hex characters each) before anything else happens.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace jsync::relay {

struct Route {
  enum class Kind {
    kRoot,      // GET /
    kStats,     // GET /v1/stats
    kRoom,      // /v1/room/<ROOM>[?hook=<HOOK>] (a WebSocket upgrade)
    kBadHook,   // /v1/room/<ROOM>?hook=<malformed>: 400
    kWebhook,   // /v1/hook/<HOOK>
    kNotFound,  // anything else, a malformed room or webhook id included: 404
  };
  Kind kind = Kind::kNotFound;
  std::string room;
  std::string hook;
  std::string query;  // raw, without '?'
};

Route ParseTarget(std::string_view target);

// The first value of query parameter `name`, percent-decoded ('+' is a space); nullopt when
// absent or badly encoded.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name);

}  // namespace jsync::relay

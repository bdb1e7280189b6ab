// The one look the relay takes at a device's message (docs: /v1 relay protocol): byte 0 is the
// version, byte 1 the kind, and the length. Everything after is sealed with a key the relay does
// not have, so it is forwarded unchanged and never parsed further.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace jsync::relay {

inline constexpr size_t kMaxFrameBytes = 73728;  // 72 KiB: over it, close 1009
inline constexpr size_t kMinSealedBytes = 46;    // header 30 + GCM tag 16
inline constexpr uint8_t kVersion = 1;
inline constexpr uint8_t kKindSealed = 1;
inline constexpr uint8_t kKindHookNudge = 2;

// The 2-byte frame the relay sends a connection whose hook received a webhook.
inline constexpr std::string_view kHookNudgeFrame{"\x01\x02", 2};

// True when a binary frame from a device may be forwarded: version 1, kind 1 (sealed), and at
// least 46 and at most 73,728 bytes. Anything else is garbage (dropped and counted).
bool IsForwardable(const uint8_t* data, size_t size);

// True for exactly 64 lower-case hex characters (a room or hook id: 32 bytes).
bool IsHexId(std::string_view s);

}  // namespace jsync::relay

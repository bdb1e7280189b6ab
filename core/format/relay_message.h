// What devices say to each other through the relay (tools/relay), sealed so the relay learns
// nothing and can forge or replay nothing undetected (docs/formats.md, "Relay messages").
//
// The relay is told only a room id, derived from the master key, which groups one journal's
// devices without naming the journal: another journal, or the same one's key under another
// label, derives an unrelated id. Every message is AES-256-GCM under a relay key derived the
// same way, with the sender's device id and counter in the associated data; a receiver keeps
// the last counter per sender (RelayReplayGuard) and a time window, so a relay that replays,
// reorders or duplicates costs nothing but a dropped frame.
#pragma once

#include <array>
#include <cstdint>
#include <map>

#include "core/crypto/secret.h"
#include "core/model/ids.h"
#include "core/util/bytes.h"

namespace jsync::format {

inline constexpr uint8_t kRelayVersion = 1;
inline constexpr uint8_t kRelaySealedKind = 1;
inline constexpr uint8_t kRelayHookKind = 2;  // the relay's own nudge for a provider webhook
inline constexpr size_t kRelayHeaderSize = 30;  // version, kind, sender, counter, nonce
inline constexpr size_t kRelayMinFrame = kRelayHeaderSize + 16;
inline constexpr size_t kRelayMaxFrame = 72 * 1024;  // the relay closes with 1009 beyond
// A change file travels whole only up to this size; bigger ones are announced by a nudge.
inline constexpr size_t kRelayMaxInlineChange = 64 * 1024;
// A counter older than this (its time part, against the receiver's clock) is a replay, whatever
// the guard remembers: a receiver that restarted forgot the counters. A sender whose clock is
// further behind is ignored by the relay path (it costs latency: the poll still merges).
inline constexpr uint64_t kRelayMaxAgeMs = 10 * 60 * 1000;

struct RelayKeys {
  std::array<uint8_t, 32> room{};  // the room the relay groups devices by (public to it)
  std::array<uint8_t, 32> hook{};  // the id provider webhooks name (public to the providers)
  crypto::SecretKey key;           // seals every message
};
Result<RelayKeys> DeriveRelayKeys(const crypto::SecretKey& master, const JournalId& journal);

enum class RelayType : uint8_t {
  kNudge = 1,     // "I published up to seq": fetch it from the cloud
  kChange = 2,    // the published change file itself (<= kRelayMaxInlineChange)
  kPresence = 3,  // online / going offline
};

struct RelayMessage {
  RelayType type = RelayType::kNudge;
  DeviceId sender = 0;
  uint64_t counter = 0;
  uint64_t seq = 0;    // kNudge, kChange
  Bytes change;        // kChange: the exact bytes of changes/<sender>/<seq>
  bool online = true;  // kPresence
};

Result<Bytes> SealRelayMessage(const RelayKeys& keys, const RelayMessage& message);
// kCorrupt for anything that is not an authentic version-1 sealed frame of this journal.
Result<RelayMessage> OpenRelayFrame(const RelayKeys& keys, ByteSpan frame);
bool IsHookFrame(ByteSpan frame);

// Counters are (Unix ms << 16) | n: increasing across restarts of the sender without storing
// anything, and datable by receivers.
class RelayCounter {
 public:
  uint64_t Next(uint64_t now_ms);

 private:
  uint64_t last_ = 0;
};

// Accepts each sender's counters only in increasing order and within kRelayMaxAgeMs of now.
class RelayReplayGuard {
 public:
  bool Accept(DeviceId sender, uint64_t counter, uint64_t now_ms);

 private:
  std::map<DeviceId, uint64_t> last_;
};

}  // namespace jsync::format

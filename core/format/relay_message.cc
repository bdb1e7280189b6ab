#include "core/format/relay_message.h"

#include <algorithm>

#include "core/crypto/aead.h"
#include "core/crypto/primitives.h"

namespace jsync::format {
namespace {

// Labels of their own: nothing else derived from the master key can equal these keys.
constexpr const char* kRoomLabel = "jsync relay v1 room";
constexpr const char* kHookLabel = "jsync relay v1 hook";
constexpr const char* kKeyLabel = "jsync relay v1 key";

Result<std::array<uint8_t, 32>> DerivePublic(const crypto::SecretKey& master, ByteSpan salt,
                                             const char* label) {
  JSYNC_ASSIGN_OR_RETURN(crypto::SecretKey k, crypto::HkdfSha256(master, salt, label));
  std::array<uint8_t, 32> out{};
  std::copy(k.data(), k.data() + k.size(), out.begin());
  return out;
}

Status Refused(const char* why) { return Status::Corrupt(std::string("relay frame ") + why); }

}  // namespace

Result<RelayKeys> DeriveRelayKeys(const crypto::SecretKey& master, const JournalId& journal) {
  RelayKeys keys;
  JSYNC_ASSIGN_OR_RETURN(keys.room, DerivePublic(master, journal, kRoomLabel));
  JSYNC_ASSIGN_OR_RETURN(keys.hook, DerivePublic(master, journal, kHookLabel));
  JSYNC_ASSIGN_OR_RETURN(keys.key, crypto::HkdfSha256(master, journal, kKeyLabel));
  return keys;
}

Result<Bytes> SealRelayMessage(const RelayKeys& keys, const RelayMessage& message) {
  ByteWriter body;
  body.U8(static_cast<uint8_t>(message.type));
  switch (message.type) {
    case RelayType::kNudge:
      body.U64(message.seq);
      break;
    case RelayType::kChange:
      if (message.change.size() > kRelayMaxInlineChange) {
        return Status::Invalid("a change over 64 KiB is announced, not relayed");
      }
      body.U64(message.seq);
      body.Raw(message.change);
      break;
    case RelayType::kPresence:
      body.U8(message.online ? 1 : 0);
      break;
  }
  ByteWriter frame;
  frame.U8(kRelayVersion);
  frame.U8(kRelaySealedKind);
  frame.U64(message.sender);
  frame.U64(message.counter);
  const auto nonce = crypto::RandomArray<crypto::kNonceSize>();
  frame.Raw(nonce);
  Bytes out = frame.Take();
  JSYNC_ASSIGN_OR_RETURN(Bytes sealed, crypto::AeadSeal(keys.key, nonce, out, body.bytes()));
  out.insert(out.end(), sealed.begin(), sealed.end());
  return out;
}

bool IsHookFrame(ByteSpan frame) {
  return frame.size() == 2 && frame[0] == kRelayVersion && frame[1] == kRelayHookKind;
}

Result<RelayMessage> OpenRelayFrame(const RelayKeys& keys, ByteSpan frame) {
  if (frame.size() < kRelayMinFrame) return Refused("too short");
  if (frame.size() > kRelayMaxFrame) return Refused("too large");
  if (frame[0] != kRelayVersion || frame[1] != kRelaySealedKind) return Refused("of unknown kind");
  ByteReader header(frame.first(kRelayHeaderSize));
  header.U8();
  header.U8();
  RelayMessage m;
  m.sender = header.U64();
  m.counter = header.U64();
  const auto nonce = header.Array<crypto::kNonceSize>();
  auto opened = crypto::AeadOpen(keys.key, nonce, frame.first(kRelayHeaderSize),
                                 frame.subspan(kRelayHeaderSize));
  if (!opened.ok()) return Refused("failed authentication");
  ByteReader body(*opened);
  m.type = static_cast<RelayType>(body.U8());
  switch (m.type) {
    case RelayType::kNudge:
      m.seq = body.U64();
      break;
    case RelayType::kChange: {
      m.seq = body.U64();
      ByteSpan rest = body.Raw(body.remaining());
      m.change.assign(rest.begin(), rest.end());
      break;
    }
    case RelayType::kPresence:
      m.online = body.U8() != 0;
      break;
    default:
      return Refused("names an unknown message type");
  }
  if (!body.ok() || body.remaining() != 0) return Refused("is malformed");
  if (m.sender == 0 || (m.type != RelayType::kPresence && m.seq == 0)) {
    return Refused("names no sender or seq");
  }
  return m;
}

uint64_t RelayCounter::Next(uint64_t now_ms) {
  last_ = std::max(last_ + 1, now_ms << 16);
  return last_;
}

bool RelayReplayGuard::Accept(DeviceId sender, uint64_t counter, uint64_t now_ms) {
  const uint64_t sent_ms = counter >> 16;
  if (sent_ms + kRelayMaxAgeMs < now_ms) return false;
  auto [it, fresh] = last_.try_emplace(sender, counter);
  if (fresh) return true;
  if (counter <= it->second) return false;
  it->second = counter;
  return true;
}

}  // namespace jsync::format

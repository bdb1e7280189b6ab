// Relay messages: sealed so the relay reads nothing, forges nothing and replays nothing that a
// receiver accepts; room ids group one journal's devices and nothing else.
#include <gtest/gtest.h>

#include "core/crypto/primitives.h"
#include "core/format/relay_message.h"

namespace jsync::format {
namespace {

crypto::SecretKey Key(uint8_t fill) {
  std::array<uint8_t, 32> b{};
  b.fill(fill);
  return crypto::SecretKey(b);
}

RelayKeys Keys(uint8_t fill = 1, uint8_t journal_fill = 2) {
  JournalId j{};
  j.fill(journal_fill);
  auto k = DeriveRelayKeys(Key(fill), j);
  EXPECT_TRUE(k.ok());
  return std::move(k).value();
}

TEST(RelayMessage, EveryTypeRoundTrips) {
  const RelayKeys keys = Keys();
  RelayMessage change;
  change.type = RelayType::kChange;
  change.sender = 0x1122334455667788ull;
  change.counter = 42;
  change.seq = 7;
  change.change = Bytes(5000, 0xAB);
  RelayMessage nudge{RelayType::kNudge, 9, 43, 1234, {}, true};
  RelayMessage offline{RelayType::kPresence, 9, 44, 0, {}, false};
  for (const RelayMessage& m : {change, nudge, offline}) {
    auto frame = SealRelayMessage(keys, m);
    ASSERT_TRUE(frame.ok());
    EXPECT_EQ((*frame)[0], kRelayVersion);
    EXPECT_EQ((*frame)[1], kRelaySealedKind);
    auto back = OpenRelayFrame(keys, *frame);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->type, m.type);
    EXPECT_EQ(back->sender, m.sender);
    EXPECT_EQ(back->counter, m.counter);
    EXPECT_EQ(back->seq, m.seq);
    EXPECT_EQ(back->change, m.change);
    EXPECT_EQ(back->online, m.online);
  }
}

TEST(RelayMessage, TheRelayCanChangeNothing) {
  const RelayKeys keys = Keys();
  RelayMessage m{RelayType::kNudge, 5, 77, 3, {}, true};
  auto frame = SealRelayMessage(keys, m);
  ASSERT_TRUE(frame.ok());
  // Every byte is covered: the header as associated data, the rest by the tag.
  for (size_t i = 0; i < frame->size(); ++i) {
    Bytes bad = *frame;
    bad[i] ^= 0x01;
    EXPECT_FALSE(OpenRelayFrame(keys, bad).ok()) << "byte " << i;
  }
  Bytes cut(frame->begin(), frame->end() - 1);
  EXPECT_FALSE(OpenRelayFrame(keys, cut).ok());
  EXPECT_FALSE(OpenRelayFrame(Keys(3), *frame).ok());     // another journal's key
  EXPECT_FALSE(OpenRelayFrame(Keys(1, 9), *frame).ok());  // the same key, another journal
  EXPECT_FALSE(OpenRelayFrame(keys, Bytes{1, 2}).ok());
  EXPECT_TRUE(IsHookFrame(Bytes{1, 2}));
  EXPECT_FALSE(IsHookFrame(*frame));
}

TEST(RelayMessage, PlaintextNeverAppearsInTheFrame) {
  const RelayKeys keys = Keys();
  const std::string secret = "Dear diary, the secret title";
  RelayMessage m;
  m.type = RelayType::kChange;
  m.sender = 1;
  m.counter = 1;
  m.seq = 1;
  m.change.assign(secret.begin(), secret.end());
  auto frame = SealRelayMessage(keys, m);
  ASSERT_TRUE(frame.ok());
  const std::string bytes(frame->begin(), frame->end());
  EXPECT_EQ(bytes.find("secret"), std::string::npos);
}

TEST(RelayMessage, RoomsHooksAndKeysAreDistinctPerJournal) {
  const RelayKeys a = Keys(1, 2);
  const RelayKeys b = Keys(1, 3);
  const RelayKeys c = Keys(4, 2);
  EXPECT_NE(a.room, b.room);
  EXPECT_NE(a.room, c.room);
  EXPECT_NE(a.room, a.hook);
  EXPECT_EQ(Keys(1, 2).room, a.room);  // every device of a journal meets in one room
  EXPECT_NE(std::memcmp(a.key.data(), a.room.data(), 32), 0);
  EXPECT_NE(std::memcmp(a.key.data(), a.hook.data(), 32), 0);
}

TEST(RelayMessage, BigChangesAreAnnouncedNotCarried) {
  RelayMessage m;
  m.type = RelayType::kChange;
  m.sender = 1;
  m.counter = 1;
  m.seq = 1;
  m.change = Bytes(kRelayMaxInlineChange, 0);
  auto fits = SealRelayMessage(Keys(), m);
  ASSERT_TRUE(fits.ok());
  EXPECT_LE(fits->size(), kRelayMaxFrame);
  m.change.push_back(0);
  EXPECT_TRUE(SealRelayMessage(Keys(), m).status().Is(Code::kInvalid));
}

TEST(RelayReplayGuard, CountersOnlyGoUpAndOldOnesAreRefused) {
  RelayCounter counter;
  const uint64_t now = 1'800'000'000'000ull;
  const uint64_t c1 = counter.Next(now);
  const uint64_t c2 = counter.Next(now);  // same millisecond: still increasing
  const uint64_t c3 = counter.Next(now - 5);  // clock stepped back: still increasing
  EXPECT_LT(c1, c2);
  EXPECT_LT(c2, c3);
  RelayReplayGuard guard;
  EXPECT_TRUE(guard.Accept(7, c1, now));
  EXPECT_TRUE(guard.Accept(7, c2, now));
  EXPECT_FALSE(guard.Accept(7, c2, now));  // duplicate
  EXPECT_FALSE(guard.Accept(7, c1, now));  // reordered replay
  EXPECT_TRUE(guard.Accept(8, c1, now));   // per sender
  // A receiver that restarted forgot counters: the age window still refuses a replay.
  RelayReplayGuard fresh;
  EXPECT_FALSE(fresh.Accept(7, c1, now + kRelayMaxAgeMs + 1));
  EXPECT_TRUE(fresh.Accept(7, c3, now + 60'000));
}

}  // namespace
}  // namespace jsync::format

// jsync-relay (tools/relay) against the v1 relay protocol (/work/notes/relay-protocol.md, in
// tools/relay/README.md): rooms and fan-out, the frame rules and their close codes, rate limits,
// paths, Redis scale-out (two instances, a relay killed, Redis killed and restarted), provider
// webhooks from the Drive and Graph emulators, TLS, and an independent RFC 6455 check with the
// npm `ws` package. Every test starts its own relay (and Redis) processes.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/emulator_process.h"
#include "tests/support/gdrive_emulator.h"
#include "tests/support/onedrive_emulator.h"
#include "tests/support/relay_process.h"
#include "tests/support/webdav_servers.h"
#include "tests/support/ws_test_client.h"

namespace jsync::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::string kNudge("\x01\x02", 2);

RelayOptions Via(const RedisProcess& redis) {
  RelayOptions o;
  o.redis_url = redis.url();
  return o;
}
RelayOptions Tls(const std::string& cert, const std::string& key) {
  RelayOptions o;
  o.cert = cert;
  o.key = key;
  return o;
}
RelayOptions Args(std::vector<std::string> args) {
  RelayOptions o;
  o.args = std::move(args);
  return o;
}

uint64_t TagOf(const std::string& frame) {
  uint64_t t = 0;
  for (int i = 0; i < 8 && 2 + i < static_cast<int>(frame.size()); ++i)
    t = (t << 8) | static_cast<uint8_t>(frame[2 + i]);
  return t;
}

class RelayServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    salt_ = std::to_string(rd());
  }

  std::unique_ptr<RelayProcess> Relay(RelayOptions o = {}) {
    std::string error;
    auto r = RelayProcess::Start(o, &error);
    EXPECT_TRUE(r) << error;
    return r;
  }
  std::unique_ptr<RedisProcess> Redis() {
    std::string error;
    auto r = RedisProcess::Start(&error);
    EXPECT_TRUE(r) << error;
    return r;
  }
  std::string Room(const std::string& name) const { return HexId("room-" + name + salt_); }
  std::string Hook(const std::string& name) const { return HexId("hook-" + name + salt_); }

  std::unique_ptr<WsTestClient> Join(const RelayProcess& relay, const std::string& room,
                                     const std::string& hook = "") {
    std::string error;
    auto c = WsTestClient::Connect(relay.RoomUrl(room, hook), &error);
    EXPECT_TRUE(c) << error;
    return c;
  }
  // The HTTP status of a refused upgrade (0: it was accepted).
  static int UpgradeStatus(const std::string& url) {
    std::string error;
    int status = 0;
    auto c = WsTestClient::Connect(url, &error, &status);
    return c ? 0 : status;
  }
  static json Stats(const RelayProcess& relay) {
    const HttpReply r = RawHttp("GET", relay.http_url() + "/v1/stats");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json();
  }
  // Polls /v1/stats until pred holds (5 s at most).
  static bool WaitStats(const RelayProcess& relay, const std::function<bool(const json&)>& pred,
                        int timeout_ms = 5000) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < deadline) {
      if (pred(Stats(relay))) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  // Sends fresh frames from `from` (one per 100 ms) until `to` receives one of them: across
  // instances the other relay's subscription may still be on its way. The received tag, or 0.
  static uint64_t DeliverAcross(WsTestClient& from, WsTestClient& to, uint64_t first_tag,
                                int timeout_ms = 8000) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    uint64_t tag = first_tag;
    while (Clock::now() < deadline) {
      if (!from.Send(RelayFrame(tag))) return 0;
      ++tag;
      if (auto got = to.Read(100)) {
        const uint64_t t = TagOf(*got);
        if (t >= first_tag && t < tag && *got == RelayFrame(t)) return t;
      }
    }
    return 0;
  }

  // Reads until the frame tagged `tag` arrives, skipping earlier traffic; true when it did.
  static bool ReadTag(WsTestClient& c, uint64_t tag, int timeout_ms = 3000) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                              Clock::now());
      const auto got = c.Read(static_cast<int>(left.count()) + 1);
      if (got && *got == RelayFrame(tag)) return true;
      if (c.closed()) return false;
    }
    return false;
  }

  std::string salt_;
};

// ---- HTTP surface ------------------------------------------------------------------------------

TEST_F(RelayServerTest, ServesRootStatsAndRefusesBadPaths) {
  auto relay = Relay();
  ASSERT_TRUE(relay);
  const HttpReply root = RawHttp("GET", relay->http_url() + "/");
  EXPECT_EQ(root.status, 200);
  EXPECT_EQ(root.body, "jsync-relay\n");
  const json stats = Stats(*relay);
  for (const char* field :
       {"connections", "rooms", "frames_in", "frames_forwarded", "garbage", "oversize",
        "text_frames", "rate_limited", "hooks", "redis_published", "redis_received"})
    EXPECT_TRUE(stats.contains(field) && stats[field].is_number_unsigned()) << field;
  EXPECT_EQ(stats["redis_connected"], false);
  EXPECT_EQ(RawHttp("GET", relay->http_url() + "/nope").status, 404);
  EXPECT_EQ(RawHttp("POST", relay->http_url() + "/v1/hook/ABC").status, 404);
  EXPECT_EQ(RawHttp("POST", relay->http_url() + "/v1/hook/" + Room("x").substr(1)).status, 404);
  // WebSocket upgrades: a malformed room or any other path is 404, a malformed hook 400.
  EXPECT_EQ(UpgradeStatus(relay->url() + "/v1/room/" + Room("a").substr(0, 63)), 404);
  std::string upper = Room("a");
  upper[0] = 'A';
  EXPECT_EQ(UpgradeStatus(relay->url() + "/v1/room/" + upper), 404);
  EXPECT_EQ(UpgradeStatus(relay->url() + "/v1/other"), 404);
  EXPECT_EQ(UpgradeStatus(relay->url() + "/"), 404);
  EXPECT_EQ(UpgradeStatus(relay->RoomUrl(Room("a"), "xyz")), 400);
  EXPECT_EQ(UpgradeStatus(relay->RoomUrl(Room("a"), Hook("h").substr(2))), 400);
  EXPECT_EQ(UpgradeStatus(relay->RoomUrl(Room("a"), Hook("h"))), 0);
  // A webhook body over 64 KiB is refused.
  EXPECT_EQ(RawHttp("POST", relay->http_url() + "/v1/hook/" + Hook("h"), {},
                    std::string(65 * 1024, 'x'))
                .status,
            413);
}

// ---- rooms ------------------------------------------------------------------------------------

TEST_F(RelayServerTest, FansOutWithinARoomOnlyAndNeverBackToTheSender) {
  auto relay = Relay();
  ASSERT_TRUE(relay);
  auto a = Join(*relay, Room("1")), b = Join(*relay, Room("1")), c = Join(*relay, Room("1"));
  auto d = Join(*relay, Room("2")), e = Join(*relay, Room("2"));
  ASSERT_TRUE(a && b && c && d && e);
  ASSERT_TRUE(a->Send(RelayFrame(1, 500)));
  EXPECT_EQ(b->Read(3000), RelayFrame(1, 500));
  EXPECT_EQ(c->Read(3000), RelayFrame(1, 500));
  // The relay handled frame 1 before these: had it echoed 1 to a, or leaked it to room 2,
  // that would arrive first.
  ASSERT_TRUE(b->Send(RelayFrame(2)));
  EXPECT_EQ(a->Read(3000), RelayFrame(2));
  ASSERT_TRUE(e->Send(RelayFrame(3)));
  EXPECT_EQ(d->Read(3000), RelayFrame(3));
  EXPECT_EQ(c->Read(3000), RelayFrame(2));
  const json s = Stats(*relay);
  EXPECT_EQ(s["connections"], 5);
  EXPECT_EQ(s["rooms"], 2);
  EXPECT_EQ(s["frames_in"], 3);
  EXPECT_EQ(s["frames_forwarded"], 5);  // 1 → b, c; 2 → a, c; 3 → d
  a->Close();
  EXPECT_TRUE(WaitStats(*relay, [](const json& j) { return j["connections"] == 4; }));
}

TEST_F(RelayServerTest, GarbageIsDroppedAndCountedAndTheSixteenthCloses1008) {
  auto relay = Relay();
  ASSERT_TRUE(relay);
  auto a = Join(*relay, Room("g")), b = Join(*relay, Room("g"));
  ASSERT_TRUE(a && b);
  std::vector<std::string> garbage;
  std::string v2 = RelayFrame(1), kind2 = RelayFrame(2), kind0 = RelayFrame(3);
  v2[0] = 2;
  kind2[1] = 2;  // a device may not send the relay's own hook nudge
  kind0[1] = 0;
  garbage = {v2, kind2, kind0, RelayFrame(4).substr(0, 45), std::string(), kNudge};
  for (int i = 0; garbage.size() < 15; ++i) garbage.push_back(std::string(50 + i, '\x07'));
  for (const auto& g : garbage) ASSERT_TRUE(a->Send(g));
  // Still open: a good frame goes through, and it is the first thing b sees.
  ASSERT_TRUE(a->Send(RelayFrame(9)));
  EXPECT_EQ(b->Read(3000), RelayFrame(9));
  EXPECT_EQ(Stats(*relay)["garbage"], 15);
  ASSERT_TRUE(a->Send(v2));
  EXPECT_TRUE(a->WaitClosed(3000));
  EXPECT_EQ(a->close_code(), 1008);
  EXPECT_EQ(Stats(*relay)["garbage"], 16);
}

TEST_F(RelayServerTest, TextFrameCloses1003AndOversizeCloses1009) {
  auto relay = Relay();
  ASSERT_TRUE(relay);
  auto t = Join(*relay, Room("t")), big = Join(*relay, Room("t")), ok = Join(*relay, Room("t"));
  ASSERT_TRUE(t && big && ok);
  ASSERT_TRUE(t->Send("hello", /*binary=*/false));
  EXPECT_TRUE(t->WaitClosed(3000));
  EXPECT_EQ(t->close_code(), 1003);
  big->Send(RelayFrame(1, 73729));
  EXPECT_TRUE(big->WaitClosed(3000));
  EXPECT_EQ(big->close_code(), 1009);
  // Exactly the limit is fine.
  auto peer = Join(*relay, Room("t"));
  ASSERT_TRUE(peer);
  ASSERT_TRUE(ok->Send(RelayFrame(2, 73728)));
  EXPECT_EQ(peer->Read(3000), RelayFrame(2, 73728));
  const json s = Stats(*relay);
  EXPECT_EQ(s["text_frames"], 1);
  EXPECT_EQ(s["oversize"], 1);
}

TEST_F(RelayServerTest, RateLimitsDropAndCountAndCloseAFlooder) {
  auto relay = Relay();
  ASSERT_TRUE(relay);
  auto flood = Join(*relay, Room("r")), sink = Join(*relay, Room("r"));
  ASSERT_TRUE(flood && sink);
  // Per connection: 100 at once, then 50/s. 400 back to back overflow it by far more than 200.
  int sent = 0;
  while (sent < 400 && flood->Send(RelayFrame(1000 + sent, 46))) ++sent;
  EXPECT_TRUE(flood->WaitClosed(5000));
  EXPECT_EQ(flood->close_code(), 1008);
  const json s = Stats(*relay);
  EXPECT_EQ(s["rate_limited"], 200);
  const uint64_t forwarded = s["frames_forwarded"];
  EXPECT_GE(forwarded, 100u);
  EXPECT_LT(forwarded, 200u);
  int got = 0;
  while (sink->Read(got < static_cast<int>(forwarded) ? 3000 : 0)) ++got;
  EXPECT_EQ(got, static_cast<int>(forwarded));

  // Per room: 400 at once, summed over the connections; five senders of 99 each exceed it.
  std::vector<std::unique_ptr<WsTestClient>> senders;
  for (int i = 0; i < 5; ++i) {
    senders.push_back(Join(*relay, Room("r2")));
    ASSERT_TRUE(senders.back());
  }
  const json before = Stats(*relay);
  for (int n = 0; n < 99; ++n)
    for (auto& c : senders) ASSERT_TRUE(c->Send(RelayFrame(n, 46)));
  const uint64_t in_before = before["frames_in"];
  EXPECT_TRUE(WaitStats(*relay, [&](const json& j) {
    return j["frames_in"].get<uint64_t>() >= in_before + 5 * 99;
  }));
  // 495 frames against 400 + 200/s: dropped unless sending them took half a second.
  EXPECT_GT(Stats(*relay)["rate_limited"].get<uint64_t>(), before["rate_limited"].get<uint64_t>());
}

TEST_F(RelayServerTest, RoomAndServerCapacityRefuseWith429And503) {
  auto relay = Relay(Args({"--max-connections", "70"}));
  ASSERT_TRUE(relay);
  std::vector<std::unique_ptr<WsTestClient>> room;
  for (int i = 0; i < 64; ++i) {
    room.push_back(Join(*relay, Room("full")));
    ASSERT_TRUE(room.back()) << i;
  }
  EXPECT_EQ(UpgradeStatus(relay->RoomUrl(Room("full"))), 429);
  std::vector<std::unique_ptr<WsTestClient>> more;
  for (int i = 0; i < 6; ++i) {
    more.push_back(Join(*relay, Room("other")));
    ASSERT_TRUE(more.back()) << i;
  }
  EXPECT_EQ(UpgradeStatus(relay->RoomUrl(Room("third"))), 503);
  // A place freed is a place again.
  more.back()->Close();
  more.pop_back();
  EXPECT_TRUE(WaitStats(*relay, [](const json& j) { return j["connections"] == 69; }));
  EXPECT_EQ(UpgradeStatus(relay->RoomUrl(Room("third"))), 0);
}

TEST_F(RelayServerTest, ASlowReaderDropsItsOwnFramesAndHoldsUpNobody) {
  auto relay = Relay();
  ASSERT_TRUE(relay);
  // `slow` never reads: its socket buffers fill, then its queue (4 MiB), then its frames drop.
  auto slow = Join(*relay, Room("s")), fast = Join(*relay, Room("s"));
  std::vector<std::unique_ptr<WsTestClient>> senders;
  for (int i = 0; i < 4; ++i) senders.push_back(Join(*relay, Room("s")));
  ASSERT_TRUE(slow && fast);
  const size_t kSize = 70000;
  const int total = 4 * 90;
  // The fast reader reads on its own thread while the senders send (25 MB in all).
  int got = 0;
  std::thread reader([&] {
    while (got < total && fast->Read(10000)) ++got;
  });
  bool sent = true;
  for (int n = 0; n < 90 && sent; ++n)
    for (auto& s : senders) sent = sent && s && s->Send(RelayFrame(n, kSize));
  reader.join();
  ASSERT_TRUE(sent);
  EXPECT_EQ(got, total);  // every frame reached the reader that reads
  EXPECT_TRUE(WaitStats(*relay, [](const json& j) { return j["slow_dropped"] > 0; }));
}

// ---- pings and shutdown -------------------------------------------------------------------------

TEST_F(RelayServerTest, PingsAnIdlePeerAndClosesOneThatNeverAnswers) {
  auto relay = Relay(Args({"--ping-seconds", "1"}));
  ASSERT_TRUE(relay);
  auto c = Join(*relay, Room("p"));
  ASSERT_TRUE(c);
  // The client reads (and so answers pings) on its own thread meanwhile.
  std::thread pinged([&c] {
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (c->pings() < 2 && Clock::now() < deadline) c->Read(100);
  });

  // A raw TCP peer that upgrades and then reads nothing (so answers no ping): closed in ~2 s.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(relay->port());
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const std::string req = "GET /v1/room/" + Room("p") +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n";
  EXPECT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  std::string seen;
  bool eof = false;
  const auto until = Clock::now() + std::chrono::seconds(6);
  while (!eof && Clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) eof = true;
    else seen.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  pinged.join();
  EXPECT_GE(c->pings(), 2);
  EXPECT_FALSE(c->closed());  // it answered every ping
  EXPECT_EQ(seen.rfind("HTTP/1.1 101", 0), 0u) << seen.substr(0, 100);
  EXPECT_TRUE(eof) << "an unresponsive peer was not closed";
  EXPECT_NE(seen.find("\x89"), std::string::npos) << "no ping frame was sent";
}

TEST_F(RelayServerTest, SigtermClosesEveryConnectionWith1001AndExitsZero) {
  auto relay = Relay();
  ASSERT_TRUE(relay);
  auto a = Join(*relay, Room("x")), b = Join(*relay, Room("y"));
  ASSERT_TRUE(a && b);
  // The clients read (and answer the close) on their own threads, as real devices would.
  bool a_closed = false, b_closed = false;
  std::thread ta([&] { a_closed = a->WaitClosed(5000); });
  std::thread tb([&] { b_closed = b->WaitClosed(5000); });
  const int status = relay->SignalAndWait(SIGTERM, 5000);
  ta.join();
  tb.join();
  ASSERT_NE(status, -1) << "still running";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(a_closed);
  EXPECT_TRUE(b_closed);
  EXPECT_EQ(a->close_code(), 1001);
  EXPECT_EQ(b->close_code(), 1001);
  EXPECT_NE(relay->Log().find("jsync-relay: stopped"), std::string::npos) << relay->Log();
}

// ---- scale-out through Redis ------------------------------------------------------------------

TEST_F(RelayServerTest, TwoRelaysShareRoomsThroughRedis) {
  auto redis = Redis();
  ASSERT_TRUE(redis);
  auto r1 = Relay(Via(*redis)), r2 = Relay(Via(*redis));
  ASSERT_TRUE(r1 && r2);
  auto a = Join(*r1, Room("x")), b = Join(*r2, Room("x")), other = Join(*r2, Room("y"));
  ASSERT_TRUE(a && b && other);
  EXPECT_NE(DeliverAcross(*a, *b, 100), 0u);
  EXPECT_NE(DeliverAcross(*b, *a, 200), 0u);
  // Later frames arrive without retries, once, and never in another room or back home.
  ASSERT_TRUE(a->Send(RelayFrame(300)));
  std::optional<std::string> m;
  while ((m = b->Read(3000)) && TagOf(*m) != 300) {
  }
  EXPECT_EQ(m, RelayFrame(300));
  ASSERT_TRUE(other->Send(RelayFrame(301)));  // alone in room y: goes nowhere
  ASSERT_TRUE(b->Send(RelayFrame(302)));
  while ((m = a->Read(3000)) && TagOf(*m) != 302) EXPECT_LT(TagOf(*m), 300u);
  EXPECT_EQ(m, RelayFrame(302));
  const json s1 = Stats(*r1), s2 = Stats(*r2);
  EXPECT_EQ(s1["redis_connected"], true);
  EXPECT_EQ(s2["redis_connected"], true);
  EXPECT_GT(s1["redis_published"].get<uint64_t>(), 0u);
  EXPECT_GT(s2["redis_received"].get<uint64_t>(), 0u);
}

TEST_F(RelayServerTest, KillingARelayClosesItsClientsWhileTheOtherServes) {
  auto redis = Redis();
  ASSERT_TRUE(redis);
  auto r1 = Relay(Via(*redis)), r2 = Relay(Via(*redis));
  ASSERT_TRUE(r1 && r2);
  auto a = Join(*r1, Room("k")), b = Join(*r2, Room("k")), c = Join(*r2, Room("k"));
  ASSERT_TRUE(a && b && c);
  EXPECT_NE(DeliverAcross(*a, *b, 1), 0u);
  ::kill(r1->pid(), SIGKILL);
  EXPECT_TRUE(a->WaitClosed(5000));
  // The survivor: its own clients go on, and a device moving over (a reconnect) joins them.
  ASSERT_TRUE(b->Send(RelayFrame(50)));
  EXPECT_TRUE(ReadTag(*c, 50));  // after the frames of DeliverAcross
  auto moved = Join(*r2, Room("k"));
  ASSERT_TRUE(moved);
  ASSERT_TRUE(c->Send(RelayFrame(51)));
  EXPECT_EQ(moved->Read(3000), RelayFrame(51));
}

TEST_F(RelayServerTest, RedisDownKeepsLocalForwardingAndCrossDeliveryResumesAfterRestart) {
  auto redis = Redis();
  ASSERT_TRUE(redis);
  auto r1 = Relay(Via(*redis)), r2 = Relay(Via(*redis));
  ASSERT_TRUE(r1 && r2);
  auto a = Join(*r1, Room("d")), a2 = Join(*r1, Room("d")), b = Join(*r2, Room("d"));
  ASSERT_TRUE(a && a2 && b);
  EXPECT_NE(DeliverAcross(*a, *b, 1), 0u);
  redis->Kill();
  EXPECT_TRUE(WaitStats(*r1, [](const json& j) { return j["redis_connected"] == false; }));
  ASSERT_TRUE(a->Send(RelayFrame(500)));
  EXPECT_TRUE(ReadTag(*a2, 500));  // local forwarding goes on
  std::string error;
  ASSERT_TRUE(redis->Restart(&error)) << error;
  EXPECT_TRUE(WaitStats(*r1, [](const json& j) { return j["redis_connected"] == true; }, 10000));
  EXPECT_TRUE(WaitStats(*r2, [](const json& j) { return j["redis_connected"] == true; }, 10000));
  EXPECT_NE(DeliverAcross(*a, *b, 1000), 0u) << r1->Log() << r2->Log();
  EXPECT_NE(DeliverAcross(*b, *a, 2000), 0u);
  // Said once per outage, not once per retry.
  const std::string log = r1->Log();
  size_t down = 0;
  for (size_t at = 0; (at = log.find("unreachable", at)) != std::string::npos; ++at) ++down;
  EXPECT_EQ(down, 1u) << log << redis->Log();
}

TEST_F(RelayServerTest, ARelayStartedWithRedisDownJoinsWhenRedisComesUp) {
  auto redis = Redis();
  ASSERT_TRUE(redis);
  redis->Kill();
  auto r1 = Relay(Via(*redis)), r2 = Relay(Via(*redis));
  ASSERT_TRUE(r1 && r2);
  auto a = Join(*r1, Room("late")), a2 = Join(*r1, Room("late")), b = Join(*r2, Room("late"));
  ASSERT_TRUE(a && a2 && b);
  ASSERT_TRUE(a->Send(RelayFrame(7)));
  EXPECT_TRUE(ReadTag(*a2, 7));
  EXPECT_EQ(Stats(*r1)["redis_connected"], false);
  std::string error;
  ASSERT_TRUE(redis->Restart(&error)) << error;
  EXPECT_NE(DeliverAcross(*a, *b, 100, 12000), 0u) << r1->Log();
}

// ---- provider webhooks -----------------------------------------------------------------------

TEST_F(RelayServerTest, WebhookAnswersAndCoalescedNudges) {
  auto relay = Relay();
  ASSERT_TRUE(relay);
  const std::string hook_url = relay->http_url() + "/v1/hook/" + Hook("w");
  auto c = Join(*relay, Room("w"), Hook("w"));
  auto roommate = Join(*relay, Room("w"));
  ASSERT_TRUE(c && roommate);
  // Graph's validation: the token, decoded, as text/plain; no nudge.
  const HttpReply v = RawHttp("POST", hook_url + "?validationToken=Validation%3A%20Testing+x%26y");
  EXPECT_EQ(v.status, 200);
  EXPECT_EQ(v.body, "Validation: Testing x&y");
  EXPECT_EQ(v.headers.at("content-type").rfind("text/plain", 0), 0u);
  // A Graph notification: 202 and one nudge.
  const HttpReply g = RawHttp("POST", hook_url, {"Content-Type: application/json"},
                              R"({"value":[{"subscriptionId":"s","changeType":"updated"}]})");
  EXPECT_EQ(g.status, 202);
  EXPECT_EQ(c->Read(3000), kNudge);
  // Drive messages: 200; inside the 250 ms window they coalesce into one nudge at its end.
  for (int i = 0; i < 5; ++i) {
    const HttpReply d = RawHttp("POST", hook_url,
                                {"X-Goog-Channel-ID: ch", "X-Goog-Resource-State: change"});
    EXPECT_EQ(d.status, 200);
  }
  EXPECT_EQ(c->Read(3000), kNudge);
  EXPECT_EQ(RawHttp("POST", hook_url, {}, "anything").status, 200);
  EXPECT_EQ(c->Read(3000), kNudge);
  EXPECT_TRUE(WaitStats(*relay, [](const json& j) { return j["hooks"] == 7; }));
  // At most one nudge per 250 ms window: 7 webhooks make 3 nudges (4 when the five Drive
  // messages straddle a window's end on a slow machine), and nothing trails after.
  EXPECT_FALSE(c->Read(600).has_value());
  const uint64_t nudges = Stats(*relay)["frames_forwarded"];
  EXPECT_GE(nudges, 3u);
  EXPECT_LE(nudges, 4u);
  // The room's other connection registered no hook: it saw nothing.
  ASSERT_TRUE(c->Send(RelayFrame(1)));
  EXPECT_EQ(roommate->Read(3000), RelayFrame(1));
  EXPECT_EQ(RawHttp("GET", hook_url).status, 405);
}

TEST_F(RelayServerTest, WebhookOnOneRelayNudgesAHookRegisteredOnAnother) {
  auto redis = Redis();
  ASSERT_TRUE(redis);
  auto r1 = Relay(Via(*redis)), r2 = Relay(Via(*redis));
  ASSERT_TRUE(r1 && r2);
  auto c = Join(*r2, Room("hx"), Hook("hx"));
  ASSERT_TRUE(c);
  const auto deadline = Clock::now() + std::chrono::seconds(8);
  std::optional<std::string> got;
  while (!got && Clock::now() < deadline) {
    EXPECT_EQ(RawHttp("POST", r1->http_url() + "/v1/hook/" + Hook("hx"), {}, "{}").status, 200);
    got = c->Read(300);
  }
  EXPECT_EQ(got, kNudge);
}

std::string InMinutes(int minutes) {
  const std::time_t t = std::time(nullptr) + minutes * 60;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

TEST_F(RelayServerTest, GraphSubscriptionOnTheOnedriveEmulatorNudgesTheHook) {
  auto relay = Relay();
  ASSERT_TRUE(relay);
  std::string error;
  auto emu = OnedriveEmulator::Start(OnedriveEmulatorOptions{}, &error);
  ASSERT_TRUE(emu) << error;
  const auto tokens = emu->AuthorizeWithCode(&error);
  ASSERT_FALSE(tokens.access_token.empty()) << error;
  const std::string auth = "Authorization: Bearer " + tokens.access_token;
  auto c = Join(*relay, Room("od"), Hook("od"));
  ASSERT_TRUE(c);
  // The emulator validates the URL (the relay echoes the token) before it answers 201.
  const json body = {{"changeType", "updated"},
                     {"notificationUrl", relay->http_url() + "/v1/hook/" + Hook("od")},
                     {"resource", "/me/drive/special/approot"},
                     {"expirationDateTime", InMinutes(60)},
                     {"clientState", "opaque"}};
  const HttpReply sub = RawHttp("POST", emu->base_url() + "/v1.0/subscriptions",
                                {auth, "Content-Type: application/json"}, body.dump());
  ASSERT_EQ(sub.status, 201) << sub.body;
  EXPECT_EQ(Stats(*relay)["hooks"], 0);  // the validation nudges nobody
  const HttpReply put =
      RawHttp("PUT", emu->base_url() + "/v1.0/me/drive/special/approot:/j/a.txt:/content",
              {auth, "Content-Type: application/octet-stream"}, "x");
  ASSERT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(c->Read(5000), kNudge);
  EXPECT_EQ(Stats(*relay)["hooks"], 1);
}

TEST_F(RelayServerTest, DriveChannelOnTheGdriveEmulatorNudgesTheHook) {
  auto relay = Relay();
  ASSERT_TRUE(relay);
  std::string error;
  auto emu = GdriveEmulator::Start(GdriveEmulatorOptions{}, &error);
  ASSERT_TRUE(emu) << error;
  const auto tokens = emu->AuthorizeWithCode(&error);
  ASSERT_FALSE(tokens.access_token.empty()) << error;
  const std::string auth = "Authorization: Bearer " + tokens.access_token;
  auto c = Join(*relay, Room("gd"), Hook("gd"));
  ASSERT_TRUE(c);
  const HttpReply start =
      RawHttp("GET", emu->base_url() + "/drive/v3/changes/startPageToken", {auth});
  ASSERT_EQ(start.status, 200) << start.body;
  const std::string page = start.Json()["startPageToken"];
  const json watch = {{"id", "relay-channel"},
                      {"type", "web_hook"},
                      {"address", relay->http_url() + "/v1/hook/" + Hook("gd")}};
  const HttpReply w = RawHttp("POST",
                              emu->base_url() + "/drive/v3/changes/watch?spaces=appDataFolder&"
                                                "pageToken=" + page,
                              {auth, "Content-Type: application/json"}, watch.dump());
  ASSERT_EQ(w.status, 200) << w.body;
  EXPECT_EQ(c->Read(5000), kNudge);  // the channel's "sync" message
  EXPECT_TRUE(WaitStats(*relay, [](const json& j) { return j["hooks"] == 1; }));
  const std::string multipart =
      "--XyZ\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n" +
      json{{"name", "n"}, {"parents", {"appDataFolder"}}}.dump() +
      "\r\n--XyZ\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n--XyZ--\r\n";
  const HttpReply created =
      RawHttp("POST", emu->base_url() + "/upload/drive/v3/files?uploadType=multipart",
              {auth, "Content-Type: multipart/related; boundary=XyZ"}, multipart);
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(c->Read(5000), kNudge);  // the "change" message (after the 250 ms window at most)
  EXPECT_TRUE(WaitStats(*relay, [](const json& j) { return j["hooks"] == 2; }));
  EXPECT_EQ(emu->Log().find("webhook"), std::string::npos) << emu->Log();
}

// ---- TLS --------------------------------------------------------------------------------------

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One HTTPS request that verifies the relay's certificate against `ca` (itself).
long HttpsStatus(const std::string& method, const std::string& url, const std::string& ca,
                 std::string* body) {
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
  if (method == "POST") curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  return status;
}

class RelayTlsTest : public RelayServerTest {
 protected:
  void SetUp() override {
    RelayServerTest::SetUp();
    dir_ = fs::temp_directory_path() / ("jsync-relay-tls-" + salt_);
    fs::create_directories(dir_);
    std::string error;
    ASSERT_TRUE(MakeSelfSignedCert(dir_, &cert_, &key_, &error)) << error;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
  std::string cert_, key_;
};

TEST_F(RelayTlsTest, ServesWssAndHttpsWithACertificate) {
  auto relay = Relay(Tls(cert_, key_));
  ASSERT_TRUE(relay);
  EXPECT_EQ(relay->url().rfind("wss://127.0.0.1:", 0), 0u);
  auto a = Join(*relay, Room("tls"), Hook("tls")), b = Join(*relay, Room("tls"));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Send(RelayFrame(1, 2000)));
  EXPECT_EQ(b->Read(3000), RelayFrame(1, 2000));
  std::string body;
  EXPECT_EQ(HttpsStatus("GET", relay->http_url() + "/", cert_, &body), 200);
  EXPECT_EQ(body, "jsync-relay\n");
  body.clear();
  EXPECT_EQ(HttpsStatus("POST", relay->http_url() + "/v1/hook/" + Hook("tls") +
                                    "?validationToken=abc",
                        cert_, &body),
            200);
  EXPECT_EQ(body, "abc");
  EXPECT_EQ(HttpsStatus("POST", relay->http_url() + "/v1/hook/" + Hook("tls"), cert_, &body),
            200);
  EXPECT_EQ(a->Read(3000), kNudge);
  // Plain HTTP on the TLS port is not served.
  EXPECT_TRUE(RawHttp("GET", "http" + relay->http_url().substr(5) + "/").status != 200);
  auto big = Join(*relay, Room("tls"));
  ASSERT_TRUE(big);
  big->Send(RelayFrame(2, 73729));
  EXPECT_TRUE(big->WaitClosed(3000));
  EXPECT_EQ(big->close_code(), 1009);
}

// ---- an independent RFC 6455 implementation: the npm `ws` package -----------------------------

void RunWsCheck(const std::string& url) {
  const fs::path script = SourceRoot() / "tests" / "peers" / "ws-check.mjs";
  if (!fs::exists(SourceRoot() / "tests" / "peers" / "node_modules" / "ws" / "package.json"))
    GTEST_SKIP() << "ws is not installed in tests/peers (run scripts/install-test-peers.sh)";
  if (FindProgram("node").empty()) GTEST_SKIP() << "node is not installed";
  std::string output;
  const int rc = RunToExit({"node", script.string(), url}, 60000, &output);
  EXPECT_EQ(rc, 0) << output;
  EXPECT_NE(output.find("all checks passed"), std::string::npos) << output;
  EXPECT_EQ(output.find("FAIL"), std::string::npos) << output;
}

TEST_F(RelayServerTest, TheWsPackageCheckPasses) {
  auto relay = Relay(Args({"--threads", "2"}));  // and the relay's thread pool
  ASSERT_TRUE(relay);
  RunWsCheck(relay->url());
}

TEST_F(RelayTlsTest, TheWsPackageCheckPassesOverTls) {
  auto relay = Relay(Tls(cert_, key_));
  ASSERT_TRUE(relay);
  RunWsCheck(relay->url());
}

}  // namespace
}  // namespace jsync::testing

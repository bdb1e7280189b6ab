// `jsync watch` end to end on the folder provider: local edits by another process are published
// without polling, one watcher per home, a clean stop on SIGTERM, edits reaching another device
// through the relay with the poll out of the way, and three devices converging with the relay
// on, killed midway, replaced by a second instance through Redis, and off — nothing lost,
// nothing duplicated, and no plaintext in anything the relay forwarded.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "core/journal/journal.h"
#include "net/ws_client.h"
#include "tests/support/child_process.h"
#include "tests/support/relay_process.h"
#include "tests/support/test_support.h"
#include "tests/support/watch_process.h"

namespace jsync {
namespace {

using testing::ProcessResult;
using testing::RunJsync;
using testing::WaitUntil;

constexpr const char* kPassphrase = "watch test passphrase";


class WatchTest : public ::testing::Test {
 protected:
  std::string Home(const std::string& device) { return dir_ / device; }

  ProcessResult Jsync(const std::string& device, std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", Home(device)});
    ProcessResult r = RunJsync(args, {{"JSYNC_PASSPHRASE", kPassphrase}});
    outputs_ += r.out + r.err;
    return r;
  }

  void Init(const std::string& device) {
    ProcessResult r = Jsync(device, {"init", "--provider", "folder", "--location", dir_ / "cloud",
                                     "--device-name", device, "--scrypt-log-n", "10"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::unique_ptr<testing::ChildProcess> Watch(const std::string& device,
                                               std::vector<std::string> args) {
    return testing::StartWatch(Home(device), args, {{"JSYNC_PASSPHRASE", kPassphrase}});
  }

  static bool Started(const testing::ChildProcess& w) { return testing::WatchStarted(w, 15000); }

  std::string Titles(const std::string& device) {
    ProcessResult r = Jsync(device, {"list", "--json"});
    if (r.exit_code != 0) return "error: " + r.err;
    std::vector<std::string> titles;
    for (const auto& e : nlohmann::json::parse(r.out)) titles.push_back(e["title"]);
    std::sort(titles.begin(), titles.end());
    std::string out;
    for (const auto& t : titles) out += t + "\n";
    return out;
  }

  std::string ListJson(const std::string& device) { return Jsync(device, {"list", "--json"}).out; }

  static std::string RoomUrl(const std::string& relay, const std::string& home) {
    auto journal = Journal::Open(home, testing::HostStorage());
    EXPECT_TRUE(journal.ok());
    auto keys = (*journal)->RelayKeys();
    EXPECT_TRUE(keys.ok());
    return relay + "/v1/room/" + ToHex(keys->room);
  }

  testing::TempDir dir_;
  std::string outputs_;
};

TEST_F(WatchTest, ALocalEditByAnotherProcessIsPublishedWithoutAPoll) {
  Init("laptop");
  // The poll is an hour away: only the home watch can notice the edit.
  auto w = Watch("laptop", {"--no-relay", "--poll-min", "3600", "--poll-max", "3600"});
  ASSERT_TRUE(Started(*w)) << w->Stderr();
  ASSERT_EQ(Jsync("laptop", {"new", "--title", "Written elsewhere"}).exit_code, 0);
  auto published = [&] {
    for (const auto& f : testing::ListFiles(dir_ / "cloud")) {
      if (f.string().find("/changes/") != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(WaitUntil(published, 10000)) << w->Stderr();
  EXPECT_TRUE(WaitUntil([&] { return w->Stderr().find("published 1 change") != std::string::npos; },
                        10000))
      << w->Stderr();

  // A burst of edits becomes one change once typing pauses.
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Jsync("laptop", {"new", "--title", "burst " + std::to_string(i)}).exit_code, 0);
  }
  auto all_sent = [&] {
    auto status = nlohmann::json::parse(Jsync("laptop", {"status", "--json"}).out);
    return status["outbox"]["ops"] == 0 && status["outbox"]["unuploaded_changes"] == 0;
  };
  EXPECT_TRUE(WaitUntil(all_sent, 10000)) << w->Stderr();
  const int status = w->SignalAndWait(SIGTERM, 10000);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(w->Stderr().find("stopped after"), std::string::npos) << w->Stderr();
  // Each publish logs once; five quick edits are far fewer than five publishes (each `jsync
  // new` takes tens of ms, the quiet period is 300 ms).
  size_t publishes = 0;
  for (size_t at = 0; (at = w->Stderr().find("published ", at)) != std::string::npos; ++at) {
    ++publishes;
  }
  EXPECT_LE(publishes, 4u) << w->Stderr();
}

TEST_F(WatchTest, OneWatcherPerHomeAndTheSecondSaysWhoHoldsIt) {
  Init("laptop");
  auto first = Watch("laptop", {"--no-relay"});
  ASSERT_TRUE(Started(*first)) << first->Stderr();
  ProcessResult second = Jsync("laptop", {"watch", "--once", "--no-relay"});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("jsync watch is already running for this home (pid " +
                            std::to_string(first->pid())),
            std::string::npos)
      << second.err;
  first->Stop();
  ProcessResult again = Jsync("laptop", {"watch", "--once", "--no-relay"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

TEST_F(WatchTest, OnceExitsOneWhenTheCycleReportsAProblem) {
  Init("laptop");
  Init("phone");
  ASSERT_EQ(Jsync("laptop", {"new", "--title", "to be damaged"}).exit_code, 0);
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0);
  for (const auto& f : testing::ListFiles(dir_ / "cloud")) {
    if (f.extension() != ".jchg") continue;
    std::string bytes = testing::ReadFileBytes(f);
    bytes[bytes.size() / 2] ^= 0x20;
    testing::WriteFileBytes(f, bytes);
  }
  ProcessResult r = Jsync("phone", {"watch", "--once", "--no-relay"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("problem: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the sync cycle reported 1 problem"), std::string::npos) << r.err;
  EXPECT_EQ(Titles("phone"), "");
}

TEST_F(WatchTest, BadArgumentsAreRefusedBeforeAnythingRuns) {
  Init("laptop");
  ProcessResult r = Jsync("laptop", {"watch", "--seal-quiet-ms", "500", "--seal-max-ms", "100"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--seal-max-ms must be at least --seal-quiet-ms"), std::string::npos);
  r = Jsync("laptop", {"watch", "--relay", "http://example.org"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("must start with ws:// or wss://"), std::string::npos) << r.err;
  r = Jsync("laptop", {"relay", "set", "ws://"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("names no host"), std::string::npos) << r.err;
  r = Jsync("laptop", {"relay", "sideways"});
  EXPECT_EQ(r.exit_code, 2);
  r = Jsync("laptop", {"watch", "--poll-min", "0"});
  EXPECT_EQ(r.exit_code, 2);
  // The relay setting round-trips and stays in the home.
  ASSERT_EQ(Jsync("laptop", {"relay", "set", "ws://127.0.0.1:1", "wss://relay.example.org"})
                .exit_code,
            0);
  r = Jsync("laptop", {"relay", "--json"});
  ASSERT_EQ(r.exit_code, 0);
  auto shown = nlohmann::json::parse(r.out);
  EXPECT_EQ(shown["urls"].size(), 2u);
  EXPECT_EQ(shown["presence"], false);
  ASSERT_EQ(Jsync("laptop", {"relay", "off"}).exit_code, 0);
  EXPECT_NE(Jsync("laptop", {"relay"}).out.find("relay: off"), std::string::npos);
  for (const auto& f : testing::ListFiles(dir_ / "cloud")) {
    EXPECT_EQ(testing::ReadFileBytes(f).find("relay.example.org"), std::string::npos) << f;
  }
}

TEST_F(WatchTest, AnEditReachesTheOtherDeviceThroughTheRelayWithoutAPoll) {
  std::string error;
  auto relay = testing::RelayProcess::Start({}, &error);
  ASSERT_NE(relay, nullptr) << error;
  Init("laptop");
  Init("phone");
  ASSERT_EQ(Jsync("phone", {"relay", "presence", "on"}).exit_code, 0);
  // Everything the room carries, as the relay saw it.
  auto spy = net::WsClient::Connect(RoomUrl(relay->url(), Home("laptop")));
  ASSERT_TRUE(spy.ok()) << spy.status().message();

  const std::vector<std::string> slow = {"--relay", relay->url(), "--poll-min", "3600",
                                         "--poll-max", "3600"};
  auto laptop = Watch("laptop", slow);
  auto phone = Watch("phone", slow);
  ASSERT_TRUE(Started(*laptop) && Started(*phone)) << laptop->Stderr() << phone->Stderr();
  ASSERT_TRUE(WaitUntil([&] { return laptop->Stderr().find("relay: connected") != std::string::npos &&
                                     phone->Stderr().find("relay: connected") != std::string::npos; },
                        10000));
  testing::WriteFileBytes(dir_ / "body.txt", "A body only the devices may read");
  ASSERT_EQ(Jsync("laptop", {"new", "--title", "Secret plans", "--tag", "private", "--body-file",
                             dir_ / "body.txt"})
                .exit_code,
            0);
  EXPECT_TRUE(WaitUntil([&] { return Titles("phone") == "Secret plans\n"; }, 10000))
      << laptop->Stderr() << phone->Stderr();
  EXPECT_NE(phone->Stderr().find("from the relay"), std::string::npos) << phone->Stderr();
  // The phone announced itself (presence on); the laptop's log says so.
  EXPECT_TRUE(WaitUntil([&] { return laptop->Stderr().find("is online") != std::string::npos; },
                        10000))
      << laptop->Stderr();
  const std::string phone_id =
      nlohmann::json::parse(Jsync("phone", {"status", "--json"}).out)["device"]["id"];
  auto laptop_status = nlohmann::json::parse(Jsync("laptop", {"status", "--json"}).out);
  EXPECT_TRUE(laptop_status["watch"].is_string()) << laptop_status.dump();
  EXPECT_EQ(laptop_status["online_devices"], nlohmann::json::array({phone_id}))
      << laptop_status.dump();
  EXPECT_NE(Jsync("laptop", {"status"}).out.find("phone: merged up to change 0, online now"),
            std::string::npos)
      << outputs_;
  laptop->Stop();
  phone->Stop();
  EXPECT_EQ(nlohmann::json::parse(Jsync("laptop", {"status", "--json"}).out)["watch"],
            nlohmann::json());

  std::string carried;
  for (;;) {
    auto frame = (*spy)->Receive(200);
    if (!frame.ok() || !frame->has_value()) break;
    carried.append((*frame)->begin(), (*frame)->end());
  }
  EXPECT_GT(carried.size(), 100u);
  for (const char* plain : {"Secret plans", "private", "A body only", "laptop", "phone",
                            kPassphrase}) {
    EXPECT_EQ(carried.find(plain), std::string::npos) << plain;
  }
  EXPECT_EQ(relay->Log().find("Secret"), std::string::npos);
}

// Three devices, random edits in rounds; between rounds the relay setup changes. Seeded.
TEST_F(WatchTest, ThreeDevicesConvergeWithTheRelayOnKilledReplacedAndOff) {
  const uint64_t seed = testing::SeedFromEnv(20261203);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (JSYNC_SEED)");
  std::mt19937_64 rng(seed);
  std::string error;
  auto redis = testing::RedisProcess::Start(&error);
  ASSERT_NE(redis, nullptr) << error;
  testing::RelayOptions ro;
  ro.redis_url = redis->url();
  auto relay1 = testing::RelayProcess::Start(ro, &error);
  ASSERT_NE(relay1, nullptr) << error;
  auto relay2 = testing::RelayProcess::Start(ro, &error);
  ASSERT_NE(relay2, nullptr) << error;

  const std::vector<std::string> devices = {"a", "b", "c"};
  for (const auto& d : devices) Init(d);
  // a and b start on relay 1, c on relay 2: messages cross instances through Redis.
  ASSERT_EQ(Jsync("a", {"relay", "set", relay1->url(), relay2->url()}).exit_code, 0);
  ASSERT_EQ(Jsync("b", {"relay", "set", relay1->url(), relay2->url()}).exit_code, 0);
  ASSERT_EQ(Jsync("c", {"relay", "set", relay2->url(), relay1->url()}).exit_code, 0);
  std::map<std::string, std::unique_ptr<testing::ChildProcess>> watchers;
  for (const auto& d : devices) {
    watchers[d] = Watch(d, {"--poll-min", "2", "--poll-max", "4", "--seal-quiet-ms", "100"});
  }
  for (const auto& d : devices) ASSERT_TRUE(Started(*watchers[d])) << watchers[d]->Stderr();

  // A shared entry everyone edits, made and spread before the rounds.
  ASSERT_EQ(Jsync("a", {"new", "--title", "shared"}).exit_code, 0);
  std::string shared_id;
  ASSERT_TRUE(WaitUntil([&] { return Titles("b") == "shared\n" && Titles("c") == "shared\n"; },
                        20000))
      << outputs_;
  shared_id = nlohmann::json::parse(ListJson("a"))[0]["id"];

  std::vector<std::string> expected = {"shared"};
  int made = 0;
  auto round = [&](const char* name) {
    for (int i = 0; i < 6; ++i) {
      const std::string& d = devices[rng() % devices.size()];
      switch (rng() % 3) {
        case 0: {
          const std::string title = std::string(name) + " entry " + std::to_string(made++);
          ASSERT_EQ(Jsync(d, {"new", "--title", title}).exit_code, 0);
          expected.push_back(title);
          break;
        }
        case 1:
          ASSERT_EQ(Jsync(d, {"edit", shared_id, "--insert", "0", d + std::to_string(i) + " "})
                        .exit_code,
                    0);
          break;
        default:
          ASSERT_EQ(Jsync(d, {"edit", shared_id, "--add-tag", std::string(name) + d}).exit_code,
                    0);
      }
    }
    std::sort(expected.begin(), expected.end());
    std::string want;
    for (const auto& t : expected) want += t + "\n";
    auto converged = [&] {
      const std::string a = ListJson("a");
      return Titles("a") == want && ListJson("b") == a && ListJson("c") == a;
    };
    ASSERT_TRUE(WaitUntil(converged, 60000))
        << name << "\n" << Titles("a") << "--\n" << Titles("b") << "--\n" << Titles("c")
        << watchers["a"]->Stderr() << watchers["c"]->Stderr();
  };

  round("relay-on");
  // Relay 1 dies: a and b move to relay 2; the poll covers what was in flight. And b's watcher
  // is killed outright (SIGKILL) and started again: nothing it held is lost.
  ASSERT_NE(relay1->SignalAndWait(SIGKILL, 5000), -1);
  ASSERT_EQ(Jsync("b", {"new", "--title", "written as b's watcher dies"}).exit_code, 0);
  expected.push_back("written as b's watcher dies");
  ASSERT_NE(watchers["b"]->SignalAndWait(SIGKILL, 5000), -1);
  watchers["b"] = Watch("b", {"--poll-min", "2", "--poll-max", "4", "--seal-quiet-ms", "100"});
  round("relay-killed");
  EXPECT_TRUE(WaitUntil([&] {
    return watchers["a"]->Stderr().find("connected to " + relay2->url()) != std::string::npos;
  }, 20000)) << watchers["a"]->Stderr();
  // And the last relay goes too: polling alone converges.
  ASSERT_NE(relay2->SignalAndWait(SIGKILL, 5000), -1);
  round("relay-off");

  // Nothing duplicated: one entry per title made, and every device holds the same bytes.
  auto entries = nlohmann::json::parse(ListJson("a"));
  EXPECT_EQ(entries.size(), expected.size());
  for (auto& [d, w] : watchers) {
    const int status = w->SignalAndWait(SIGTERM, 10000);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << d << " " << status;
  }
}

}  // namespace
}  // namespace jsync

// Three Macs on one iCloud Drive, simulated: each device's journal lives in its own root, and
// `jsync-emulator icloud-drive` keeps the roots in sync the way iCloud Drive would — with
// delays out of order, eviction to ".name.icloud" stubs, slow hydration, iCloud's duplicates
// (same and other bytes), lost file events and a period of "storage full". Each device runs
// the `jsync` CLI on the icloud-drive provider. All three converge with nothing lost, no
// duplicate is ever merged as data, and the roots hold ciphertext only.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/emulator_process.h"
#include "tests/support/test_support.h"

#ifndef JSYNC_ICLOUD_DRIVE_PLUGIN
#define JSYNC_ICLOUD_DRIVE_PLUGIN ""
#endif

namespace jsync {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::ProcessResult;

constexpr const char* kPassphrase = "three macs passphrase";
const std::vector<std::string> kDevices = {"mac-a", "mac-b", "mac-c"};

class IcloudDriveSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifndef JSYNC_EMULATOR_BINARY
    GTEST_SKIP() << "built without jsync-emulator";
#endif
    if (std::string(JSYNC_ICLOUD_DRIVE_PLUGIN).empty()) GTEST_SKIP() << "built without the plugin";
    std::string roots;
    for (size_t i = 0; i < kDevices.size(); ++i) {
      fs::create_directories(Root(i));
      roots += (i ? "," : "") + Root(i).string();
    }
    testing::EmulatorOptions options;
    options.auto_approve = false;
    options.state_dir = dir_.path() / "icloud-state";  // the roots' volume
    options.args = {"--roots", roots, "--delay-ms", "40", "--jitter-ms", "160", "--hydrate-ms",
                    "150", "--rescan-ms", "400", "--seed", "20261203",
                    // and on their own: files evicted and duplicated as they arrive
                    "--faults", "evict@5,evict@9,conflict-same@7,conflict@13"};
    std::string error;
    sim_ = testing::EmulatorProcess::Start("icloud-drive", options, &error);
    ASSERT_NE(sim_, nullptr) << error;
  }

  fs::path Root(size_t i) const { return dir_.path() / ("icloud-" + kDevices[i]); }
  std::string Location(size_t i) const { return (Root(i) / "JournalSync").string(); }

  ProcessResult Jsync(size_t i, std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"--home", (dir_.path() / kDevices[i]).string()});
    ProcessResult r = testing::RunJsync(args, {{"JSYNC_PASSPHRASE", kPassphrase}}, input);
    outputs_ += r.out + r.err;
    return r;
  }
  void Init(size_t i) {
    ProcessResult r =
        Jsync(i, {"init", "--provider", "icloud-drive", "--location", Location(i), "--option",
                  "staging=" + (dir_.path() / ("staging-" + kDevices[i])).string(), "--device-name",
                  kDevices[i], "--scrypt-log-n", "10"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  void New(size_t i, const std::string& title) {
    titles_.push_back(title);
    ProcessResult r =
        Jsync(i, {"new", "--title", title, "--body-file", "-"}, "secret body of " + title);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  void Sync(size_t i) {
    ProcessResult r = Jsync(i, {"sync"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  json Sim(const std::string& method, const std::string& path) {
    const testing::HttpReply r = testing::RawHttp(method, sim_->base_url() + path);
    EXPECT_EQ(r.status, 200) << method << " " << path << ": " << r.body;
    return r.Json();
  }
  // Polls the simulator until every root holds every file, with a deadline.
  void WaitSettled(int timeout_ms = 20000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    json last;
    while (std::chrono::steady_clock::now() < deadline) {
      last = Sim("GET", "/_admin/settled");
      if (last.value("settled", false)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    FAIL() << "the simulated iCloud did not settle: " << last.dump();
  }
  // Syncs every device until they all list the same entries, every title among them.
  void Converge() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
    std::string last;
    while (std::chrono::steady_clock::now() < deadline) {
      WaitSettled();
      std::vector<std::string> lists;
      for (size_t i = 0; i < kDevices.size(); ++i) {
        Jsync(i, {"sync"});  // may report a file still downloading: synced again below
        lists.push_back(Jsync(i, {"list", "--json"}).out);
      }
      bool all = lists[0] == lists[1] && lists[1] == lists[2];
      for (const std::string& t : titles_) all = all && lists[0].find(t) != std::string::npos;
      if (all && json::parse(lists[0], nullptr, false).size() == titles_.size()) return;
      last = lists[0] + "\n" + lists[1] + "\n" + lists[2];
    }
    FAIL() << "the devices did not converge:\n" << last << "\n" << outputs_.substr(0, 4000);
  }
  // The change files of a device as they sit in root i (relative to the root).
  std::vector<std::string> ChangeFiles(size_t i) {
    std::vector<std::string> out;
    for (const auto& f : testing::ListFiles(Root(i))) {
      const std::string rel = f.lexically_relative(Root(i)).generic_string();
      const std::string name = f.filename().string();
      // Change files only ("<seq:016x>.jchg"), not the duplicates the faults made.
      if (rel.find("/changes/") != std::string::npos && name.size() == 21 &&
          name.find_first_not_of("0123456789abcdef") == 16 && name.ends_with(".jchg"))
        out.push_back(rel);
    }
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::EmulatorProcess> sim_;
  std::vector<std::string> titles_;
  std::string outputs_;
};

TEST_F(IcloudDriveSyncTest, ThreeMacsConvergeThroughEvictionsDuplicatesLostEventsAndAFullCloud) {
  // Mac A starts the journal; B and C join once iCloud brought it to their roots.
  Init(0);
  New(0, "Alpha one");
  New(0, "Alpha two");
  Sync(0);
  WaitSettled();
  Init(1);
  Init(2);
  New(1, "Bravo one");
  New(2, "Charlie one");
  for (size_t i = 0; i < 3; ++i) Sync(i);
  Converge();

  // Mac C's copies are evicted, and what arrives next must be downloaded slowly first.
  New(0, "Alpha three");
  New(1, "Bravo two");
  Sync(0);
  Sync(1);
  WaitSettled();
  EXPECT_GT(Sim("POST", "/_admin/evict?root=2")["evicted"].get<int>(), 0);
  Sim("POST", "/_admin/hydrate-ms?ms=400");
  Converge();
  EXPECT_GT(Sim("GET", "/_admin/state")["hydrations"].get<int>(), 0) << "C read evicted files";

  // iCloud's duplicates of change files: one identical (removed by a device), one with other
  // bytes (kept, never merged).
  const std::vector<std::string> files = ChangeFiles(0);
  ASSERT_GE(files.size(), 2u);
  const json same = Sim(
      "POST", "/_admin/conflict?root=1&style=space&same=1&path=" + testing::UrlEscape(files[0]));
  const json other = Sim(
      "POST", "/_admin/conflict?root=0&style=paren&same=0&path=" + testing::UrlEscape(files[1]));
  const std::string same_copy = same.value("path", "");
  const std::string other_copy = other.value("path", "");
  ASSERT_FALSE(same_copy.empty());
  ASSERT_FALSE(other_copy.empty());

  // Lost file events: Bravo three reaches the others only through a full rescan.
  Sim("POST", "/_admin/drop-events?on=1");
  New(1, "Bravo three");
  Sync(1);
  Sim("POST", "/_admin/drop-events?on=0");

  // iCloud is full: Charlie two stays on Mac C (which sees no error) until space is freed.
  Sim("POST", "/_admin/storage-full?on=1");
  New(2, "Charlie two");
  Sync(2);
  std::this_thread::sleep_for(
      std::chrono::milliseconds(600));  // what "full" looks like: nothing moves
  EXPECT_FALSE(Sim("GET", "/_admin/settled")["settled"].get<bool>());
  Sync(0);
  EXPECT_EQ(Jsync(0, {"list", "--json"}).out.find("Charlie two"), std::string::npos);
  Sim("POST", "/_admin/storage-full?on=0");

  Converge();
  // The daily full listing (asked for here) is where a device meets the duplicates in folders
  // it does not probe.
  for (size_t i = 0; i < 3; ++i) {
    ProcessResult full = Jsync(i, {"sync", "--full"});
    EXPECT_EQ(full.exit_code, 0) << full.out << full.err;
  }
  Converge();
  const json state = Sim("GET", "/_admin/state");
  EXPECT_GT(state["dropped_events"].get<int>(), 0) << state.dump();
  EXPECT_GT(state["held_by_full"].get<int>(), 0) << state.dump();

  // The identical duplicate is gone everywhere; the other one is kept everywhere, unmerged
  // (the lists above hold exactly the titles written).
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(fs::exists(Root(i) / same_copy)) << Root(i) / same_copy;
    EXPECT_TRUE(fs::exists(Root(i) / other_copy)) << Root(i) / other_copy;
  }
  EXPECT_NE(outputs_.find("ignored unexpected file"), std::string::npos)
      << "the kept duplicate is named, not merged";

  // Ciphertext only in the roots (and in the simulated cloud), and no temporary upload ever
  // reached a root.
  for (const fs::path& dir : {Root(0), Root(1), Root(2), dir_.path() / "icloud-state"}) {
    for (const auto& f : testing::ListFiles(dir)) {
      EXPECT_EQ(f.filename().string().rfind(".jsync-tmp-", 0), std::string::npos) << f;
      const std::string bytes = testing::ReadFileBytes(f);
      for (const std::string& t : titles_) {
        EXPECT_EQ(bytes.find(t), std::string::npos) << t << " in " << f;
        EXPECT_EQ(bytes.find("secret body of"), std::string::npos) << f;
      }
      EXPECT_EQ(bytes.find(kPassphrase), std::string::npos) << f;
    }
  }
}

}  // namespace
}  // namespace jsync

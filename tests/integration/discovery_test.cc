// What a sync costs to learn what the cloud holds (core/sync/discovery.h, decision 0024): a
// quiet poll is constant in the history's length — one feed request on Drive, devices + 1 on
// the folder provider — catching up costs the new files, and what only a full listing can see
// (a lost own file) is found by `--full` and the daily listing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/sync/discovery.h"
#include "core/sync/remote_layout.h"
#include "tests/support/gdrive_emulator.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

namespace fs = std::filesystem;
using testing::ProcessResult;
using testing::RunJsync;

class FolderDiscoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* d : {"a", "b", "c"}) {
      ASSERT_TRUE(Journal::Init(Home(d), testing::TestInitOptions(Cloud(), d), Clock(d)).ok());
    }
  }
  std::string Home(const std::string& d) { return dir_ / ("home-" + d); }
  std::string Cloud() { return dir_ / "cloud"; }
  ClockFn Clock(const std::string& d) {
    return [this, d] { return now_ms_ + (d == "a" ? 0 : 1); };
  }
  std::unique_ptr<Journal> Open(const std::string& d) {
    auto j = Journal::Open(Home(d), testing::HostStorage(), Clock(d));
    EXPECT_TRUE(j.ok()) << j.status().message();
    return j.ok() ? std::move(j).value() : nullptr;
  }
  SyncResult Sync(const std::string& d, bool full = false) {
    auto j = Open(d);
    sync::DiscoveryOptions options;
    options.full_listing = full;
    auto r = j->Sync(options);
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok()) return {};
    for (const auto& p : r->report.problems) ADD_FAILURE() << d << ": " << p.message;
    return std::move(r).value();
  }
  void Write(const std::string& d, int entries) {
    auto j = Open(d);
    for (int i = 0; i < entries; ++i) {
      ASSERT_TRUE(j->NewEntry({d + " entry " + std::to_string(i), "body", {}}).ok());
    }
  }
  // A history of `rounds` change files per device, everything merged everywhere.
  void History(int rounds) {
    for (int r = 0; r < rounds; ++r) {
      for (const char* d : {"a", "b", "c"}) {
        Write(d, 1);
        Sync(d);
      }
    }
    for (const char* d : {"a", "b", "c"}) Sync(d);
  }
  static uint64_t Requests(const SyncResult& r) { return r.calls.calls(); }

  testing::TempDir dir_;
  uint64_t now_ms_ = 1'800'000'000'000;
};

TEST_F(FolderDiscoveryTest, QuietPollCostsOneListingPlusOneProbePerOtherDevice) {
  History(2);
  const SyncResult small = Sync("a");
  EXPECT_EQ(small.report.discovery, "probe");
  EXPECT_EQ(small.calls.lists, 1u);  // devices/
  EXPECT_EQ(small.calls.gets, 3u);   // the next change of b and of c, a's next slot: not there
  EXPECT_EQ(Requests(small), 3u + 1);  // devices + 1
  EXPECT_EQ(small.report.merged_changes, 0u);

  History(8);  // five times the history: the quiet poll costs the same
  const SyncResult large = Sync("a");
  EXPECT_EQ(large.report.discovery, "probe");
  EXPECT_EQ(Requests(large), Requests(small));
}

TEST_F(FolderDiscoveryTest, ProbesCatchUpNewChangesAndMergeThemInOrder) {
  History(3);
  Write("b", 2);
  Sync("b");
  Write("b", 1);
  Sync("b");
  const SyncResult r = Sync("a");
  EXPECT_EQ(r.report.discovery, "probe");
  EXPECT_EQ(r.report.merged_changes, 2u);
  EXPECT_EQ(r.report.merged_by_device.size(), 1u);
  // one listing of devices/, one of b's changes/ folder; probes of a, b and c; b's second file
  EXPECT_EQ(r.calls.lists, 2u);
  EXPECT_EQ(r.calls.gets, 4u);
  auto a = Open("a");
  auto listed = a->ListEntries();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 3u * 3 + 3);
}

TEST_F(FolderDiscoveryTest, ALostOwnFileIsFoundByAFullListingAndUploadedAgain) {
  History(2);
  auto a = Open("a");
  const std::string lost =
      (fs::path(Cloud()) / sync::ChangePath(a->journal_id(), a->device_id(), 1)).string();
  a.reset();
  ASSERT_TRUE(fs::remove(lost));
  // Probes look at the other devices only: the loss goes unseen (and costs nothing) ...
  EXPECT_EQ(Sync("a").report.repaired_changes, 0u);
  EXPECT_FALSE(fs::exists(lost));
  // ... until a full listing, which `jsync sync --full` asks for.
  const SyncResult full = Sync("a", /*full=*/true);
  EXPECT_EQ(full.report.discovery, "listing");
  EXPECT_EQ(full.report.repaired_changes, 1u);
  EXPECT_TRUE(fs::exists(lost));
}

TEST_F(FolderDiscoveryTest, AFullListingRunsOnceADayWithoutBeingAsked) {
  History(1);
  EXPECT_EQ(Sync("a").report.discovery, "probe");
  now_ms_ += sync::kDefaultFullListingIntervalMs - 1000;
  EXPECT_EQ(Sync("a").report.discovery, "probe");
  now_ms_ += 2000;
  EXPECT_EQ(Sync("a").report.discovery, "listing");
  EXPECT_EQ(Sync("a").report.discovery, "probe");
  now_ms_ -= 10LL * 24 * 3600 * 1000;  // a clock set back: list rather than trust it
  EXPECT_EQ(Sync("a").report.discovery, "listing");
}

TEST_F(FolderDiscoveryTest, AChangeMissingBelowLaterOnesIsReportedByTheFullListing) {
  History(1);
  Write("b", 1);
  Sync("b");
  Write("b", 1);
  Sync("b");
  auto b = Open("b");
  const std::string gap =
      (fs::path(Cloud()) / sync::ChangePath(b->journal_id(), b->device_id(), 2)).string();
  b.reset();
  ASSERT_TRUE(fs::remove(gap));
  auto a = Open("a");
  auto quiet = a->Sync();
  ASSERT_TRUE(quiet.ok());
  EXPECT_EQ(quiet->report.merged_changes, 0u);  // the probe found nothing to merge
  auto full = a->Sync({.full_listing = true});
  ASSERT_TRUE(full.ok());
  ASSERT_EQ(full->report.problems.size(), 1u);
  EXPECT_EQ(full->report.problems[0].code, Code::kGap);
  EXPECT_NE(full->report.problems[0].message.find("is missing from the cloud"), std::string::npos)
      << full->report.problems[0].message;
}

// ---- Google Drive: the change feed --------------------------------------------------------

class DriveDiscoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::GdriveEmulatorOptions options;
    options.args = {"--device-interval", "0"};
    std::string error;
    emulator_ = testing::GdriveEmulator::Start(options, &error);
    ASSERT_NE(emulator_, nullptr) << error;
    config_ = dir_ / "gdrive.json";
    // Small pages, so a full listing of this history is many requests and a quiet feed one.
    nlohmann::json config = emulator_->LinkConfig();
    config["page_size"] = "10";
    testing::WriteFileBytes(config_, config.dump());
    for (const char* d : {"laptop", "phone"}) {
      ASSERT_EQ(Jsync(d, {"link", "gdrive", "--config", config_, "--device-code"}).exit_code, 0)
          << outputs_;
      ASSERT_EQ(Jsync(d, {"init", "--provider", "gdrive", "--device-name", d, "--scrypt-log-n",
                          "10"})
                    .exit_code,
                0)
          << outputs_;
    }
  }

  ProcessResult Jsync(const std::string& device, std::vector<std::string> args,
                      std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), {"--home", dir_ / device});
    env["JSYNC_PASSPHRASE"] = "feed passphrase";
    env["JSYNC_TOKEN_STORE"] = "file";
    ProcessResult r = RunJsync(args, env);
    outputs_ += r.out + r.err;
    return r;
  }
  nlohmann::json SyncJson(const std::string& device) {
    ProcessResult r = Jsync(device, {"sync", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r.out;
    return j;
  }
  std::vector<nlohmann::json> Requests() {
    std::vector<nlohmann::json> out;
    std::istringstream in(testing::ReadFileBytes(emulator_->request_log_path()));
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    }
    return out;
  }

  testing::TempDir dir_;
  std::string config_;
  std::unique_ptr<testing::GdriveEmulator> emulator_;
  std::string outputs_;
};

TEST_F(DriveDiscoveryTest, AQuietPollIsOneRequestWhateverTheHistory) {
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(Jsync("laptop", {"new", "--title", "entry " + std::to_string(i)}).exit_code, 0);
    ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0) << outputs_;
  }
  nlohmann::json first = SyncJson("phone");  // the first look lists everything (4+ pages)
  EXPECT_EQ(first["discovery"], "listing");
  EXPECT_EQ(first["merged"]["changes"], 30);
  SyncJson("laptop");

  const size_t before = Requests().size();
  nlohmann::json quiet = SyncJson("phone");
  EXPECT_EQ(quiet["discovery"], "feed");
  EXPECT_EQ(quiet["provider_calls"]["feed"], 1);
  const auto log = Requests();
  ASSERT_EQ(log.size(), before + 1) << "a quiet poll made more than one request";
  EXPECT_EQ(log.back()["method"], "GET");
  EXPECT_EQ(log.back()["path"], "/drive/v3/changes");

  // One new change: the feed page plus its download.
  ASSERT_EQ(Jsync("laptop", {"new", "--title", "one more"}).exit_code, 0);
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0);
  const size_t mark = Requests().size();
  nlohmann::json caught = SyncJson("phone");
  EXPECT_EQ(caught["discovery"], "feed");
  EXPECT_EQ(caught["merged"]["changes"], 1);
  EXPECT_EQ(Requests().size(), mark + 2);  // the feed names the file: no lookup by name
}

TEST_F(DriveDiscoveryTest, AnExpiredCursorFallsBackToOneListingAndSaysSo) {
  ASSERT_EQ(Jsync("laptop", {"new", "--title", "before"}).exit_code, 0);
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0);
  SyncJson("phone");
  {
    auto store = store::Store::Open((fs::path(dir_ / "phone") / "journal.db").string());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->SetMeta(sync::kFeedCursorMeta, "424242424242").ok());  // unknown
  }
  ASSERT_EQ(Jsync("laptop", {"new", "--title", "while the cursor was lost"}).exit_code, 0);
  ASSERT_EQ(Jsync("laptop", {"sync"}).exit_code, 0);
  nlohmann::json r = SyncJson("phone");
  EXPECT_EQ(r["discovery"], "listing");
  EXPECT_EQ(r["merged"]["changes"], 1);
  EXPECT_NE(r["notices"].dump().find("change feed"), std::string::npos) << r.dump();
  EXPECT_EQ(SyncJson("phone")["discovery"], "feed");
}

TEST_F(DriveDiscoveryTest, LocalCommandsLoadNoPluginAndWorkWithTheNetworkDown) {
  emulator_->Stop();
  // The dynamic loader names every library it opens (LD_DEBUG=files): the plugin is not one.
  const std::map<std::string, std::string> trace = {{"LD_DEBUG", "files"}};
  ProcessResult made = Jsync("laptop", {"new", "--title", "offline"}, trace);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string id = made.out.substr(0, made.out.find_first_of(" \n"));
  ASSERT_FALSE(id.empty());
  std::string traced = made.err;
  for (std::vector<std::string> args : {std::vector<std::string>{"edit", id, "--insert", "0", "second"},
                                        std::vector<std::string>{"list"},
                                        std::vector<std::string>{"show", id}}) {
    ProcessResult r = Jsync("laptop", args, trace);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    traced += r.err;
  }
  EXPECT_NE(traced.find("file=libc.so"), std::string::npos) << "LD_DEBUG traced nothing";
  EXPECT_EQ(traced.find("jsync-gdrive"), std::string::npos) << "a local command loaded the plugin";
  ProcessResult shown = Jsync("laptop", {"show", id});
  EXPECT_NE(shown.out.find("second"), std::string::npos) << shown.out;
}

}  // namespace
}  // namespace jsync

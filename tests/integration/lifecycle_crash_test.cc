// Crashes on the long-lived journal's path (decision 0035): a `jsync sync` that dies right
// after uploading a snapshot or a segment, midway through removing its pruned change files, or
// while loading a snapshot on a new device, loses nothing once run again; everyone converges,
// a device joining afterwards starts from what is in the cloud, and `jsync verify` is clean.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/journal/journal.h"
#include "core/util/crash_point.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

namespace fs = std::filesystem;
using jsync::testing::ProcessResult;
using jsync::testing::RunJsync;
using jsync::testing::TempDir;
using jsync::testing::TestInitOptions;

struct LifecycleCrashCase {
  const char* name;
  const char* point;
  bool reader;  // the crash is in the joining device's first sync, not the writer's
};

void PrintTo(const LifecycleCrashCase& c, std::ostream* os) { *os << c.name; }

class LifecycleCrashTest : public ::testing::TestWithParam<LifecycleCrashCase> {
 protected:
  // Small thresholds: a snapshot every few syncs, pruning as soon as two are kept.
  const std::map<std::string, std::string> lifecycle_ = {{"JSYNC_SNAPSHOT_OPS", "20"}};

  std::string Home(const std::string& name) const { return dir_ / name; }
  void Init(const std::string& name) {
    auto r = Journal::Init(Home(name), TestInitOptions(cloud_, name));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  void New(const std::string& name, const std::string& title) {
    ProcessResult r = RunJsync({"--home", Home(name), "new", "--title", title, "--tag", name});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    titles_.insert(title);
  }
  ProcessResult Sync(const std::string& name, const std::string& crash_at = "") {
    auto env = lifecycle_;
    if (!crash_at.empty()) env["JSYNC_CRASH_AT"] = crash_at;
    return RunJsync({"--home", Home(name), "sync"}, env);
  }
  void CleanSync(const std::string& name) {
    ProcessResult r = Sync(name);
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.out << r.err;
    said_ += name + ": " + r.out + r.err;
  }
  std::set<std::string> Titles(const std::string& name) {
    ProcessResult r = RunJsync({"--home", Home(name), "list", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::set<std::string> out;
    for (const auto& e : nlohmann::json::parse(r.out)) {
      EXPECT_TRUE(out.insert(e.at("title").get<std::string>()).second)
          << name << " lists " << e.at("title") << " twice";
    }
    return out;
  }

  TempDir dir_;
  const std::string cloud_ = dir_ / "cloud";
  std::set<std::string> titles_;
  std::string said_;  // what the clean syncs printed, for a failure's message
};

TEST_P(LifecycleCrashTest, RestartLosesNothing) {
  const LifecycleCrashCase& c = GetParam();
  fs::create_directories(cloud_);
  ASSERT_NO_FATAL_FAILURE(Init("alpha"));
  ASSERT_NO_FATAL_FAILURE(Init("bravo"));
  bool crashed = false;
  // Rounds until the point fires on the writer (snapshots, segments and pruning come after a
  // few rounds); the reader's case needs a snapshot first.
  for (int round = 0; round < 40 && !crashed; ++round) {
    ASSERT_NO_FATAL_FAILURE(New("alpha", "alpha " + std::to_string(round)));
    ASSERT_NO_FATAL_FAILURE(New("alpha", "alpha " + std::to_string(round) + "b"));
    ASSERT_NO_FATAL_FAILURE(New("bravo", "bravo " + std::to_string(round)));
    ASSERT_NO_FATAL_FAILURE(CleanSync("bravo"));
    if (c.reader) {
      ASSERT_NO_FATAL_FAILURE(CleanSync("alpha"));
      crashed = round >= 8;  // several snapshots and a pruned log by then
      continue;
    }
    ProcessResult r = Sync("alpha", c.point);
    ASSERT_EQ(r.signal, 0);
    if (r.exit_code == kCrashExitCode) {
      crashed = true;
    } else {
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }
  }
  ASSERT_TRUE(crashed) << c.point << " never fired";

  // The joining device: its first sync crashes in the reader's case, then runs again.
  ASSERT_NO_FATAL_FAILURE(Init("charlie"));
  if (c.reader) {
    ProcessResult r = Sync("charlie", c.point);
    ASSERT_EQ(r.exit_code, kCrashExitCode) << c.point << " never fired\n" << r.out << r.err;
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (const char* name : {"alpha", "bravo", "charlie"}) ASSERT_NO_FATAL_FAILURE(CleanSync(name));
  }
  for (const char* name : {"alpha", "bravo", "charlie"}) {
    EXPECT_EQ(Titles(name), titles_) << name << "\n" << said_;
  }
  // And after more rounds of snapshots and pruning, a new device still starts clean.
  for (int round = 0; round < 4; ++round) {
    ASSERT_NO_FATAL_FAILURE(New("alpha", "after " + std::to_string(round)));
    for (const char* name : {"alpha", "bravo", "charlie"}) ASSERT_NO_FATAL_FAILURE(CleanSync(name));
  }
  ASSERT_NO_FATAL_FAILURE(Init("delta"));
  ASSERT_NO_FATAL_FAILURE(CleanSync("delta"));
  EXPECT_EQ(Titles("delta"), titles_);
  ProcessResult verify = RunJsync({"--home", Home("alpha"), "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

INSTANTIATE_TEST_SUITE_P(
    LifecycleCrashPoints, LifecycleCrashTest,
    ::testing::Values(
        LifecycleCrashCase{"snapshot_after_put", "sync.snapshot.after_put", false},
        LifecycleCrashCase{"segment_after_put", "sync.segment.after_put", false},
        LifecycleCrashCase{"prune_after_remove", "sync.prune.after_remove", false},
        LifecycleCrashCase{"prune_after_remove_3rd", "sync.prune.after_remove:3", false},
        LifecycleCrashCase{"reader_snapshot_before_commit", "sync.snapshot.before_commit", true}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace jsync

// The iCloud Drive simulator (`jsync-emulator icloud-drive`, tools/emulators/icloud_drive) on
// its own: files propagate between roots through rename only, removals travel, eviction makes a
// stub with the real size that hydrates when opened for writing (never when only read),
// duplicates sync like files, lost events wait for a rescan, "storage full" and pause hold
// everything back, and the control API refuses what it cannot do.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/support/emulator_process.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class IcloudDriveSimulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifndef JSYNC_EMULATOR_BINARY
    GTEST_SKIP() << "built without jsync-emulator";
#endif
    for (int i = 0; i < 3; ++i) fs::create_directories(Root(i));
    testing::EmulatorOptions options;
    options.auto_approve = false;
    options.state_dir = dir_.path() / "state";
    options.args = {
        "--roots",      Root(0).string() + "," + Root(1).string() + "," + Root(2).string(),
        "--delay-ms",   "20",
        "--jitter-ms",  "30",
        "--hydrate-ms", "50",
        "--rescan-ms",  "3000"};
    std::string error;
    sim_ = testing::EmulatorProcess::Start("icloud-drive", options, &error);
    ASSERT_NE(sim_, nullptr) << error;
    // Its first full rescan is done: from now on changes are seen by events (or the next one).
    ASSERT_TRUE(Eventually([&] { return Ok("GET", "/_admin/state")["rescans"].get<int>() >= 1; }));
  }
  fs::path Root(int i) const { return dir_.path() / ("root" + std::to_string(i)); }
  testing::HttpReply Call(const std::string& method, const std::string& path) {
    return testing::RawHttp(method, sim_->base_url() + path);
  }
  json Ok(const std::string& method, const std::string& path) {
    const testing::HttpReply r = Call(method, path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return r.Json();
  }
  // Polls `done` every 10 ms for up to timeout_ms.
  bool Eventually(const std::function<bool()>& done, int timeout_ms = 5000) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < end) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
  }
  bool Settled() { return Ok("GET", "/_admin/settled").value("settled", false); }
  void Write(int root, const std::string& rel, const std::string& bytes) {
    fs::create_directories((Root(root) / rel).parent_path());
    const fs::path temp = dir_.path() / "writing";
    testing::WriteFileBytes(temp, bytes);
    fs::rename(temp, Root(root) / rel);
  }
  std::string Read(int root, const std::string& rel) {
    return fs::exists(Root(root) / rel) ? testing::ReadFileBytes(Root(root) / rel) : "";
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::EmulatorProcess> sim_;
};

TEST_F(IcloudDriveSimulatorTest, FilesAndRemovalsReachEveryRoot) {
  Write(0, "a/b/one.txt", "one");
  Write(1, "two.txt", "two");
  ASSERT_TRUE(Eventually([&] { return Settled(); }));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Read(i, "a/b/one.txt"), "one");
    EXPECT_EQ(Read(i, "two.txt"), "two");
  }
  fs::remove(Root(2) / "a/b/one.txt");
  ASSERT_TRUE(Eventually([&] { return !fs::exists(Root(0) / "a/b/one.txt"); }));
  ASSERT_TRUE(Eventually([&] { return Settled(); }));
  EXPECT_FALSE(fs::exists(Root(1) / "a/b/one.txt"));
  EXPECT_FALSE(fs::exists(Root(1) / "a")) << "emptied folders go too";
  EXPECT_TRUE(fs::is_empty(sim_->state_dir() / "staging"));
}

TEST_F(IcloudDriveSimulatorTest, AnEvictedFileIsAStubThatHydratesWhenAskedFor) {
  Write(0, "d/x.bin", std::string(1234, 'x'));
  ASSERT_TRUE(Eventually([&] { return Settled(); }));
  EXPECT_EQ(Ok("POST", "/_admin/evict?root=1&path=d/x.bin")["evicted"], 1);
  EXPECT_FALSE(fs::exists(Root(1) / "d/x.bin"));
  const std::string stub = Read(1, "d/.x.bin.icloud");
  EXPECT_NE(stub.find("<key>NSURLFileSizeKey</key>\n\t<integer>1234</integer>"), std::string::npos)
      << stub;
  EXPECT_TRUE(Settled()) << "an evicted file is in sync";
  // Reading the stub asks for nothing.
  EXPECT_FALSE(stub.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_FALSE(fs::exists(Root(1) / "d/x.bin"));
  // Opening it for writing (nothing written) does.
  const int fd = ::open((Root(1) / "d/.x.bin.icloud").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ::close(fd);
  ASSERT_TRUE(Eventually([&] { return Read(1, "d/x.bin") == std::string(1234, 'x'); }));
  EXPECT_FALSE(fs::exists(Root(1) / "d/.x.bin.icloud"));
  // Removing a stub removes the file everywhere.
  EXPECT_EQ(Ok("POST", "/_admin/evict?root=2")["evicted"], 1);
  fs::remove(Root(2) / "d/.x.bin.icloud");
  ASSERT_TRUE(Eventually([&] { return !fs::exists(Root(0) / "d/x.bin"); }));
  EXPECT_EQ(Ok("GET", "/_admin/state")["hydrations"], 1);
}

TEST_F(IcloudDriveSimulatorTest, DuplicatesSyncLikeFiles) {
  Write(0, "c/0001.jchg", "sealed");
  ASSERT_TRUE(Eventually([&] { return Settled(); }));
  EXPECT_EQ(Ok("POST", "/_admin/conflict?root=1&path=c/0001.jchg&style=space&same=1")["path"],
            "c/0001 2.jchg");
  EXPECT_EQ(Ok("POST", "/_admin/conflict?root=1&path=c/0001.jchg&style=paren&same=0")["path"],
            "c/0001(1).jchg");
  EXPECT_EQ(Ok("POST", "/_admin/conflict?root=2&path=c/0001.jchg&style=underscore&same=1")["path"],
            "c/0001_2.jchg");
  ASSERT_TRUE(Eventually([&] { return Settled() && fs::exists(Root(0) / "c/0001(1).jchg"); }));
  EXPECT_EQ(Read(0, "c/0001 2.jchg"), "sealed");
  EXPECT_EQ(Read(0, "c/0001_2.jchg"), "sealed");
  EXPECT_NE(Read(0, "c/0001(1).jchg"), "sealed");
}

TEST_F(IcloudDriveSimulatorTest, LostEventsWaitForTheRescanAndAFullCloudHoldsEverything) {
  Ok("POST", "/_admin/drop-events?on=1");
  Write(0, "lost.txt", "late");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(fs::exists(Root(1) / "lost.txt")) << "no event, no upload before the rescan";
  EXPECT_FALSE(Settled());
  Ok("POST", "/_admin/drop-events?on=0");
  ASSERT_TRUE(Eventually([&] { return Read(1, "lost.txt") == "late"; }));
  EXPECT_GT(Ok("GET", "/_admin/state")["dropped_events"].get<int>(), 0);

  Ok("POST", "/_admin/storage-full?on=1");
  Write(2, "full.txt", "waits");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(fs::exists(Root(0) / "full.txt"));
  const json settled = Ok("GET", "/_admin/settled");
  EXPECT_FALSE(settled["settled"].get<bool>());
  EXPECT_NE(settled["differences"].dump().find("full.txt is not uploaded"), std::string::npos);
  Ok("POST", "/_admin/storage-full?on=0");
  ASSERT_TRUE(Eventually([&] { return Read(0, "full.txt") == "waits"; }));

  Ok("POST", "/_admin/pause");
  Write(1, "paused.txt", "p");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(fs::exists(Root(0) / "paused.txt"));
  EXPECT_FALSE(Settled());
  Ok("POST", "/_admin/resume");
  ASSERT_TRUE(Eventually([&] { return Settled() && Read(2, "paused.txt") == "p"; }));
}

TEST_F(IcloudDriveSimulatorTest, TheControlApiRefusesWhatItCannotDo) {
  EXPECT_EQ(Call("POST", "/_admin/evict?root=7").status, 400);
  EXPECT_EQ(Call("POST", "/_admin/evict?root=0&path=nothing").status, 404);
  EXPECT_EQ(Call("POST", "/_admin/hydrate?root=0&path=nothing").status, 404);
  EXPECT_EQ(Call("POST", "/_admin/conflict?root=0&path=nothing").status, 404);
  EXPECT_EQ(Call("POST", "/_admin/conflict?root=0&path=x&style=odd").status, 400);
  EXPECT_EQ(Call("POST", "/_admin/hydrate-ms?ms=soon").status, 400);
  EXPECT_EQ(Call("GET", "/_admin/nothing").status, 404);
  EXPECT_FALSE(Call("POST", "/_admin/evict?root=7").Json().value("error", "").empty());
}

}  // namespace
}  // namespace jsync

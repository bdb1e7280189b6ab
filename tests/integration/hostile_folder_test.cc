// A hostile cloud folder: objects planted at a device's next change-file name that are not
// change files at all (a symlink to /dev/zero, a FIFO, a 2 GiB sparse file, a directory, a
// symlink to a file outside). Syncing must return promptly with one clear problem, hold its
// memory within the format's limits, go on merging other devices, and converge once the
// planted object is gone. Also: this device's own leftover upload files are cleaned up, only
// its own and only old ones.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/journal/journal.h"
#include "core/model/hlc.h"
#include "host/open_provider.h"
#include "core/sync/orphan_cleanup.h"
#include "core/sync/remote_layout.h"
#include "providers/sdk/jsync_provider.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

namespace fs = std::filesystem;
using jsync::testing::ProcessResult;
using jsync::testing::RunJsync;
using jsync::testing::TempDir;
using jsync::testing::TestInitOptions;
using jsync::testing::WriteFileBytes;

struct Plant {
  const char* name;
  std::function<void(const fs::path& at, const fs::path& outside)> make;
  const char* says;  // the problem names what sits there
};

std::vector<Plant> Plants() {
  return {
      {"SymlinkToDevZero",
       [](const fs::path& at, const fs::path&) { fs::create_symlink("/dev/zero", at); },
       "symbolic link"},
      {"Fifo",
       [](const fs::path& at, const fs::path&) { ASSERT_EQ(::mkfifo(at.c_str(), 0644), 0); },
       "FIFO"},
      {"SparseTwoGiB",
       [](const fs::path& at, const fs::path&) {
         const int fd = ::open(at.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
         ASSERT_GE(fd, 0);
         ASSERT_EQ(::ftruncate(fd, off_t{2} << 30), 0);
         ::close(fd);
       },
       "64.0 MiB limit"},
      {"EmptyDirectory", [](const fs::path& at, const fs::path&) { fs::create_directories(at); },
       "directory"},
      {"SymlinkToAFileOutside",
       [](const fs::path& at, const fs::path& outside) {
         WriteFileBytes(outside / "elsewhere", "a file outside the cloud folder");
         fs::create_symlink(outside / "elsewhere", at);
       },
       "symbolic link"},
  };
}

void PrintTo(const Plant& p, std::ostream* os) { *os << p.name; }

long MaxChildRssKib() {
  struct rusage ru {};
  ::getrusage(RUSAGE_CHILDREN, &ru);
  return ru.ru_maxrss;
}

class HostileFolderTest : public ::testing::TestWithParam<Plant> {
 protected:
  void SetUp() override { fs::create_directories(cloud_); }
  std::string Home(const std::string& d) const { return tmp_ / ("home-" + d); }
  void Init(const std::string& d) {
    auto r = Journal::Init(Home(d), TestInitOptions(cloud_, "device-" + d));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    journal_ = r->journal;
    ids_[d] = r->device;
  }
  void Add(const std::string& d, const std::string& title) {
    auto j = Journal::Open(Home(d), ::jsync::testing::HostStorage());
    ASSERT_TRUE(j.ok()) << j.status().ToString();
    NewEntryInput in;
    in.title = title;
    ASSERT_TRUE((*j)->NewEntry(in).ok());
  }
  std::set<std::string> Titles(const std::string& d) {
    std::set<std::string> out;
    auto j = Journal::Open(Home(d), ::jsync::testing::HostStorage());
    if (!j.ok()) return out;
    auto entries = (*j)->ListEntries();
    EXPECT_TRUE(entries.ok()) << entries.status().ToString();
    if (!entries.ok()) return out;
    for (const auto& e : *entries) out.insert(e.title);
    return out;
  }
  ProcessResult Sync(const std::string& d) {
    return RunJsync({"--home", Home(d), "sync", "--json"});
  }
  fs::path ChangeFile(const std::string& d, uint64_t seq) const {
    return fs::path(cloud_) / sync::ChangePath(journal_, ids_.at(d), seq);
  }
  std::vector<std::string> Problems(const ProcessResult& r) {
    std::vector<std::string> out;
    auto json = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(json.is_object()) << r.out << r.err;
    if (!json.is_object()) return out;
    for (const auto& p : json["problems"]) out.push_back(p["message"].get<std::string>());
    return out;
  }

  TempDir tmp_;
  TempDir outside_;
  std::string cloud_ = tmp_ / "cloud";
  JournalId journal_{};
  std::map<std::string, DeviceId> ids_;
};

TEST_P(HostileFolderTest, PlantedAtNextSeqIsReportedAndTheRestMerges) {
  const Plant& plant = GetParam();
  for (const char* d : {"alpha", "bravo", "charlie"}) Init(d);
  Add("alpha", "alpha 1");
  Add("bravo", "bravo 1");
  ASSERT_EQ(Sync("alpha").exit_code, 0);
  ASSERT_EQ(Sync("bravo").exit_code, 0);
  ASSERT_EQ(Sync("charlie").exit_code, 0);

  // Planted at alpha's next seq: alpha's own upload goes there, charlie would read it.
  const fs::path planted = ChangeFile("alpha", 2);
  plant.make(planted, outside_.path());
  Add("alpha", "alpha 2");
  Add("bravo", "bravo 2");
  // bravo uploads its change; its own read of alpha's seq 2 is refused like charlie's below.
  EXPECT_EQ(Sync("bravo").exit_code, 1);

  // The other device: one problem naming the file and what is wrong; bravo's change merges.
  ProcessResult c = Sync("charlie");
  EXPECT_EQ(c.exit_code, 1) << c.out << c.err;
  auto problems = Problems(c);
  ASSERT_EQ(problems.size(), 1u) << c.out;
  EXPECT_NE(problems[0].find(sync::ChangePath(journal_, ids_.at("alpha"), 2)), std::string::npos)
      << problems[0];
  EXPECT_NE(problems[0].find(plant.says), std::string::npos) << problems[0];
  EXPECT_TRUE(Titles("charlie").contains("bravo 2"));

  // The device whose slot it took: whatever is there (other bytes, a link, a FIFO, a folder),
  // the slot is lost to its id, so it takes a new one, says so once, and keeps syncing both
  // ways; the planted object stays reported under the old id until it is removed.
  ProcessResult a = Sync("alpha");
  EXPECT_NE(a.out.find("now writes as device"), std::string::npos) << a.out << a.err;
  EXPECT_TRUE(Titles("alpha").contains("bravo 2"));
  for (const auto& p : Problems(a)) EXPECT_NE(p.find(plant.says), std::string::npos) << p;
  // Nobody read 2 GiB or /dev/zero into memory (the largest child so far, in KiB).
  EXPECT_LT(MaxChildRssKib(), 512L * 1024) << "a sync held more than 512 MiB";

  // Removed: everything converges.
  fs::remove(planted);
  ASSERT_EQ(Sync("alpha").exit_code, 0);
  ProcessResult again = Sync("charlie");
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  ASSERT_EQ(Sync("bravo").exit_code, 0);
  const std::set<std::string> all = {"alpha 1", "alpha 2", "bravo 1", "bravo 2"};
  for (const char* d : {"alpha", "bravo", "charlie"}) EXPECT_EQ(Titles(d), all) << d;
  EXPECT_FALSE(fs::exists(outside_.path() / "elsewhere") &&
               testing::ReadFileBytes(outside_.path() / "elsewhere") !=
                   "a file outside the cloud folder")
      << "written through the symlink";
}

INSTANTIATE_TEST_SUITE_P(Plants, HostileFolderTest, ::testing::ValuesIn(Plants()),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- leftover upload files ------------------------------------------------------------------

class OrphanUploadTest : public ::testing::Test {
 protected:
  void Touch(const fs::path& p, std::chrono::minutes age) {
    fs::create_directories(p.parent_path());
    WriteFileBytes(p, "torn upload");
    fs::last_write_time(p, fs::file_time_type::clock::now() - age);
  }
  TempDir cloud_;
  JournalId journal_{{7}};
  DeviceId me_ = 0x1111, other_ = 0x2222;
  fs::path Changes(DeviceId d) const {
    return cloud_.path() / (sync::ChangesPrefix(journal_) + DeviceIdHex(d));
  }
  fs::path Devices() const { return cloud_.path() / sync::DevicesPrefix(journal_); }
};

TEST_F(OrphanUploadTest, OnlyOwnOldTemporaryFilesAreRemoved) {
  const std::string tmp = JSYNC_TEMP_PREFIX;
  const fs::path own_old = Changes(me_) / (tmp + "0000000000000003.jchg-00aa");
  const fs::path own_young = Changes(me_) / (tmp + "0000000000000004.jchg-00bb");
  const fs::path other_old = Changes(other_) / (tmp + "0000000000000001.jchg-00cc");
  const fs::path own_device_old = Devices() / (tmp + DeviceIdHex(me_) + ".jdev-00dd");
  const fs::path other_device_old = Devices() / (tmp + DeviceIdHex(other_) + ".jdev-00ee");
  Touch(own_old, std::chrono::minutes(90));
  Touch(own_young, std::chrono::minutes(5));
  Touch(other_old, std::chrono::minutes(600));
  Touch(own_device_old, std::chrono::minutes(90));
  Touch(other_device_old, std::chrono::minutes(600));
  // A real object of this device is never touched, however old.
  const fs::path object = Changes(me_) / "0000000000000001.jchg";
  Touch(object, std::chrono::minutes(6000));

  auto p = provider::OpenProvider("folder", cloud_.path().string());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  sync::SyncReport report;
  const auto now = static_cast<int64_t>(SystemMillis());
  EXPECT_EQ(sync::RemoveOwnOrphanUploads(**p, journal_, me_, now, report), 2u);
  EXPECT_FALSE(fs::exists(own_old));
  EXPECT_FALSE(fs::exists(own_device_old));
  EXPECT_TRUE(fs::exists(own_young)) << "may be an upload in flight";
  EXPECT_TRUE(fs::exists(other_old)) << "another device's";
  EXPECT_TRUE(fs::exists(other_device_old)) << "another device's";
  EXPECT_TRUE(fs::exists(object));
  ASSERT_EQ(report.notices.size(), 1u);
  EXPECT_NE(report.notices[0].find("removed 2 leftover upload file"), std::string::npos);
}

// A real killed upload leaves a temporary file named for its target; the next sync of that
// device, once the file is old enough, removes it.
TEST_F(OrphanUploadTest, KilledUploadsLeftoverIsRemovedByTheNextSync) {
  TempDir homes;
  const std::string home = homes / "home";
  auto init = Journal::Init(home, TestInitOptions(cloud_.path().string(), "d"));
  ASSERT_TRUE(init.ok()) << init.status().ToString();
  journal_ = init->journal;
  me_ = init->device;
  {
    auto j = Journal::Open(home, ::jsync::testing::HostStorage());
    ASSERT_TRUE(j.ok());
    NewEntryInput in;
    in.title = "kept";
    ASSERT_TRUE((*j)->NewEntry(in).ok());
  }
  ProcessResult crashed =
      RunJsync({"--home", home, "sync"}, {{"JSYNC_CRASH_AT", "folder.put.partial"}});
  ASSERT_EQ(crashed.exit_code, 86) << crashed.out << crashed.err;
  std::vector<fs::path> temps;
  for (const auto& e : fs::directory_iterator(Changes(me_))) temps.push_back(e.path());
  ASSERT_EQ(temps.size(), 1u);
  EXPECT_TRUE(temps[0].filename().string().starts_with(std::string(JSYNC_TEMP_PREFIX) +
                                                       "0000000000000001.jchg-"))
      << temps[0];
  fs::last_write_time(temps[0], fs::file_time_type::clock::now() - std::chrono::hours(2));
  ProcessResult r = RunJsync({"--home", home, "sync", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(fs::exists(temps[0]));
  EXPECT_TRUE(fs::exists(Changes(me_) / "0000000000000001.jchg"));
  EXPECT_NE(r.out.find("leftover upload file"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace jsync

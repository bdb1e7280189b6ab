// Tamper tests: a receiving device syncs from a cloud folder whose files were altered, moved,
// deleted, truncated or dropped in from elsewhere.
//
// For every kind of damage the receiving device must: report a problem with a message that
// says what is wrong and where, make the CLI `sync` exit 1 with one "jsync: error:" line per
// problem, apply nothing from the bad file (nor from later files of that device's log), keep
// its existing entries intact, and converge once the cloud is repaired. Independently of the
// damage, the cloud must never hold plaintext, and syncing must never rewrite or delete an
// existing file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/format/change_file.h"
#include "core/journal/journal.h"
#include "core/sync/remote_layout.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

namespace fs = std::filesystem;
using jsync::testing::ListFiles;
using jsync::testing::ProcessResult;
using jsync::testing::ReadFileBytes;
using jsync::testing::RunJsync;
using jsync::testing::TempDir;
using jsync::testing::TestInitOptions;
using jsync::testing::WriteFileBytes;

// One file of the cloud folder as a syncing device must leave it.
struct FileState {
  std::string bytes;
  int64_t mtime_ns = 0;
  ino_t inode = 0;
  bool operator==(const FileState&) const = default;
};
using CloudSnapshot = std::map<std::string, FileState>;  // path relative to the cloud root

CloudSnapshot Snapshot(const fs::path& root) {
  CloudSnapshot snap;
  for (const auto& p : ListFiles(root)) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) continue;
    snap[fs::relative(p, root).generic_string()] = {
        ReadFileBytes(p), static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
        st.st_ino};
  }
  return snap;
}

// Undoes what happened to the cloud between `before` and `after` (the tampering): removes
// added files and writes the original bytes back where files were changed or deleted.
void Repair(const fs::path& root, const CloudSnapshot& before, const CloudSnapshot& after) {
  for (const auto& [path, state] : after) {
    auto it = before.find(path);
    if (it == before.end()) {
      fs::remove(root / path);
    } else if (it->second.bytes != state.bytes) {
      WriteFileBytes(root / path, it->second.bytes);
    }
  }
  for (const auto& [path, state] : before) {
    if (!after.contains(path)) {
      fs::create_directories((root / path).parent_path());
      WriteFileBytes(root / path, state.bytes);
    }
  }
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::string Flip(std::string bytes, size_t offset, uint8_t mask = 0x01) {
  bytes.at(offset) = static_cast<char>(static_cast<uint8_t>(bytes.at(offset)) ^ mask);
  return bytes;
}

struct EntryContent {
  std::string body;
  std::vector<std::string> tags;
  bool operator==(const EntryContent&) const = default;
};
using EntryMap = std::map<std::string, EntryContent>;  // by title; titles are unique here

// What a receiving device must do with one kind of damage.
struct Expectation {
  // Every problem message must contain each of these.
  std::vector<std::string> keywords;
  // Titles whose change files are refused (or held back by the refusal).
  std::set<std::string> withheld;
  Code code = Code::kCorrupt;
};

class TamperTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(cloud_); }

  std::string Home(const std::string& device) const { return tmp_ / ("home-" + device); }
  std::string Rel(const std::string& abs) const {
    return fs::relative(abs, cloud_).generic_string();
  }

  DeviceId InitDevice(const std::string& name, const std::string& cloud = "") {
    auto opts = TestInitOptions(cloud.empty() ? cloud_ : cloud, "device-name-" + name);
    secrets_.push_back(opts.device_name);
    auto r = Journal::Init(Home(name), opts);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return 0;
    if (cloud.empty()) journal_ = r->journal;
    devices_[name] = r->device;
    return r->device;
  }

  std::unique_ptr<Journal> Open(const std::string& device) {
    auto j = Journal::Open(Home(device), ::jsync::testing::HostStorage());
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return j.ok() ? std::move(j).value() : nullptr;
  }

  // Adds an entry whose title, body and tag are all distinctive strings never to be seen in
  // the cloud's bytes.
  void Add(const std::string& device, const std::string& title, bool in_this_journal = true) {
    auto j = Open(device);
    ASSERT_TRUE(j);
    NewEntryInput in;
    in.title = "title " + title;
    in.body = "the body of " + title + ", secret prose";
    in.tags = {"tag-" + title};
    auto id = j->NewEntry(in);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    secrets_.insert(secrets_.end(), {in.title, in.body, in.tags[0]});
    if (in_this_journal) all_[in.title] = {in.body, in.tags};
  }

  // Full listings: what these cases check (lost, rolled-back, misplaced and foreign files) is
  // what a complete view of the cloud finds (decision 0024); the probes that quiet polls use
  // are tested on hostile files in discovery_test.cc and hostile_folder_test.cc.
  sync::SyncReport ApiSync(const std::string& device) {
    auto j = Open(device);
    if (!j) return {};
    auto r = j->Sync({.full_listing = true});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->report : sync::SyncReport{};
  }

  ProcessResult CliSync(const std::string& device) {
    return RunJsync({"--home", Home(device), "sync", "--json", "--full"});
  }

  EntryMap Entries(const std::string& device) {
    EntryMap out;
    auto j = Open(device);
    if (!j) return out;
    auto list = j->ListEntries();
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    if (!list.ok()) return out;
    for (const auto& e : *list) {
      EXPECT_FALSE(out.contains(e.title)) << "entry listed twice: " << e.title;
      out[e.title] = {e.body, e.tags};
    }
    return out;
  }

  std::set<std::string> Titles(const EntryMap& m) {
    std::set<std::string> out;
    for (const auto& [t, c] : m) out.insert(t);
    return out;
  }
  std::set<std::string> AllTitlesExcept(const std::set<std::string>& withheld) {
    std::set<std::string> out;
    for (const auto& [t, c] : all_) {
      if (!withheld.contains(t)) out.insert(t);
    }
    return out;
  }

  std::string ChangeFile(const std::string& device, uint64_t seq) const {
    return (fs::path(cloud_) / sync::ChangePath(journal_, devices_.at(device), seq)).string();
  }
  std::string DeviceFile(const std::string& device) const {
    return (fs::path(cloud_) / sync::DevicePath(journal_, devices_.at(device))).string();
  }
  std::string Hex(const std::string& device) const { return DeviceIdHex(devices_.at(device)); }

  // alpha has changes 1..3 in the cloud, bravo 1..2, charlie 1; charlie (the receiving
  // device) has merged alpha's and bravo's change 1 and holds one more unsynced local entry.
  void BuildWorld() {
    InitDevice("alpha");
    InitDevice("bravo");
    InitDevice("charlie");
    Add("alpha", "alpha-1");
    EXPECT_TRUE(ApiSync("alpha").ok());
    Add("bravo", "bravo-1");
    EXPECT_TRUE(ApiSync("bravo").ok());
    Add("charlie", "charlie-1");
    EXPECT_TRUE(ApiSync("charlie").ok());
    EXPECT_TRUE(ApiSync("alpha").ok());  // merges bravo's and charlie's first changes
    Add("alpha", "alpha-2");
    EXPECT_TRUE(ApiSync("alpha").ok());
    Add("alpha", "alpha-3");
    EXPECT_TRUE(ApiSync("alpha").ok());
    Add("bravo", "bravo-2");
    EXPECT_TRUE(ApiSync("bravo").ok());
    Add("charlie", "charlie-2");
    ASSERT_TRUE(fs::exists(ChangeFile("alpha", 3)));
    ASSERT_FALSE(fs::exists(ChangeFile("alpha", 4)));
    ASSERT_TRUE(fs::exists(ChangeFile("bravo", 2)));
    ASSERT_EQ(Titles(Entries("charlie")),
              (std::set<std::string>{"title alpha-1", "title bravo-1", "title charlie-1",
                                     "title charlie-2"}));
  }

  void ExpectNoPlaintextInCloud() {
    for (const auto& p : ListFiles(cloud_)) {
      const std::string bytes = ReadFileBytes(p);
      for (const auto& s : secrets_) {
        EXPECT_EQ(bytes.find(s), std::string::npos) << p << " holds the plaintext '" << s << "'";
      }
      EXPECT_EQ(bytes.find(TestInitOptions("", "").passphrase), std::string::npos)
          << p << " holds the passphrase";
    }
  }

  // Checks the CLI's output for a sync that found problems and returns the messages.
  std::vector<std::string> ExpectCliProblems(const ProcessResult& r) {
    EXPECT_EQ(r.exit_code, 1) << "stdout: " << r.out << "\nstderr: " << r.err;
    EXPECT_EQ(r.signal, 0);
    auto json = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(json.is_object()) << "stdout is not JSON: " << r.out;
    std::vector<std::string> messages;
    if (!json.is_object()) return messages;
    EXPECT_EQ(json["ok"], false);
    for (const auto& p : json["problems"]) messages.push_back(p["message"].get<std::string>());
    // stderr: exactly one "jsync: error:" line per problem and nothing else (no stack dump,
    // no abort message).
    std::vector<std::string> expected_err;
    for (const auto& m : messages) expected_err.push_back("jsync: error: " + m);
    EXPECT_EQ(Lines(r.err), expected_err);
    return messages;
  }

  // Syncs every device of this journal until all hold the same entries, which must be every
  // entry ever made.
  void ExpectConverges() {
    std::vector<std::string> order;
    for (const auto& [name, id] : devices_) {
      if (fs::exists(Home(name) + "/journal.db") && name != "x-ray") order.push_back(name);
    }
    for (int round = 0; round < 2; ++round) {
      for (const auto& name : order) {
        auto report = ApiSync(name);
        EXPECT_TRUE(report.ok()) << name << ": " << report.problems.front().message;
      }
    }
    std::string first_json;
    for (const auto& name : order) {
      auto entries = Entries(name);
      EXPECT_EQ(entries.size(), all_.size()) << name;
      for (const auto& [title, content] : all_) {
        auto it = entries.find(title);
        ASSERT_NE(it, entries.end()) << name << " lacks " << title;
        EXPECT_EQ(it->second, content) << name << ": " << title;
      }
      auto list = RunJsync({"--home", Home(name), "list", "--json"});
      ASSERT_EQ(list.exit_code, 0) << list.err;
      if (first_json.empty()) {
        first_json = list.out;
      } else {
        EXPECT_EQ(list.out, first_json) << name << " differs from " << order.front();
      }
    }
  }

  // The common shape of a tamper case: damage the cloud, sync charlie through the CLI (twice:
  // a refusal must persist, never be skipped), check what it did and did not apply, repair the
  // cloud, and check that everything converges.
  void ExpectRefusedThenRepaired(const std::function<void()>& tamper, const Expectation& ex) {
    const CloudSnapshot before = Snapshot(cloud_);
    const EntryMap charlie_before = Entries("charlie");
    tamper();
    const CloudSnapshot tampered = Snapshot(cloud_);
    ASSERT_NE(before, tampered) << "the tampering changed nothing";

    for (int attempt = 0; attempt < 2; ++attempt) {
      SCOPED_TRACE("sync attempt " + std::to_string(attempt + 1) + " on the damaged cloud");
      ProcessResult r = CliSync("charlie");
      auto messages = ExpectCliProblems(r);
      ASSERT_EQ(messages.size(), 1u) << r.err;
      for (const auto& kw : ex.keywords) {
        EXPECT_NE(messages[0].find(kw), std::string::npos)
            << "'" << kw << "' missing from: " << messages[0];
      }
      auto json = nlohmann::json::parse(r.out);
      EXPECT_EQ(json["problems"][0]["code"], CodeName(ex.code));

      EntryMap after = Entries("charlie");
      for (const auto& [title, content] : charlie_before) {
        auto it = after.find(title);
        ASSERT_NE(it, after.end()) << "charlie lost " << title;
        EXPECT_EQ(it->second, content) << "charlie's " << title << " changed";
      }
      EXPECT_EQ(Titles(after), AllTitlesExcept(ex.withheld));
    }

    Repair(cloud_, before, tampered);
    ProcessResult r = CliSync("charlie");
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(Titles(Entries("charlie")), AllTitlesExcept({}));
    ExpectConverges();
    ExpectNoPlaintextInCloud();
  }

  TempDir tmp_;
  std::string cloud_ = tmp_ / "cloud";
  JournalId journal_{};
  std::map<std::string, DeviceId> devices_;
  EntryMap all_;                      // every entry made in this journal, by title
  std::vector<std::string> secrets_;  // strings that must never reach the cloud in plaintext
};

// --- A flipped byte anywhere in a change file ----------------------------------------------

struct FlipCase {
  const char* name;
  // Offset of the byte to flip in a change file of `size` bytes whose header has
  // `header_size` bytes.
  std::function<size_t(size_t size, size_t header_size)> offset;
  uint8_t mask;
  std::vector<std::string> keywords;
};

// Header layout (v1): magic 8, version 2, cipher 1, compression 1, journal 16, device 8,
// seq 8, key id 8, salt 32, nonce 12, prev hash 32, vv count 4, vv entries 16 each.
constexpr size_t kSaltAt = 52, kNonceAt = 84, kPrevHashAt = 96, kVvCountAt = 128, kVvAt = 132;

auto At(size_t off) {
  return [off](size_t, size_t) { return off; };
}

const std::vector<std::string> kForged = {"it failed verification: authentication failed",
                                          "tampered"};
const std::string kInvalid = "it is not a valid change file: ";

std::vector<FlipCase> FlipCases() {
  return {
      {"magic", At(0), 0x01, {kInvalid, "bad magic"}},
      {"version", At(8), 0x04, {kInvalid, "format version 7", "not supported"}},
      {"cipher", At(10), 0x02, {kInvalid, "unknown cipher"}},
      {"journal_id", At(12 + 7), 0x01, {"belongs to another journal"}},
      {"device_id", At(28), 0x01, {"is stored under device"}},
      {"seq", At(36), 0x01, {"holds change 3 but is stored as change 2"}},
      {"key_id", At(44 + 3), 0x10, {"encrypted under key", "does not hold"}},
      {"salt", At(kSaltAt + 5), 0x01, kForged},
      {"nonce", At(kNonceAt + 11), 0x01, kForged},
      {"prev_hash", At(kPrevHashAt + 31), 0x01, kForged},
      {"vv_count", At(kVvCountAt + 3), 0x80, {kInvalid, "truncated"}},
      {"vv_seq", At(kVvAt + 8), 0x04, kForged},
      {"vv_head", At(kVvAt + 16 + 5), 0x01, kForged},
      {"ciphertext_first", [](size_t, size_t h) { return h; }, 0x01, kForged},
      {"ciphertext_middle", [](size_t s, size_t h) { return (h + s - 16) / 2; }, 0x20, kForged},
      // Change file v3: the GCM tag, then the author's 64-byte signature (decision 0036).
      {"tag_first", [](size_t s, size_t) { return s - 64 - 16; }, 0x01, kForged},
      {"tag_last", [](size_t s, size_t) { return s - 64 - 1; }, 0x80, kForged},
      {"signature", [](size_t s, size_t) { return s - 1; }, 0x80,
       {"is not signed by the device it names"}},
  };
}

void PrintTo(const FlipCase& c, std::ostream* os) { *os << c.name; }

class TamperFlipTest : public TamperTest, public ::testing::WithParamInterface<FlipCase> {};

TEST_P(TamperFlipTest, FlippedByteIsRefusedAndNothingFromItIsApplied) {
  ASSERT_NO_FATAL_FAILURE(BuildWorld());
  const std::string path = ChangeFile("alpha", 2);
  const std::string original = ReadFileBytes(path);
  auto parsed = format::ParseChangeHeader(AsBytes(original));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  // alpha's change 2 was sealed after it merged bravo's and charlie's first changes.
  ASSERT_EQ(parsed->header.vv.size(), 2u);
  ASSERT_EQ(parsed->header_size, kVvAt + 2 * 32);
  const size_t offset = GetParam().offset(original.size(), parsed->header_size);
  ASSERT_LT(offset, original.size());

  Expectation ex;
  ex.keywords = GetParam().keywords;
  ex.keywords.push_back("change 2 of device " + Hex("alpha"));
  ex.keywords.push_back(Rel(path));
  ex.keywords.push_back("refused");
  ex.keywords.push_back("nothing from it or later changes of that device was applied");
  ex.withheld = {"title alpha-2", "title alpha-3"};
  ExpectRefusedThenRepaired([&] { WriteFileBytes(path, Flip(original, offset, GetParam().mask)); },
                            ex);
}

INSTANTIATE_TEST_SUITE_P(TamperFlip, TamperFlipTest, ::testing::ValuesIn(FlipCases()),
                         [](const auto& info) { return std::string(info.param.name); });

// --- A truncated change file -----------------------------------------------------------------

struct TruncateCase {
  const char* name;
  std::function<size_t(size_t size, size_t header_size)> keep;
  std::vector<std::string> keywords;
};

void PrintTo(const TruncateCase& c, std::ostream* os) { *os << c.name; }

class TamperTruncateTest : public TamperTest, public ::testing::WithParamInterface<TruncateCase> {};

TEST_P(TamperTruncateTest, TruncatedFileIsRefused) {
  ASSERT_NO_FATAL_FAILURE(BuildWorld());
  const std::string path = ChangeFile("alpha", 2);
  const std::string original = ReadFileBytes(path);
  auto parsed = format::ParseChangeHeader(AsBytes(original));
  ASSERT_TRUE(parsed.ok());
  const size_t keep = GetParam().keep(original.size(), parsed->header_size);
  ASSERT_LT(keep, original.size());

  Expectation ex;
  ex.keywords = GetParam().keywords;
  ex.keywords.push_back("change 2 of device " + Hex("alpha"));
  ex.keywords.push_back("nothing from it or later changes of that device was applied");
  ex.withheld = {"title alpha-2", "title alpha-3"};
  ExpectRefusedThenRepaired([&] { WriteFileBytes(path, original.substr(0, keep)); }, ex);
}

INSTANTIATE_TEST_SUITE_P(
    TamperTruncate, TamperTruncateTest,
    ::testing::Values(
        TruncateCase{"last_byte", [](size_t s, size_t) { return s - 1; }, kForged},
        TruncateCase{"whole_tag", [](size_t s, size_t) { return s - 16; }, kForged},
        TruncateCase{"inside_tag_after_header",
                     [](size_t, size_t h) { return h + 10; },
                     {kInvalid + "change file is truncated"}},
        TruncateCase{"inside_header",
                     [](size_t, size_t) { return size_t{100}; },
                     {kInvalid + "change file header is truncated"}},
        TruncateCase{"empty", [](size_t, size_t) { return size_t{0}; }, {kInvalid, "bad magic"}}),
    [](const auto& info) { return std::string(info.param.name); });

// --- Files moved, copied, deleted or brought in from elsewhere --------------------------------

TEST_F(TamperTest, ChangeFileCopiedOverAnotherDevicesChange) {
  ASSERT_NO_FATAL_FAILURE(BuildWorld());
  // bravo's change 2 is put where alpha's change 2 was; the real bravo 2 stays in place.
  Expectation ex;
  ex.keywords = {"change 2 of device " + Hex("alpha"), "was written by device " + Hex("bravo"),
                 "is stored under device " + Hex("alpha")};
  ex.withheld = {"title alpha-2", "title alpha-3"};
  ExpectRefusedThenRepaired(
      [&] { WriteFileBytes(ChangeFile("alpha", 2), ReadFileBytes(ChangeFile("bravo", 2))); }, ex);
}

TEST_F(TamperTest, ChangeFileCopiedUnderAnotherDevicesNextSeq) {
  ASSERT_NO_FATAL_FAILURE(BuildWorld());
  // alpha's change 2 also appears as bravo's change 3: bravo's real changes still apply.
  Expectation ex;
  ex.keywords = {"change 3 of device " + Hex("bravo"), "was written by device " + Hex("alpha"),
                 "is stored under device " + Hex("bravo")};
  ex.withheld = {};
  ExpectRefusedThenRepaired(
      [&] { WriteFileBytes(ChangeFile("bravo", 3), ReadFileBytes(ChangeFile("alpha", 2))); }, ex);
}

TEST_F(TamperTest, ChangeFileCopiedOverAnotherSeqOfSameDevice) {
  ASSERT_NO_FATAL_FAILURE(BuildWorld());
  Expectation ex;
  ex.keywords = {"change 2 of device " + Hex("alpha"), "holds change 3 but is stored as change 2"};
  ex.withheld = {"title alpha-2", "title alpha-3"};
  ExpectRefusedThenRepaired(
      [&] { WriteFileBytes(ChangeFile("alpha", 2), ReadFileBytes(ChangeFile("alpha", 3))); }, ex);
}

TEST_F(TamperTest, OldChangeReplayedAsNextSeqOfSameDevice) {
  ASSERT_NO_FATAL_FAILURE(BuildWorld());
  Expectation ex;
  ex.keywords = {"change 4 of device " + Hex("alpha"), "holds change 1 but is stored as change 4"};
  ex.withheld = {};  // alpha's real changes 2 and 3 come before the replayed file
  ExpectRefusedThenRepaired(
      [&] { WriteFileBytes(ChangeFile("alpha", 4), ReadFileBytes(ChangeFile("alpha", 1))); }, ex);
}

TEST_F(TamperTest, DeletedMiddleSeqIsAGapAndLaterSeqsWait) {
  ASSERT_NO_FATAL_FAILURE(BuildWorld());
  Expectation ex;
  ex.code = Code::kGap;
  ex.keywords = {"change 2 of device " + Hex("alpha"), "missing from the cloud", "up to 3",
                 "nothing after the gap is applied"};
  // alpha's change 3 is present and valid, yet must wait for change 2.
  ex.withheld = {"title alpha-2", "title alpha-3"};
  ExpectRefusedThenRepaired([&] { fs::remove(ChangeFile("alpha", 2)); }, ex);
}

TEST_F(TamperTest, RolledBackLogIsReported) {
  ASSERT_NO_FATAL_FAILURE(BuildWorld());
  ASSERT_TRUE(ApiSync("charlie").ok());  // charlie merges alpha's changes 2 and 3
  Expectation ex;
  ex.code = Code::kGap;
  ex.keywords = {"device " + Hex("alpha"), "ends at change 1", "already merged 3",
                 "lost or rolled back"};
  ExpectRefusedThenRepaired(
      [&] {
        fs::remove(ChangeFile("alpha", 3));
        fs::remove(ChangeFile("alpha", 2));
      },
      ex);
}

TEST_F(TamperTest, ChangeFileFromAnotherJournalIsRefused) {
  ASSERT_NO_FATAL_FAILURE(BuildWorld());
  // A second journal in another folder, with the same passphrase.
  const std::string other_cloud = tmp_ / "other-cloud";
  fs::create_directories(other_cloud);
  const DeviceId xray = InitDevice("x-ray", other_cloud);
  Add("x-ray", "x-ray-1", /*in_this_journal=*/false);
  {
    auto j = Open("x-ray");
    ASSERT_TRUE(j);
    auto r = j->Sync();
    ASSERT_TRUE(r.ok() && r->report.ok());
  }
  auto other_journal = Journal::Open(Home("x-ray"), ::jsync::testing::HostStorage());
  ASSERT_TRUE(other_journal.ok());
  const JournalId other = (*other_journal)->journal_id();
  ASSERT_NE(other, journal_);
  const std::string foreign =
      ReadFileBytes(fs::path(other_cloud) / sync::ChangePath(other, xray, 1));
  ASSERT_FALSE(foreign.empty());

  // Placed under its own device id in this journal...
  Expectation ex;
  ex.keywords = {"change 1 of device " + DeviceIdHex(xray),
                 "belongs to another journal (" + JournalIdHex(other) + ")"};
  ex.withheld = {};
  ExpectRefusedThenRepaired(
      [&] {
        const fs::path dest = fs::path(cloud_) / sync::ChangePath(journal_, xray, 1);
        fs::create_directories(dest.parent_path());
        WriteFileBytes(dest, foreign);
      },
      ex);
  // ... and as the next change of a device of this journal.
  ex.keywords = {"change 4 of device " + Hex("alpha"),
                 "belongs to another journal (" + JournalIdHex(other) + ")"};
  ExpectRefusedThenRepaired([&] { WriteFileBytes(ChangeFile("alpha", 4), foreign); }, ex);
  for (const auto& [title, content] : Entries("charlie")) {
    EXPECT_EQ(title.find("x-ray"), std::string::npos);
  }
}

TEST_F(TamperTest, WrongPassphraseAtJoinFailsCleanly) {
  ASSERT_NO_FATAL_FAILURE(BuildWorld());
  ASSERT_TRUE(ApiSync("charlie").ok());
  const CloudSnapshot before = Snapshot(cloud_);
  const std::vector<std::string> init_args = {"--home", Home("delta"),    "init", "--provider",
                                              "folder", "--location",     cloud_, "--device-name",
                                              "delta",  "--scrypt-log-n", "10"};

  ProcessResult r = RunJsync(init_args, {{"JSYNC_PASSPHRASE", "not the passphrase"}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.out, "");
  auto lines = Lines(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_TRUE(lines[0].starts_with("jsync: error: ")) << lines[0];
  EXPECT_NE(lines[0].find("cannot join journal " + JournalIdHex(journal_)), std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find("wrong passphrase"), std::string::npos) << lines[0];
  // Nothing was created or changed in the cloud, and the home holds no journal.
  EXPECT_EQ(Snapshot(cloud_), before);
  auto opened = Journal::Open(Home("delta"), ::jsync::testing::HostStorage());
  ASSERT_FALSE(opened.ok());
  EXPECT_TRUE(opened.status().Is(Code::kNotFound)) << opened.status().ToString();
  // Other commands on that home say there is no journal rather than half-working.
  ProcessResult sync = RunJsync({"--home", Home("delta"), "sync"});
  EXPECT_EQ(sync.exit_code, 1);
  EXPECT_NE(sync.err.find("no journal"), std::string::npos) << sync.err;

  // The right passphrase then joins from the same home and receives everything.
  r = RunJsync(init_args, {{"JSYNC_PASSPHRASE", TestInitOptions("", "").passphrase}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, JournalIdHex(journal_) + "\n");
  EXPECT_NE(r.err.find("joined journal"), std::string::npos) << r.err;
  auto delta = Journal::Open(Home("delta"), ::jsync::testing::HostStorage());
  ASSERT_TRUE(delta.ok());
  devices_["delta"] = (*delta)->device_id();
  delta->reset();
  ExpectConverges();
}

TEST_F(TamperTest, ForeignFilesInChangesAreIgnoredWithANotice) {
  ASSERT_NO_FATAL_FAILURE(BuildWorld());
  const CloudSnapshot before = Snapshot(cloud_);
  const fs::path changes = fs::path(cloud_) / sync::ChangesPrefix(journal_);
  const fs::path alpha_dir = fs::path(ChangeFile("alpha", 1)).parent_path();
  const std::vector<fs::path> foreign = {
      changes / "README.txt",
      changes / ".DS_Store",
      changes / "not-a-device" / "0000000000000001.jchg",
      alpha_dir / "notes.txt",
      alpha_dir / "0000000000000004.jchg.orig",
      alpha_dir / "0000000000000000.jchg",
      alpha_dir / "000000000000000A.jchg",
      alpha_dir / "0000000000000004.jchg" / "nested.jchg",
      fs::path(cloud_) / sync::DevicesPrefix(journal_) / "desktop.ini",
  };
  for (const auto& p : foreign) {
    fs::create_directories(p.parent_path());
    WriteFileBytes(p, p.extension() == ".orig" ? ReadFileBytes(ChangeFile("alpha", 1))
                                               : "hello, I am not a change file");
  }
  // A torn temporary file of the folder provider is not even listed.
  const fs::path torn = alpha_dir / ".jsync-tmp-0123456789abcdef";
  WriteFileBytes(torn, ReadFileBytes(ChangeFile("alpha", 1)).substr(0, 40));

  ProcessResult r = CliSync("charlie");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  auto json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["ok"], true);
  EXPECT_TRUE(json["problems"].empty());
  std::vector<std::string> notices = json["notices"].get<std::vector<std::string>>();
  for (const auto& p : foreign) {
    const std::string rel = fs::relative(p, cloud_).generic_string();
    EXPECT_NE(std::find(notices.begin(), notices.end(), "ignored unexpected file " + rel),
              notices.end())
        << "no notice for " << rel;
  }
  for (const auto& n : notices) {
    EXPECT_EQ(n.find(".jsync-tmp-"), std::string::npos) << n;
  }
  // Everything real was applied, nothing was taken from the foreign files.
  EXPECT_EQ(Titles(Entries("charlie")), AllTitlesExcept({}));
  EXPECT_EQ(json["merged"]["changes"], 3);  // alpha 2, alpha 3, bravo 2
  // The foreign files are left alone.
  for (const auto& p : foreign) EXPECT_TRUE(fs::exists(p)) << p;

  for (const auto& p : foreign) fs::remove(p);
  fs::remove(torn);
  fs::remove(alpha_dir / "0000000000000004.jchg");
  fs::remove(changes / "not-a-device");
  EXPECT_EQ(Snapshot(cloud_).size(), before.size() + 1);  // + charlie's change 2
  ExpectConverges();
  r = CliSync("charlie");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out)["notices"].empty()) << r.out;
}

// The device's name as charlie knows it ("" when charlie knows none).
std::string KnownName(Journal& j, DeviceId device) {
  auto status = j.GetStatus();
  EXPECT_TRUE(status.ok());
  if (!status.ok()) return "";
  for (const auto& d : status->devices) {
    if (d.device == device) return d.name;
  }
  return "";
}

TEST_F(TamperTest, CorruptedDeviceFileIsReportedAndNotLearned) {
  InitDevice("alpha");
  InitDevice("charlie");
  Add("alpha", "alpha-1");
  ASSERT_TRUE(ApiSync("alpha").ok());
  Add("charlie", "charlie-1");
  ASSERT_TRUE(ApiSync("charlie").ok());
  // bravo joins after charlie last synced: charlie has not read bravo's device file yet.
  InitDevice("bravo");
  Add("bravo", "bravo-1");
  ASSERT_TRUE(ApiSync("bravo").ok());

  const std::string path = DeviceFile("bravo");
  const std::string original = ReadFileBytes(path);
  const EntryMap charlie_before = Entries("charlie");
  struct Damage {
    std::string what, bytes, expected_why;
  };
  const std::string forged = "authentication failed (tampered, truncated or wrong key)";
  const std::vector<Damage> damages = {
      // Device file v2 ends with the device's 64-byte signature (decision 0036).
      {"flipped last byte", Flip(original, original.size() - 1), "signature does not verify"},
      {"flipped name ciphertext", Flip(original, original.size() - 64 - 20), forged},
      {"flipped device id", Flip(original, 8 + 2 + 16), forged},
      {"flipped magic", Flip(original, 0), "bad magic"},
      {"truncated", original.substr(0, 100), "impossible size"},
  };
  for (const auto& [what, bytes, expected_why] : damages) {
    SCOPED_TRACE(what);
    WriteFileBytes(path, bytes);
    ProcessResult r = CliSync("charlie");
    auto messages = ExpectCliProblems(r);
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_NE(messages[0].find("device file " + Rel(path) + " was refused: "), std::string::npos)
        << messages[0];
    EXPECT_NE(messages[0].find(expected_why), std::string::npos) << messages[0];
    EntryMap after = Entries("charlie");
    for (const auto& [title, content] : charlie_before) {
      ASSERT_TRUE(after.contains(title)) << title;
      EXPECT_EQ(after[title], content);
    }
    auto charlie = Open("charlie");
    ASSERT_TRUE(charlie);
    EXPECT_NE(KnownName(*charlie, devices_["bravo"]), "device-name-bravo");
  }

  WriteFileBytes(path, original);
  ProcessResult r = CliSync("charlie");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  {
    auto charlie = Open("charlie");
    ASSERT_TRUE(charlie);
    EXPECT_EQ(KnownName(*charlie, devices_["bravo"]), "device-name-bravo");
  }
  ExpectConverges();
  ExpectNoPlaintextInCloud();
}

TEST_F(TamperTest, DeviceFileUnderAnotherDevicesNameIsRefused) {
  ASSERT_NO_FATAL_FAILURE(BuildWorld());
  const DeviceId fake = NewDeviceId();
  const std::string fake_path = (fs::path(cloud_) / sync::DevicePath(journal_, fake)).string();
  WriteFileBytes(fake_path, ReadFileBytes(DeviceFile("alpha")));
  ProcessResult r = CliSync("charlie");
  auto messages = ExpectCliProblems(r);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("device file " + Rel(fake_path) + " was refused: "), std::string::npos)
      << messages[0];
  EXPECT_NE(messages[0].find("names another journal or device"), std::string::npos) << messages[0];
  {
    auto charlie = Open("charlie");
    ASSERT_TRUE(charlie);
    EXPECT_EQ(KnownName(*charlie, fake), "");
  }
  fs::remove(fake_path);
  ExpectConverges();
}

// --- Rollbacks that another device's file proves, and lost key files --------------------------

// charlie's change 3 names alpha's change 3 in its version vector: alpha's changes 2 and 3
// were published. When they are gone from the cloud, a device that needs them must report a
// problem (not a harmless wait), in the sync and in `status`, until alpha re-uploads them.
TEST_F(TamperTest, PublishedDependencyMissingFromTheCloudIsAProblem) {
  ASSERT_NO_FATAL_FAILURE(BuildWorld());
  ASSERT_TRUE(ApiSync("charlie").ok());  // merges alpha 2..3
  Add("charlie", "charlie-3");
  ASSERT_TRUE(ApiSync("charlie").ok());  // charlie's change 3 names alpha's change 3
  fs::remove(ChangeFile("alpha", 3));
  fs::remove(ChangeFile("alpha", 2));
  InitDevice("delta");
  ProcessResult r = CliSync("delta");
  auto messages = ExpectCliProblems(r);
  bool named = false;
  for (const auto& m : messages) {
    named |= m.find("change 2 of device " + Hex("alpha")) != std::string::npos &&
             m.find("missing from the cloud") != std::string::npos &&
             m.find("published") != std::string::npos;
  }
  EXPECT_TRUE(named) << r.out;
  auto json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["problems"][0]["code"], CodeName(Code::kGap));
  ProcessResult status = RunJsync({"--home", Home("delta"), "status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  auto st = nlohmann::json::parse(status.out);
  ASSERT_FALSE(st["problems"].empty()) << status.out;
  EXPECT_NE(st["problems"][0]["message"].get<std::string>().find("missing from the cloud"),
            std::string::npos);
  // The owner re-uploads its own files; then everyone converges and status is clean again.
  auto alpha = ApiSync("alpha");
  EXPECT_EQ(alpha.repaired_changes, 2u);
  ExpectConverges();
  status = RunJsync({"--home", Home("delta"), "status", "--json"});
  EXPECT_TRUE(nlohmann::json::parse(status.out)["problems"].empty()) << status.out;
}

TEST_F(TamperTest, DeletedKeyFileIsRestoredByADeviceThatHoldsIt) {
  ASSERT_NO_FATAL_FAILURE(BuildWorld());
  const fs::path keys = fs::path(cloud_) / sync::KeysPrefix(journal_);
  const auto key_files = ListFiles(keys);
  ASSERT_EQ(key_files.size(), 1u);
  const std::string original = ReadFileBytes(key_files[0]);
  // bravo stands for a device initialised before key files were kept locally.
  {
    auto bravo = Open("bravo");
    ASSERT_TRUE(bravo);
    ASSERT_TRUE(bravo->store().DeleteMeta(sync::kKeyFileMeta).ok());
  }
  fs::remove_all(keys);
  // A device without a copy says so.
  ProcessResult r = CliSync("bravo");
  auto messages = ExpectCliProblems(r);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("key file"), std::string::npos) << messages[0];
  EXPECT_NE(messages[0].find("holds no copy"), std::string::npos) << messages[0];
  EXPECT_FALSE(fs::exists(key_files[0]));

  r = CliSync("alpha");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto json = nlohmann::json::parse(r.out);
  bool noticed = false;
  for (const auto& n : json["notices"]) {
    noticed |= n.get<std::string>().find("re-uploaded the journal's key file") != std::string::npos;
  }
  EXPECT_TRUE(noticed) << r.out;
  ASSERT_TRUE(fs::exists(key_files[0]));
  EXPECT_EQ(ReadFileBytes(key_files[0]), original);  // the same immutable bytes

  // bravo fetches a copy now that it is back, and restores it the next time it is lost.
  EXPECT_TRUE(ApiSync("bravo").ok());
  fs::remove_all(keys);
  auto report = ApiSync("bravo");
  EXPECT_TRUE(report.ok()) << report.problems.front().message;
  EXPECT_EQ(ReadFileBytes(key_files[0]), original);

  // And a new device can join again.
  InitDevice("delta");
  ExpectConverges();
}

// --- Properties of every sync, damage or not ---------------------------------------------------

TEST_F(TamperTest, CloudNeverHoldsPlaintext) {
  ASSERT_NO_FATAL_FAILURE(BuildWorld());
  {
    auto j = Open("bravo");
    ASSERT_TRUE(j);
    auto entries = j->ListEntries();
    ASSERT_TRUE(entries.ok());
    EntryEdit edit;
    edit.title = "title edited-by-bravo";
    edit.body = "an edited body that is also secret";
    edit.add_tags = {"tag-added-by-bravo"};
    edit.remove_tags = {"tag-bravo-1"};
    const Entry* bravo1 = nullptr;
    for (const auto& e : *entries) {
      if (e.title == "title bravo-1") bravo1 = &e;
    }
    ASSERT_NE(bravo1, nullptr);
    ASSERT_TRUE(j->EditEntry(RecordIdHex(bravo1->id), edit).ok());
    secrets_.insert(secrets_.end(), {*edit.title, *edit.body, edit.add_tags[0]});
    all_.erase("title bravo-1");
    all_[*edit.title] = {*edit.body, {"tag-added-by-bravo"}};
  }
  ExpectConverges();
  ASSERT_FALSE(ListFiles(cloud_).empty());
  ExpectNoPlaintextInCloud();
}

TEST_F(TamperTest, SyncNeverRewritesOrDeletesAnExistingFile) {
  ASSERT_NO_FATAL_FAILURE(BuildWorld());
  CloudSnapshot seen = Snapshot(cloud_);
  ASSERT_GE(seen.size(), 3u + 6u);  // key, 3 device files, 6 change files
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    if (round % 2 == 0) {
      Add("alpha", "alpha-r" + std::to_string(round));
      Add("charlie", "charlie-r" + std::to_string(round));
    }
    for (const char* device : {"alpha", "bravo", "charlie"}) {
      if (round == 3) {
        ProcessResult r = CliSync(device);
        EXPECT_EQ(r.exit_code, 0) << r.err;
      } else {
        EXPECT_TRUE(ApiSync(device).ok());
      }
      CloudSnapshot now = Snapshot(cloud_);
      for (const auto& [path, state] : seen) {
        auto it = now.find(path);
        ASSERT_NE(it, now.end()) << path << " was deleted by " << device << "'s sync";
        EXPECT_TRUE(it->second == state) << path << " was rewritten by " << device << "'s sync";
      }
      EXPECT_GE(now.size(), seen.size());
      seen = std::move(now);
    }
  }
  ExpectConverges();
}

}  // namespace
}  // namespace jsync

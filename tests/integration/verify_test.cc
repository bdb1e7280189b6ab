// `jsync verify`: the read-only audit of a journal's cloud objects (core/sync/audit.h).
//
// A clean journal of three devices passes; each kind of damage of the hardening issue (a
// flipped byte, a truncated file, two swapped names, an old file replayed under a newer name,
// an omitted middle file, a rolled-back tail, a fork of one device id as a copied home makes,
// the deleted key file, a foreign file, a symlink) is caught with its own code and message;
// --read-data catches a flipped ciphertext byte the header check cannot; the JSON shape and
// the request count are pinned; and the audit changes nothing, in the store or the cloud.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/format/change_file.h"
#include "core/journal/journal.h"
#include "core/sync/remote_layout.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

namespace fs = std::filesystem;
using jsync::testing::ProcessResult;
using jsync::testing::ReadFileBytes;
using jsync::testing::RunJsync;
using jsync::testing::TempDir;
using jsync::testing::TestInitOptions;
using jsync::testing::WriteFileBytes;

// Every entry under `root` (files by bytes, links by target, directories by name): what the
// audit must leave exactly as it found it.
std::map<std::string, std::string> Tree(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string rel = fs::relative(it->path(), root).generic_string();
    const fs::file_status st = it->symlink_status();
    if (fs::is_symlink(st)) {
      out[rel] = "link:" + fs::read_symlink(it->path()).string();
    } else if (fs::is_directory(st)) {
      out[rel] = "dir";
    } else {
      out[rel] = "file:" + ReadFileBytes(it->path());
    }
  }
  return out;
}

bool HasProblem(const sync::AuditReport& r, const std::string& code, const std::string& words) {
  for (const auto& p : r.problems) {
    if (p.code == code && p.message.find(words) != std::string::npos && !p.fix.empty()) {
      return true;
    }
  }
  return false;
}

// Flips the first ciphertext byte: after the header, whatever follows the tag (a signature).
std::string FlipCiphertext(std::string bytes) {
  auto parsed = format::ParseChangeHeader(
      ByteSpan(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  EXPECT_TRUE(parsed.ok());
  if (parsed.ok()) bytes.at(parsed->header_size) ^= 0x01;
  return bytes;
}

std::string Describe(const sync::AuditReport& r) {
  std::string out;
  for (const auto& p : r.problems) out += "[" + p.code + "] " + p.message + "\n";
  return out.empty() ? "(no problems)" : out;
}

class VerifyTest : public ::testing::Test {
 protected:
  fs::path Home(const std::string& d) const { return tmp_.path() / ("home-" + d); }

  DeviceId Init(const std::string& d, const fs::path& cloud) {
    auto r = Journal::Init(Home(d), TestInitOptions(cloud, "dev-" + d));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return 0;
    journal_ = r->journal;
    ids_[d] = r->device;
    return r->device;
  }
  std::unique_ptr<Journal> Open(const std::string& d) {
    auto j = Journal::Open(Home(d), ::jsync::testing::HostStorage());
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return j.ok() ? std::move(j).value() : nullptr;
  }
  // One entry and one sync: one change file of `d`.
  void Write(const std::string& d, const std::string& title) {
    auto j = Open(d);
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->NewEntry({title, "body of " + title, {}}).ok());
    auto r = j->Sync();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(r->report.ok()) << r->report.problems.front().message;
  }
  void Sync(const std::string& d, bool full = false) {
    auto j = Open(d);
    ASSERT_TRUE(j);
    sync::DiscoveryOptions o;
    o.full_listing = full;
    auto r = j->Sync(o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  // Three devices: a wrote changes 1-3, b 1-2, c 1; everyone merged everything.
  void Build() {
    Init("a", cloud_);
    Init("b", cloud_);
    Init("c", cloud_);
    for (const char* t : {"a one", "a two", "a three"}) Write("a", t);
    for (const char* t : {"b one", "b two"}) Write("b", t);
    Sync("c");
    Write("c", "c one");
    Sync("a");
    Sync("b");
  }

  sync::AuditReport Verify(const std::string& d, bool read_data = false) {
    auto j = Open(d);
    EXPECT_TRUE(j);
    if (!j) return {};
    sync::AuditOptions o;
    o.read_data = read_data;
    auto r = j->Verify(o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    EXPECT_EQ(r->calls.puts, 0u);
    EXPECT_EQ(r->calls.removes, 0u);
    return r->report;
  }
  ProcessResult Cli(const std::string& d, std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", Home(d).string(), "verify"});
    return RunJsync(args);
  }

  fs::path Root() const { return cloud_ / sync::JournalRoot(journal_); }
  fs::path Change(const std::string& d, uint64_t seq) const {
    return cloud_ / sync::ChangePath(journal_, ids_.at(d), seq);
  }

  // Checks that one damage is caught by b (which merged a's changes 1-3), by code and words,
  // both through the API and as exit 1 of the CLI; the audit changes nothing.
  void ExpectCaught(const std::string& code, const std::string& words, bool read_data = false) {
    sync::AuditReport r = Verify("b", read_data);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(HasProblem(r, code, words)) << "want [" << code << "] " << words << "\n"
                                            << Describe(r);
    const auto cloud_before = Tree(cloud_), home_before = Tree(Home("b"));
    ProcessResult cli = read_data ? Cli("b", {"--read-data"}) : Cli("b", {});
    EXPECT_EQ(cli.exit_code, 1) << cli.out << cli.err;
    EXPECT_NE(cli.out.find("problem [" + code + "]"), std::string::npos) << cli.out;
    EXPECT_NE(cli.out.find("to fix: "), std::string::npos) << cli.out;
    EXPECT_NE(cli.err.find("jsync: error: verify found"), std::string::npos) << cli.err;
    EXPECT_EQ(Tree(cloud_), cloud_before);
    EXPECT_EQ(Tree(Home("b")), home_before);
  }

  TempDir tmp_;
  fs::path cloud_ = tmp_.path() / "cloud";
  JournalId journal_{};
  std::map<std::string, DeviceId> ids_;
};

TEST_F(VerifyTest, ACleanJournalPassesOnEveryDevice) {
  Build();
  for (const char* d : {"a", "b", "c"}) {
    for (bool read_data : {false, true}) {
      sync::AuditReport r = Verify(d, read_data);
      EXPECT_TRUE(r.ok()) << d << " read_data=" << read_data << "\n" << Describe(r);
      ASSERT_EQ(r.devices.size(), 3u);
      for (const auto& row : r.devices) {
        EXPECT_EQ(row.device_file, "ok");
        EXPECT_EQ(row.first, 1u);
        EXPECT_EQ(row.merged, row.last) << DeviceIdHex(row.device);
        EXPECT_EQ(row.self, row.device == ids_[d]);
      }
      EXPECT_EQ(r.change_files_checked, 6u);
    }
  }
  const auto cloud_before = Tree(cloud_), home_before = Tree(Home("b"));
  ProcessResult text = Cli("b", {});
  EXPECT_EQ(text.exit_code, 0) << text.out << text.err;
  EXPECT_NE(text.out.find("3 devices"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("0 problems"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("[this device]"), std::string::npos) << text.out;
  EXPECT_EQ(text.err, "");
  ProcessResult all = Cli("b", {"--read-data"});
  EXPECT_EQ(all.exit_code, 0) << all.out << all.err;
  EXPECT_NE(all.out.find("every file authenticated"), std::string::npos) << all.out;
  // Read-only: not one byte of the store or the cloud moved.
  EXPECT_EQ(Tree(cloud_), cloud_before);
  EXPECT_EQ(Tree(Home("b")), home_before);
}

TEST_F(VerifyTest, AFlippedHeaderByteIsCaught) {
  Build();
  const fs::path f = Change("a", 2);
  std::string bytes = ReadFileBytes(f);
  bytes[3] ^= 0x20;  // the magic
  WriteFileBytes(f, bytes);
  ExpectCaught("damaged", "is not a valid change file");
}

TEST_F(VerifyTest, ATruncatedFileIsCaught) {
  Build();
  const fs::path f = Change("a", 2);
  WriteFileBytes(f, ReadFileBytes(f).substr(0, 100));
  ExpectCaught("damaged", "truncated");
}

TEST_F(VerifyTest, TwoSwappedNamesAreCaught) {
  Build();
  const std::string one = ReadFileBytes(Change("a", 1)), two = ReadFileBytes(Change("a", 2));
  WriteFileBytes(Change("a", 1), two);
  WriteFileBytes(Change("a", 2), one);
  ExpectCaught("header-mismatch", "holds change 2 but is stored as change 1 (two files swapped)");
  EXPECT_TRUE(HasProblem(Verify("b"), "header-mismatch", "holds change 1 but is stored as change 2"));
}

TEST_F(VerifyTest, AnOldFileReplayedUnderANewerNameIsCaught) {
  Build();
  WriteFileBytes(Change("a", 3), ReadFileBytes(Change("a", 1)));
  ExpectCaught("header-mismatch", "holds change 1 but is stored as change 3 (an old change "
                                  "replayed under a newer name");
}

TEST_F(VerifyTest, AnOmittedMiddleFileIsAGap) {
  Build();
  fs::remove(Change("a", 2));
  ExpectCaught("gap", "change 2 of device " + DeviceIdHex(ids_["a"]) +
                          " (dev-a) is missing from the cloud while later changes (up to 3)");
}

TEST_F(VerifyTest, ARolledBackTailIsCaught) {
  Build();
  fs::remove(Change("a", 3));
  fs::remove(Change("a", 2));
  ExpectCaught("rollback", "log in the cloud ends at change 1 but this device already merged 3");
  // A device that never merged them still learns it: c's change says it merged a's change 3.
  Init("d", cloud_);
  sync::AuditReport fresh = Verify("d");
  EXPECT_TRUE(HasProblem(fresh, "rollback", "says its writer merged change 3")) << Describe(fresh);
}

TEST_F(VerifyTest, AForkOfOneDeviceIdIsCaught) {
  Init("a", cloud_);
  Init("b", cloud_);
  Write("a", "a one");
  Write("a", "a two");
  // A copy of a's home writes its own change 3 (into a copy of the cloud, so both exist).
  const fs::path cloud2 = tmp_.path() / "cloud2";
  fs::copy(cloud_, cloud2, fs::copy_options::recursive);
  fs::copy(Home("a"), Home("a2"), fs::copy_options::recursive);
  {
    auto a2 = Open("a2");
    ASSERT_TRUE(a2);
    ASSERT_TRUE(a2->store().SetMeta("location", cloud2.string()).ok());
  }
  ids_["a2"] = ids_["a"];
  Write("a2", "a2 three");
  Write("a", "a three");
  Sync("b");
  // The cloud now shows the copy's change 3 where b merged a's.
  WriteFileBytes(Change("a", 3), ReadFileBytes(cloud2 / sync::ChangePath(journal_, ids_["a"], 3)));
  ExpectCaught("fork", "is another authentic change 3 than the one this device merged");
}

TEST_F(VerifyTest, ADeletedKeyFileIsCaughtAndRestoredByTheNextSync) {
  Build();
  fs::remove_all(Root() / "keys");
  ExpectCaught("key-file-missing", "key file");
  sync::AuditReport r = Verify("b");
  ASSERT_FALSE(r.problems.empty());
  EXPECT_NE(r.problems.front().fix.find("re-uploads it at its next"), std::string::npos)
      << r.problems.front().fix;
  Sync("b", /*full=*/true);
  sync::AuditReport after = Verify("b");
  EXPECT_TRUE(after.ok()) << Describe(after);
}

TEST_F(VerifyTest, AForeignFileIsCaught) {
  Build();
  WriteFileBytes(Root() / "changes" / "notes.txt", "not ours");
  ExpectCaught("unexpected-name", "notes.txt is not part of the journal's layout");
}

TEST_F(VerifyTest, ASymlinkAtAChangeNameIsCaught) {
  Build();
  fs::create_symlink("/dev/zero", Change("a", 4));
  ExpectCaught("not-a-file", "is not a regular file");
}

TEST_F(VerifyTest, ReadDataCatchesAFlippedCiphertextByteTheHeaderCheckCannot) {
  Build();
  const fs::path f = Change("a", 2);
  WriteFileBytes(f, FlipCiphertext(ReadFileBytes(f)));
  sync::AuditReport headers = Verify("b");
  EXPECT_TRUE(headers.ok()) << "a header check reads no ciphertext\n" << Describe(headers);
  ExpectCaught("damaged", "failed verification", /*read_data=*/true);
  // At this device's cursor the file is read whole (to hash it), so the header check catches
  // a flip there.
  const fs::path head = Change("a", 3);
  WriteFileBytes(head, FlipCiphertext(ReadFileBytes(head)));
  EXPECT_TRUE(HasProblem(Verify("b"), "damaged", "change 3 of device"));
}

TEST_F(VerifyTest, ALogWithSegmentsPassesAndAMissingDeviceFileIsCaught) {
  Init("a", cloud_);
  Init("b", cloud_);
  for (int i = 0; i < 10; ++i) Write("a", "entry " + std::to_string(i));
  Sync("b");
  Sync("a");  // a's segments are written after a clean cycle
  for (const char* d : {"a", "b"}) {
    for (bool read_data : {false, true}) {
      sync::AuditReport r = Verify(d, read_data);
      EXPECT_TRUE(r.ok()) << d << " read_data=" << read_data << "\n" << Describe(r);
      for (const auto& row : r.devices) {
        if (row.device == ids_["a"]) {
          EXPECT_GE(row.segments, 1u) << "no segment was written";
        }
      }
    }
  }
  // Changes held only in a segment are read out of it.
  for (uint64_t seq = 1; seq <= 8; ++seq) fs::remove(Change("a", seq));
  for (bool read_data : {false, true}) {
    sync::AuditReport r = Verify("b", read_data);
    EXPECT_TRUE(r.ok()) << "read_data=" << read_data << "\n" << Describe(r);
  }
  fs::remove(cloud_ / sync::DevicePath(journal_, ids_["a"]));
  sync::AuditReport r = Verify("b");
  EXPECT_TRUE(HasProblem(r, "device-file-missing", "the device file of device " +
                                                       DeviceIdHex(ids_["a"])))
      << Describe(r);
}

TEST_F(VerifyTest, AnOwnFileMissingIsCaughtAndPutBackByTheNextSync) {
  Build();
  fs::remove(Change("b", 1));
  ExpectCaught("own-missing", "change 1 of this device is missing from the cloud although uploaded");
  Sync("b", /*full=*/true);
  sync::AuditReport after = Verify("b");
  EXPECT_TRUE(after.ok()) << Describe(after);
}

TEST_F(VerifyTest, HeaderCheckCostsOneListingAndOneReadPerFile) {
  Build();
  auto j = Open("b");
  ASSERT_TRUE(j);
  auto r = j->Verify({});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // 6 change files, 3 device files, 1 key file; one listing.
  EXPECT_EQ(r->calls.lists, 1u);
  EXPECT_EQ(r->calls.gets, 10u);
  EXPECT_EQ(r->calls.puts + r->calls.removes + r->calls.feeds, 0u);
  sync::AuditOptions read_data;
  read_data.read_data = true;
  auto all = j->Verify(read_data);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->calls.lists, 1u);
  EXPECT_EQ(all->calls.gets, 10u);
}

TEST_F(VerifyTest, JsonShapeIsPinned) {
  Build();
  ProcessResult clean_run = Cli("c", {"--json", "--read-data"});
  EXPECT_EQ(clean_run.exit_code, 0) << clean_run.err;
  auto clean = nlohmann::json::parse(clean_run.out);
  EXPECT_EQ(clean["ok"], true);
  EXPECT_EQ(clean["read_data"], true);
  EXPECT_EQ(clean["problems"], nlohmann::json::array());
  fs::remove(Change("a", 2));
  ProcessResult r = Cli("b", {"--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto json = nlohmann::json::parse(r.out);
  std::set<std::string> keys;
  for (const auto& [k, v] : json.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"ok", "journal", "device", "read_data", "objects",
                                         "bytes_listed", "change_files_checked", "snapshots",
                                         "requests", "elapsed_ms", "devices", "problems"}));
  EXPECT_EQ(json["ok"], false);
  EXPECT_EQ(json["journal"], JournalIdHex(journal_));
  EXPECT_EQ(json["device"], DeviceIdHex(ids_["b"]));
  EXPECT_EQ(json["read_data"], false);
  EXPECT_EQ(json["objects"], 9);  // 5 change files, 3 device files, 1 key file
  EXPECT_EQ(json["requests"]["lists"], 1);
  EXPECT_EQ(json["requests"]["puts"], 0);
  EXPECT_EQ(json["requests"]["removes"], 0);
  ASSERT_EQ(json["devices"].size(), 3u);
  for (const auto& d : json["devices"]) {
    std::set<std::string> dk;
    for (const auto& [k, v] : d.items()) dk.insert(k);
    EXPECT_EQ(dk, (std::set<std::string>{"device", "name", "self", "first", "last", "files",
                                         "segments", "merged", "device_file", "problems"}));
    if (d["device"] == DeviceIdHex(ids_["a"])) {
      EXPECT_EQ(d["name"], "dev-a");
      EXPECT_EQ(d["first"], 1);
      EXPECT_EQ(d["last"], 3);
      EXPECT_EQ(d["files"], 2);
      EXPECT_EQ(d["merged"], 3);
      EXPECT_EQ(d["problems"], 1);
      EXPECT_EQ(d["self"], false);
      EXPECT_EQ(d["device_file"], "ok");
    }
  }
  ASSERT_EQ(json["problems"].size(), 1u);
  const auto& p = json["problems"][0];
  std::set<std::string> pk;
  for (const auto& [k, v] : p.items()) pk.insert(k);
  EXPECT_EQ(pk, (std::set<std::string>{"code", "device", "path", "message", "fix"}));
  EXPECT_EQ(p["code"], "gap");
  EXPECT_EQ(p["device"], DeviceIdHex(ids_["a"]));
  EXPECT_TRUE(p["path"].is_null());
  EXPECT_TRUE(p["fix"].is_string());

  EXPECT_EQ(Cli("b", {"--bogus"}).exit_code, 2);
  ProcessResult nowhere = RunJsync({"--home", (tmp_.path() / "none").string(), "verify", "--json"});
  EXPECT_EQ(nowhere.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(nowhere.out)["ok"], false);
}

}  // namespace
}  // namespace jsync

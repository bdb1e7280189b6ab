// The key lifecycle across three devices on the folder provider (issue 15 item 5,
// docs/key-states.md): signed change files and pinned device keys (decision 0036); key epochs,
// passwd, the recovery key, rotation and revocation (decisions 0037-0039), driven through the
// jsync CLI where a person would type the command.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/format/change_file.h"
#include "core/format/device_file.h"
#include "core/format/key_file.h"
#include "core/journal/device_key.h"
#include "core/journal/journal.h"
#include "core/sync/key_epochs.h"
#include "core/sync/key_sync.h"
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

class KeyLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(cloud_); }

  std::string Home(const std::string& d) const { return tmp_ / ("home-" + d); }
  std::string Cloud(const std::string& path) const { return (fs::path(cloud_) / path).string(); }

  void Init(const std::string& d) {
    auto r = Journal::Init(Home(d), TestInitOptions(cloud_, "device-" + d));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    journal_ = r->journal;
    ids_[d] = r->device;
  }

  std::unique_ptr<Journal> Open(const std::string& d) {
    auto j = Journal::Open(Home(d), ::jsync::testing::HostStorage());
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return j.ok() ? std::move(j).value() : nullptr;
  }

  sync::SyncReport Sync(const std::string& d) {
    auto j = Open(d);
    if (!j) return {};
    auto r = j->Sync();
    EXPECT_TRUE(r.ok()) << d << ": " << r.status().ToString();
    return r.ok() ? r->report : sync::SyncReport{};
  }

  void SyncClean(const std::string& d) {
    auto report = Sync(d);
    for (const auto& p : report.problems) ADD_FAILURE() << d << ": " << p.message;
  }

  std::vector<std::string> Titles(const std::string& d) {
    auto j = Open(d);
    std::vector<std::string> out;
    if (!j) return out;
    auto entries = j->ListEntries();
    EXPECT_TRUE(entries.ok());
    if (entries.ok())
      for (const auto& e : *entries) out.push_back(e.title);
    return out;
  }

  void Write(const std::string& d, const std::string& title) {
    auto j = Open(d);
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->NewEntry({title, "body of " + title, {}}).ok());
  }

  // The journal key, as anyone who knows the passphrase holds it.
  crypto::SecretKey MasterKey() {
    for (const auto& f : fs::directory_iterator(Cloud(sync::KeysPrefix(journal_)))) {
      const std::string bytes = ReadFileBytes(f.path());
      auto key = format::UnwrapMasterKey(AsBytes(bytes), TestInitOptions("", "").passphrase);
      if (key.ok()) return *key;
    }
    ADD_FAILURE() << "no key file opens with the passphrase";
    return {};
  }

  TempDir tmp_;
  std::string cloud_ = tmp_ / "cloud";
  JournalId journal_{};
  std::map<std::string, DeviceId> ids_;
};

TEST_F(KeyLifecycleTest, ChangesAreSignedAndEveryDeviceReadsThem) {
  Init("a");
  Init("b");
  Init("c");
  Write("a", "from a");
  SyncClean("a");
  SyncClean("b");
  SyncClean("c");
  EXPECT_EQ(Titles("b"), std::vector<std::string>{"from a"});
  EXPECT_EQ(Titles("c"), std::vector<std::string>{"from a"});
  const std::string file = ReadFileBytes(Cloud(sync::ChangePath(journal_, ids_["a"], 1)));
  auto parsed = format::ParseChangeHeader(AsBytes(file));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->header.version, format::kChangeVersion);
  EXPECT_TRUE(fs::exists(Home("a") + "/device.key"));
  EXPECT_EQ(fs::status(Home("a") + "/device.key").permissions() & fs::perms::group_all,
            fs::perms::none);
}

// Someone holding the journal key (device b's owner) writes a change as device a: sealed with
// the journal key, so it decrypts, but signed with b's key (or not at all).
class ForgedChangeTest : public KeyLifecycleTest, public ::testing::WithParamInterface<bool> {};

TEST_P(ForgedChangeTest, IsRefusedByEveryoneElse) {
  const bool sign_with_own_key = GetParam();
  Init("a");
  Init("b");
  Init("c");
  Write("a", "genuine");
  SyncClean("a");
  SyncClean("b");
  SyncClean("c");
  const crypto::SecretKey master = MasterKey();
  const std::string first = ReadFileBytes(Cloud(sync::ChangePath(journal_, ids_["a"], 1)));
  auto parsed = format::ParseChangeHeader(AsBytes(first));
  ASSERT_TRUE(parsed.ok());
  auto ops = format::OpenChange(master, *parsed, AsBytes(first));
  ASSERT_TRUE(ops.ok());
  format::ChangeHeader h = parsed->header;
  h.seq = 2;
  h.prev_hash = crypto::HashSha256(AsBytes(first));
  auto b_keys = LoadDeviceKeys(Home("b") + "/device.key");
  ASSERT_TRUE(b_keys.ok() && *b_keys);
  auto forged =
      format::SealChange(master, h, *ops, sign_with_own_key ? &(*b_keys)->sign.priv : nullptr);
  ASSERT_TRUE(forged.ok());
  const std::string slot = Cloud(sync::ChangePath(journal_, ids_["a"], 2));
  WriteFileBytes(slot, std::string(forged->begin(), forged->end()));

  auto report = Sync("c");
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].message.find(sign_with_own_key ? "is not signed by the device"
                                                              : "is unsigned"),
            std::string::npos)
      << report.problems[0].message;
  EXPECT_NE(report.problems[0].message.find("someone holding the journal key"), std::string::npos);
  EXPECT_EQ(Titles("c"), std::vector<std::string>{"genuine"});
}

INSTANTIATE_TEST_SUITE_P(SignedOrNot, ForgedChangeTest, ::testing::Bool());

// A home made before device keys (device file v1, unsigned changes): it gets its keys on the
// next Open, publishes them in a new revision of its device file, and signs from then on;
// its earlier unsigned changes stay accepted, later unsigned ones do not.
TEST_F(KeyLifecycleTest, LegacyDeviceUpgradesAndItsOldChangesStay) {
  Init("a");
  Init("b");
  // Make a look like an old build's home: no device key, a v1 device file, an unsigned change.
  const crypto::SecretKey master = MasterKey();
  fs::remove(Home("a") + "/device.key");
  {
    auto j = Open("a");
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->store().DeleteMeta("device_pin:" + DeviceIdHex(ids_["a"])).ok());
  }
  // Opening made new device keys: drop them again, to write the legacy change by hand.
  fs::remove(Home("a") + "/device.key");
  format::DeviceInfo v1{journal_, ids_["a"], 0, "device-a", "linux", 1, "folder"};
  {
    const std::string kf =
        ReadFileBytes(fs::directory_iterator(Cloud(sync::KeysPrefix(journal_)))->path());
    v1.key_id = format::ReadKeyFileInfo(AsBytes(kf))->key_id;
  }
  auto v1_file = format::SealDeviceFile(master, v1);
  ASSERT_TRUE(v1_file.ok());
  WriteFileBytes(Cloud(sync::DevicePath(journal_, ids_["a"])),
                 std::string(v1_file->begin(), v1_file->end()));
  format::ChangeHeader h;
  h.journal = journal_;
  h.device = ids_["a"];
  h.seq = 1;
  h.key_id = v1.key_id;
  Op op;
  op.id = {MakeHlc(1'700'000'000'000, 0), ids_["a"]};
  op.kind = OpKind::kSetRegister;
  op.collection = kEntries;
  op.record = NewRecordId();
  op.field = "title";
  op.value = "\"legacy\"";
  auto legacy = format::SealChange(master, h, {op});
  ASSERT_TRUE(legacy.ok());
  // a's change 1 as an old build wrote it: unsigned, in the cloud and in a's own store.
  fs::create_directories(Cloud(sync::DeviceChangesPrefix(journal_, ids_["a"])));
  WriteFileBytes(Cloud(sync::ChangePath(journal_, ids_["a"], 1)),
                 std::string(legacy->begin(), legacy->end()));
  {
    auto j = Open("a");  // a's own store learns its change 1 as sealed and uploaded
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->store().AddSealed(1, *legacy, crypto::HashSha256(*legacy)).ok());
    ASSERT_TRUE(j->store().MarkUploaded(1).ok());
  }
  fs::remove(Home("a") + "/device.key");
  ASSERT_TRUE(Open("a"));  // the upgrade: new keys, signed from change 2 on
  Write("a", "signed");
  SyncClean("a");
  EXPECT_TRUE(fs::exists(Cloud(sync::DeviceRevisionPath(journal_, ids_["a"], 2))));
  SyncClean("b");
  // A device joining now reads a's unsigned change 1 and signed change 2.
  Init("c");
  SyncClean("c");
  EXPECT_EQ(Titles("c").size(), 2u);
}

// --- Key epochs (decisions 0037-0039) ------------------------------------------------------

constexpr const char* kNewPassphrase = "a much better passphrase";

class KeyEpochTest : public KeyLifecycleTest {
 protected:
  static std::string OldPassphrase() { return TestInitOptions("", "").passphrase; }

  ProcessResult Cli(const std::string& d, std::vector<std::string> args,
                    std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), {"--home", Home(d)});
    return RunJsync(args, env);
  }

  // Joins device `d` with a passphrase; the status of the attempt.
  Status Join(const std::string& d, const std::string& passphrase) {
    InitOptions o = TestInitOptions(cloud_, "device-" + d);
    o.passphrase = passphrase;
    auto r = Journal::Init(Home(d), o);
    if (r.ok()) ids_[d] = r->device;
    return r.status();
  }

  std::vector<fs::path> KeyFiles() {
    return jsync::testing::ListFiles(Cloud(sync::KeysPrefix(journal_)));
  }

  format::KeyId CurrentKeyId(const std::string& d) {
    auto j = Open(d);
    auto kid = j->store().GetMeta("key_id");
    return std::strtoull(kid->value_or("0").c_str(), nullptr, 16);
  }

  // The key id a device's change `seq` is sealed under.
  format::KeyId ChangeKeyId(const std::string& d, uint64_t seq) {
    const std::string bytes = ReadFileBytes(Cloud(sync::ChangePath(journal_, ids_[d], seq)));
    auto parsed = format::ParseChangeHeader(AsBytes(bytes));
    EXPECT_TRUE(parsed.ok());
    return parsed.ok() ? parsed->header.key_id : 0;
  }

  uint64_t LastSealed(const std::string& d) {
    auto j = Open(d);
    return j->store().LastSealed()->seq;
  }

  bool Has(const std::vector<std::string>& titles, const std::string& t) {
    return std::find(titles.begin(), titles.end(), t) != titles.end();
  }

  void ThreeDevices() {
    Init("a");
    Init("b");
    Init("c");
    for (const char* d : {"a", "b", "c"}) {
      Write(d, std::string("before from ") + d);
      SyncClean(d);
    }
    for (const char* d : {"a", "b", "c"}) SyncClean(d);
  }
};

TEST_F(KeyEpochTest, InitWritesEpochOneAndPrintsARecoveryKeyOnce) {
  const std::string pass_file = tmp_ / "pass";
  WriteFileBytes(pass_file, OldPassphrase() + "\n");
  ProcessResult r = Cli("a", {"init", "--provider", "folder", "--location", cloud_,
                              "--passphrase-file", pass_file, "--scrypt-log-n", "10"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("Recovery key"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("offline"), std::string::npos) << r.err;
  auto lines = r.err.substr(r.err.find("    ") + 4);
  const std::string key = lines.substr(0, lines.find('\n'));
  EXPECT_EQ(key.size(), 14u * 4 + 13) << key;
  EXPECT_TRUE(format::ParseRecoveryKey(key).ok());
  // Nothing of it in the home.
  for (const auto& f : jsync::testing::ListFiles(Home("a"))) {
    EXPECT_EQ(ReadFileBytes(f).find(key), std::string::npos) << f;
  }
  const auto files = jsync::testing::ListFiles(cloud_);
  std::string kf;
  for (const auto& f : files)
    if (f.extension() == ".jkey") kf = ReadFileBytes(f);
  ASSERT_FALSE(kf.empty());
  auto parsed = format::ParseKeyFileV2(AsBytes(kf));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->epoch, 1u);
  EXPECT_EQ(parsed->recipients.size(), 3u);  // passphrase, recovery, this device
  EXPECT_TRUE(fs::exists(Home("a") + "/keyring"));
  // A second device joins with the passphrase and is told nothing about a recovery key.
  r = Cli("b",
          {"init", "--provider", "folder", "--location", cloud_, "--passphrase-file", pass_file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("Recovery key"), std::string::npos) << r.err;
}

TEST_F(KeyEpochTest, PasswdKeepsEveryDeviceSyncingAndOnlyTheNewPassphraseJoins) {
  ThreeDevices();
  const auto before = KeyFiles();
  ASSERT_EQ(before.size(), 1u);
  // A wrong current passphrase changes nothing.
  ProcessResult bad = Cli(
      "a", {"passwd"}, {{"JSYNC_PASSPHRASE", "not it"}, {"JSYNC_NEW_PASSPHRASE", kNewPassphrase}});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("the current passphrase is wrong"), std::string::npos) << bad.err;
  EXPECT_EQ(KeyFiles(), before);

  ProcessResult r =
      Cli("a", {"passwd"},
          {{"JSYNC_PASSPHRASE", OldPassphrase()}, {"JSYNC_NEW_PASSPHRASE", kNewPassphrase}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("key epoch 2"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(kNewPassphrase), std::string::npos);
  EXPECT_EQ(r.out, "");
  // The old key file is gone; the new one is the only one.
  const auto after = KeyFiles();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_NE(after[0], before[0]);
  const format::KeyId epoch2 = CurrentKeyId("a");

  // b and c keep syncing without typing anything, and seal under the new epoch from the sync
  // that learns it on (what was written before that is sealed under the old one).
  for (const char* d : {"b", "c"}) SyncClean(d);
  for (const char* d : {"a", "b", "c"}) {
    Write(d, std::string("after from ") + d);
    SyncClean(d);
  }
  for (const char* d : {"a", "b", "c"}) SyncClean(d);
  for (const char* d : {"b", "c"}) {
    EXPECT_EQ(CurrentKeyId(d), epoch2) << d;
    EXPECT_EQ(ChangeKeyId(d, LastSealed(d)), epoch2) << d;
    EXPECT_EQ(Titles(d).size(), 6u) << d;
  }
  // The old passphrase joins nothing, with a clear message; the new one does.
  Status old = Join("d", OldPassphrase());
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.message().find("wrong passphrase"), std::string::npos) << old.message();
  EXPECT_NE(old.message().find("jsync passwd"), std::string::npos) << old.message();
  fs::remove_all(Home("d"));
  ASSERT_TRUE(Join("d", kNewPassphrase).ok());
  SyncClean("d");
  EXPECT_EQ(Titles("d").size(), 6u);  // epoch 1's changes too: the new key holds the old one
}

TEST_F(KeyEpochTest, RecoveryKeyJoinsAFourthDeviceSetsANewPassphraseAndCanBeReplaced) {
  auto made = Journal::Init(Home("a"), TestInitOptions(cloud_, "device-a"));
  ASSERT_TRUE(made.ok());
  journal_ = made->journal;
  ids_["a"] = made->device;
  const std::string recovery = made->recovery_key;
  ASSERT_FALSE(recovery.empty());
  Init("b");
  Init("c");
  for (const char* d : {"a", "b", "c"}) {
    Write(d, std::string("from ") + d);
    SyncClean(d);
  }
  // The passphrase is lost: the recovery key joins d, which then sets a new one.
  const std::string key_file = tmp_ / "recovery.txt";
  WriteFileBytes(key_file, recovery + "\n");
  const std::string new_file = tmp_ / "new.txt";
  WriteFileBytes(new_file, std::string(kNewPassphrase) + "\n");
  ProcessResult r = Cli("d", {"init", "--provider", "folder", "--location", cloud_,
                              "--recovery-key-file", key_file, "--new-passphrase-file", new_file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("joined journal"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("new passphrase set"), std::string::npos) << r.err;
  SyncClean("d");
  EXPECT_EQ(Titles("d").size(), 3u);
  for (const char* d : {"a", "b", "c"}) SyncClean(d);
  Status old = Join("e", OldPassphrase());
  EXPECT_FALSE(old.ok());
  fs::remove_all(Home("e"));
  ASSERT_TRUE(Join("e", kNewPassphrase).ok());
  SyncClean("e");
  EXPECT_EQ(Titles("e").size(), 3u);

  // A mistyped recovery key is caught by its checksum.
  std::string typo = recovery;
  typo[0] = typo[0] == 'A' ? 'B' : 'A';
  WriteFileBytes(key_file, typo);
  r = Cli("f", {"init", "--provider", "folder", "--location", cloud_, "--recovery-key-file",
                key_file, "--new-passphrase-file", new_file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("mistyped"), std::string::npos) << r.err;
  fs::remove_all(Home("f"));

  // recovery-key --new on b: shown once; the old one stops working, the new one works.
  r = Cli("b", {"recovery-key", "--new"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto at = r.err.find("\n    ");
  ASSERT_NE(at, std::string::npos) << r.err;
  const std::string fresh = r.err.substr(at + 5, 14 * 4 + 13);
  ASSERT_TRUE(format::ParseRecoveryKey(fresh).ok()) << fresh;
  WriteFileBytes(key_file, recovery);
  r = Cli("f", {"init", "--provider", "folder", "--location", cloud_, "--recovery-key-file",
                key_file, "--new-passphrase-file", new_file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("wrong recovery key"), std::string::npos) << r.err;
  fs::remove_all(Home("f"));
  WriteFileBytes(key_file, fresh);
  r = Cli("f", {"init", "--provider", "folder", "--location", cloud_, "--recovery-key-file",
                key_file, "--new-passphrase-file", new_file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  SyncClean("f");
  EXPECT_EQ(Titles("f").size(), 3u);
  for (const char* d : {"a", "c", "d", "e"}) SyncClean(d);
}

TEST_F(KeyEpochTest, RotateKeyMovesEveryoneToANewEpochAndOldChangesStayReadable) {
  ThreeDevices();
  const format::KeyId epoch1 = CurrentKeyId("a");
  ProcessResult r = Cli("b", {"rotate-key"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const format::KeyId epoch2 = CurrentKeyId("b");
  EXPECT_NE(epoch2, epoch1);
  for (const char* d : {"a", "c"}) SyncClean(d);
  for (const char* d : {"a", "b", "c"}) {
    Write(d, std::string("after from ") + d);
    SyncClean(d);
  }
  for (const char* d : {"a", "b", "c"}) SyncClean(d);
  for (const char* d : {"a", "c"}) {
    EXPECT_EQ(CurrentKeyId(d), epoch2) << d;
    EXPECT_EQ(ChangeKeyId(d, LastSealed(d)), epoch2) << d;
  }
  EXPECT_EQ(ChangeKeyId("a", 1), epoch1);
  // Twice more from another device: epochs add up, a new device reads all of it.
  ASSERT_EQ(Cli("c", {"rotate-key"}).exit_code, 0);
  ASSERT_EQ(Cli("a", {"rotate-key"}).exit_code, 0);
  EXPECT_EQ(KeyFiles().size(), 1u);
  for (const char* d : {"a", "b", "c"}) SyncClean(d);
  ASSERT_TRUE(Join("d", OldPassphrase()).ok());  // passphrase unchanged: rotation keeps it
  SyncClean("d");
  EXPECT_EQ(Titles("d").size(), 6u);
  // verify accepts the journal after several epochs.
  auto a = Open("a");
  auto audit = a->Verify();
  ASSERT_TRUE(audit.ok()) << audit.status().ToString();
  for (const auto& p : audit->report.problems) ADD_FAILURE() << p.message;
}

TEST_F(KeyEpochTest, RevokedDeviceReadsNothingNewAndItsNewChangesAreRefused) {
  ThreeDevices();
  // Revoking itself is refused.
  ProcessResult self = Cli("a", {"devices", "revoke", DeviceIdHex(ids_["a"])});
  EXPECT_EQ(self.exit_code, 1);
  EXPECT_NE(self.err.find("cannot revoke itself"), std::string::npos) << self.err;

  const uint64_t c_before = LastSealed("c");
  ProcessResult r = Cli("a", {"devices", "revoke", DeviceIdHex(ids_["c"]).substr(0, 6)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("jsync passwd"), std::string::npos) << r.err;
  const format::KeyId epoch2 = CurrentKeyId("a");
  SyncClean("b");  // learns the revocation and the new epoch
  EXPECT_EQ(CurrentKeyId("b"), epoch2);
  Write("a", "a after");
  Write("b", "b after");
  SyncClean("a");
  SyncClean("b");

  // c: one clear problem, and nothing written after the revocation reaches it.
  auto report = Sync("c");
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].message.find("this device was revoked by device " +
                                            DeviceIdHex(ids_["a"])),
            std::string::npos)
      << report.problems[0].message;
  auto c_titles = Titles("c");
  EXPECT_FALSE(Has(c_titles, "a after"));
  EXPECT_FALSE(Has(c_titles, "b after"));
  EXPECT_NE(CurrentKeyId("c"), epoch2);
  {
    // c holds no key that opens a's post-revocation change.
    auto ring = crypto::LoadKeyringFile(Home("c") + "/keyring");
    ASSERT_TRUE(ring.ok() && *ring);
    EXPECT_EQ((*ring)->Find(ChangeKeyId("a", LastSealed("a"))), nullptr);
  }
  // c's later changes are refused by a and b with one problem each; its earlier ones stay.
  Write("c", "c after");
  Sync("c");
  EXPECT_EQ(LastSealed("c"), c_before + 1);
  for (const char* d : {"a", "b"}) {
    auto rep = Sync(d);
    ASSERT_EQ(rep.problems.size(), 1u) << d;
    EXPECT_NE(rep.problems[0].message.find(DeviceIdHex(ids_["c"]) + " (device-c) was revoked by"),
              std::string::npos)
        << rep.problems[0].message;
    EXPECT_NE(rep.problems[0].message.find("its later changes are refused"), std::string::npos);
    auto titles = Titles(d);
    EXPECT_TRUE(Has(titles, "before from c")) << d;
    EXPECT_FALSE(Has(titles, "c after")) << d;
    // Said once: the next sync is clean (a notice), and the refused file is not downloaded.
    auto again = Sync(d);
    EXPECT_TRUE(again.problems.empty()) << d << ": " << again.problems[0].message;
    EXPECT_EQ(again.downloaded_changes, 0u) << d;
    bool noted = false;
    for (const auto& n : again.notices) noted |= n.find("(said before)") != std::string::npos;
    EXPECT_TRUE(noted) << d;
  }
  // A device joining later reads c's earlier changes, not its later ones.
  ASSERT_TRUE(Join("d", OldPassphrase()).ok());
  auto d_report = Sync("d");
  ASSERT_EQ(d_report.problems.size(), 1u);
  EXPECT_NE(d_report.problems[0].message.find("was revoked by"), std::string::npos);
  EXPECT_TRUE(Has(Titles("d"), "before from c"));
  EXPECT_FALSE(Has(Titles("d"), "c after"));
  // devices shows it.
  ProcessResult list = Cli("b", {"devices", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto json = nlohmann::json::parse(list.out);
  bool found = false;
  for (const auto& row : json) {
    if (row["device"] == DeviceIdHex(ids_["c"])) {
      found = true;
      EXPECT_TRUE(row["revoked"].get<bool>());
      EXPECT_EQ(row["revoked_by"], DeviceIdHex(ids_["a"]));
    }
  }
  EXPECT_TRUE(found) << list.out;
  // c cannot rotate the keys back to itself.
  ProcessResult rot = Cli("c", {"rotate-key"});
  EXPECT_EQ(rot.exit_code, 1);
  EXPECT_NE(rot.err.find("revoked"), std::string::npos) << rot.err;
}

// Key files someone holding the journal key (or nobody) planted: refused, nothing changes.
TEST_F(KeyEpochTest, ForgedKeyFilesAreRefused) {
  ThreeDevices();
  ASSERT_EQ(Cli("a", {"devices", "revoke", DeviceIdHex(ids_["c"])}).exit_code, 0);
  SyncClean("b");
  const format::KeyId current = CurrentKeyId("b");
  auto b_keys = LoadDeviceKeys(Home("b") + "/device.key");
  auto c_keys = LoadDeviceKeys(Home("c") + "/device.key");
  ASSERT_TRUE(b_keys.ok() && *b_keys && c_keys.ok() && *c_keys);
  auto forge = [&](DeviceId writer, const crypto::SecretKey& sign, format::KeyId id) {
    format::NewEpoch e;
    e.journal = journal_;
    e.key_id = id;
    e.epoch = 9;
    e.writer = writer;
    crypto::RandomBytes(std::span<uint8_t>(e.key.data(), e.key.size()));
    format::KeyRecipient r;
    r.kind = format::RecipientKind::kDevice;
    r.device = ids_["b"];
    r.pub = (*b_keys)->agree.pub;
    e.recipients.push_back(r);
    auto file = format::SealKeyFileV2(e, sign);
    EXPECT_TRUE(file.ok());
    WriteFileBytes(Cloud(sync::KeyPath(journal_, id)), std::string(file->begin(), file->end()));
  };
  struct Case {
    std::function<void()> plant;
    std::string why;
  };
  const crypto::KeyPair stranger = crypto::NewSigningKey();
  std::vector<Case> cases = {
      {[&] { forge(ids_["a"], stranger.priv, 0x1111); }, "is not signed by device"},
      {[&] { forge(ids_["c"], (*c_keys)->sign.priv, 0x2222); }, "which was revoked by"},
      {[&] {
         format::KeyFileInfo info{journal_, 0x3333, {10, 8, 1}};
         auto v1 = format::WrapMasterKey(crypto::SecretKey(), "x", info);
         WriteFileBytes(Cloud(sync::KeyPath(journal_, 0x3333)),
                        std::string(v1->begin(), v1->end()));
       },
       "unsigned version 1"},
      {[&] {
         std::string garbage = "JSYNCKEY";
         garbage += '\x02';
         garbage += '\0';
         garbage += "garbage";
         WriteFileBytes(Cloud(sync::KeyPath(journal_, 0x4444)), garbage);
       },
       "is damaged"},
  };
  for (const auto& c : cases) {
    c.plant();
    // Nothing announces a planted file: the full listing (daily, or --full) finds it.
    auto j = Open("b");
    auto synced = j->Sync({.full_listing = true});
    ASSERT_TRUE(synced.ok()) << synced.status().ToString();
    j.reset();
    const sync::SyncReport& report = synced->report;
    ASSERT_EQ(report.problems.size(), 1u) << c.why;
    EXPECT_NE(report.problems[0].message.find("was refused"), std::string::npos);
    EXPECT_NE(report.problems[0].message.find(c.why), std::string::npos)
        << report.problems[0].message;
    EXPECT_EQ(CurrentKeyId("b"), current);
    SyncClean("b");  // said once; the file stays refused
  }
  Write("b", "still fine");
  SyncClean("b");
  SyncClean("a");
  EXPECT_TRUE(Has(Titles("a"), "still fine"));
}

// A device whose public key the rotating device did not know (a legacy device): told to run
// `jsync unlock`, which opens the epoch with the passphrase.
TEST_F(KeyEpochTest, DeviceWithoutAWrapIsToldToUnlock) {
  ThreeDevices();
  {
    auto a = Open("a");
    ASSERT_TRUE(a->store().DeleteMeta("device_pin:" + DeviceIdHex(ids_["b"])).ok());
  }
  ProcessResult r = Cli("a", {"rotate-key"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("must run 'jsync unlock'"), std::string::npos) << r.err;
  Write("a", "after rotation");
  SyncClean("a");
  auto report = Sync("b");
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].message.find("run 'jsync unlock'"), std::string::npos)
      << report.problems[0].message;
  EXPECT_FALSE(Has(Titles("b"), "after rotation"));
  ProcessResult wrong = Cli("b", {"unlock"}, {{"JSYNC_PASSPHRASE", "nope"}});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("wrong passphrase"), std::string::npos) << wrong.err;
  r = Cli("b", {"unlock"}, {{"JSYNC_PASSPHRASE", OldPassphrase()}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  SyncClean("b");
  EXPECT_TRUE(Has(Titles("b"), "after rotation"));
}

TEST_F(KeyEpochTest, DamagedCurrentKeyFileIsSaidClearly) {
  ThreeDevices();
  ASSERT_EQ(Cli("a", {"rotate-key"}).exit_code, 0);
  const auto files = KeyFiles();
  ASSERT_EQ(files.size(), 1u);
  const std::string good = ReadFileBytes(files[0]);
  WriteFileBytes(files[0], good.substr(0, good.size() - 10));
  auto report = Sync("b");
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].message.find("is damaged"), std::string::npos)
      << report.problems[0].message;
  Status join = Join("d", OldPassphrase());
  ASSERT_FALSE(join.ok());
  EXPECT_NE(join.message().find("damaged"), std::string::npos) << join.message();
  fs::remove_all(Home("d"));
  // verify names it too.
  auto audit = Open("a")->Verify();
  ASSERT_TRUE(audit.ok());
  bool named = false;
  for (const auto& p : audit->report.problems)
    named |= p.message.find("key file") != std::string::npos;
  EXPECT_TRUE(named);
  // Said once; then its writer puts the good copy back and b learns the epoch from it.
  SyncClean("b");
  fs::remove(files[0]);
  {
    auto a = Open("a");
    auto r = a->Sync({.full_listing = true});
    ASSERT_TRUE(r.ok());
  }
  EXPECT_EQ(ReadFileBytes(files[0]), good);
  {
    auto b = Open("b");
    auto r = b->Sync({.full_listing = true});
    ASSERT_TRUE(r.ok());
    for (const auto& p : r->report.problems) ADD_FAILURE() << p.message;
  }
  EXPECT_EQ(CurrentKeyId("b"), CurrentKeyId("a"));
}

TEST_F(KeyEpochTest, DevicesListsAndRenamesOnlyItself) {
  ThreeDevices();
  ProcessResult r = Cli("a", {"devices"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("* " + DeviceIdHex(ids_["a"]) + "  device-a"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("device-b"), std::string::npos) << r.out;
  r = Cli("a", {"devices", "rename", DeviceIdHex(ids_["b"]), "stolen"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("only a device itself"), std::string::npos) << r.err;
  r = Cli("a", {"devices", "rename", "laptop"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  SyncClean("a");
  SyncClean("b");
  r = Cli("b", {"devices", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto json = nlohmann::json::parse(r.out);
  bool renamed = false;
  for (const auto& row : json) {
    if (row["device"] == DeviceIdHex(ids_["a"])) {
      renamed = row["name"] == "laptop";
      EXPECT_FALSE(row["last_change"].is_null());
      EXPECT_FALSE(row["last_seen"].is_null());
    }
    if (row["device"] == DeviceIdHex(ids_["b"])) {
      EXPECT_TRUE(row["this_device"].get<bool>());
    }
  }
  EXPECT_TRUE(renamed) << r.out;
}

// Two devices rotate at once, neither seeing the other's epoch first: both epochs are valid,
// everyone ends on the higher (epoch, key id) and reads what was sealed under either.
TEST_F(KeyEpochTest, ConcurrentRotationsConvergeOnTheHigherEpoch) {
  ThreeDevices();
  ASSERT_EQ(Cli("a", {"rotate-key"}).exit_code, 0);
  const auto a_files = KeyFiles();
  ASSERT_EQ(a_files.size(), 1u);
  const fs::path hidden = tmp_ / "hidden.jkey";
  fs::rename(a_files[0], hidden);  // b does not see a's epoch before it writes its own
  ASSERT_EQ(Cli("b", {"rotate-key"}).exit_code, 0);
  fs::rename(hidden, a_files[0]);
  EXPECT_EQ(KeyFiles().size(), 2u);
  const format::KeyId ka = CurrentKeyId("a"), kb = CurrentKeyId("b");
  ASSERT_NE(ka, kb);
  const format::KeyId winner = std::max(ka, kb);
  for (int round = 0; round < 2; ++round) {
    for (const char* d : {"a", "b", "c"}) {
      auto j = Open(d);
      auto r = j->Sync({.full_listing = true});
      ASSERT_TRUE(r.ok());
      for (const auto& p : r->report.problems) ADD_FAILURE() << d << ": " << p.message;
    }
  }
  for (const char* d : {"a", "b", "c"}) {
    EXPECT_EQ(CurrentKeyId(d), winner) << d;
    Write(d, std::string("after from ") + d);
    SyncClean(d);
  }
  for (const char* d : {"a", "b", "c"}) SyncClean(d);
  for (const char* d : {"a", "b", "c"}) EXPECT_EQ(Titles(d).size(), 6u) << d;
}

// A journal made before epochs: a version 1 key file, master.key and no keyring in the homes.
// It keeps syncing; rotation needs the passphrase once (passwd), after which it has epochs.
TEST_F(KeyEpochTest, AJournalFromBeforeEpochsMovesToThemWithPasswd) {
  ThreeDevices();
  const crypto::SecretKey master = MasterKey();
  const format::KeyId kid = CurrentKeyId("a");
  auto v1 = format::WrapMasterKey(master, OldPassphrase(), {journal_, kid, {10, 8, 1}});
  ASSERT_TRUE(v1.ok());
  for (const auto& f : KeyFiles()) fs::remove(f);
  WriteFileBytes(Cloud(sync::KeyPath(journal_, kid)), std::string(v1->begin(), v1->end()));
  for (const char* d : {"a", "b", "c"}) {
    fs::remove(Home(d) + "/keyring");
    auto j = Open(d);
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->store().SetMeta(sync::kKeyFileMeta, ToHex(*v1)).ok());
    for (const char* m : {sync::kKeyEpochMeta, sync::kKeyFilesSeenMeta, sync::kRevokedMeta}) {
      ASSERT_TRUE(j->store().DeleteMeta(m).ok());
    }
  }
  for (const char* d : {"a", "b", "c"}) SyncClean(d);
  ProcessResult r = Cli("a", {"rotate-key"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("run 'jsync passwd' once"), std::string::npos) << r.err;
  r = Cli("a", {"passwd"},
          {{"JSYNC_PASSPHRASE", OldPassphrase()}, {"JSYNC_NEW_PASSPHRASE", kNewPassphrase}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* d : {"b", "c"}) SyncClean(d);
  for (const char* d : {"a", "b", "c"}) {
    Write(d, std::string("after from ") + d);
    SyncClean(d);
  }
  for (const char* d : {"a", "b", "c"}) SyncClean(d);
  for (const char* d : {"b", "c"}) {
    EXPECT_EQ(CurrentKeyId(d), CurrentKeyId("a")) << d;
    EXPECT_EQ(Titles(d).size(), 6u) << d;
  }
  EXPECT_FALSE(Join("d", OldPassphrase()).ok());
  fs::remove_all(Home("d"));
  ASSERT_TRUE(Join("d", kNewPassphrase).ok());
  SyncClean("d");
  EXPECT_EQ(Titles("d").size(), 6u);
}

// A process that keeps the journal open (a watcher) while `jsync rotate-key` runs in another
// seals under the new key from its next cycle on.
TEST_F(KeyEpochTest, AnOpenJournalPicksUpAnEpochWrittenByAnotherProcess) {
  ThreeDevices();
  auto held = Open("a");
  ASSERT_TRUE(held);
  ASSERT_EQ(Cli("a", {"rotate-key"}).exit_code, 0);
  const format::KeyId epoch2 = CurrentKeyId("a");
  ASSERT_TRUE(held->NewEntry({"while open", "", {}}).ok());
  auto r = held->Sync();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->report.ok());
  held.reset();
  EXPECT_EQ(ChangeKeyId("a", LastSealed("a")), epoch2);
  SyncClean("b");
  EXPECT_TRUE(Has(Titles("b"), "while open"));
}

}  // namespace
}  // namespace jsync

// The key lifecycle across three devices on the folder provider (issue 15 item 5,
// docs/key-states.md): signed change files and pinned device keys (decision 0036).
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/format/change_file.h"
#include "core/format/device_file.h"
#include "core/format/key_file.h"
#include "core/journal/device_key.h"
#include "core/journal/journal.h"
#include "core/sync/remote_layout.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

namespace fs = std::filesystem;
using jsync::testing::ReadFileBytes;
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
    const std::string kf = ReadFileBytes(
        fs::directory_iterator(Cloud(sync::KeysPrefix(journal_)))->path());
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

}  // namespace
}  // namespace jsync

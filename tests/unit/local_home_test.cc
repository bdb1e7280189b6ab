// A home used the way people use one: two processes at once, a counter damaged by an older
// jsync, an absent cloud folder, other users on the machine, deleted text.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>

#include "core/journal/journal.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

namespace fs = std::filesystem;
using jsync::testing::ReadFileBytes;
using jsync::testing::TempDir;
using jsync::testing::TestInitOptions;

class LocalHomeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto init = Journal::Init(home(), TestInitOptions(dir_ / "cloud", "dev"), clock_);
    ASSERT_TRUE(init.ok()) << init.status().ToString();
  }
  std::string home() const { return dir_ / "home"; }
  std::unique_ptr<Journal> Open() {
    auto j = Journal::Open(home(), ::jsync::testing::HostStorage(), clock_);
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return j.ok() ? std::move(*j) : nullptr;
  }
  static EntryEdit Insert(size_t pos, const std::string& text) {
    EntryEdit e;
    e.body_splices.push_back({pos, 0, text::Utf8ToUtf32(text)});
    return e;
  }
  TempDir dir_;
  // A stopped clock: two processes opened at the same moment would issue the same HLCs.
  ClockFn clock_ = [] { return uint64_t{1'800'000'000'000}; };
};

TEST_F(LocalHomeTest, TwoOpenJournalsOnOneHomeNeverShareIds) {
  auto setup = Open();
  auto r1 = setup->NewEntry({"one", "", {}});
  auto r2 = setup->NewEntry({"two", "", {}});
  ASSERT_TRUE(r1.ok() && r2.ok());
  setup.reset();

  // Both "processes" open before either edits, as two jsync commands started together do.
  auto p = Open();
  auto q = Open();
  ASSERT_TRUE(p->EditEntry(RecordIdHex(*r1), Insert(0, "0123456789")).ok());
  ASSERT_TRUE(q->EditEntry(RecordIdHex(*r2), Insert(0, "a")).ok());
  auto later = Open();
  Status st = later->EditEntry(RecordIdHex(*r1), Insert(0, "y"));
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(later->GetEntry(RecordIdHex(*r1))->body, "y0123456789");

  // Op ids (hlc, device) are unique across both processes' edits.
  auto outbox = later->store().ReadOutbox(1000);
  ASSERT_TRUE(outbox.ok());
  std::set<OpId> ids;
  for (const auto& row : *outbox) EXPECT_TRUE(ids.insert(row.op.id).second);
}

TEST_F(LocalHomeTest, AnEditAfterAnotherProcessChangedTheDeviceIdUsesTheNewId) {
  auto editor = Open();  // opened before the id changed
  auto id = editor->NewEntry({"t", "", {}});
  ASSERT_TRUE(id.ok());
  const DeviceId fresh = NewDeviceId();
  {
    auto other = Open();  // e.g. a sync that re-identified this home
    ASSERT_TRUE(other->store().SetMeta("device_id", DeviceIdHex(fresh)).ok());
  }
  ASSERT_TRUE(editor->EditEntry(RecordIdHex(*id), Insert(0, "x")).ok());
  auto outbox = editor->store().ReadOutbox(1000);
  ASSERT_TRUE(outbox.ok());
  EXPECT_EQ(outbox->back().op.id.device, fresh);
}

TEST_F(LocalHomeTest, ACounterSetBackByAnOlderJsyncHeals) {
  auto j = Open();
  auto id = j->NewEntry({"t", "0123456789", {}});
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(j->store().SetMeta("char_seq", "3").ok());  // what a stale write-back left
  j.reset();
  j = Open();
  for (int i = 0; i < 3; ++i) {
    Status st = j->EditEntry(RecordIdHex(*id), Insert(0, "x"));
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  EXPECT_EQ(j->GetEntry(RecordIdHex(*id))->body, "xxx0123456789");
}

TEST_F(LocalHomeTest, LocalWorkGoesOnWhileTheCloudFolderIsAbsent) {
  auto j = Open();
  auto id = j->NewEntry({"before", "", {}});
  ASSERT_TRUE(id.ok());
  j.reset();
  fs::rename(dir_ / "cloud", dir_ / "unplugged");  // the USB stick is out
  j = Open();
  ASSERT_NE(j, nullptr);
  ASSERT_TRUE(j->NewEntry({"offline", "", {}}).ok());
  ASSERT_TRUE(j->EditEntry(RecordIdHex(*id), Insert(0, "x")).ok());
  EXPECT_EQ(j->ListEntries()->size(), 2u);
  EXPECT_TRUE(j->GetStatus().ok());
  auto synced = j->Sync();
  ASSERT_FALSE(synced.ok());
  EXPECT_NE(synced.status().message().find("local edits keep working"), std::string::npos)
      << synced.status().message();
  j.reset();
  fs::rename(dir_ / "unplugged", dir_ / "cloud");
  j = Open();
  auto back = j->Sync();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->report.uploaded_changes, 1u);
}

TEST_F(LocalHomeTest, EveryFileInAHomeIsPrivateWhateverTheUmask) {
  const mode_t old = ::umask(022);
  {
    auto j = Open();
    ASSERT_TRUE(j->NewEntry({"private", "body", {}}).ok());
    ASSERT_TRUE(j->Sync().ok());
    ASSERT_TRUE(j->NewEntry({"pending", "in the wal", {}}).ok());
    // Files listed while the journal is open, so -wal and -shm are there too.
    bool saw_wal = false;
    for (const auto& e : fs::recursive_directory_iterator(home())) {
      struct stat st {};
      ASSERT_EQ(::lstat(e.path().c_str(), &st), 0);
      const mode_t perms = st.st_mode & 07777;
      if (S_ISDIR(st.st_mode)) {
        EXPECT_EQ(perms, 0700u) << e.path();
      } else {
        EXPECT_EQ(perms, 0600u) << e.path();
      }
      saw_wal |= e.path().filename() == "journal.db-wal";
    }
    EXPECT_TRUE(saw_wal);
    struct stat st {};
    ASSERT_EQ(::stat(home().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
  }
  ::umask(old);
}

TEST_F(LocalHomeTest, AnOlderWorldReadableStoreIsTightenedOnOpen) {
  ASSERT_EQ(::chmod((dir_ / "home/journal.db").c_str(), 0644), 0);
  ASSERT_EQ(::chmod(home().c_str(), 0755), 0);
  auto j = Open();
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "home/journal.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat(home().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST_F(LocalHomeTest, ReplacedTextLeavesNoPlaintextInTheStore) {
  // Incompressible text, several pages long, so its bytes sit verbatim in outbox rows and
  // record pages until they are overwritten.
  std::string secret;
  uint64_t x = 0x9e3779b97f4a7c15;
  for (int i = 0; i < 12000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    secret.push_back("abcdefghijklmnopqrstuvwxyz0123456789"[x % 36]);
  }
  {
    auto j = Open();
    auto id = j->NewEntry({"t", secret, {}});
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE(j->Sync().ok());  // the insert op leaves the outbox, sealed and encrypted
    EntryEdit edit;
    edit.body = "rewritten";
    ASSERT_TRUE(j->EditEntry(RecordIdHex(*id), edit).ok());
    ASSERT_TRUE(j->Sync().ok());
  }
  // Any 32 characters of it would betray it. (Debian builds SQLite with SECURE_DELETE on by
  // default; with `PRAGMA secure_delete=OFF` this check fails, which is what the pragma pins.)
  for (const char* f : {"journal.db", "journal.db-wal"}) {
    if (!fs::exists(dir_.path() / "home" / f)) continue;
    const std::string bytes = ReadFileBytes(dir_.path() / "home" / f);
    for (size_t at = 0; at + 32 <= secret.size(); at += 997) {
      ASSERT_EQ(bytes.find(secret.substr(at, 32)), std::string::npos) << f << " at " << at;
    }
  }
}

}  // namespace
}  // namespace jsync

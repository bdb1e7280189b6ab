// The built-in folder provider, reached the way the engine reaches it: through the plugin ABI
// (providers/folder/folder_plugin.cc) and the host's policy wrapper.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "core/format/change_file.h"
#include "host/open_provider.h"
#include "providers/sdk/jsync_provider.h"
#include "tests/support/test_support.h"

namespace jsync::provider {
namespace {

using jsync::testing::TempDir;

std::unique_ptr<Provider> OpenFolder(const TempDir& dir) {
  auto p = OpenProvider("folder", dir.path().string());
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : nullptr;
}

TEST(FolderProvider, PutGetListRemove) {
  TempDir dir;
  auto p = OpenFolder(dir);
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->PutIfAbsent("j/changes/a/1", AsBytes("one")).ok());
  ASSERT_TRUE(p->PutIfAbsent("j/changes/b/2", AsBytes("two!")).ok());
  ASSERT_TRUE(p->PutIfAbsent("j/keys/k", AsBytes("")).ok());
  auto got = p->Get("j/changes/a/1", provider::kNoSizeLimit);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(AsString(*got), "one");
  auto range = p->GetRange("j/changes/b/2", 1, 2);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(AsString(*range), "wo");
  auto list = p->List("j/changes/");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].path, "j/changes/a/1");
  EXPECT_EQ((*list)[1].size, 4u);
  EXPECT_EQ(p->List("j/")->size(), 3u);
  EXPECT_TRUE(p->List("nothing/")->empty());
  EXPECT_TRUE(p->Remove("j/changes/a/1").ok());
  EXPECT_TRUE(p->Remove("j/changes/a/1").ok());  // idempotent
  EXPECT_EQ(p->Get("j/changes/a/1", provider::kNoSizeLimit).status().code(), Code::kNotFound);
}

TEST(FolderProvider, IfAbsentNeverReplaces) {
  TempDir dir;
  auto p = OpenFolder(dir);
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->PutIfAbsent("x/f", AsBytes("same")).ok());
  EXPECT_TRUE(p->PutIfAbsent("x/f", AsBytes("same")).ok()) << "a retry is success";
  Status other = p->PutIfAbsent("x/f", AsBytes("different"));
  EXPECT_EQ(other.code(), Code::kExists);
  EXPECT_EQ(AsString(*p->Get("x/f", provider::kNoSizeLimit)), "same");
}

TEST(FolderProvider, TemporaryFilesAreNeverListed) {
  TempDir dir;
  auto p = OpenFolder(dir);
  ASSERT_TRUE(p);
  std::filesystem::create_directories(dir.path() / "j/changes/a");
  jsync::testing::WriteFileBytes(dir.path() / "j/changes/a" / JSYNC_TEMP_PREFIX "0123", "torn");
  EXPECT_TRUE(p->List("j/")->empty());
  ASSERT_TRUE(p->PutIfAbsent("j/changes/a/1", AsBytes("ok")).ok());
  EXPECT_EQ(p->List("j/")->size(), 1u);
}

TEST(FolderProvider, RefusesBadPathsAndMissingRoot) {
  TempDir dir;
  auto p = OpenFolder(dir);
  ASSERT_TRUE(p);
  for (const char* bad : {"", "/abs", "a/../b", "a//b", "./a", "a/"}) {
    EXPECT_EQ(p->PutIfAbsent(bad, AsBytes("x")).code(), Code::kInvalid) << bad;
  }
  auto missing = OpenProvider("folder", (dir.path() / "not-mounted").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("does not exist"), std::string::npos);
}

// ---- a hostile cloud folder: whatever sits at a name is refused unless it is a regular file --

namespace fs = std::filesystem;

constexpr const char* kSeqName = "j/changes/a/0000000000000001.jchg";

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const ObjectInfo* Find(const std::vector<ObjectInfo>& list, const std::string& path) {
  for (const auto& o : list) {
    if (o.path == path) return &o;
  }
  return nullptr;
}

class HostileFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    p_ = OpenFolder(dir_);
    ASSERT_TRUE(p_);
    fs::create_directories(dir_.path() / "j/changes/a");
  }
  fs::path At(const std::string& rel) const { return dir_.path() / rel; }
  // Get must refuse with one message naming the object and saying what it is.
  void ExpectRefused(const std::string& path, const std::string& what) {
    auto got = p_->Get(path, format::kMaxChangeFileSize);
    ASSERT_FALSE(got.ok()) << path << " was read (" << got->size() << " bytes)";
    EXPECT_EQ(got.status().code(), Code::kCorrupt) << got.status().ToString();
    EXPECT_TRUE(Has(got.status().message(), path)) << got.status().message();
    EXPECT_TRUE(Has(got.status().message(), what)) << got.status().message();
  }
  void ExpectListedAs(const std::string& path, ObjectKind kind) {
    auto list = p_->List("j/");
    ASSERT_TRUE(list.ok()) << list.status().ToString();
    const ObjectInfo* o = Find(*list, path);
    ASSERT_NE(o, nullptr) << path << " was skipped by List";
    EXPECT_EQ(o->kind, kind) << path;
  }

  TempDir dir_;
  TempDir outside_;
  std::unique_ptr<Provider> p_;
};

TEST_F(HostileFolder, SymlinkToDevZeroIsRefusedUnread) {
  fs::create_symlink("/dev/zero", At(kSeqName));
  ExpectRefused(kSeqName, "symbolic link");
  ExpectListedAs(kSeqName, ObjectKind::kSpecial);
  // An upload to that name neither follows it nor reads it to compare.
  Status put = p_->PutIfAbsent(kSeqName, AsBytes("mine"));
  EXPECT_EQ(put.code(), Code::kCorrupt) << put.ToString();
  EXPECT_TRUE(Has(put.message(), "symbolic link")) << put.message();
  EXPECT_TRUE(fs::is_symlink(At(kSeqName))) << "the planted link is left for the user";
}

TEST_F(HostileFolder, FifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo(At(kSeqName).c_str(), 0644), 0) << std::strerror(errno);
  ExpectRefused(kSeqName, "FIFO");
  ExpectListedAs(kSeqName, ObjectKind::kSpecial);
  Status put = p_->PutIfAbsent(kSeqName, AsBytes("mine"));
  EXPECT_EQ(put.code(), Code::kCorrupt) << put.ToString();
  EXPECT_TRUE(Has(put.message(), "FIFO")) << put.message();
}

TEST_F(HostileFolder, OversizeSparseFileIsRefusedWithoutReadingIt) {
  {
    const int fd = ::open(At(kSeqName).c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, off_t{2} << 30), 0) << "2 GiB, sparse: no disk is used";
    ::close(fd);
  }
  auto got = p_->Get(kSeqName, format::kMaxChangeFileSize);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kCorrupt);
  const std::string& m = got.status().message();
  EXPECT_TRUE(Has(m, kSeqName)) << m;
  EXPECT_TRUE(Has(m, "2.0 GiB")) << "the size, known from a stat: " << m;
  EXPECT_TRUE(Has(m, "64.0 MiB limit")) << m;
  // It is a regular file: listed as one, with its size.
  ExpectListedAs(kSeqName, ObjectKind::kFile);
}

TEST_F(HostileFolder, LimitIsInclusive) {
  ASSERT_TRUE(p_->PutIfAbsent("j/keys/k", Bytes(100, 7)).ok());
  EXPECT_TRUE(p_->Get("j/keys/k", 100).ok()) << "exactly at the limit is fine";
  auto over = p_->Get("j/keys/k", 99);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), Code::kCorrupt);
  EXPECT_TRUE(Has(over.status().message(), "j/keys/k is 100 bytes, over the 99 bytes limit"))
      << over.status().message();
}

TEST_F(HostileFolder, EmptyDirectoryAtAnObjectNameIsListedAndRefused) {
  fs::create_directories(At(kSeqName));
  ExpectRefused(kSeqName, "directory");
  ExpectListedAs(kSeqName, ObjectKind::kDirectory);
  // Directories that hold objects are containers, not entries.
  ASSERT_TRUE(p_->PutIfAbsent("j/changes/b/0000000000000001.jchg", AsBytes("x")).ok());
  auto list = p_->List("j/");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(Find(*list, "j/changes/b"), nullptr);
  EXPECT_EQ(Find(*list, "j/changes"), nullptr);
}

TEST_F(HostileFolder, SymlinkToARegularFileOutsideIsRefused) {
  testing::WriteFileBytes(outside_.path() / "secret", "not for the cloud");
  fs::create_symlink(outside_.path() / "secret", At(kSeqName));
  ExpectRefused(kSeqName, "symbolic link");
  // A linked directory is not walked into either, for reads, listings or writes.
  fs::create_symlink(outside_.path(), At("j/changes/b"));
  ExpectRefused("j/changes/b/secret", "symbolic link");
  ExpectListedAs("j/changes/b", ObjectKind::kSpecial);
  auto list = p_->List("j/changes/b/");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty()) << "listed through a symlink: " << list->front().path;
  Status put = p_->PutIfAbsent("j/changes/b/planted", AsBytes("x"));
  EXPECT_EQ(put.code(), Code::kCorrupt) << put.ToString();
  EXPECT_FALSE(fs::exists(outside_.path() / "planted")) << "written through a symlink";
}

TEST_F(HostileFolder, DanglingSymlinkIsNeverWrittenThrough) {
  fs::create_symlink(outside_.path() / "created", At(kSeqName));
  Status put = p_->PutIfAbsent(kSeqName, AsBytes("mine"));
  EXPECT_EQ(put.code(), Code::kCorrupt) << put.ToString();
  EXPECT_FALSE(fs::exists(outside_.path() / "created"));
  // Removing the name removes the link, never its target.
  testing::WriteFileBytes(outside_.path() / "created", "outside");
  EXPECT_TRUE(p_->Remove(kSeqName).ok());
  EXPECT_FALSE(fs::is_symlink(At(kSeqName)));
  EXPECT_EQ(testing::ReadFileBytes(outside_.path() / "created"), "outside");
}

TEST_F(HostileFolder, TemporaryFilesAreListedApartWithTheirTimes) {
  const fs::path temp = At(std::string("j/changes/a/") + JSYNC_TEMP_PREFIX + "x-0123");
  testing::WriteFileBytes(temp, "torn");
  const auto hour_ago = fs::file_time_type::clock::now() - std::chrono::hours(1);
  fs::last_write_time(temp, hour_ago);
  auto temps = p_->ListTemporary("j/");
  ASSERT_TRUE(temps.ok()) << temps.status().ToString();
  ASSERT_EQ(temps->size(), 1u);
  EXPECT_EQ((*temps)[0].path, std::string("j/changes/a/") + JSYNC_TEMP_PREFIX + "x-0123");
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  EXPECT_NEAR(static_cast<double>(now_ms - (*temps)[0].mtime_ms), 3600e3, 60e3);
  EXPECT_TRUE(p_->List("j/")->empty());
  EXPECT_TRUE(p_->Remove((*temps)[0].path).ok());
  EXPECT_FALSE(fs::exists(temp));
}

}  // namespace
}  // namespace jsync::provider

#include "core/provider/folder_provider.h"

#include <gtest/gtest.h>

#include "tests/support/test_support.h"

namespace jsync::provider {
namespace {

using jsync::testing::TempDir;

TEST(FolderProvider, PutGetListRemove) {
  TempDir dir;
  auto p = FolderProvider::Open(dir.path());
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->PutIfAbsent("j/changes/a/1", AsBytes("one")).ok());
  ASSERT_TRUE((*p)->PutIfAbsent("j/changes/b/2", AsBytes("two!")).ok());
  ASSERT_TRUE((*p)->PutIfAbsent("j/keys/k", AsBytes("")).ok());
  auto got = (*p)->Get("j/changes/a/1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(AsString(*got), "one");
  auto list = (*p)->List("j/changes/");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].path, "j/changes/a/1");
  EXPECT_EQ((*list)[1].size, 4u);
  EXPECT_EQ((*p)->List("j/")->size(), 3u);
  EXPECT_TRUE((*p)->List("nothing/")->empty());
  EXPECT_TRUE((*p)->Remove("j/changes/a/1").ok());
  EXPECT_TRUE((*p)->Remove("j/changes/a/1").ok());  // idempotent
  EXPECT_EQ((*p)->Get("j/changes/a/1").status().code(), Code::kNotFound);
}

TEST(FolderProvider, IfAbsentNeverReplaces) {
  TempDir dir;
  auto p = FolderProvider::Open(dir.path());
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->PutIfAbsent("x/f", AsBytes("same")).ok());
  EXPECT_TRUE((*p)->PutIfAbsent("x/f", AsBytes("same")).ok()) << "a retry is success";
  Status other = (*p)->PutIfAbsent("x/f", AsBytes("different"));
  EXPECT_EQ(other.code(), Code::kExists);
  EXPECT_EQ(AsString(*(*p)->Get("x/f")), "same");
}

TEST(FolderProvider, TemporaryFilesAreNeverListed) {
  TempDir dir;
  auto p = FolderProvider::Open(dir.path());
  ASSERT_TRUE(p.ok());
  std::filesystem::create_directories(dir.path() / "j/changes/a");
  jsync::testing::WriteFileBytes(dir.path() / "j/changes/a" / ".jsync-tmp-0123", "torn");
  EXPECT_TRUE((*p)->List("j/")->empty());
  ASSERT_TRUE((*p)->PutIfAbsent("j/changes/a/1", AsBytes("ok")).ok());
  EXPECT_EQ((*p)->List("j/")->size(), 1u);
}

TEST(FolderProvider, RefusesBadPathsAndMissingRoot) {
  TempDir dir;
  auto p = FolderProvider::Open(dir.path());
  ASSERT_TRUE(p.ok());
  for (const char* bad : {"", "/abs", "a/../b", "a//b", "./a", "a/"}) {
    EXPECT_EQ((*p)->PutIfAbsent(bad, AsBytes("x")).code(), Code::kInvalid) << bad;
  }
  auto missing = FolderProvider::Open(dir.path() / "not-mounted");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("does not exist"), std::string::npos);
}

}  // namespace
}  // namespace jsync::provider

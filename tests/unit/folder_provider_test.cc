// The built-in folder provider, reached the way the engine reaches it: through the plugin ABI
// (providers/folder/folder_plugin.cc) and the host's policy wrapper.
#include <gtest/gtest.h>

#include "core/provider/open_provider.h"
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
  auto got = p->Get("j/changes/a/1");
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
  EXPECT_EQ(p->Get("j/changes/a/1").status().code(), Code::kNotFound);
}

TEST(FolderProvider, IfAbsentNeverReplaces) {
  TempDir dir;
  auto p = OpenFolder(dir);
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->PutIfAbsent("x/f", AsBytes("same")).ok());
  EXPECT_TRUE(p->PutIfAbsent("x/f", AsBytes("same")).ok()) << "a retry is success";
  Status other = p->PutIfAbsent("x/f", AsBytes("different"));
  EXPECT_EQ(other.code(), Code::kExists);
  EXPECT_EQ(AsString(*p->Get("x/f")), "same");
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

}  // namespace
}  // namespace jsync::provider

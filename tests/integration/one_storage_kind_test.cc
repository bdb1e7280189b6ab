// A journal made on a provider that owns its storage (JSYNC_CAP_OWN_STORAGE) keeps to it: the
// device files name the provider, and a join through another provider reading the same place is
// refused with a sentence that says which to use. The case that matters: a journal in the
// iCloud Drive folder (icloud-drive, which knows evicted stubs and conflict copies) joined with
// the plain folder provider, which would take a stub for nothing and a conflict copy for data.
// A journal made on plain storage and copied elsewhere (a migration) joins anywhere.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/test_support.h"

namespace jsync {
namespace {

using testing::ProcessResult;
using testing::RunJsync;

#ifdef JSYNC_ICLOUD_DRIVE_PLUGIN
constexpr bool kHavePlugin = true;
#else
constexpr bool kHavePlugin = false;
#endif

class OneStorageKindTest : public ::testing::Test {
 protected:
  ProcessResult Jsync(const std::string& device, std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", dir_ / device});
    return RunJsync(args, {{"JSYNC_PASSPHRASE", "one kind of storage"}});
  }
  std::vector<std::string> IcloudDrive(const std::string& device) {
    return {"--provider", "icloud-drive", "--location", dir_ / "iCloud Drive", "--option",
            "staging=" + (dir_ / ("staging-" + device))};
  }
  testing::TempDir dir_;
};

TEST_F(OneStorageKindTest, AJournalInTheIcloudDriveFolderIsNotJoinedAsAPlainFolder) {
  if (!kHavePlugin) GTEST_SKIP() << "built without the icloud-drive plugin";
  std::vector<std::string> init = {"init", "--device-name", "mac", "--scrypt-log-n", "10"};
  for (const auto& a : IcloudDrive("mac")) init.push_back(a);
  ProcessResult made = Jsync("mac", init);
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  ProcessResult plain = Jsync("linux", {"init", "--provider", "folder", "--location",
                                        dir_ / "iCloud Drive", "--device-name", "linux"});
  EXPECT_NE(plain.exit_code, 0) << plain.out;
  EXPECT_NE(plain.err.find("lives on the icloud-drive provider (device \"mac\" syncs through it)"),
            std::string::npos)
      << plain.err;
  EXPECT_NE(plain.err.find("join it with --provider icloud-drive"), std::string::npos) << plain.err;
  EXPECT_EQ(plain.err.find('\n'), plain.err.size() - 1) << "one line: " << plain.err;
  EXPECT_NE(Jsync("linux", {"list"}).exit_code, 0) << "the refused join left no journal behind";
  // The same device through the right provider joins.
  std::vector<std::string> join = {"init", "--device-name", "mini"};
  for (const auto& a : IcloudDrive("mini")) join.push_back(a);
  ProcessResult joined = Jsync("mini", join);
  EXPECT_EQ(joined.exit_code, 0) << joined.out << joined.err;
}

TEST_F(OneStorageKindTest, AJournalOnPlainStorageJoinsThroughAnotherProvider) {
  if (!kHavePlugin) GTEST_SKIP() << "built without the icloud-drive plugin";
  ProcessResult made = Jsync("old", {"init", "--provider", "folder", "--location",
                                     dir_ / "iCloud Drive", "--device-name", "old",
                                     "--scrypt-log-n", "10"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  ASSERT_EQ(Jsync("old", {"new", "--title", "Moved into iCloud Drive"}).exit_code, 0);
  ASSERT_EQ(Jsync("old", {"sync"}).exit_code, 0);
  std::vector<std::string> join = {"init", "--device-name", "mac"};
  for (const auto& a : IcloudDrive("mac")) join.push_back(a);
  ProcessResult joined = Jsync("mac", join);
  ASSERT_EQ(joined.exit_code, 0) << joined.out << joined.err;
  ASSERT_EQ(Jsync("mac", {"sync"}).exit_code, 0);
  EXPECT_NE(Jsync("mac", {"list"}).out.find("Moved into iCloud Drive"), std::string::npos);
}

}  // namespace
}  // namespace jsync

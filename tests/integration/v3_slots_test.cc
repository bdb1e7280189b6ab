// ABI version 3 end to end, through the real loader, host and CLI, with the "slots" fixture
// plugin (tests/fixtures/v3-plugin): its default location and canonical form are what a
// journal stores, `init/link --option` are checked against its option table with defaults
// filled in, its secret option lives only in the token store and is never printed, and its
// case-insensitivity is shown. Also: the folder and WebDAV plugins' canonical locations.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "host/open_provider.h"
#include "host/plugin_loader.h"
#include "host/plugin_provider.h"
#include "tests/support/test_support.h"
#include "tests/support/webdav_servers.h"

#ifndef JSYNC_V3_PLUGIN_DIR
#error "JSYNC_V3_PLUGIN_DIR must name the folder tests/fixtures/v3-plugin builds into"
#endif

namespace jsync {
namespace {

namespace fs = std::filesystem;
using testing::ProcessResult;
using testing::RunJsync;
using testing::TempDir;

const std::string kSecret = "hunter2-slots-secret";

std::string SlotsPlugin() { return std::string(JSYNC_V3_PLUGIN_DIR) + "/jsync-slots.so"; }

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(V3Slots, TheLoaderReadsEveryVersion3Field) {
  auto info = provider::LoadPlugin(SlotsPlugin());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->abi_version, 3u);
  EXPECT_TRUE(info->capabilities.case_insensitive);
  EXPECT_FALSE(info->location.required);
  EXPECT_EQ(info->location.default_location, "journal");
  EXPECT_EQ(info->pacer_min_interval_ms, 1);
  EXPECT_EQ(info->pacer_burst, 1000);
  ASSERT_EQ(info->options.size(), 3u);
  EXPECT_EQ(info->options[0].name, "root");
  EXPECT_FALSE(info->options[0].default_value.has_value());
  EXPECT_EQ(info->options[1].default_value.value_or(""), "2");
  EXPECT_TRUE(info->options[2].secret);
}

TEST(V3Slots, OpenCreatesOnlyWhenAskedAndReturnsTheCanonicalLocation) {
  TempDir dir;
  auto info = provider::LoadPlugin(SlotsPlugin());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  provider::OpenOptions options;
  options.config_json = nlohmann::json{{"root", dir.path().string()}}.dump();
  auto missing = provider::OpenPlugin(*info, "Store/", options, provider::PolicyEnv::Real());
  ASSERT_FALSE(missing.ok()) << "opened a store that does not exist";
  EXPECT_TRUE(Contains(missing.status().message(), "init creates it")) << missing.status().message();
  EXPECT_FALSE(fs::exists(dir.path() / "store"));
  options.create_location = true;
  auto opened = provider::OpenPlugin(*info, "Store/", options, provider::PolicyEnv::Real());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->location, "store");
  EXPECT_TRUE(fs::is_directory(dir.path() / "store"));
  // Pages of 2 (the default the host filled in): the host follows them.
  for (const char* p : {"a", "b", "c", "d", "e"}) ASSERT_TRUE(opened->provider->PutIfAbsent(p, Bytes{1}).ok());
  auto listed = opened->provider->List("");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->size(), 5u);
}

TEST(V3Slots, FolderAndWebdavLocationsAreCanonical) {
  TempDir dir;
  fs::create_directories(dir.path() / "sub");
  const fs::path old_cwd = fs::current_path();
  fs::current_path(dir.path());
  auto folder = provider::OpenStorage("folder", "./sub//x/../", {true, "{}", nullptr, 0, nullptr});
  fs::current_path(old_cwd);
  ASSERT_TRUE(folder.ok()) << folder.status().ToString();
  EXPECT_EQ(folder->location, (fs::canonical(dir.path()) / "sub").string());

  const std::string webdav = testing::WebDavPluginPath();
  if (webdav.empty()) GTEST_SKIP() << "the WebDAV plugin is not built";
  auto info = provider::LoadPlugin(webdav);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  auto p = provider::PluginProvider::Open(*info, "HTTP://alice:pw@LocalHost:8080/dav//Journal/",
                                          "{}", nullptr);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->location(), "http://localhost:8080/dav/Journal");
  EXPECT_FALSE(Contains((*p)->Describe(), "pw"));
}

class V3SlotsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root());
    testing::WriteFileBytes(fs::path(root()) / ".token", kSecret);
  }
  std::string root() const { return dir_ / "root"; }
  ProcessResult Jsync(const std::string& home, std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", dir_ / home});
    ProcessResult r = RunJsync(args, {{"JSYNC_PASSPHRASE", "pass phrase"},
                                      {"JSYNC_PLUGIN_PATH", JSYNC_V3_PLUGIN_DIR},
                                      {"JSYNC_TOKEN_STORE", "file"}});
    printed_ += r.out + r.err;
    return r;
  }
  std::vector<std::string> InitArgs() {
    return {"init", "--provider", "slots", "--scrypt-log-n", "10", "--device-name", "d"};
  }
  TempDir dir_;
  std::string printed_;  // everything jsync printed
};

TEST_F(V3SlotsCli, OptionsAreCheckedDefaultedAndTheSecretStaysInTheTokenStore) {
  auto args = InitArgs();
  args.insert(args.end(), {"--option", "root=" + root(), "--option", "bogus=" + kSecret});
  ProcessResult unknown = Jsync("a", args);
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_TRUE(Contains(unknown.err, "no option 'bogus' (its options: root, page_size, token (secret))"))
      << unknown.err;

  ProcessResult no_root = Jsync("a", InitArgs());
  EXPECT_EQ(no_root.exit_code, 1) << no_root.err;
  EXPECT_TRUE(Contains(no_root.err, "needs the option root")) << no_root.err;

  // No --location: the plugin's default; the secret reaches the plugin (it checks .token).
  args = InitArgs();
  args.insert(args.end(), {"--option", "root=" + root(), "--option", "token=" + kSecret});
  ProcessResult init = Jsync("a", args);
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_TRUE(fs::is_directory(fs::path(root()) / "journal"));
  ASSERT_EQ(Jsync("a", {"new", "--title", "hello"}).exit_code, 0);
  ProcessResult sync = Jsync("a", {"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.err;  // options (the secret too) kept for later commands
  ProcessResult status = Jsync("a", {"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(nlohmann::json::parse(status.out)["provider"]["location"], "journal");

  // Another device sets the options with link (no account needed) and names the store in
  // another spelling: the canonical form is the same store, so it joins.
  ProcessResult nothing = Jsync("b", {"link", "slots"});
  EXPECT_EQ(nothing.exit_code, 2);
  EXPECT_TRUE(Contains(nothing.err, "needs no account")) << nothing.err;
  ProcessResult link =
      Jsync("b", {"link", "slots", "--option", "root=" + root(), "--option", "token=" + kSecret});
  ASSERT_EQ(link.exit_code, 0) << link.err;
  args = InitArgs();
  args.insert(args.end(), {"--location", "/JOURNAL/"});
  ProcessResult joined = Jsync("b", args);
  ASSERT_EQ(joined.exit_code, 0) << joined.err;
  EXPECT_TRUE(Contains(joined.err, "joined journal")) << joined.err;
  ASSERT_EQ(Jsync("b", {"sync"}).exit_code, 0);
  EXPECT_TRUE(Contains(Jsync("b", {"list"}).out, "hello"));
  ProcessResult accounts = Jsync("b", {"accounts", "--json"});
  EXPECT_EQ(accounts.exit_code, 0);

  // A wrong secret is refused by the plugin: the one from the token store was used.
  ASSERT_EQ(Jsync("b", {"link", "slots", "--option", "token=wrong"}).exit_code, 0);
  EXPECT_NE(Jsync("b", {"sync"}).exit_code, 0);

  ProcessResult providers = Jsync("a", {"providers", "--json"});
  ASSERT_EQ(providers.exit_code, 0) << providers.err;
  bool shown = false;
  const auto listed = nlohmann::json::parse(providers.out);
  for (const auto& p : listed["providers"]) {
    if (p["name"] != "slots") continue;
    shown = true;
    EXPECT_NE(std::find(p["capabilities"].begin(), p["capabilities"].end(), "case_insensitive"),
              p["capabilities"].end())
        << p.dump();
    EXPECT_EQ(p["location"]["default"], "journal");
    EXPECT_FALSE(p["options"][2].contains("default")) << "a secret's default is never shown";
  }
  EXPECT_TRUE(shown) << providers.out;
  Jsync("a", {"providers"});

  // The secret never appears in output nor in any plain file of the homes.
  EXPECT_FALSE(Contains(printed_, kSecret));
  for (const char* home : {"a", "b"}) {
    for (const auto& f : testing::ListFiles(dir_.path() / home)) {
      EXPECT_FALSE(Contains(testing::ReadFileBytes(f), kSecret)) << f;
    }
    const std::string accounts_json = testing::ReadFileBytes(dir_.path() / home / "accounts.json");
    EXPECT_TRUE(Contains(accounts_json, "\"token\"")) << "the secret's name is recorded";
    EXPECT_TRUE(Contains(accounts_json, root())) << "plain options are kept in accounts.json";
  }
}

}  // namespace
}  // namespace jsync

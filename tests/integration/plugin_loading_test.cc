// Broken plugins are refused with a sentence naming the file and the reason, and everything
// else keeps working: the built-in folder provider, the build's plugins, a good plugin in the
// same folder as the broken ones. The plugins are built by tests/fixtures/broken-plugins/.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "host/open_provider.h"
#include "host/plugin_loader.h"
#include "host/plugin_provider.h"
#include "tests/support/test_support.h"
#include "tests/support/webdav_servers.h"

#ifndef JSYNC_BROKEN_PLUGIN_DIR
#error "JSYNC_BROKEN_PLUGIN_DIR must name the folder tests/fixtures/broken-plugins builds into"
#endif

namespace jsync {
namespace {

namespace fs = std::filesystem;
using provider::LoadAllPlugins;
using provider::LoadPlugin;
using provider::LoadReport;
using provider::PluginInfo;

std::string BrokenDir() { return JSYNC_BROKEN_PLUGIN_DIR; }
// A path join, not string +: GCC 12 warns falsely (-Warray-bounds) on the literal append.
std::string Plugin(const std::string& name) {
  return (std::filesystem::path(BrokenDir()) / ("jsync-" + name + ".so")).string();
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

struct Refusal {
  const char* file;
  std::vector<const char*> reason;  // every part must appear in the message
};

const std::vector<Refusal>& Refusals() {
  static const std::vector<Refusal> refusals = {
      {"wrong-abi", {"provider ABI version 99", "this jsync speaks version 3"}},
      {"no-entry", {"has no jsync_provider_entry symbol"}},
      {"null-entry", {"entry returned NULL"}},
      {"garbage", {"cannot be loaded"}},
  };
  return refusals;
}

TEST(PluginLoading, EachBrokenPluginIsRefusedNamingFileAndReason) {
  for (const Refusal& r : Refusals()) {
    ASSERT_TRUE(fs::exists(Plugin(r.file))) << Plugin(r.file) << " was not built";
    auto loaded = LoadPlugin(Plugin(r.file));
    ASSERT_FALSE(loaded.ok()) << r.file << " was accepted";
    const std::string& message = loaded.status().message();
    EXPECT_TRUE(loaded.status().Is(Code::kInvalid)) << loaded.status().ToString();
    EXPECT_TRUE(Contains(message, "plugin " + Plugin(r.file) + " was refused")) << message;
    for (const char* part : r.reason) EXPECT_TRUE(Contains(message, part)) << message;
  }
}

TEST(PluginLoading, AGoodCPluginNextToBrokenOnesLoads) {
  auto fine = LoadPlugin(Plugin("fine"));
  ASSERT_TRUE(fine.ok()) << fine.status().ToString();
  EXPECT_EQ(fine->name, "fine");
  EXPECT_EQ(fine->version, "1.0.0");
  EXPECT_EQ(fine->file, Plugin("fine"));
  auto opened = provider::PluginProvider::Open(*fine, "anywhere", "{}", nullptr);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto listed = (*opened)->List("");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_TRUE(listed->empty());
  EXPECT_TRUE((*opened)->Get("x", provider::kNoSizeLimit).status().Is(Code::kNotFound));
  EXPECT_TRUE((*opened)->PutIfAbsent("x", Bytes{1}).Is(Code::kInvalid));
}

TEST(PluginLoading, LoadAllKeepsTheGoodOnesAndListsEveryRefusal) {
  LoadReport report = LoadAllPlugins({BrokenDir()});
  auto find = [&](const std::string& name) -> const PluginInfo* {
    for (const auto& p : report.loaded) {
      if (p.name == name) return &p;
    }
    return nullptr;
  };
  const PluginInfo* folder = find("folder");
  ASSERT_NE(folder, nullptr);
  EXPECT_EQ(folder->file, "(built in)");
  const PluginInfo* fine = find("fine");
  ASSERT_NE(fine, nullptr);
  EXPECT_EQ(fine->file, Plugin("fine"));
  // The build's own plugins (the search path) still load.
  if (const std::string webdav = testing::WebDavPluginPath(); !webdav.empty()) {
    EXPECT_NE(find("webdav"), nullptr) << webdav;
  }
  for (const char* refused_name : {"wrongabi", "noentry", "nullentry"}) {
    EXPECT_EQ(find(refused_name), nullptr) << refused_name << " was loaded";
  }
  // One refusal per broken file, each naming it and saying why.
  for (const Refusal& r : Refusals()) {
    const std::string file = Plugin(r.file);
    auto n = std::count_if(report.refused.begin(), report.refused.end(),
                           [&](const std::string& m) { return Contains(m, file); });
    EXPECT_EQ(n, 1) << file;
    for (const auto& m : report.refused) {
      if (!Contains(m, file)) continue;
      for (const char* part : r.reason) EXPECT_TRUE(Contains(m, part)) << m;
    }
  }
}

// Through the host's real path (OpenProvider, JSYNC_PLUGIN_PATH): broken plugins on the search
// path neither stop the folder provider nor hide the good plugin; asking for a missing provider
// lists what is available and what was refused, and why.
TEST(PluginLoading, OpenProviderWorksWithBrokenPluginsOnTheSearchPath) {
  ScopedEnv path("JSYNC_PLUGIN_PATH", BrokenDir());
  testing::TempDir dir;
  auto folder = provider::OpenProvider("folder", dir.path().string());
  ASSERT_TRUE(folder.ok()) << folder.status().ToString();
  ASSERT_TRUE((*folder)->PutIfAbsent("a/b", Bytes{1, 2, 3}).ok());
  auto got = (*folder)->Get("a/b", provider::kNoSizeLimit);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (Bytes{1, 2, 3}));

  auto fine = provider::OpenProvider("fine", "anywhere");
  ASSERT_TRUE(fine.ok()) << fine.status().ToString();

  auto missing = provider::OpenProvider("nosuchprovider", "anywhere");
  ASSERT_FALSE(missing.ok());
  const std::string& m = missing.status().message();
  EXPECT_TRUE(Contains(m, "unknown provider 'nosuchprovider'")) << m;
  EXPECT_TRUE(Contains(m, "folder")) << m;
  EXPECT_TRUE(Contains(m, "fine")) << m;
  EXPECT_TRUE(Contains(m, Plugin("wrong-abi") + " was refused")) << m;
  EXPECT_TRUE(Contains(m, "entry returned NULL")) << m;
}

}  // namespace
}  // namespace jsync

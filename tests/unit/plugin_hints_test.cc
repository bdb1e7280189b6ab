// What a version-3 plugin declares reaches the host: its pacer hint is applied by the
// PolicyProvider OpenPlugin puts around it (on a simulated clock: nothing sleeps), its option
// defaults are filled in before open, a required option is asked for, and a version-1 table
// of the same plugin is read without any version-3 field. The plugin is an in-process table.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/open_provider.h"
#include "host/plugin_loader.h"
#include "host/plugin_options.h"

namespace jsync::provider {
namespace {

struct Calls {
  int list = 0;
  std::string config;  // what open got
  std::string location;
  uint32_t flags = 0;
};
Calls calls;

int Fail(jsync_error* err, int code, const char* m) {
  std::snprintf(err->message, sizeof err->message, "%s", m);
  return code;
}
int Open(const jsync_host_services*, const char* location, const char* config,
         jsync_instance** out, jsync_error*) {
  calls.location = location;
  calls.config = config;
  *out = reinterpret_cast<jsync_instance*>(&calls);
  return JSYNC_OK;
}
int OpenEx(const jsync_host_services* h, const jsync_open_args* a, jsync_instance** out,
           jsync_error* err) {
  calls.flags = a->flags;
  return Open(h, a->location, a->config_json, out, err);
}
int Canonical(const jsync_host_services*, const char* location, char* out, size_t n,
              jsync_error* err) {
  const std::string c = std::string("canon:") + location;
  if (c.size() + 1 > n) return Fail(err, JSYNC_INVALID, "too long");
  std::snprintf(out, n, "%s", c.c_str());
  return JSYNC_OK;
}
int Put(jsync_instance*, const char*, const uint8_t*, size_t, int, jsync_error*) {
  return JSYNC_OK;
}
int Get(jsync_instance*, const char*, uint64_t, uint64_t, jsync_sink*, jsync_error* err) {
  return Fail(err, JSYNC_NOT_FOUND, "none");
}
int List(jsync_instance*, const char*, const char*, jsync_list_sink*, jsync_error*) {
  ++calls.list;
  return JSYNC_OK;
}
int Remove(jsync_instance*, const char*, jsync_error*) { return JSYNC_OK; }
void Close(jsync_instance*) {}

const jsync_option kOptions[] = {{"root", "where", nullptr, 0},
                                 {"page_size", "per page", "7", 0},
                                 {"key", "api key", "", 1}};

jsync_provider Table(uint32_t abi) {
  jsync_provider t{};
  t.abi_version = abi;
  t.struct_size = abi >= 3 ? sizeof(jsync_provider) : JSYNC_PROVIDER_SIZE_V1;
  t.name = "hinted";
  t.version = "1";
  t.capabilities = JSYNC_CAP_CASE_INSENSITIVE;
  t.options = kOptions;
  t.option_count = 3;
  t.open = Open;
  t.put = Put;
  t.get = Get;
  t.list = List;
  t.remove = Remove;
  t.close = Close;
  t.open_ex = OpenEx;
  t.canonical_location = Canonical;
  t.default_location = "home";
  t.location_help = "a name";
  t.pacer_min_interval_ms = 100;
  t.pacer_burst = 2;
  return t;
}

struct FakeEnv {
  int64_t now = 0;
  std::vector<int64_t> sleeps;
  PolicyEnv Env() {
    return {[this] { return now; },
            [this](int64_t ms) {
              sleeps.push_back(ms);
              now += ms;
            },
            [] { return uint64_t{0}; },
            nullptr};
  }
};

TEST(PluginHints, ThePluginsPacerHintIsWhatTheHostApplies) {
  static const jsync_provider table = Table(3);
  auto info = PluginInfoFromTable(&table, "(test)");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->pacer_min_interval_ms, 100);
  EXPECT_EQ(info->pacer_burst, 2);
  EXPECT_TRUE(info->capabilities.case_insensitive);
  calls = {};
  FakeEnv env;
  OpenOptions options;
  options.config_json = R"({"root": "/r"})";
  auto opened = OpenPlugin(*info, "", options, env.Env());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(opened->provider->List("").ok());
  EXPECT_EQ(calls.list, 5);
  // Two calls ride the burst; the other three wait 100 ms each on the injected clock.
  EXPECT_EQ(env.sleeps, (std::vector<int64_t>{100, 100, 100}));
  EXPECT_EQ(env.now, 300);
}

TEST(PluginHints, DefaultsCanonicalLocationAndCreateFlagReachTheVersion3Plugin) {
  static const jsync_provider table = Table(3);
  auto info = PluginInfoFromTable(&table, "(test)");
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->location.required);
  EXPECT_EQ(info->location.default_location, "home");
  calls = {};
  FakeEnv env;
  OpenOptions options;
  options.create_location = true;
  options.config_json = R"({"root": "/r"})";
  auto opened = OpenPlugin(*info, "", options, env.Env());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->location, "canon:home");  // the default, then the plugin's form
  EXPECT_EQ(calls.location, "canon:home");
  EXPECT_EQ(calls.flags, JSYNC_OPEN_CREATE);
  const auto config = nlohmann::json::parse(calls.config);
  EXPECT_EQ(config["page_size"], "7");  // filled in by the host
  EXPECT_EQ(config["root"], "/r");

  options.config_json = "{}";
  auto missing = OpenPlugin(*info, "x", options, env.Env());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kInvalid);
  EXPECT_NE(missing.status().message().find("needs the option root"), std::string::npos)
      << missing.status().message();
}

TEST(PluginHints, AVersion1TableIsReadWithoutItsLaterFields) {
  static const jsync_provider table = Table(1);
  auto info = PluginInfoFromTable(&table, "(test)");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->abi_version, 1u);
  EXPECT_EQ(info->pacer_min_interval_ms, 0);  // no hint read from a version-1 table
  EXPECT_TRUE(info->location.required);
  calls = {};
  FakeEnv env;
  OpenOptions options;
  options.create_location = true;
  options.config_json = R"({"root": "/r"})";
  EXPECT_TRUE(OpenPlugin(*info, "", options, env.Env()).status().Is(Code::kInvalid))
      << "a version-1 plugin has no default location";
  auto opened = OpenPlugin(*info, "as-typed", options, env.Env());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->location, "as-typed");  // no canonical_location read
  EXPECT_EQ(calls.flags, 0u);               // open(), not open_ex()
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(opened->provider->List("").ok());
  EXPECT_TRUE(env.sleeps.empty());
}

TEST(PluginOptions, UnknownKeysAreOneErrorListingTheKnownOnesNeverValues) {
  static const jsync_provider table = Table(3);
  auto info = PluginInfoFromTable(&table, "(test)");
  ASSERT_TRUE(info.ok());
  auto values = ParseOptionArgs({"root=/x", "page_size=a=b", "bogus=hunter2"});
  ASSERT_TRUE(values.ok());
  EXPECT_EQ((*values)[1].second, "a=b");
  Status s = CheckOptionNames(*info, *values);
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_NE(s.message().find("no option 'bogus'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("root, page_size, key (secret)"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("hunter2"), std::string::npos) << s.message();
  EXPECT_FALSE(ParseOptionArgs({"novalue"}).ok());
  EXPECT_TRUE(IsSecretOption(*info, "key"));
  EXPECT_FALSE(IsSecretOption(*info, "root"));
}

}  // namespace
}  // namespace jsync::provider

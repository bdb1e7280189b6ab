// The iCloud plugin (mode A, providers/icloud) against the CloudKit emulator (`jsync-emulator
// cloudkit`): records named from paths in the journal's zone, the idempotent create (EXISTS,
// then size + sha256), inline bytes, assets and split objects (no account token ever sent to an
// asset URL), the change feed on changes/zone behind a one-request quiet poll on
// changes/database, a zone erased mid-life, CloudKit's own errors (QUOTA_EXCEEDED, THROTTLED
// with retryAfter, Advanced Data Protection, a spent sign-in), and the shape check of every
// request and answer against the two descriptions (tests/support/cloudkit_shapes.h). Each test
// starts its own emulator and links its account through auth/ (cloudkit_account.h).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/plugin_loader.h"
#include "tests/support/cloudkit_account.h"
#include "tests/support/cloudkit_emulator.h"
#include "tests/support/cloudkit_shapes.h"
#include "tests/support/direct_instance.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

using gdrive_testing::DirectInstance;
using nlohmann::json;

#if defined(JSYNC_EMULATOR_BINARY) && defined(JSYNC_ICLOUD_PLUGIN)
constexpr bool kHaveEverything = true;
#else
constexpr bool kHaveEverything = false;
#endif
#ifndef JSYNC_ICLOUD_PLUGIN
#define JSYNC_ICLOUD_PLUGIN ""
#endif

struct Feed {
  std::map<std::string, uint64_t> changed;
  std::vector<std::string> removed;
  std::string cursor;
};

std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>(x >> 23);
  }
  return s;
}

class IcloudPluginTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args = {}) {
    if (!kHaveEverything) GTEST_SKIP() << "built without the emulator or the icloud plugin";
    std::string error;
    uint16_t port = 0;
    emu_ = cloudkit_testing::StartCloudKitForLink(args, &port, &error);
    ASSERT_NE(emu_, nullptr) << error;
    auto plugin = provider::LoadPlugin(JSYNC_ICLOUD_PLUGIN);
    ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
    plugin_ = *plugin;
    auto creds = cloudkit_testing::LinkCloudKitEmulatorAccount(plugin_, *emu_, port,
                                                               home_.path().string());
    ASSERT_TRUE(creds.ok()) << creds.status().ToString();
    creds_ = *creds;
  }
  std::unique_ptr<DirectInstance> Open(json options = json::object(),
                                       const std::string& location = "journal") {
    json config = {{"cloudkit_api_base", emu_->api_base()}};
    for (const auto& [k, v] : options.items()) config[k] = v;
    auto d = DirectInstance::Open(plugin_, location, config.dump(), creds_);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    if (!d.ok()) return nullptr;
    (*d)->http().set_fault_plan(std::nullopt);
    return std::move(d).value();
  }
  std::vector<json> Logged() { return testing::ReadRequestLog(emu_->request_log_path()); }

  int Changes(DirectInstance& d, std::string cursor, Feed* feed) {  // a copy: feed is reset
    *feed = Feed{};
    jsync_list_sink sink{
        feed,
        [](void* ctx, const char* path, uint64_t size) {
          static_cast<Feed*>(ctx)->changed[path] = size;
        },
        [](void* ctx, const char* token) { static_cast<Feed*>(ctx)->cursor = token ? token : ""; },
        [](void* ctx, const jsync_list_entry* e) {
          auto* f = static_cast<Feed*>(ctx);
          if ((e->flags & JSYNC_ENTRY_REMOVED) == 0) {
            f->changed[e->path] = e->size;
          } else {
            f->removed.push_back(e->path ? e->path : "");
          }
        }};
    err_ = {-1, {0}};
    return d.table().changes(d.instance(), cursor.c_str(), &sink, &err_);
  }
  std::string Message() const { return err_.message; }

  void TearDown() override {
    if (!HasFailure() || emu_ == nullptr) return;
    for (const json& r : Logged()) std::cerr << "request: " << r.dump().substr(0, 600) << "\n";
  }

  testing::TempDir home_;
  std::unique_ptr<testing::CloudKitEmulator> emu_;
  std::shared_ptr<provider::CredentialSource> creds_;
  provider::PluginInfo plugin_;
  jsync_error err_{-1, {0}};
};

TEST_F(IcloudPluginTest, PutGetListRemoveAsRecordsOfTheJournalsZone) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto p = Open();
  ASSERT_NE(p, nullptr);
  const std::map<std::string, std::string> objects = {{"changes/d1/000001.chg", "first"},
                                                      {"changes/d1/000002.chg", "second!"},
                                                      {"keys/k 1.key", std::string(1, '\0')},
                                                      {"empty", ""}};
  for (const auto& [path, bytes] : objects) ASSERT_EQ(p->Put(path, bytes, &err_), JSYNC_OK) << path << ": " << Message();
  for (const auto& [path, bytes] : objects) {
    std::string got;
    ASSERT_EQ(p->Get(path, &got, &err_), JSYNC_OK) << Message();
    EXPECT_EQ(got, bytes);
  }
  std::string part;
  ASSERT_EQ(p->Get("changes/d1/000002.chg", &part, &err_, 2, 3), JSYNC_OK) << Message();
  EXPECT_EQ(part, "con");
  ASSERT_EQ(p->Get("changes/d1/000002.chg", &part, &err_, 100, 3), JSYNC_OK) << "past the end";
  EXPECT_EQ(part, "");
  std::vector<provider::ObjectInfo> all;
  ASSERT_EQ(p->ListAll("changes/", &all, &err_), JSYNC_OK) << Message();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].path, "changes/d1/000001.chg");
  EXPECT_EQ(all[0].size, 5u);
  ASSERT_EQ(p->ListAll("", &all, &err_), JSYNC_OK);
  EXPECT_EQ(all.size(), objects.size());
  ASSERT_EQ(p->Remove("changes/d1/000001.chg", &err_), JSYNC_OK) << Message();
  EXPECT_EQ(p->Remove("changes/d1/000001.chg", &err_), JSYNC_OK) << "removing twice is success";
  std::string gone;
  EXPECT_EQ(JSYNC_PRIMARY(p->Get("changes/d1/000001.chg", &gone, &err_)), JSYNC_NOT_FOUND);
  EXPECT_TRUE(std::string(Message()).starts_with("iCloud get changes/d1/000001.chg")) << Message();
  ASSERT_EQ(p->ListAll("changes/", &all, &err_), JSYNC_OK);
  EXPECT_EQ(all.size(), 1u);
  // Every request went out with a web auth token, and each answer rotated it.
  for (const json& r : Logged()) {
    const std::string op = r.value("op", "");
    // The link's sign-in asks users/caller without a token; asset URLs carry their own.
    if (op.starts_with("_") || op == "signin" || op == "users/caller") continue;
    EXPECT_TRUE(r.value("web_token", false)) << r.dump();
    EXPECT_TRUE(r.value("rotated", false)) << r.dump();
  }
}

TEST_F(IcloudPluginTest, ACreateIsIdempotentAndOtherBytesAreExists) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto p = Open();
  ASSERT_EQ(p->Put("changes/d1/000001.chg", "bytes", &err_), JSYNC_OK) << Message();
  EXPECT_EQ(p->Put("changes/d1/000001.chg", "bytes", &err_), JSYNC_OK)
      << "the same bytes: an earlier attempt whose answer was lost. " << Message();
  EXPECT_EQ(JSYNC_PRIMARY(p->Put("changes/d1/000001.chg", "other", &err_)), JSYNC_EXISTS);
  EXPECT_NE(Message().find("already exists with other content"), std::string::npos) << Message();
  std::string got;
  ASSERT_EQ(p->Get("changes/d1/000001.chg", &got, &err_), JSYNC_OK);
  EXPECT_EQ(got, "bytes") << "a refused create changes nothing";
  // A plain put replaces.
  ASSERT_EQ(p->Put("device", "v1", &err_, 0), JSYNC_OK) << Message();
  ASSERT_EQ(p->Put("device", "v2", &err_, 0), JSYNC_OK) << Message();
  ASSERT_EQ(p->Get("device", &got, &err_), JSYNC_OK);
  EXPECT_EQ(got, "v2");
}

TEST_F(IcloudPluginTest, LargeObjectsGoToAssetsAndPartsWithoutTheAccountsToken) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto p = Open({{"inline_max", "100"}, {"asset_max", "1024"}});
  const std::string one = Pattern(700, 1);    // one asset
  const std::string split = Pattern(3000, 2); // three parts
  ASSERT_EQ(p->Put("snap/one", one, &err_), JSYNC_OK) << Message();
  ASSERT_EQ(p->Put("snap/split", split, &err_), JSYNC_OK) << Message();
  EXPECT_EQ(p->Put("snap/split", split, &err_), JSYNC_OK) << "retried: " << Message();
  std::string got;
  ASSERT_EQ(p->Get("snap/one", &got, &err_), JSYNC_OK) << Message();
  EXPECT_EQ(got, one);
  ASSERT_EQ(p->Get("snap/split", &got, &err_), JSYNC_OK) << Message();
  EXPECT_EQ(got, split);
  ASSERT_EQ(p->Get("snap/split", &got, &err_, 1000, 1100), JSYNC_OK) << Message();
  EXPECT_EQ(got, split.substr(1000, 1100)) << "a range across parts";
  ASSERT_EQ(p->Get("snap/one", &got, &err_, 650, 100), JSYNC_OK) << Message();
  EXPECT_EQ(got, one.substr(650));
  std::vector<provider::ObjectInfo> all;
  ASSERT_EQ(p->ListAll("snap/", &all, &err_), JSYNC_OK);
  ASSERT_EQ(all.size(), 2u) << "part records are not objects";
  EXPECT_EQ(all[1].size, 3000u);
  int uploads = 0, downloads = 0;
  for (const json& r : Logged()) {
    const std::string op = r.value("op", "");
    if (op != "_upload" && op != "_download") continue;
    uploads += op == "_upload";
    downloads += op == "_download";
    EXPECT_FALSE(r.value("web_token", true)) << "an asset URL got the account's token: " << r.dump();
    EXPECT_FALSE(r["query"].contains("ckAPIToken")) << r.dump();
  }
  EXPECT_EQ(uploads, 1 + 3) << "one asset, three parts; the retried put compares first";
  EXPECT_GE(downloads, 4);
  ASSERT_EQ(p->Remove("snap/split", &err_), JSYNC_OK) << Message();
  EXPECT_EQ(JSYNC_PRIMARY(p->Get("snap/split", &got, &err_)), JSYNC_NOT_FOUND);
  // The removal took the parts with it (before the main record, so a retry still finds them).
  int removed_parts = 0;
  for (const json& r : Logged()) {
    if (r.value("op", "") != "records/modify" || !r.contains("body_json")) continue;
    for (const json& op : r["body_json"].value("operations", json::array())) {
      removed_parts += op.value("operationType", "") == "forceDelete" &&
                       op["record"].value("recordName", "").find('~') != std::string::npos;
    }
  }
  EXPECT_EQ(removed_parts, 3);
}

// Parts are named by their object's content: a create of other bytes under a taken name, or a
// replacement, never touches the parts the stored object reads.
TEST_F(IcloudPluginTest, AnotherVersionNeverTouchesTheStoredParts) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto p = Open({{"inline_max", "100"}, {"asset_max", "1024"}});
  const std::string first = Pattern(3000, 7), second = Pattern(3000, 8);
  ASSERT_EQ(p->Put("snap/s", first, &err_), JSYNC_OK) << Message();
  EXPECT_EQ(JSYNC_PRIMARY(p->Put("snap/s", second, &err_)), JSYNC_EXISTS) << Message();
  std::string got;
  ASSERT_EQ(p->Get("snap/s", &got, &err_), JSYNC_OK) << Message();
  EXPECT_EQ(got, first) << "a refused create left the stored object whole";
  ASSERT_EQ(p->Put("snap/s", second, &err_, /*if_absent=*/0), JSYNC_OK) << Message();
  ASSERT_EQ(p->Get("snap/s", &got, &err_), JSYNC_OK) << Message();
  EXPECT_EQ(got, second);
  ASSERT_EQ(p->Put("snap/s", "small now", &err_, /*if_absent=*/0), JSYNC_OK) << Message();
  ASSERT_EQ(p->Get("snap/s", &got, &err_), JSYNC_OK) << Message();
  EXPECT_EQ(got, "small now");
  // Each replacement removed the parts of the version it replaced.
  int removed_parts = 0;
  for (const json& r : Logged()) {
    if (r.value("op", "") != "records/modify" || !r.contains("body_json")) continue;
    for (const json& op : r["body_json"].value("operations", json::array())) {
      removed_parts += op.value("operationType", "") == "forceDelete";
    }
  }
  EXPECT_EQ(removed_parts, 3 + 3);
  for (const char* bad : {"a\xff", "x\xed\xa0\x80"}) {
    EXPECT_EQ(p->Put(bad, "x", &err_), JSYNC_INVALID) << "a path that is not UTF-8";
  }
}

TEST_F(IcloudPluginTest, ChangeFeedBehindAOneRequestQuietPoll) {
  ASSERT_NO_FATAL_FAILURE(Start({"--page-size", "2"}));
  auto reader = Open();
  auto writer = Open();
  Feed feed;
  ASSERT_EQ(Changes(*reader, "", &feed), JSYNC_OK) << Message();
  ASSERT_FALSE(feed.cursor.empty());
  EXPECT_TRUE(feed.changed.empty()) << "a start cursor reports nothing";
  for (int i = 1; i <= 5; ++i) {
    ASSERT_EQ(writer->Put("changes/w/00000" + std::to_string(i) + ".chg", "c" + std::to_string(i), &err_), JSYNC_OK)
        << Message();
  }
  ASSERT_EQ(Changes(*reader, feed.cursor, &feed), JSYNC_OK) << Message();
  EXPECT_EQ(feed.changed.size(), 5u) << "every page (2 records each) in one call";
  EXPECT_EQ(feed.changed["changes/w/000003.chg"], 2u);
  ASSERT_EQ(writer->Remove("changes/w/000002.chg", &err_), JSYNC_OK);
  ASSERT_EQ(Changes(*reader, feed.cursor, &feed), JSYNC_OK) << Message();
  EXPECT_EQ(feed.removed, std::vector<std::string>{"changes/w/000002.chg"})
      << "a tombstone names its object";
  // Nothing new: one changes/database request.
  const size_t before = Logged().size();
  const std::string cursor = feed.cursor;
  ASSERT_EQ(Changes(*reader, cursor, &feed), JSYNC_OK) << Message();
  EXPECT_TRUE(feed.changed.empty() && feed.removed.empty());
  const std::vector<json> log = Logged();
  ASSERT_EQ(log.size() - before, 1u) << "a quiet poll is one request";
  EXPECT_EQ(log.back().value("op", ""), "changes/database");
  // A sync token CloudKit no longer accepts: the host lists again.
  ASSERT_EQ(emu_->Admin("/_admin/sync-tokens/expire"), 200);
  ASSERT_EQ(writer->Put("changes/w/000009.chg", "c9", &err_), JSYNC_OK);
  EXPECT_EQ(Changes(*reader, feed.cursor, &feed), JSYNC_NOT_FOUND_CURSOR_EXPIRED) << Message();
  EXPECT_TRUE(feed.changed.empty());
}

TEST_F(IcloudPluginTest, AZoneErasedMidLifeIsMadeAgain) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto p = Open();
  Feed feed;
  ASSERT_EQ(Changes(*p, "", &feed), JSYNC_OK) << Message();
  ASSERT_EQ(p->Put("changes/d/000001.chg", "one", &err_), JSYNC_OK) << Message();
  ASSERT_EQ(emu_->Admin("/_admin/zones/jsync-journal/delete"), 200);
  Feed after;
  EXPECT_EQ(Changes(*p, feed.cursor, &after), JSYNC_NOT_FOUND_CURSOR_EXPIRED) << Message();
  EXPECT_NE(Message().find("zone is gone"), std::string::npos) << Message();
  std::vector<provider::ObjectInfo> all;
  ASSERT_EQ(p->ListAll("", &all, &err_), JSYNC_OK) << Message();
  EXPECT_TRUE(all.empty());
  std::string got;
  EXPECT_EQ(JSYNC_PRIMARY(p->Get("changes/d/000001.chg", &got, &err_)), JSYNC_NOT_FOUND);
  // The engine re-uploads what it wrote: the zone is made again on the way.
  ASSERT_EQ(p->Put("changes/d/000001.chg", "one", &err_), JSYNC_OK) << Message();
  ASSERT_EQ(Changes(*p, "", &feed), JSYNC_OK) << Message();
  ASSERT_EQ(p->Get("changes/d/000001.chg", &got, &err_), JSYNC_OK) << Message();
  EXPECT_EQ(got, "one");
}

TEST_F(IcloudPluginTest, CloudKitsErrorsSayWhatToDo) {
  ASSERT_NO_FATAL_FAILURE(Start({"--quota", "3000", "--faults", "throttle:7/records/lookup@2"}));
  auto p = Open();
  ASSERT_EQ(p->Put("a", "small", &err_), JSYNC_OK) << Message();
  EXPECT_EQ(JSYNC_PRIMARY(p->Put("big", Pattern(5000, 3), &err_)), JSYNC_QUOTA_EXCEEDED);
  EXPECT_NE(Message().find("iCloud storage is full"), std::string::npos) << Message();
  std::string got;
  ASSERT_EQ(p->Get("a", &got, &err_), JSYNC_OK) << Message();
  EXPECT_EQ(p->Get("a", &got, &err_), JSYNC_RETRYABLE_THROTTLED) << Message();
  EXPECT_EQ(err_.retry_after_ms, 7000);
  ASSERT_EQ(p->Get("a", &got, &err_), JSYNC_OK) << "the fault did not spend the token: " << Message();
  ASSERT_EQ(emu_->Admin("/_admin/adp?on=1"), 200);
  EXPECT_EQ(JSYNC_PRIMARY(p->Get("a", &got, &err_)), JSYNC_FATAL);
  EXPECT_NE(Message().find("Advanced Data Protection"), std::string::npos) << Message();
  ASSERT_EQ(emu_->Admin("/_admin/adp?on=0"), 200);
  ASSERT_EQ(p->Get("a", &got, &err_), JSYNC_OK) << Message();
  ASSERT_EQ(emu_->Admin("/_admin/tokens/expire"), 200);
  EXPECT_EQ(JSYNC_PRIMARY(p->Get("a", &got, &err_)), JSYNC_AUTH_EXPIRED);
  EXPECT_NE(Message().find("jsync link icloud"), std::string::npos) << Message();
  for (const char* bad : {"", "/abs", "a//b", "a/../b"}) {
    EXPECT_EQ(p->Put(bad, "x", &err_), JSYNC_INVALID) << bad;
  }
}

// Each web auth token is good for one round trip: an answer lost after CloudKit carried the
// request out (and minted the next token) ends the sign-in, as it would with Apple. The plugin
// says so; nothing is lost (the host keeps the edit and asks for `jsync link icloud`).
TEST_F(IcloudPluginTest, AnAnswerLostAfterTheServerActedEndsTheSignIn) {
  ASSERT_NO_FATAL_FAILURE(Start({"--faults", "drop-after/records/modify@2"}));
  auto p = Open();
  ASSERT_EQ(p->Put("a", "one", &err_), JSYNC_OK) << Message();
  EXPECT_EQ(JSYNC_PRIMARY(p->Put("b", "two", &err_)), JSYNC_RETRYABLE) << Message();
  std::string got;
  EXPECT_EQ(JSYNC_PRIMARY(p->Get("a", &got, &err_)), JSYNC_AUTH_EXPIRED) << Message();
  EXPECT_NE(Message().find("jsync link icloud"), std::string::npos) << Message();
}

TEST_F(IcloudPluginTest, PathsTooLongForAReadableNameGetAHashedOne) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto p = Open();
  const std::string longer = "long/" + std::string(300, 'x') + "\xc3\xa9/file";
  ASSERT_EQ(p->Put(longer, "deep", &err_), JSYNC_OK) << Message();
  EXPECT_EQ(p->Put(longer, "deep", &err_), JSYNC_OK) << Message();
  EXPECT_EQ(JSYNC_PRIMARY(p->Put(longer, "else", &err_)), JSYNC_EXISTS) << Message();
  std::string got;
  ASSERT_EQ(p->Get(longer, &got, &err_), JSYNC_OK) << Message();
  EXPECT_EQ(got, "deep");
  std::vector<provider::ObjectInfo> all;
  ASSERT_EQ(p->ListAll("long/", &all, &err_), JSYNC_OK);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].path, longer);
  Feed feed;
  ASSERT_EQ(Changes(*p, "", &feed), JSYNC_OK);
  ASSERT_EQ(p->Remove(longer, &err_), JSYNC_OK) << Message();
  ASSERT_EQ(Changes(*p, feed.cursor, &feed), JSYNC_OK) << Message();
  EXPECT_EQ(feed.removed, std::vector<std::string>{""}) << "an unnamed removal: the host lists";
}

TEST_F(IcloudPluginTest, EveryRequestAndAnswerHasCloudKitsShape) {
  ASSERT_NO_FATAL_FAILURE(Start({"--page-size", "3"}));
  auto shapes = testing::CloudKitShapes::Load(JSYNC_CLOUDKIT_OPENAPI, JSYNC_CLOUDKIT_REFERENCE);
  ASSERT_TRUE(shapes.ok()) << shapes.status().ToString();
  auto p = Open({{"inline_max", "100"}, {"asset_max", "1024"}});
  Feed feed;
  ASSERT_EQ(Changes(*p, "", &feed), JSYNC_OK) << Message();
  ASSERT_EQ(p->Put("c/1", "one", &err_), JSYNC_OK) << Message();
  ASSERT_EQ(p->Put("c/1", "one", &err_), JSYNC_OK) << Message();
  EXPECT_EQ(JSYNC_PRIMARY(p->Put("c/1", "two", &err_)), JSYNC_EXISTS);
  ASSERT_EQ(p->Put("c/asset", Pattern(500, 4), &err_), JSYNC_OK) << Message();
  ASSERT_EQ(p->Put("c/split", Pattern(2500, 5), &err_), JSYNC_OK) << Message();
  for (int i = 0; i < 4; ++i) ASSERT_EQ(p->Put("d/" + std::to_string(i), "x", &err_), JSYNC_OK);
  std::string got;
  for (const char* path : {"c/1", "c/asset", "c/split"}) ASSERT_EQ(p->Get(path, &got, &err_), JSYNC_OK);
  EXPECT_EQ(JSYNC_PRIMARY(p->Get("nothing", &got, &err_)), JSYNC_NOT_FOUND);
  std::vector<provider::ObjectInfo> all;
  ASSERT_EQ(p->ListAll("", &all, &err_), JSYNC_OK);
  ASSERT_EQ(Changes(*p, feed.cursor, &feed), JSYNC_OK) << Message();
  ASSERT_EQ(p->Remove("c/split", &err_), JSYNC_OK);
  ASSERT_EQ(Changes(*p, feed.cursor, &feed), JSYNC_OK) << Message();
  ASSERT_EQ(Changes(*p, feed.cursor, &feed), JSYNC_OK) << Message();
  size_t requests = 0, bodies = 0;
  std::vector<std::string> violations;
  std::map<std::string, int> ops;
  for (const json& r : Logged()) {
    const std::string op = r.value("op", "");
    if (op.empty() || op == "_download") continue;  // raw bytes
    ++requests;
    ++ops[op];
    const std::string name = op == "_upload" ? "asset-upload-post" : op;
    if (r.contains("body_json") && op != "_upload") {
      ++bodies;
      for (const std::string& v : shapes->CheckRequest(name, r["body_json"])) violations.push_back(op + " request " + v);
    }
    if (r.contains("response_json")) {
      ++bodies;
      for (const std::string& v : shapes->CheckResponse(name, r.value("status", 0), r["response_json"])) {
        violations.push_back(op + " answer " + v);
      }
    }
  }
  EXPECT_TRUE(violations.empty()) << ::testing::PrintToString(violations);
  for (const char* op : {"zones/modify", "records/modify", "records/lookup", "changes/zone",
                         "changes/database", "assets/upload", "_upload"}) {
    EXPECT_GT(ops[op], 0) << op << " was not exercised";
  }
  std::cerr << "shape check: " << requests << " requests, " << bodies << " bodies, "
            << violations.size() << " violations\n";
}

}  // namespace
}  // namespace jsync

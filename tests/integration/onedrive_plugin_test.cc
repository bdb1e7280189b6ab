// OneDrive plugin behaviours the conformance suite does not cover, against the Microsoft Graph
// emulator (`jsync-emulator onedrive`): objects as paths under the app folder, the idempotent
// create (409/412, then size + QuickXorHash), upload sessions that resume a dropped fragment
// from nextExpectedRanges with no credentials sent to the session's URL, download links that
// expire, the delta feed (removals, 410 resyncRequired, the business drive's root delta kept to
// the app folder), quota and 507, a locked item (423), Graph's throttling answers, and
// subscriptions validated by a local webhook receiver. Each test starts its own emulator, so
// fault numbers are exact, and links its account through auth/ (the device grant) into a
// temporary home (gdrive_testing::LinkEmulatorAccount works for any plugin name).
// Compiled once the Graph emulator's test support (tests/support/onedrive_emulator.h) is in.
#if __has_include("tests/support/onedrive_emulator.h")
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "host/http_client.h"
#include "host/plugin_loader.h"
#include "net/local_http_server.h"
#include "tests/support/direct_instance.h"
#include "tests/support/linked_account.h"
#include "tests/support/onedrive_emulator.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

using gdrive_testing::DirectInstance;
using nlohmann::json;

#if defined(JSYNC_EMULATOR_BINARY) && defined(JSYNC_ONEDRIVE_PLUGIN)
constexpr bool kHaveEverything = true;
#else
constexpr bool kHaveEverything = false;
#endif
#ifndef JSYNC_ONEDRIVE_PLUGIN
#define JSYNC_ONEDRIVE_PLUGIN ""
#endif

// What changes() reported: objects, named removals, an unnamed removal, the cursor.
struct Feed {
  std::map<std::string, uint64_t> changed;
  std::vector<std::string> removed;
  bool unnamed_removal = false;
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

class OnedrivePluginTest : public ::testing::Test {
 protected:
  // Starts an emulator with `args` and links its account in home_ (`link_extra`: options of
  // the link, e.g. other scopes).
  void Start(std::vector<std::string> args = {}, json link_extra = json::object()) {
    if (!kHaveEverything) GTEST_SKIP() << "built without the emulator or the onedrive plugin";
    args.insert(args.end(), {"--device-interval", "0"});
    std::string error;
    emu_ = testing::OnedriveEmulator::Start(args, &error);
    ASSERT_NE(emu_, nullptr) << error;
    auto plugin = provider::LoadPlugin(JSYNC_ONEDRIVE_PLUGIN);
    ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
    plugin_ = *plugin;
    auto linked = gdrive_testing::LinkEmulatorAccount(plugin_, emu_->base_url(),
                                                      home_.path().string(), link_extra);
    ASSERT_TRUE(linked.ok()) << linked.status().ToString();
    creds_ = *linked;
  }
  std::unique_ptr<DirectInstance> Open(json options = json::object(),
                                       const std::string& location = "journal") {
    json config = {{"api_base", emu_->base_url()}};
    for (const auto& [k, v] : options.items()) config[k] = v;
    auto d = DirectInstance::Open(plugin_, location, config.dump(), creds_);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    if (!d.ok()) return nullptr;
    (*d)->http().set_fault_plan(std::nullopt);
    return std::move(d).value();
  }

  // A raw Graph request as "another client" of the same account.
  int Graph(const std::string& method, const std::string& url_path, const std::string& body,
            std::string* answer, const std::string& content_type = "application/octet-stream") {
    provider::HttpClient client(creds_);
    client.set_fault_plan(std::nullopt);
    provider::HttpRequest req;
    req.method = method;
    req.url = emu_->base_url() + url_path;
    if (!body.empty()) req.headers = {{"Content-Type", content_type}};
    req.body = ByteSpan(reinterpret_cast<const uint8_t*>(body.data()), body.size());
    answer->clear();
    auto resp = client.Send(req, [&](ByteSpan b) {
      answer->append(reinterpret_cast<const char*>(b.data()), b.size());
      return true;
    });
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    if (resp.ok() && resp->status >= 300) *answer = resp->error_body;
    return resp.ok() ? resp->status : 0;
  }

  // The logged requests whose path starts with `prefix`.
  std::vector<json> Logged(const std::string& prefix = "") {
    std::vector<json> out;
    std::ifstream in(emu_->request_log_path());
    for (std::string line; std::getline(in, line);) {
      json j = json::parse(line, nullptr, false);
      if (j.is_object() && j.value("path", "").starts_with(prefix)) out.push_back(j);
    }
    return out;
  }
  static int Count(const std::vector<json>& log, const std::string& method,
                   const std::string& contains) {
    int n = 0;
    for (const json& r : log) {
      n += r.value("method", "") == method &&
           r.value("path", "").find(contains) != std::string::npos;
    }
    return n;
  }

  // One changes() call with a version-3 sink (removals as entries).
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
          } else if (e->path == nullptr || *e->path == '\0') {
            f->unnamed_removal = true;
          } else {
            f->removed.push_back(e->path);
          }
        }};
    err_ = {-1, {0}};
    return d.table().changes(d.instance(), cursor.c_str(), &sink, &err_);
  }

  // On failure, the emulator's request log says what went over the wire.
  void TearDown() override {
    if (!HasFailure() || emu_ == nullptr) return;
    for (const json& r : Logged()) std::cerr << "request: " << r.dump() << "\n";
  }

  testing::TempDir home_;
  std::unique_ptr<testing::OnedriveEmulator> emu_;
  std::shared_ptr<auth::OAuthCredentialSource> creds_;
  provider::PluginInfo plugin_;
  jsync_error err_{-1, {0}};
};

// Objects are files under Apps/<app>/<location>/, names OneDrive cannot hold are stored
// escaped and read back as given, listings filter by a string prefix, removal is idempotent.
TEST_F(OnedrivePluginTest, PutGetListRemoveUnderTheAppFolder) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto p = Open();
  const std::map<std::string, std::string> objects = {
      {"changes/dev1/000000000000002a.jchg", "change 42"},
      {"changes/dev10/0000000000000001.jchg", "another device"},
      {"devices/dev1.jdev", "device"},
      {"odd/question?hash#: \"*|", "odd name"},
      {"empty", ""}};
  for (const auto& [path, bytes] : objects) {
    ASSERT_EQ(p->Put(path, bytes, &err_), JSYNC_OK) << path << ": " << err_.message;
  }
  std::string answer;
  ASSERT_EQ(
      Graph("GET", "/v1.0/me/drive/special/approot:/journal/changes/dev1/000000000000002a.jchg", "",
            &answer),
      200)
      << answer;
  const json item = json::parse(answer);
  EXPECT_EQ(item.value("size", 0), 9);
  for (const auto& [path, bytes] : objects) {
    std::string got;
    ASSERT_EQ(p->Get(path, &got, &err_), JSYNC_OK) << path << ": " << err_.message;
    EXPECT_EQ(got, bytes) << path;
  }
  std::string got;
  ASSERT_EQ(p->Get("changes/dev1/000000000000002a.jchg", &got, &err_, 3, 4), JSYNC_OK);
  EXPECT_EQ(got, "nge ");
  ASSERT_EQ(p->Get("devices/dev1.jdev", &got, &err_, 6, 10), JSYNC_OK) << "an empty read";
  EXPECT_EQ(got, "");
  std::vector<provider::ObjectInfo> all;
  ASSERT_EQ(p->ListAll("changes/dev1", &all, &err_), JSYNC_OK) << err_.message;
  ASSERT_EQ(all.size(), 2u) << "a string prefix: dev1 and dev10";
  ASSERT_EQ(p->ListAll("", &all, &err_), JSYNC_OK) << err_.message;
  EXPECT_EQ(all.size(), objects.size());
  for (const auto& o : all) EXPECT_EQ(o.size, objects.at(o.path).size()) << o.path;
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(p->Remove("devices/dev1.jdev", &err_), JSYNC_OK) << err_.message;
  }
  EXPECT_EQ(p->Get("devices/dev1.jdev", &got, &err_), JSYNC_NOT_FOUND) << err_.message;
  EXPECT_NE(std::string(err_.message).find("devices/dev1.jdev"), std::string::npos);
  EXPECT_EQ(p->Get("never/there", &got, &err_, 0, 0), JSYNC_NOT_FOUND);
  ASSERT_EQ(p->ListAll("devices/", &all, &err_), JSYNC_OK);
  EXPECT_TRUE(all.empty());
}

// A taken name is compared with the bytes being put: the same bytes (an earlier attempt whose
// answer was lost, or another device's identical upload) are success, other bytes EXISTS, and
// nothing is ever replaced.
TEST_F(OnedrivePluginTest, IdempotentCreateComparesSizeAndQuickXorHash) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto p = Open();
  ASSERT_EQ(p->Put("keys/k", "the key file", &err_), JSYNC_OK) << err_.message;
  EXPECT_EQ(p->Put("keys/k", "the key file", &err_), JSYNC_OK) << err_.message;
  EXPECT_EQ(p->Put("keys/k", "the key fil3", &err_), JSYNC_EXISTS) << err_.message;
  EXPECT_NE(std::string(err_.message).find("other content"), std::string::npos) << err_.message;
  EXPECT_EQ(p->Put("keys/k", "longer, other bytes", &err_), JSYNC_EXISTS) << err_.message;
  // Another client put the same bytes first: ours is the same object.
  std::string answer;
  ASSERT_EQ(
      Graph("PUT", "/v1.0/me/drive/special/approot:/journal/keys/other:/content", "same", &answer),
      201)
      << answer;
  EXPECT_EQ(p->Put("keys/other", "same", &err_), JSYNC_OK) << err_.message;
  std::string got;
  ASSERT_EQ(p->Get("keys/k", &got, &err_), JSYNC_OK);
  EXPECT_EQ(got, "the key file");
  const auto log = Logged("/v1.0/");
  int refused = 0, replace = 0;
  for (const json& r : log) {
    if (r.value("method", "") != "PUT") continue;
    const int status = r.value("status", 0);
    refused += status == 409 || status == 412;
    replace += r.value("query", json::object()).value("@microsoft.graph.conflictBehavior", "") ==
               "replace";
  }
  EXPECT_EQ(refused, 4) << "each repeated put met OneDrive's own refusal";
  EXPECT_EQ(replace, 0) << "never replace";
}

// Above simple_upload_max an upload session: fragments of fragment_size to the session's URL
// without credentials; a fragment cut by a dropped connection is resumed (GET the session,
// nextExpectedRanges) within the same put; the object is whole and the session was one.
TEST_F(OnedrivePluginTest, SessionUploadResumesADroppedFragmentWithoutCredentials) {
  ASSERT_NO_FATAL_FAILURE(Start({"--faults", "drop-upload@1"}));
  auto p = Open({{"simple_upload_max", "65536"}, {"fragment_size", "327680"}});
  const std::string big = Pattern(1'000'000, 7);
  ASSERT_EQ(p->Put("snapshots/big", big, &err_), JSYNC_OK) << err_.message;
  std::string got;
  ASSERT_EQ(Open()->Get("snapshots/big", &got, &err_), JSYNC_OK) << err_.message;
  EXPECT_TRUE(got == big) << "the stored bytes differ";
  ASSERT_EQ(p->Get("snapshots/big", &got, &err_, 999'990, UINT64_MAX), JSYNC_OK);
  EXPECT_EQ(got, big.substr(999'990));
  const auto log = Logged();
  EXPECT_EQ(Count(log, "POST", "createUploadSession"), 1) << "one session, resumed";
  int fragments = 0, status_queries = 0, dropped = 0, downloads = 0;
  for (const json& r : log) {
    const std::string path = r.value("path", "");
    const bool preauthenticated =
        path.starts_with("/upload/session/") || path.starts_with("/download/");
    if (preauthenticated) {
      EXPECT_FALSE(r.value("authorization", false))
          << r.value("method", "") << " " << path << " carried credentials";
    } else if (path.starts_with("/v1.0/")) {
      EXPECT_TRUE(r.value("authorization", false)) << path;
    }
    if (path.starts_with("/upload/session/")) {
      fragments += r.value("method", "") == "PUT";
      status_queries += r.value("method", "") == "GET";
      dropped += r.value("dropped", false) || r.value("status", 0) == 0;
    }
    downloads += path.starts_with("/download/");
  }
  EXPECT_EQ(dropped, 1);
  EXPECT_EQ(status_queries, 1) << "the session was asked where it stands once";
  EXPECT_EQ(fragments, 4) << "the cut fragment, then the rest from where the session stood";
  bool resumed_mid_way = false;
  for (const json& r : log) {
    if (!r.value("path", "").starts_with("/upload/session/") || r.value("method", "") != "GET")
      continue;
    const auto ranges =
        r.value("response_json", json::object()).value("nextExpectedRanges", json::array());
    resumed_mid_way = !ranges.empty() && ranges[0].get<std::string>() != "0-";
  }
  EXPECT_TRUE(resumed_mid_way) << "the emulator kept part of the cut fragment";
  EXPECT_GE(downloads, 2);
}

// A download link refused as expired (401) is asked for again once, and the read goes through;
// the failure's message would name the object, never the link.
TEST_F(OnedrivePluginTest, ExpiredDownloadLinkIsAskedForAgainOnce) {
  ASSERT_NO_FATAL_FAILURE(Start({"--faults", "expire-download@1"}));
  auto p = Open();
  ASSERT_EQ(p->Put("x/obj", "some bytes", &err_), JSYNC_OK) << err_.message;
  std::string got;
  ASSERT_EQ(p->Get("x/obj", &got, &err_), JSYNC_OK) << err_.message;
  EXPECT_EQ(got, "some bytes");
  const auto log = Logged();
  EXPECT_EQ(Count(log, "GET", ":/content"), 2) << "a fresh link, once";
  EXPECT_EQ(Count(log, "GET", "/download/"), 2);
  int refused = 0;
  for (const json& r : log) {
    refused += r.value("path", "").starts_with("/download/") && r.value("status", 0) == 401;
  }
  EXPECT_EQ(refused, 1);
}

// The feed: a start cursor reports nothing; additions with sizes, removals by name, nothing
// outside the location; a cursor OneDrive refuses (410 resyncRequired) is CURSOR_EXPIRED.
TEST_F(OnedrivePluginTest, DeltaFeedReportsAdditionsRemovalsAndExpiredCursors) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto p = Open();
  auto other = Open({}, "other-journal");
  ASSERT_EQ(p->Put("changes/d/1", "before", &err_), JSYNC_OK) << err_.message;
  Feed feed;
  ASSERT_EQ(Changes(*p, "", &feed), JSYNC_OK) << err_.message;
  EXPECT_TRUE(feed.changed.empty());
  ASSERT_FALSE(feed.cursor.empty());
  const std::string start = feed.cursor;
  ASSERT_EQ(p->Put("changes/d/2", "two", &err_), JSYNC_OK) << err_.message;
  ASSERT_EQ(p->Put("devices/d", "device file", &err_), JSYNC_OK) << err_.message;
  ASSERT_EQ(other->Put("changes/d/9", "not ours", &err_), JSYNC_OK) << err_.message;
  ASSERT_EQ(Changes(*p, start, &feed), JSYNC_OK) << err_.message;
  EXPECT_EQ(feed.changed, (std::map<std::string, uint64_t>{{"changes/d/2", 3}, {"devices/d", 11}}));
  EXPECT_TRUE(feed.removed.empty());
  EXPECT_FALSE(feed.unnamed_removal);
  const std::string second = feed.cursor;
  ASSERT_EQ(p->Remove("changes/d/2", &err_), JSYNC_OK) << err_.message;
  ASSERT_EQ(Changes(*p, second, &feed), JSYNC_OK) << err_.message;
  EXPECT_TRUE(feed.changed.empty());
  EXPECT_EQ(feed.removed, std::vector<std::string>{"changes/d/2"});
  // A new instance (another process) cannot name what it never saw: it says something went.
  ASSERT_EQ(p->Remove("devices/d", &err_), JSYNC_OK) << err_.message;
  auto fresh = Open();
  ASSERT_EQ(Changes(*fresh, feed.cursor, &feed), JSYNC_OK) << err_.message;
  EXPECT_TRUE(feed.removed == std::vector<std::string>{"devices/d"} || feed.unnamed_removal);
  // Not a delta link of this api_base: expired, not followed.
  EXPECT_EQ(Changes(*p, "http://127.0.0.1:1/v1.0/me/drive/root/delta?token=x", &feed),
            JSYNC_NOT_FOUND_CURSOR_EXPIRED);
  EXPECT_TRUE(feed.changed.empty());
}

// Delta pages and listings carry each file's download link: a get that follows is one request
// (the link, without credentials), not two (:/content's 302, then the link); other instances of
// the location use them too. A quiet poll is one request.
TEST_F(OnedrivePluginTest, GetAfterTheFeedOrAListingIsOneRequest) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto p = Open();
  Feed feed;
  ASSERT_EQ(Changes(*p, "", &feed), JSYNC_OK) << err_.message;
  ASSERT_EQ(p->Put("changes/d/1", "first change", &err_), JSYNC_OK) << err_.message;
  ASSERT_EQ(p->Put("changes/d/2", "second change", &err_), JSYNC_OK) << err_.message;
  ASSERT_EQ(Changes(*p, feed.cursor, &feed), JSYNC_OK) << err_.message;
  ASSERT_EQ(feed.changed.size(), 2u);
  size_t before = Logged().size();
  auto pooled = Open();  // another instance of the location (the host's transfer pool)
  std::string got;
  ASSERT_EQ(pooled->Get("changes/d/1", &got, &err_), JSYNC_OK) << err_.message;
  EXPECT_EQ(got, "first change");
  auto log = Logged();
  ASSERT_EQ(log.size(), before + 1) << "one request for the get";
  EXPECT_TRUE(log.back().value("path", "").starts_with("/download/"));
  EXPECT_FALSE(log.back().value("authorization", false));
  ASSERT_EQ(p->Get("changes/d/2", &got, &err_, 7, 6), JSYNC_OK) << err_.message;
  EXPECT_EQ(got, "change");
  EXPECT_EQ(Logged().size(), before + 2);
  // A quiet poll: the delta link alone.
  before = Logged().size();
  ASSERT_EQ(Changes(*p, feed.cursor, &feed), JSYNC_OK) << err_.message;
  EXPECT_TRUE(feed.changed.empty());
  EXPECT_EQ(Logged().size(), before + 1);
  // A listing fills the links too (another location: nothing cached from the feed there).
  auto listed = Open({}, "listed");
  ASSERT_EQ(listed->Put("devices/x", "device x", &err_), JSYNC_OK) << err_.message;
  std::vector<provider::ObjectInfo> all;
  ASSERT_EQ(listed->ListAll("devices/", &all, &err_), JSYNC_OK) << err_.message;
  before = Logged().size();
  ASSERT_EQ(Open({}, "listed")->Get("devices/x", &got, &err_), JSYNC_OK) << err_.message;
  EXPECT_EQ(got, "device x");
  EXPECT_EQ(Logged().size(), before + 1);
  // A removed object's link is dropped; a stale one falls back to :/content.
  ASSERT_EQ(p->Remove("changes/d/1", &err_), JSYNC_OK) << err_.message;
  EXPECT_EQ(pooled->Get("changes/d/1", &got, &err_), JSYNC_NOT_FOUND) << err_.message;
}

TEST_F(OnedrivePluginTest, ResyncRequiredIsAnExpiredCursor) {
  ASSERT_NO_FATAL_FAILURE(Start({"--faults", "resync@1"}));
  auto p = Open();
  Feed feed;
  ASSERT_EQ(Changes(*p, "", &feed), JSYNC_OK) << err_.message;
  ASSERT_EQ(p->Put("changes/d/1", "one", &err_), JSYNC_OK) << err_.message;
  EXPECT_EQ(Changes(*p, feed.cursor, &feed), JSYNC_NOT_FOUND_CURSOR_EXPIRED) << err_.message;
  EXPECT_NE(std::string(err_.message).find("410"), std::string::npos) << err_.message;
  EXPECT_TRUE(feed.changed.empty());
  EXPECT_TRUE(feed.cursor.empty());
  ASSERT_EQ(Changes(*p, "", &feed), JSYNC_OK) << "a start cursor again";
  ASSERT_EQ(p->Put("changes/d/2", "two", &err_), JSYNC_OK) << err_.message;
  ASSERT_EQ(Changes(*p, feed.cursor, &feed), JSYNC_OK) << err_.message;
  EXPECT_EQ(feed.changed, (std::map<std::string, uint64_t>{{"changes/d/2", 3}}));
}

// Business drives allow delta only on the root: the plugin runs it there and keeps what lies
// in its location under the app folder (the account consented to Files.ReadWrite).
TEST_F(OnedrivePluginTest, BusinessDriveFiltersTheRootDeltaToTheAppFolder) {
  ASSERT_NO_FATAL_FAILURE(Start({"--business"}, {{"scopes", "Files.ReadWrite offline_access"}}));
  auto p = Open();
  Feed feed;
  ASSERT_EQ(Changes(*p, "", &feed), JSYNC_OK) << err_.message;
  const std::string start = feed.cursor;
  ASSERT_EQ(p->Put("changes/d/1", "ours", &err_), JSYNC_OK) << err_.message;
  std::string answer;
  ASSERT_EQ(Graph("PUT", "/v1.0/me/drive/root:/Documents/report.txt:/content", "not ours", &answer),
            201)
      << answer;
  ASSERT_EQ(
      Graph("PUT", "/v1.0/me/drive/special/approot:/elsewhere/x:/content", "nor this", &answer),
      201)
      << answer;
  ASSERT_EQ(Changes(*p, start, &feed), JSYNC_OK) << err_.message;
  EXPECT_EQ(feed.changed, (std::map<std::string, uint64_t>{{"changes/d/1", 4}}));
  ASSERT_EQ(p->Remove("changes/d/1", &err_), JSYNC_OK);
  ASSERT_EQ(Graph("DELETE", "/v1.0/me/drive/root:/Documents/report.txt:", "", &answer), 204);
  ASSERT_EQ(Changes(*p, feed.cursor, &feed), JSYNC_OK) << err_.message;
  EXPECT_TRUE(feed.changed.empty());
  EXPECT_EQ(feed.removed, std::vector<std::string>{"changes/d/1"});
  EXPECT_FALSE(feed.unnamed_removal) << "a deletion elsewhere in the drive is not ours";
  const auto log = Logged("/v1.0/");
  EXPECT_GE(Count(log, "GET", "/me/drive/root/delta"), 3);
  EXPECT_EQ(Count(log, "GET", "/special/approot/delta"), 0);
}

TEST_F(OnedrivePluginTest, BusinessDeltaWithoutConsentSaysWhatToDo) {
  ASSERT_NO_FATAL_FAILURE(Start({"--business"}));
  auto p = Open();
  Feed feed;
  ASSERT_EQ(Changes(*p, "", &feed), JSYNC_AUTH_EXPIRED) << err_.message;
  EXPECT_NE(std::string(err_.message).find("Files.ReadWrite"), std::string::npos) << err_.message;
}

// /me/drive quota; a write that does not fit is QUOTA_EXCEEDED (507 quotaLimitReached), for a
// simple PUT and for an upload session alike.
TEST_F(OnedrivePluginTest, QuotaAndInsufficientStorage) {
  ASSERT_NO_FATAL_FAILURE(Start({"--quota", "400000"}));
  auto p = Open({{"simple_upload_max", "65536"}});
  uint64_t used0 = 0, total0 = 0, used1 = 0, total1 = 0;
  ASSERT_EQ(p->Quota(&used0, &total0, &err_), JSYNC_OK) << err_.message;
  EXPECT_EQ(total0, 400000u);
  ASSERT_EQ(p->Put("q/a", std::string(10000, 'q'), &err_), JSYNC_OK) << err_.message;
  ASSERT_EQ(p->Quota(&used1, &total1, &err_), JSYNC_OK) << err_.message;
  EXPECT_GE(used1, used0 + 10000);
  EXPECT_EQ(p->Put("q/b", std::string(60000, 'r'), &err_), JSYNC_OK) << err_.message;
  int rc = p->Put("q/c", std::string(500000, 's'), &err_);
  EXPECT_EQ(rc, JSYNC_QUOTA_EXCEEDED) << err_.message;
  EXPECT_NE(std::string(err_.message).find("full"), std::string::npos) << err_.message;
  std::string body = std::string(50000, 't');
  for (int i = 0; rc == JSYNC_OK || i == 0; ++i) {
    rc = p->Put("q/fill-" + std::to_string(i), body, &err_);
    if (i > 10) break;
  }
  EXPECT_EQ(rc, JSYNC_QUOTA_EXCEEDED) << err_.message;
  std::string got;
  EXPECT_EQ(p->Get("q/c", &got, &err_), JSYNC_NOT_FOUND) << "nothing stored";
}

// A locked item (423) is retryable; the put goes through on the host's next try.
TEST_F(OnedrivePluginTest, LockedItemIsRetryable) {
  ASSERT_NO_FATAL_FAILURE(Start({"--faults", "423@1"}));
  auto p = Open();
  const int rc = p->Put("l/obj", "locked first", &err_);
  EXPECT_EQ(JSYNC_PRIMARY(rc), JSYNC_RETRYABLE) << err_.message;
  EXPECT_NE(std::string(err_.message).find("423"), std::string::npos) << err_.message;
  ASSERT_EQ(p->Put("l/obj", "locked first", &err_), JSYNC_OK) << err_.message;
}

// Graph's throttling and outages map onto the taxonomy with the wait it asked for (integer and
// decimal Retry-After); messages name the object and never carry a token.
TEST_F(OnedrivePluginTest, ThrottlingAndOutagesAreRetryableWithTheirWait) {
  ASSERT_NO_FATAL_FAILURE(
      Start({"--faults", "429:7@1,503:none@2,509@3,500@4,502@5,504@6,429:2.5@7"}));
  auto p = Open();
  std::string got;
  struct Want {
    int code;
    int64_t wait;
  };
  const std::vector<Want> wants = {
      {JSYNC_RETRYABLE_THROTTLED, 7000}, {JSYNC_RETRYABLE_UNAVAILABLE, -1},
      {JSYNC_RETRYABLE_THROTTLED, -1},   {JSYNC_RETRYABLE_UNAVAILABLE, -1},
      {JSYNC_RETRYABLE_UNAVAILABLE, -1}, {JSYNC_RETRYABLE_UNAVAILABLE, -1},
      {JSYNC_RETRYABLE_THROTTLED, 2500}};
  std::vector<std::string> messages;
  for (size_t i = 0; i < wants.size(); ++i) {
    const int rc = p->Get("x/y", &got, &err_);
    EXPECT_EQ(rc, wants[i].code) << i << ": " << err_.message;
    if (wants[i].wait >= 0) {
      EXPECT_EQ(err_.retry_after_ms, wants[i].wait) << i;
    }
    EXPECT_NE(std::string(err_.message).find("get x/y"), std::string::npos) << err_.message;
    messages.push_back(err_.message);
  }
  EXPECT_EQ(p->Get("x/y", &got, &err_), JSYNC_NOT_FOUND) << err_.message;
  auto secret = gdrive_testing::StoredSecret(home_.path().string(), "onedrive");
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  for (const std::string& m : messages) {
    EXPECT_EQ(m.find(secret->tokens.access_token), std::string::npos) << m;
    EXPECT_EQ(m.find("Bearer"), std::string::npos) << m;
  }
}

// watch: a subscription on the app folder that the emulator validates against a local webhook
// receiver (echoing validationToken), which then hears of a change; watch again renews it with
// PATCH, also from a new instance that finds it by address.
TEST_F(OnedrivePluginTest, SubscriptionIsValidatedNotifiesAndIsRenewed) {
  ASSERT_NO_FATAL_FAILURE(Start());
  std::mutex mu;
  std::vector<json> notifications;
  int validations = 0;
  auto receiver = net::LocalHttpServer::Start([&](const net::LocalRequest& req) {
    const std::string token = req.QueryParam("validationToken");
    std::lock_guard lock(mu);
    if (!token.empty()) {
      ++validations;
      return net::LocalResponse::Text(200, token, "text/plain");
    }
    notifications.push_back(json::parse(req.body, nullptr, false));
    return net::LocalResponse::Text(202, "");
  });
  ASSERT_TRUE(receiver.ok()) << receiver.status().ToString();
  const std::string hook = (*receiver)->base_url() + "/hook";
  auto p = Open();
  EXPECT_EQ(p->Watch("", &err_), JSYNC_INVALID) << "no address configured";
  ASSERT_EQ(p->Watch(hook, &err_), JSYNC_OK) << err_.message;
  ASSERT_EQ(p->Put("changes/d/1", "wake up", &err_), JSYNC_OK) << err_.message;
  for (int i = 0; i < 200; ++i) {  // delivery is asynchronous: wait for it, at most 10 s
    {
      std::lock_guard lock(mu);
      if (!notifications.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(validations, 1);
    ASSERT_FALSE(notifications.empty()) << "no change notification arrived";
    EXPECT_EQ(notifications[0]["value"][0].value("changeType", ""), "updated");
  }
  ASSERT_EQ(p->Watch(hook, &err_), JSYNC_OK) << err_.message;
  ASSERT_EQ(Open()->Watch(hook, &err_), JSYNC_OK) << err_.message;
  const auto log = Logged("/v1.0/subscriptions");
  EXPECT_EQ(Count(log, "POST", "/v1.0/subscriptions"), 1) << "one subscription, renewed";
  EXPECT_EQ(Count(log, "PATCH", "/v1.0/subscriptions/"), 2);
  for (const json& r : log) {
    if (r.value("method", "") != "POST") continue;
    const json body = r.value("body_json", json::object());
    EXPECT_EQ(body.value("changeType", ""), "updated");
    EXPECT_EQ(body.value("resource", ""), "/me/drive/special/approot");
    EXPECT_EQ(body.value("notificationUrl", ""), hook);
    EXPECT_FALSE(body.value("clientState", "").empty());
  }
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(validations, 1) << "a renewal needs no new validation";
  }
}

}  // namespace
}  // namespace jsync
#endif  // __has_include("tests/support/onedrive_emulator.h")

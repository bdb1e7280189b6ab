// The OneDrive plugin against a hostile Microsoft Graph: a loopback server (net::LocalHttpServer)
// that answers each test's requests with what a broken or malicious service might send —
// links to another origin, link loops, gigantic, malformed and mistyped pages, a 302 without
// Location, downloads longer or shorter than asked, a driveItem for another name, upload
// sessions whose nextExpectedRanges are garbage or go backwards, a create answered 200 with
// other bytes, an error body of 10 MB. Each answer must end in one clear error (the slot's
// code, a one-line message naming the operation, no token), bounded in requests and memory,
// and no claim of success the stored bytes do not back. A second server stands for "another
// origin": no request to it may carry the account's Authorization header.
//
// Upload URLs and download links are on other hosts in real Graph (reference/onedrive.md
// §5-6), so those are followed — without credentials; page and delta links must stay on
// api_base's origin.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/http_client.h"
#include "host/plugin_loader.h"
#include "net/local_http_server.h"
#include "providers/onedrive/quickxorhash.h"
#include "tests/support/direct_instance.h"

namespace jsync {
namespace {

using gdrive_testing::DirectInstance;
using nlohmann::json;

#ifdef JSYNC_ONEDRIVE_PLUGIN
constexpr const char* kPluginFile = JSYNC_ONEDRIVE_PLUGIN;
#else
constexpr const char* kPluginFile = "";
#endif

constexpr const char* kToken = "hostile-test-secret-token-0123456789";

// A token the host always sends and can never refresh (a 401 stays a 401).
class StaticToken final : public provider::CredentialSource {
 public:
  Result<std::string> Authorization() override { return std::string("Bearer ") + kToken; }
  Status Refresh() override { return Status(Code::kAuthExpired, "static test token"); }
};

// A loopback server that records every request and answers with the test's handler.
class RecordingServer {
 public:
  using Handler = std::function<net::LocalResponse(const net::LocalRequest&)>;

  static std::unique_ptr<RecordingServer> Start() {
    std::unique_ptr<RecordingServer> s(new RecordingServer());
    RecordingServer* self = s.get();
    auto server = net::LocalHttpServer::Start(
        [self](const net::LocalRequest& req) { return self->Serve(req); });
    if (!server.ok()) return nullptr;
    s->server_ = std::move(server).value();
    return s;
  }
  std::string base() const { return server_->base_url(); }
  void Answer(Handler h) {
    std::lock_guard<std::mutex> lock(mu_);
    handler_ = std::move(h);
  }
  std::vector<net::LocalRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  size_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.size();
  }

 private:
  RecordingServer() = default;
  net::LocalResponse Serve(const net::LocalRequest& req) {
    Handler h;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
      h = handler_;
    }
    if (!h) return GraphError(404, "itemNotFound", "nothing here");
    return h(req);
  }

 public:
  static net::LocalResponse GraphError(int status, const std::string& code,
                                       const std::string& message) {
    return net::LocalResponse::Json(status,
                                    json{{"error", {{"code", code}, {"message", message}}}}.dump());
  }

 private:
  mutable std::mutex mu_;
  Handler handler_;
  std::vector<net::LocalRequest> requests_;
  std::unique_ptr<net::LocalHttpServer> server_;
};

std::string Bytes(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + (i * 131) % 251);
  return s;
}

std::string Hash(const std::string& bytes) {
  return jsync_onedrive::QuickXorHashBase64(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            bytes.size());
}

// A driveItem for a file named `name` holding `bytes`.
json FileItem(const std::string& name, const std::string& bytes, const std::string& id = "F1") {
  return {
      {"id", id},
      {"name", name},
      {"size", bytes.size()},
      {"eTag", "\"{" + id + "},1\""},
      {"lastModifiedDateTime", "2026-01-01T10:00:00Z"},
      {"parentReference", {{"id", "P1"}, {"driveId", "D1"}}},
      {"file",
       {{"mimeType", "application/octet-stream"}, {"hashes", {{"quickXorHash", Hash(bytes)}}}}}};
}

class OnedriveHostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (*kPluginFile == '\0') GTEST_SKIP() << "built without the onedrive plugin";
    auto plugin = provider::LoadPlugin(kPluginFile);
    ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
    plugin_ = *plugin;
    graph_ = RecordingServer::Start();
    foreign_ = RecordingServer::Start();
    ASSERT_NE(graph_, nullptr);
    ASSERT_NE(foreign_, nullptr);
    foreign_->Answer([](const net::LocalRequest&) {
      return net::LocalResponse::Text(200, "foreign bytes", "application/octet-stream");
    });
    json config = {{"api_base", graph_->base()},
                   {"drive_type", "personal"},
                   {"simple_upload_max", "65536"},
                   {"fragment_size", "327680"},
                   {"page_size", "10"}};
    auto d =
        DirectInstance::Open(plugin_, "journal", config.dump(), std::make_shared<StaticToken>());
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    d_ = std::move(d).value();
    d_->http().set_fault_plan(std::nullopt);
  }

  void TearDown() override {
    if (foreign_ == nullptr) return;
    // No request to another origin may carry the account's credentials, in any test.
    for (const net::LocalRequest& r : foreign_->requests()) {
      EXPECT_EQ(r.Header("authorization"), "") << r.method << " " << r.target;
      for (const auto& [k, v] : r.headers) EXPECT_EQ(v.find(kToken), std::string::npos) << k;
      EXPECT_EQ(r.target.find(kToken), std::string::npos);
    }
  }

  // The slot's message: one line naming the operation, bounded, no token, no link.
  void ExpectClearMessage(const std::string& op) {
    const std::string m(err_.message, strnlen(err_.message, sizeof err_.message));
    EXPECT_TRUE(m.starts_with("OneDrive " + op)) << m;
    EXPECT_LT(m.size(), 400u) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_EQ(m.find(kToken), std::string::npos) << m;
    EXPECT_EQ(m.find(foreign_->base()), std::string::npos) << "a link in the message: " << m;
  }
  std::string Message() const {
    return std::string(err_.message, strnlen(err_.message, sizeof err_.message));
  }

  // Graph requests whose decoded path contains `part`.
  size_t GraphRequests(const std::string& part) const {
    size_t n = 0;
    for (const auto& r : graph_->requests()) n += r.path.find(part) != std::string::npos;
    return n;
  }

  provider::PluginInfo plugin_;
  std::unique_ptr<RecordingServer> graph_;
  std::unique_ptr<RecordingServer> foreign_;
  std::unique_ptr<DirectInstance> d_;
  jsync_error err_{-1, {0}};
};

bool IsChildren(const net::LocalRequest& r) {
  return r.path.find(":/children") != std::string::npos;
}
bool IsDelta(const net::LocalRequest& r) { return r.path.find("/delta") != std::string::npos; }

// ---- links to another origin -------------------------------------------------------------------

TEST_F(OnedriveHostileTest, ForeignNextLinkIsRefused) {
  const std::string foreign = foreign_->base() + "/v1.0/me/drive/items/x/children?$skiptoken=2";
  graph_->Answer([&](const net::LocalRequest&) {
    return net::LocalResponse::Json(
        200,
        json{{"value", json::array({FileItem("a", "aaa")})}, {"@odata.nextLink", foreign}}.dump());
  });
  DirectInstance::Page page;
  const int rc = d_->ListPage("", "", &page, &err_);
  EXPECT_EQ(rc, JSYNC_FATAL) << Message();
  ExpectClearMessage("list");
  EXPECT_TRUE(page.next.empty()) << "a page token that leads away from api_base";
  EXPECT_EQ(foreign_->count(), 0u);
}

TEST_F(OnedriveHostileTest, ForeignDeltaLinksAreRefused) {
  const std::string foreign = foreign_->base() + "/v1.0/me/drive/special/approot/delta?token=x";
  // The start cursor.
  graph_->Answer([&](const net::LocalRequest&) {
    return net::LocalResponse::Json(
        200, json{{"value", json::array()}, {"@odata.deltaLink", foreign}}.dump());
  });
  DirectInstance::Page page;
  EXPECT_EQ(d_->Changes("", &page, &err_), JSYNC_FATAL) << Message();
  ExpectClearMessage("changes");
  EXPECT_TRUE(page.next.empty());
  // A page of a round that leads away.
  graph_->Answer([&](const net::LocalRequest& r) {
    if (!IsDelta(r)) {
      return net::LocalResponse::Json(200, json{{"id", "ROOT"}, {"name", "app"}}.dump());
    }
    return net::LocalResponse::Json(
        200, json{{"value", json::array()}, {"@odata.nextLink", foreign}}.dump());
  });
  const std::string cursor = graph_->base() + "/v1.0/me/drive/special/approot/delta?token=1";
  EXPECT_EQ(d_->Changes(cursor, &page, &err_), JSYNC_FATAL) << Message();
  ExpectClearMessage("changes");
  // A cursor that is not this api_base's is not followed at all.
  EXPECT_EQ(d_->Changes(foreign, &page, &err_), JSYNC_NOT_FOUND_CURSOR_EXPIRED) << Message();
  ExpectClearMessage("changes");
  EXPECT_EQ(foreign_->count(), 0u);
}

TEST_F(OnedriveHostileTest, ForeignUploadUrlGetsNoCredentials) {
  const std::string bytes = Bytes(100000, 'u');  // one session fragment
  foreign_->Answer([&](const net::LocalRequest& r) {
    if (r.method == "PUT" && r.body == bytes) {
      return net::LocalResponse::Json(201, FileItem("big", bytes).dump());
    }
    return RecordingServer::GraphError(400, "invalidRequest", "unexpected");
  });
  graph_->Answer([&](const net::LocalRequest& r) {
    if (r.path.find("createUploadSession") != std::string::npos) {
      return net::LocalResponse::Json(
          200, json{{"uploadUrl", foreign_->base() + "/up/session-1?tempauth=abc"},
                    {"nextExpectedRanges", {"0-"}}}
                   .dump());
    }
    return net::LocalResponse::Json(201, json{{"id", "FOLDER"}, {"name", "journal"}}.dump());
  });
  EXPECT_EQ(d_->Put("big", bytes, &err_), JSYNC_OK) << Message();
  EXPECT_EQ(foreign_->count(), 1u);
  // Graph itself does get the account's token (the check above is not vacuous).
  ASSERT_GT(graph_->count(), 0u);
  EXPECT_EQ(graph_->requests()[0].Header("authorization"), std::string("Bearer ") + kToken);

  // An uploadUrl that is no http(s) URL is not used.
  graph_->Answer([&](const net::LocalRequest& r) {
    if (r.path.find("createUploadSession") != std::string::npos) {
      return net::LocalResponse::Json(200, json{{"uploadUrl", "file:///etc/passwd"}}.dump());
    }
    return net::LocalResponse::Json(201, json{{"id", "FOLDER"}, {"name", "journal"}}.dump());
  });
  EXPECT_EQ(JSYNC_PRIMARY(d_->Put("big2", bytes, &err_)), JSYNC_RETRYABLE) << Message();
  ExpectClearMessage("put big2");
}

TEST_F(OnedriveHostileTest, ForeignDownloadLinkGetsNoCredentials) {
  const std::string bytes = Bytes(5000, 'd');
  foreign_->Answer([&](const net::LocalRequest&) {
    return net::LocalResponse::Text(200, bytes, "application/octet-stream");
  });
  graph_->Answer([&](const net::LocalRequest&) {
    net::LocalResponse r = net::LocalResponse::Text(302, "");
    r.headers.emplace_back("Location", foreign_->base() + "/dl/obj?tempauth=xyz");
    return r;
  });
  std::string got;
  ASSERT_EQ(d_->Get("obj", &got, &err_), JSYNC_OK) << Message();
  EXPECT_EQ(got, bytes);
  EXPECT_EQ(foreign_->count(), 1u);
  // A link that is no http(s) URL is not followed.
  graph_->Answer([&](const net::LocalRequest&) {
    net::LocalResponse r = net::LocalResponse::Text(302, "");
    r.headers.emplace_back("Location", "ftp://" + foreign_->base().substr(7) + "/dl");
    return r;
  });
  EXPECT_EQ(d_->Get("obj", &got, &err_), JSYNC_RETRYABLE_UNAVAILABLE) << Message();
  ExpectClearMessage("get obj");
  EXPECT_EQ(foreign_->count(), 1u);
}

// ---- redirects and loops -----------------------------------------------------------------------

TEST_F(OnedriveHostileTest, RedirectWithoutLocationFails) {
  graph_->Answer([](const net::LocalRequest&) { return net::LocalResponse::Text(302, ""); });
  std::string got;
  EXPECT_EQ(d_->Get("obj", &got, &err_), JSYNC_RETRYABLE_UNAVAILABLE) << Message();
  ExpectClearMessage("get obj");
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(graph_->count(), 1u) << "one answer without a link is not asked again and again";
}

// A Graph call (with the account's token) answered by a redirect elsewhere: not followed, so
// the token never travels there; a redirecting api_base is a configuration to fix (INVALID).
TEST_F(OnedriveHostileTest, RedirectOfGraphCallIsNotFollowed) {
  graph_->Answer([&](const net::LocalRequest&) {
    net::LocalResponse r = net::LocalResponse::Text(307, "");
    r.headers.emplace_back("Location", foreign_->base() + "/v1.0/me/drive/special/approot");
    return r;
  });
  DirectInstance::Page page;
  EXPECT_EQ(d_->ListPage("", "", &page, &err_), JSYNC_INVALID) << Message();
  ExpectClearMessage("list");
  EXPECT_EQ(d_->Remove("obj", &err_), JSYNC_INVALID) << Message();
  ExpectClearMessage("remove obj");
  EXPECT_EQ(foreign_->count(), 0u);
}

TEST_F(OnedriveHostileTest, RepeatedNextLinkStops) {
  // Every page names itself as the next one.
  graph_->Answer([&](const net::LocalRequest& r) {
    return net::LocalResponse::Json(200, json{{"value", json::array({FileItem("a", "aaa")})},
                                              {"@odata.nextLink", graph_->base() + r.target}}
                                             .dump());
  });
  DirectInstance::Page page;
  EXPECT_EQ(d_->ListPage("", "", &page, &err_), JSYNC_RETRYABLE_UNAVAILABLE) << Message();
  ExpectClearMessage("list");
  // The delta feed: the same nextLink again.
  const std::string cursor = graph_->base() + "/v1.0/me/drive/special/approot/delta?token=1";
  graph_->Answer([&](const net::LocalRequest& r) {
    if (!IsDelta(r)) return net::LocalResponse::Json(200, json{{"id", "ROOT"}}.dump());
    return net::LocalResponse::Json(
        200, json{{"value", json::array()}, {"@odata.nextLink", cursor}}.dump());
  });
  const size_t before = graph_->count();
  EXPECT_EQ(d_->Changes(cursor, &page, &err_), JSYNC_RETRYABLE_UNAVAILABLE) << Message();
  ExpectClearMessage("changes");
  EXPECT_LE(graph_->count() - before, 3u);
}

// Two links that name each other: the plugin must notice within a bounded number of pages.
TEST_F(OnedriveHostileTest, NextLinkCycleIsBounded) {
  // In the delta round the server gives up (503) after this many requests; the list loop
  // below bounds itself.
  constexpr size_t kPatience = 300;
  std::atomic<bool> patient{true};
  graph_->Answer([&](const net::LocalRequest& r) {
    if (patient && graph_->count() > kPatience) {
      return RecordingServer::GraphError(503, "x", "enough");
    }
    if (!IsChildren(r) && !IsDelta(r) && r.path.find("/cycle/") == std::string::npos) {
      return net::LocalResponse::Json(200, json{{"id", "ROOT"}}.dump());
    }
    const bool at_a = r.path.find("/cycle/a") != std::string::npos;
    const std::string next = graph_->base() + (at_a ? "/v1.0/cycle/b" : "/v1.0/cycle/a");
    return net::LocalResponse::Json(
        200, json{{"value", json::array()}, {"@odata.nextLink", next}}.dump());
  });
  // changes: one call follows pages itself.
  const size_t before = graph_->count();
  DirectInstance::Page page;
  const std::string cursor = graph_->base() + "/v1.0/cycle/a";
  int rc = d_->Changes(cursor, &page, &err_);
  EXPECT_NE(rc, JSYNC_OK);
  ExpectClearMessage("changes");
  EXPECT_LT(graph_->count() - before, 100u)
      << "the delta round went round a two-link cycle until the server gave up: " << Message();
  // list: the host follows page tokens; it stops only on a token repeated at once.
  patient = false;
  std::string token;
  rc = JSYNC_OK;
  int pages = 0;
  for (; pages < 200; ++pages) {
    rc = d_->ListPage("", token, &page, &err_);
    if (rc != JSYNC_OK || page.next.empty() || page.next == token) break;
    token = page.next;
  }
  EXPECT_NE(rc, JSYNC_OK) << "the listing went round a two-link cycle " << pages << " times";
  if (rc != JSYNC_OK) ExpectClearMessage("list");
}

// ---- oversized, malformed and mistyped answers -------------------------------------------------

TEST_F(OnedriveHostileTest, GiganticPageIsRefused) {
  std::string huge = "{\"value\":[],\"padding\":\"" + std::string(20u << 20, 'x') + "\"}";
  graph_->Answer([&](const net::LocalRequest&) { return net::LocalResponse::Json(200, huge); });
  DirectInstance::Page page;
  EXPECT_EQ(d_->ListPage("", "", &page, &err_), JSYNC_FATAL) << Message();
  ExpectClearMessage("list");
  EXPECT_TRUE(page.objects.empty());
  EXPECT_EQ(d_->Changes("", &page, &err_), JSYNC_FATAL) << Message();
  ExpectClearMessage("changes");
}

TEST_F(OnedriveHostileTest, MalformedAndTruncatedJsonFails) {
  const std::string full =
      json{{"value", json::array({FileItem("a", "aaa"), FileItem("b", "bbbb", "F2")})}}.dump();
  for (const std::string& body :
       {full.substr(0, full.size() / 2), std::string("<html>Service down</html>"), std::string(""),
        std::string("[1,2,3]"), std::string("\"value\"")}) {
    graph_->Answer([&](const net::LocalRequest&) { return net::LocalResponse::Json(200, body); });
    DirectInstance::Page page;
    EXPECT_EQ(d_->ListPage("", "", &page, &err_), JSYNC_RETRYABLE_UNAVAILABLE)
        << body.substr(0, 40) << ": " << Message();
    ExpectClearMessage("list");
    EXPECT_TRUE(page.objects.empty());
    EXPECT_EQ(d_->Changes("", &page, &err_), JSYNC_RETRYABLE_UNAVAILABLE) << Message();
    ExpectClearMessage("changes");
    EXPECT_TRUE(page.next.empty()) << "a cursor from a broken answer";
  }
  // The connection closes mid-body (Content-Length promised more).
  graph_->Answer([&](const net::LocalRequest&) {
    net::LocalResponse r = net::LocalResponse::Json(200, full);
    r.truncate_body_at = static_cast<int64_t>(full.size() / 2);
    return r;
  });
  DirectInstance::Page page;
  EXPECT_EQ(JSYNC_PRIMARY(d_->ListPage("", "", &page, &err_)), JSYNC_RETRYABLE) << Message();
  ExpectClearMessage("list");
}

TEST_F(OnedriveHostileTest, WrongJsonTypesFail) {
  // A file whose size is a string: a listing must not report it with a size it did not read.
  json item = FileItem("a", "aaa");
  item["size"] = "3";
  graph_->Answer([&](const net::LocalRequest&) {
    return net::LocalResponse::Json(200, json{{"value", json::array({item})}}.dump());
  });
  DirectInstance::Page page;
  int rc = d_->ListPage("", "", &page, &err_);
  for (const auto& o : page.objects) {
    EXPECT_FALSE(o.path == "a" && o.size != 3) << "reported with size " << o.size;
  }
  EXPECT_EQ(rc, JSYNC_RETRYABLE_UNAVAILABLE) << Message();
  if (rc != JSYNC_OK) ExpectClearMessage("list");
  // `value` that is not an array is no empty page.
  graph_->Answer([&](const net::LocalRequest&) {
    return net::LocalResponse::Json(200, json{{"value", {{"id", "F1"}}}}.dump());
  });
  rc = d_->ListPage("", "", &page, &err_);
  EXPECT_EQ(rc, JSYNC_RETRYABLE_UNAVAILABLE) << "an unreadable page listed as empty";
  if (rc != JSYNC_OK) ExpectClearMessage("list");
  // The same in a delta round: the cursor must not move past changes never reported.
  const std::string cursor = graph_->base() + "/v1.0/me/drive/special/approot/delta?token=1";
  graph_->Answer([&](const net::LocalRequest& r) {
    if (!IsDelta(r)) return net::LocalResponse::Json(200, json{{"id", "ROOT"}}.dump());
    return net::LocalResponse::Json(
        200, json{{"value", "three changes"},
                  {"@odata.deltaLink", graph_->base() + "/v1.0/me/drive/special/approot/"
                                                        "delta?token=2"}}
                 .dump());
  });
  rc = d_->Changes(cursor, &page, &err_);
  EXPECT_EQ(rc, JSYNC_RETRYABLE_UNAVAILABLE) << "cursor moved to " << page.next;
  if (rc != JSYNC_OK) ExpectClearMessage("changes");
  // Quota numbers as strings are no quota.
  graph_->Answer([&](const net::LocalRequest&) {
    return net::LocalResponse::Json(
        200, json{{"id", "D1"}, {"quota", {{"used", "5"}, {"total", "1000"}}}}.dump());
  });
  uint64_t used = 7, total = 7;
  rc = d_->Quota(&used, &total, &err_);
  EXPECT_TRUE(rc != JSYNC_OK || (used == 0 && total == 0))
      << "quota read from strings: " << used << "/" << total;
}

// ---- downloads ---------------------------------------------------------------------------------

TEST_F(OnedriveHostileTest, DownloadLongerThanAskedIsCut) {
  const std::string bytes = Bytes(1000, 'l');
  // The link ignores the Range and sends the whole file.
  foreign_->Answer([&](const net::LocalRequest&) {
    return net::LocalResponse::Text(200, bytes, "application/octet-stream");
  });
  graph_->Answer([&](const net::LocalRequest&) {
    net::LocalResponse r = net::LocalResponse::Text(302, "");
    r.headers.emplace_back("Location", foreign_->base() + "/dl");
    return r;
  });
  std::string got;
  ASSERT_EQ(d_->Get("obj", &got, &err_, 100, 10), JSYNC_OK) << Message();
  EXPECT_EQ(got, bytes.substr(100, 10));
  // A 206 that starts earlier than asked and runs longer.
  foreign_->Answer([&](const net::LocalRequest&) {
    net::LocalResponse r =
        net::LocalResponse::Text(206, bytes.substr(50, 500), "application/octet-stream");
    r.headers.emplace_back("Content-Range", "bytes 50-549/1000");
    return r;
  });
  ASSERT_EQ(d_->Get("obj", &got, &err_, 100, 10), JSYNC_OK) << Message();
  EXPECT_EQ(got, bytes.substr(100, 10));
}

TEST_F(OnedriveHostileTest, DownloadShorterThanAskedFails) {
  const std::string bytes = Bytes(1000, 's');
  graph_->Answer([&](const net::LocalRequest&) {
    net::LocalResponse r = net::LocalResponse::Text(302, "");
    r.headers.emplace_back("Location", foreign_->base() + "/dl");
    return r;
  });
  // The connection closes after half the promised body.
  foreign_->Answer([&](const net::LocalRequest&) {
    net::LocalResponse r = net::LocalResponse::Text(200, bytes, "application/octet-stream");
    r.truncate_body_at = 500;
    return r;
  });
  std::string got;
  EXPECT_EQ(JSYNC_PRIMARY(d_->Get("obj", &got, &err_)), JSYNC_RETRYABLE) << Message();
  ExpectClearMessage("get obj");
  // A 206 that claims bytes 0-99 of 1000 and holds 50 of them.
  foreign_->Answer([&](const net::LocalRequest&) {
    net::LocalResponse r =
        net::LocalResponse::Text(206, bytes.substr(0, 50), "application/octet-stream");
    r.headers.emplace_back("Content-Range", "bytes 0-99/1000");
    return r;
  });
  const int rc = d_->Get("obj", &got, &err_, 0, 100);
  EXPECT_EQ(rc, JSYNC_RETRYABLE_UNAVAILABLE)
      << "a short range reported as the whole answer (" << got.size() << " bytes)";
  if (rc != JSYNC_OK) ExpectClearMessage("get obj");
}

// ---- creates and answers about another item ----------------------------------------------------

// A taken name is compared with what is there; an answer about another item proves nothing.
TEST_F(OnedriveHostileTest, ItemNamedOtherwiseIsNotOurs) {
  const std::string bytes = "the same bytes";
  graph_->Answer([&](const net::LocalRequest& r) {
    if (r.method == "PUT") return RecordingServer::GraphError(409, "nameAlreadyExists", "taken");
    return net::LocalResponse::Json(200, FileItem("someone-else.chg", bytes).dump());
  });
  int rc = d_->Put("dev/000001.chg", bytes, &err_);
  EXPECT_NE(rc, JSYNC_OK) << "a create counted as done from another item's metadata";
  EXPECT_TRUE(JSYNC_PRIMARY(rc) == JSYNC_RETRYABLE || JSYNC_PRIMARY(rc) == JSYNC_FATAL)
      << rc << ": " << Message();
  if (rc != JSYNC_OK) ExpectClearMessage("put dev/000001.chg");
  // A create answered with a driveItem of another name.
  graph_->Answer([&](const net::LocalRequest&) {
    return net::LocalResponse::Json(201, FileItem("someone-else.chg", bytes).dump());
  });
  rc = d_->Put("dev/000002.chg", bytes, &err_);
  EXPECT_NE(rc, JSYNC_OK) << "a create answered about another item counted as done";
  if (rc != JSYNC_OK) ExpectClearMessage("put dev/000002.chg");
  // OneDrive names are case-insensitive: the same name in another case is the same item.
  graph_->Answer([&](const net::LocalRequest&) {
    return net::LocalResponse::Json(201, FileItem("000003.CHG", bytes).dump());
  });
  EXPECT_EQ(d_->Put("dev/000003.chg", bytes, &err_), JSYNC_OK) << Message();
}

// conflictBehavior fail should answer 409 for a taken name; a 200 whose item holds other bytes
// is no successful create.
TEST_F(OnedriveHostileTest, CreateAnsweredWithOtherBytesIsNoSuccess) {
  const std::string ours = Bytes(300, 'o');
  const std::string theirs = Bytes(280, 't');
  graph_->Answer([&](const net::LocalRequest&) {
    return net::LocalResponse::Json(200, FileItem("obj", theirs).dump());
  });
  int rc = d_->Put("obj", ours, &err_);
  EXPECT_NE(rc, JSYNC_OK) << "success claimed though the stored size differs";
  if (rc != JSYNC_OK) ExpectClearMessage("put obj");
  // Same size, other hash.
  const std::string same_size = Bytes(300, 'x');
  graph_->Answer([&](const net::LocalRequest&) {
    return net::LocalResponse::Json(200, FileItem("obj", same_size).dump());
  });
  rc = d_->Put("obj", ours, &err_);
  EXPECT_NE(rc, JSYNC_OK) << "success claimed though the stored hash differs";
  if (rc != JSYNC_OK) ExpectClearMessage("put obj");
  // A session whose completion answer holds other bytes.
  const std::string big = Bytes(100000, 'b');
  foreign_->Answer([&](const net::LocalRequest&) {
    return net::LocalResponse::Json(201, FileItem("big", Bytes(99999, 'b')).dump());
  });
  graph_->Answer([&](const net::LocalRequest& r) {
    if (r.path.find("createUploadSession") != std::string::npos) {
      return net::LocalResponse::Json(200, json{{"uploadUrl", foreign_->base() + "/up/1"}}.dump());
    }
    return net::LocalResponse::Json(201, json{{"id", "FOLDER"}, {"name", "journal"}}.dump());
  });
  rc = d_->Put("big", big, &err_);
  EXPECT_NE(rc, JSYNC_OK) << "an upload session counted as done with other bytes stored";
  if (rc != JSYNC_OK) ExpectClearMessage("put big");
}

// ---- upload sessions ---------------------------------------------------------------------------

TEST_F(OnedriveHostileTest, GarbageExpectedRangesAreNotTrusted) {
  const std::string big = Bytes(6 * 327680, 'g');
  std::mutex mu;
  std::string received(big.size(), '\0');
  std::atomic<int> fragments{0};
  const std::vector<json> garbage = {json::array({"zz-"}),
                                     json("0-"),
                                     json::array({123}),
                                     json::array({"-"}),
                                     json::array({"99999999999999999999-"}),
                                     json::array({"1000000000000000000-"})};
  foreign_->Answer([&](const net::LocalRequest& r) {
    if (r.method != "PUT") {
      return net::LocalResponse::Json(200, json{{"nextExpectedRanges", garbage[0]}}.dump());
    }
    const int n = fragments++;
    unsigned long long first = 0, last = 0, total = 0;
    if (std::sscanf(r.Header("content-range").c_str(), "bytes %llu-%llu/%llu", &first, &last,
                    &total) == 3 &&
        last < received.size()) {
      std::lock_guard<std::mutex> lock(mu);
      received.replace(first, r.body.size(), r.body);
    }
    if (last + 1 >= big.size()) {
      return net::LocalResponse::Json(201, FileItem("big", received).dump());
    }
    return net::LocalResponse::Json(
        202, json{{"nextExpectedRanges", garbage[static_cast<size_t>(n) % garbage.size()]}}.dump());
  });
  graph_->Answer([&](const net::LocalRequest& r) {
    if (r.path.find("createUploadSession") != std::string::npos) {
      return net::LocalResponse::Json(
          200,
          json{{"uploadUrl", foreign_->base() + "/up/g"}, {"nextExpectedRanges", {"x"}}}.dump());
    }
    return net::LocalResponse::Json(201, json{{"id", "FOLDER"}, {"name", "journal"}}.dump());
  });
  EXPECT_EQ(d_->Put("big", big, &err_), JSYNC_OK) << Message();
  EXPECT_EQ(received, big) << "a byte range was skipped on a garbage nextExpectedRanges";
  EXPECT_LE(fragments.load(), 8);
}

TEST_F(OnedriveHostileTest, ExpectedRangesGoingBackwardsStop) {
  const std::string big = Bytes(3 * 327680, 'k');
  std::atomic<int> fragments{0};
  foreign_->Answer([&](const net::LocalRequest& r) {
    if (r.method == "PUT") ++fragments;
    // Whatever arrives, the session claims it still expects everything.
    return net::LocalResponse::Json(
        r.method == "PUT" ? 202 : 200,
        json{{"expirationDateTime", "2030-01-01T00:00:00Z"}, {"nextExpectedRanges", {"0-"}}}
            .dump());
  });
  graph_->Answer([&](const net::LocalRequest& r) {
    if (r.path.find("createUploadSession") != std::string::npos) {
      return net::LocalResponse::Json(200, json{{"uploadUrl", foreign_->base() + "/up/b"}}.dump());
    }
    return net::LocalResponse::Json(201, json{{"id", "FOLDER"}, {"name", "journal"}}.dump());
  });
  EXPECT_EQ(d_->Put("big", big, &err_), JSYNC_RETRYABLE_UNAVAILABLE) << Message();
  ExpectClearMessage("put big");
  EXPECT_LE(fragments.load(), 12) << "fragments sent to a session that never moves on";
  // The host retries the put: bounded again, never a success.
  const int before = fragments.load();
  EXPECT_EQ(JSYNC_PRIMARY(d_->Put("big", big, &err_)), JSYNC_RETRYABLE) << Message();
  EXPECT_LE(fragments.load() - before, 12);
}

TEST_F(OnedriveHostileTest, SessionStillWaitingAfterLastFragmentIsNoSuccess) {
  const std::string big = Bytes(2 * 327680, 'w');
  std::atomic<int> fragments{0};
  std::atomic<int> empty_ranges{0};
  foreign_->Answer([&](const net::LocalRequest& r) {
    if (r.method == "PUT") {
      ++fragments;
      if (r.body.empty()) ++empty_ranges;
    }
    // Every fragment "accepted", but the session never completes.
    return net::LocalResponse::Json(202, json{{"nextExpectedRanges", json::array()}}.dump());
  });
  graph_->Answer([&](const net::LocalRequest& r) {
    if (r.path.find("createUploadSession") != std::string::npos) {
      return net::LocalResponse::Json(200, json{{"uploadUrl", foreign_->base() + "/up/w"}}.dump());
    }
    return net::LocalResponse::Json(201, json{{"id", "FOLDER"}, {"name", "journal"}}.dump());
  });
  const int rc = d_->Put("big", big, &err_);
  EXPECT_EQ(JSYNC_PRIMARY(rc), JSYNC_RETRYABLE) << Message();
  ExpectClearMessage("put big");
  EXPECT_LE(fragments.load(), 8);
  EXPECT_EQ(empty_ranges.load(), 0) << "empty fragments with an impossible Content-Range";
}

// ---- error bodies ------------------------------------------------------------------------------

TEST_F(OnedriveHostileTest, HugeErrorMessageStaysBounded) {
  const std::string huge(10u << 20, 'm');
  graph_->Answer([&](const net::LocalRequest&) {
    return RecordingServer::GraphError(500, "generalException", huge);
  });
  std::string got;
  EXPECT_EQ(d_->Get("obj", &got, &err_), JSYNC_RETRYABLE_UNAVAILABLE) << Message();
  ExpectClearMessage("get obj");
  DirectInstance::Page page;
  EXPECT_EQ(d_->ListPage("", "", &page, &err_), JSYNC_RETRYABLE_UNAVAILABLE) << Message();
  ExpectClearMessage("list");
  // A readable envelope with a long message: cut, still one line.
  const std::string lines = "first line\nsecond line\r\n" + std::string(5000, 'z');
  graph_->Answer([&](const net::LocalRequest&) {
    return RecordingServer::GraphError(400, "invalidRequest", lines);
  });
  EXPECT_EQ(d_->Remove("obj", &err_), JSYNC_INVALID) << Message();
  ExpectClearMessage("remove obj");
}

// A server that echoes the request's Authorization header in its error message: the slot's
// message must not carry it.
TEST_F(OnedriveHostileTest, ErrorEchoingTheTokenIsScrubbed) {
  graph_->Answer([&](const net::LocalRequest& r) {
    return RecordingServer::GraphError(403, "forbidden",
                                       "token " + r.Header("authorization") + " is not allowed");
  });
  std::string got;
  const int rc = d_->Get("obj", &got, &err_);
  EXPECT_NE(rc, JSYNC_OK);
  ExpectClearMessage("get obj");
}

TEST_F(OnedriveHostileTest, AbsurdRetryAfterIsBounded) {
  for (const std::string& value :
       {std::string("99999999999999999999"), std::string("1e300"), std::string("-5"),
        std::string("Thu, 01 Jan 9999 00:00:00 GMT"), std::string("soon")}) {
    graph_->Answer([&](const net::LocalRequest&) {
      net::LocalResponse r = RecordingServer::GraphError(429, "activityLimitReached", "slow");
      r.headers.emplace_back("Retry-After", value);
      return r;
    });
    std::string got;
    EXPECT_EQ(d_->Get("obj", &got, &err_), JSYNC_RETRYABLE_THROTTLED) << value;
    ExpectClearMessage("get obj");
    EXPECT_LE(err_.retry_after_ms, 24LL * 3600 * 1000) << value;
    EXPECT_GE(err_.retry_after_ms, -1) << value;
  }
}

TEST_F(OnedriveHostileTest, SubscriptionAnswerWithoutIdFails) {
  graph_->Answer([&](const net::LocalRequest& r) {
    if (r.method == "GET") {
      return net::LocalResponse::Json(200, json{{"value", "not a list"}}.dump());
    }
    return net::LocalResponse::Json(201, json{{"id", 42}, {"resource", "/me/drive"}}.dump());
  });
  EXPECT_EQ(d_->Watch("https://hooks.example.com/jsync", &err_), JSYNC_RETRYABLE_UNAVAILABLE)
      << Message();
  ExpectClearMessage("watch");
}

}  // namespace
}  // namespace jsync

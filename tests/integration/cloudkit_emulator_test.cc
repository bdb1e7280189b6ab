// The CloudKit Web Services emulator (tools/emulators/cloudkit, `jsync-emulator cloudkit`)
// against ../shared/reference/icloud.md §1-5 and the contract in tools/emulators/README.md
// ("CloudKit"): sign-in and per-answer token rotation, ADP, zones, the seven record operation
// types, atomic batches, the change feed, assets, quota, faults, subscriptions and the courier,
// the request log and persistence. Every test starts its own emulator on a fresh state folder;
// requests are raw libcurl so the checks are on the wire format.
#include "tests/support/cloudkit_emulator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "auth/cloudkit_flow.h"
#include "net/local_http_server.h"
#include "tests/support/cloudkit_shapes.h"

namespace jsync::testing {
namespace {

using nlohmann::json;

struct Resp : HttpReply {
  Resp() = default;
  Resp(HttpReply r) : HttpReply(std::move(r)) {}  // NOLINT: implicit on purpose
  std::string Code() const {
    const json j = Json();
    return j.is_object() ? j.value("serverErrorCode", "") : "";
  }
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

std::string Base64(const std::string& bytes) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(k[(v >> s) & 63]);
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = uint8_t(bytes[i]) << 16;
    out += {k[(v >> 18) & 63], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += {k[(v >> 18) & 63], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

std::string Base64Decode(const std::string& in) {
  static const std::string k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    acc = (acc << 6) | static_cast<uint32_t>(k.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string Pattern(size_t n, uint8_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 31 + seed) & 0xff);
  return s;
}

json ZoneId(const std::string& name) { return {{"zoneName", name}}; }

json Rec(const std::string& name, json fields = json::object(), const std::string& tag = "") {
  json r = {{"recordName", name}, {"recordType", "JFile"}, {"fields", fields}};
  if (!tag.empty()) r["recordChangeTag"] = tag;
  return r;
}

json Op(const std::string& type, json record) {
  return {{"operationType", type}, {"record", std::move(record)}};
}

json Str(const std::string& v) { return {{"value", v}}; }

// Polls `pred` every 50 ms until it holds or `ms` pass.
template <typename Pred>
bool Eventually(Pred pred, int ms = 5000) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

class CloudKitEmulatorTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args = {}, bool sign_in = true, bool auto_approve = true) {
    CloudKitEmulatorOptions o;
    o.args = std::move(args);
    o.auto_approve = auto_approve;
    if (!state_.empty()) o.state_dir = state_;
    std::string error;
    emu_ = CloudKitEmulator::Start(o, &error);
    ASSERT_TRUE(emu_) << error;
    state_ = emu_->state_dir();
    if (sign_in) {
      token_ = emu_->SignIn(&error);
      ASSERT_FALSE(token_.empty()) << error;
    }
  }
  std::string Url(const std::string& db_op, const std::string& token) const {
    std::string u = emu_->api_base() + "/" + db_op + "?ckAPIToken=" +
                    UrlEscape(CloudKitEmulator::kApiToken);
    if (!token.empty()) u += "&ckWebAuthToken=" + UrlEscape(token);
    return u;
  }
  // One API call with the current token; the rotated token replaces it.
  Resp Api(const std::string& method, const std::string& db_op, const json& body = nullptr,
           const std::string& content_type = "application/json") {
    Resp r = RawHttp(method, Url(db_op, token_), {"Content-Type: " + content_type},
                     body.is_null() ? "" : body.dump());
    const std::string next = r.Header("x-apple-cloudkit-web-auth-token");
    if (!next.empty()) token_ = next;
    return r;
  }
  Resp Post(const std::string& db_op, const json& body) { return Api("POST", db_op, body); }
  void CreateZone(const std::string& name) {
    Resp r = Post("private/zones/modify",
                  {{"operations", {{{"operationType", "create"}, {"zone", {{"zoneID", ZoneId(name)}}}}}}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // records/modify in zone `zone`; the answer.
  // `ops` is a vector, not a json: `{Op(...)}` as a json would be the one object itself with
  // clang (CWG 2137), an array of it with GCC.
  Resp Modify(const std::string& zone, std::vector<json> ops, json extra = json::object()) {
    json body = {{"operations", json(std::move(ops))}, {"zoneID", ZoneId(zone)}};
    for (auto& [k, v] : extra.items()) body[k] = v;
    return Post("private/records/modify", body);
  }
  json Lookup(const std::string& zone, const std::string& name) {
    Resp r = Post("private/records/lookup",
                  {{"records", {{{"recordName", name}}}}, {"zoneID", ZoneId(zone)}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json()["records"][0];
  }
  json ChangesZone(const std::string& zone, const std::string& token, int limit = 0) {
    json z = {{"zoneID", ZoneId(zone)}};
    if (!token.empty()) z["syncToken"] = token;
    if (limit > 0) z["resultsLimit"] = limit;
    Resp r = Post("private/changes/zone", {{"zones", json::array({z})}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json()["zones"][0];
  }
  std::string U(const std::string& path) const { return emu_->base_url() + path; }
  void Restart(std::vector<std::string> args = {}) {
    emu_->Stop();
    auto keep = std::move(emu_);
    Start(std::move(args), false);
    keep_.push_back(std::move(keep));
  }

  std::unique_ptr<CloudKitEmulator> emu_;
  std::vector<std::unique_ptr<CloudKitEmulator>> keep_;
  std::filesystem::path state_;
  std::string token_;
};

// ---- auth -------------------------------------------------------------------------------------

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorAuthNeedsSignInAndRotatesEveryToken) {
  Start({}, false);
  Resp none = RawHttp("GET", Url("private/users/caller", ""));
  EXPECT_EQ(none.status, 421);
  EXPECT_EQ(none.Code(), "AUTHENTICATION_REQUIRED");
  EXPECT_EQ(none.Json().value("reason", ""), "request needs authorization");
  EXPECT_EQ(none.Json().value("redirectURL", "").rfind(emu_->base_url() + "/signin?", 0), 0u);
  EXPECT_FALSE(none.Json().value("uuid", "").empty());
  EXPECT_EQ(none.Header("x-apple-cloudkit-version"), "1.0");
  EXPECT_FALSE(none.Header("x-apple-request-uuid").empty());
  EXPECT_FALSE(none.Header("x-apple-user-partition").empty());
  EXPECT_FALSE(none.Header("x-responding-instance").empty());
  EXPECT_EQ(none.Header("access-control-expose-headers"), "X-Apple-CloudKit-Web-Auth-Token");
  EXPECT_EQ(none.Header("content-type"), "application/json; charset=UTF-8");

  std::string error;
  token_ = emu_->SignIn(&error);
  ASSERT_FALSE(token_.empty()) << error;
  for (char c : {'+', '/', '='}) EXPECT_NE(token_.find(c), std::string::npos) << c;
  const std::string first = token_;
  Resp me = Api("GET", "private/users/caller");
  ASSERT_EQ(me.status, 200) << me.body;
  const std::string user = me.Json()["users"][0].value("userRecordName", "");
  EXPECT_EQ(user.rfind('_', 0), 0u);
  EXPECT_NE(token_, first);  // rotated
  // The spent token is refused, without a new one.
  Resp stale = RawHttp("GET", Url("private/users/caller", first));
  EXPECT_EQ(stale.status, 401);
  EXPECT_EQ(stale.Code(), "AUTHENTICATION_FAILED");
  EXPECT_EQ(stale.Header("x-apple-cloudkit-web-auth-token"), "");
  // A per-request error after the token check still rotates.
  const std::string before = token_;
  Resp bad = Api("POST", "private/records/modify", json::object());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Code(), "BAD_REQUEST");
  EXPECT_NE(token_, before);
  EXPECT_EQ(RawHttp("GET", Url("private/users/caller", before)).status, 401);
  // The public database's users/caller works too; the new token chain goes on.
  EXPECT_EQ(Api("GET", "public/users/caller").status, 200);
  // An unencoded token ('+' read as a space) is not the token.
  Resp raw = RawHttp("GET", emu_->api_base() + "/private/users/caller?ckAPIToken=" +
                                CloudKitEmulator::kApiToken + "&ckWebAuthToken=" + token_);
  EXPECT_EQ(raw.status, 401);
}

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorAuthWrongApiTokenOrContainer) {
  Start();
  Resp wrong = RawHttp("GET", emu_->api_base() + "/private/users/caller?ckAPIToken=nope");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.Code(), "AUTHENTICATION_FAILED");
  Resp other = RawHttp("GET", U("/database/1/iCloud.other/development/private/users/caller"
                                "?ckAPIToken=") + CloudKitEmulator::kApiToken);
  EXPECT_EQ(other.status, 401);
  Resp env = RawHttp("GET", U("/database/1/iCloud.org.journalsync.test/staging/private/users/"
                              "caller?ckAPIToken=") + CloudKitEmulator::kApiToken);
  EXPECT_EQ(env.status, 400);
  // Production is served too.
  Resp prod = RawHttp("GET", U("/database/1/iCloud.org.journalsync.test/production/private/"
                               "users/caller?ckAPIToken=") + CloudKitEmulator::kApiToken +
                                 "&ckWebAuthToken=" + UrlEscape(token_));
  EXPECT_EQ(prod.status, 200) << prod.body;
}

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorAuthSignInPageWithoutAutoApprove) {
  Start({"--callback-url", "http://127.0.0.1:9/cb"}, false, false);
  Resp none = RawHttp("GET", Url("private/users/caller", ""));
  ASSERT_EQ(none.status, 421);
  Resp page = RawHttp("GET", none.Json().value("redirectURL", ""));
  ASSERT_EQ(page.status, 200);
  const std::string key = "name=\"session\" value=\"";
  const size_t at = page.body.find(key);
  ASSERT_NE(at, std::string::npos) << page.body;
  const std::string session = page.body.substr(at + key.size(), page.body.find('"', at + key.size()) - at - key.size());
  Resp approved = RawHttp("POST", U("/signin"), {"Content-Type: application/x-www-form-urlencoded"},
                          "session=" + session);
  ASSERT_EQ(approved.status, 302);
  const std::string loc = approved.Header("location");
  EXPECT_EQ(loc.rfind("http://127.0.0.1:9/cb?ckWebAuthToken=", 0), 0u) << loc;
  EXPECT_NE(loc.find("&ckSession="), std::string::npos);
  const size_t t = loc.find('=') + 1;
  token_ = net::PercentDecode(loc.substr(t, loc.find('&') - t), false);
  EXPECT_EQ(Api("GET", "private/users/caller").status, 200);
  // A form posted twice does not mint a second token.
  EXPECT_EQ(RawHttp("POST", U("/signin"), {"Content-Type: application/x-www-form-urlencoded"},
                    "session=" + session).status, 400);
}

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorAuthTokenLifetimeAndAdminExpiry) {
  Start({"--token-lifetime", "1"});
  const std::string t = token_;
  // The lifetime runs from creation: poll until the unused token is refused.
  EXPECT_TRUE(Eventually([&] { return RawHttp("GET", Url("private/users/caller", t)).status == 401; }));
  std::string error;
  token_ = emu_->SignIn(&error);
  ASSERT_EQ(emu_->Admin("/_admin/tokens/expire"), 200);
  Resp r = Api("GET", "private/users/caller");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Code(), "AUTHENTICATION_FAILED");
}

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorAuthAdvancedDataProtection) {
  Start();
  ASSERT_EQ(emu_->Admin("/_admin/adp?on=1"), 200);
  const std::string held = token_;
  Resp denied = Api("GET", "private/users/caller");
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.Code(), "ACCESS_DENIED");
  EXPECT_EQ(denied.Json().value("reason", ""), "private db access disabled for this account");
  Resp none = RawHttp("GET", Url("private/users/caller", ""));
  Resp page = RawHttp("GET", none.Json().value("redirectURL", ""));
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("iCloud Data Web Access is Off"), std::string::npos);
  EXPECT_EQ(page.Header("location"), "");
  ASSERT_EQ(emu_->Admin("/_admin/adp?on=0"), 200);
  token_ = held;  // the refusal did not spend it
  EXPECT_EQ(Api("GET", "private/users/caller").status, 200);
}

TEST(CloudKitEmulatorFlow, RunCloudKitWebAuthFlowAgainstTheEmulator) {
  auto probe = net::LocalHttpServer::Start([](const net::LocalRequest&) { return net::LocalResponse{}; });
  ASSERT_TRUE(probe.ok());
  const uint16_t port = (*probe)->port();
  (*probe)->Stop();
  std::string error;
  auto emu = CloudKitEmulator::Start(
      {"--callback-url", "http://127.0.0.1:" + std::to_string(port) + "/"}, &error);
  ASSERT_TRUE(emu) << error;
  auth::OAuthConfig config;
  config.kind = auth::AuthKind::kCloudKit;
  config.cloudkit_api_base = emu->api_base();
  config.cloudkit_api_token = CloudKitEmulator::kApiToken;
  config.cloudkit_callback_port = port;
  std::thread browser;
  long landed = 0;
  auth::BrowserFlowOptions options;
  options.timeout = std::chrono::seconds(20);
  options.open_url = [&](const std::string& url) {
    browser = std::thread([url, &landed] {
      HttpReply signin = RawHttp("GET", url);
      const auto it = signin.headers.find("location");
      if (signin.status == 302 && it != signin.headers.end()) landed = RawHttp("GET", it->second).status;
    });
  };
  auto token = auth::RunCloudKitWebAuthFlow(config, options);
  if (browser.joinable()) browser.join();
  ASSERT_TRUE(token.ok()) << token.status().message();
  EXPECT_EQ(landed, 200);
  HttpReply me = RawHttp("GET", emu->api_base() + "/private/users/caller?ckAPIToken=" +
                                    CloudKitEmulator::kApiToken + "&ckWebAuthToken=" +
                                    UrlEscape(*token));
  EXPECT_EQ(me.status, 200) << me.body;
  EXPECT_NE(me.headers["x-apple-cloudkit-web-auth-token"], "");
}

// ---- zones ------------------------------------------------------------------------------------

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorZonesListLookupModify) {
  Start();
  Resp list = Api("GET", "private/zones/list");
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list.Json()["zones"].size(), 1u);
  EXPECT_EQ(list.Json()["zones"][0]["zoneID"].value("zoneName", ""), "_defaultZone");
  const json create = {{"operations", {{{"operationType", "create"}, {"zone", {{"zoneID", ZoneId("journal")}}}}}}};
  Resp made = Post("private/zones/modify", create);
  ASSERT_EQ(made.status, 200) << made.body;
  EXPECT_EQ(made.Json()["zones"][0]["zoneID"].value("zoneName", ""), "journal");
  EXPECT_TRUE(made.Json()["zones"][0]["syncToken"].is_string());
  EXPECT_EQ(made.Json()["zones"][0].value("atomic", false), true);
  Resp again = Post("private/zones/modify", create);  // creating an existing zone succeeds
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.Json()["zones"][0].value("serverErrorCode", ""), "");
  Resp look = Post("private/zones/lookup", {{"zones", {ZoneId("journal"), ZoneId("nope")}}});
  ASSERT_EQ(look.status, 200);
  EXPECT_EQ(look.Json()["zones"][0]["zoneID"].value("zoneName", ""), "journal");
  EXPECT_EQ(look.Json()["zones"][1].value("serverErrorCode", ""), "ZONE_NOT_FOUND");
  EXPECT_EQ(Api("GET", "private/zones/list").Json()["zones"].size(), 2u);
  const json del = {{"operations", {{{"operationType", "delete"}, {"zone", {{"zoneID", ZoneId("journal")}}}}}}};
  Resp gone = Post("private/zones/modify", del);
  EXPECT_EQ(gone.Json()["zones"][0].value("deleted", false), true);
  EXPECT_EQ(Post("private/zones/modify", del).Json()["zones"][0].value("serverErrorCode", ""),
            "ZONE_NOT_FOUND");
  // The shared database has no zones of ours; the public one is not emulated.
  EXPECT_EQ(Api("GET", "shared/zones/list").Json()["zones"].size(), 0u);
  Resp pub = Api("GET", "public/zones/list");
  EXPECT_EQ(pub.status, 400);
  EXPECT_EQ(pub.Code(), "BAD_REQUEST");
}

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorAdminZoneDeleteGivesZoneNotFound) {
  Start();
  CreateZone("journal");
  ASSERT_EQ(Modify("journal", {Op("create", Rec("a", {{"path", Str("/a")}}))}).status, 200);
  const std::string token = ChangesZone("journal", "")["syncToken"];
  ASSERT_EQ(emu_->Admin("/_admin/zones/journal/delete"), 200);
  Resp mod = Modify("journal", {Op("create", Rec("b"))});
  EXPECT_EQ(mod.status, 404);
  EXPECT_EQ(mod.Code(), "ZONE_NOT_FOUND");
  Resp look = Post("private/records/lookup", {{"records", {{{"recordName", "a"}}}}, {"zoneID", ZoneId("journal")}});
  EXPECT_EQ(look.status, 404);
  EXPECT_EQ(look.Code(), "ZONE_NOT_FOUND");
  const json ch = ChangesZone("journal", token);
  EXPECT_EQ(ch.value("serverErrorCode", ""), "ZONE_NOT_FOUND");
  EXPECT_EQ(Post("private/zones/lookup", {{"zones", json::array({ZoneId("journal")})}}).Json()["zones"][0].value("serverErrorCode", ""),
            "ZONE_NOT_FOUND");
  // Recreated, it is empty and the old token is no longer valid for it.
  CreateZone("journal");
  EXPECT_EQ(Lookup("journal", "a").value("serverErrorCode", ""), "NOT_FOUND");
  const json stale = ChangesZone("journal", token);
  EXPECT_EQ(stale.value("serverErrorCode", ""), "BAD_REQUEST");
  EXPECT_EQ(emu_->Admin("/_admin/zones/nope/delete"), 404);
}

// ---- records ----------------------------------------------------------------------------------

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorRecordsAllSevenOperationTypes) {
  Start();
  CreateZone("z");
  auto one = [&](const std::string& type, json record) {
    Resp r = Modify("z", {Op(type, std::move(record))});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json()["records"][0];
  };
  // create: creates, then EXISTS.
  json a = one("create", Rec("a", {{"path", Str("/a")}, {"size", {{"value", 1}, {"type", "INT64"}}}}));
  ASSERT_EQ(a.value("recordName", ""), "a") << a;
  EXPECT_EQ(a.value("recordType", ""), "JFile");
  const std::string tag1 = a.value("recordChangeTag", "");
  EXPECT_FALSE(tag1.empty());
  EXPECT_TRUE(a["created"]["timestamp"].is_number());
  EXPECT_EQ(a["fields"]["path"]["value"], "/a");
  EXPECT_EQ(one("create", Rec("a")).value("serverErrorCode", ""), "EXISTS");
  // update: needs the current tag, merges fields; stale → CONFLICT; absent → NOT_FOUND.
  json u = one("update", Rec("a", {{"sha256", Str("ff")}}, tag1));
  const std::string tag2 = u.value("recordChangeTag", "");
  EXPECT_NE(tag2, tag1);
  EXPECT_EQ(u["fields"]["path"]["value"], "/a");
  EXPECT_EQ(u["fields"]["sha256"]["value"], "ff");
  EXPECT_EQ(one("update", Rec("a", {{"x", Str("1")}}, tag1)).value("serverErrorCode", ""), "CONFLICT");
  EXPECT_EQ(one("update", Rec("a", {{"x", Str("1")}})).value("serverErrorCode", ""), "BAD_REQUEST");
  EXPECT_EQ(one("update", Rec("nope", {}, "t")).value("serverErrorCode", ""), "NOT_FOUND");
  // forceUpdate: no tag, merges; creates when absent.
  json fu = one("forceUpdate", Rec("a", {{"x", Str("1")}}));
  EXPECT_EQ(fu["fields"].size(), 4u) << fu;
  EXPECT_EQ(one("forceUpdate", Rec("b", {{"x", Str("2")}})).value("recordName", ""), "b");
  // replace: needs the tag; fields not given are gone.
  json rp = one("replace", Rec("a", {{"only", Str("1")}}, fu.value("recordChangeTag", "")));
  EXPECT_EQ(rp["fields"].size(), 1u) << rp;
  EXPECT_EQ(one("replace", Rec("a", {}, tag1)).value("serverErrorCode", ""), "CONFLICT");
  EXPECT_EQ(one("replace", Rec("nope", {}, "t")).value("serverErrorCode", ""), "NOT_FOUND");
  // forceReplace: replaces or creates.
  json fr = one("forceReplace", Rec("a", {{"p", Str("2")}}));
  EXPECT_EQ(fr["fields"].size(), 1u);
  EXPECT_EQ(one("forceReplace", Rec("c")).value("recordName", ""), "c");
  // delete: needs the tag; stale → CONFLICT; absent → NOT_FOUND.
  EXPECT_EQ(one("delete", Rec("a", {}, tag1)).value("serverErrorCode", ""), "CONFLICT");
  json d = one("delete", Rec("a", {}, fr.value("recordChangeTag", "")));
  EXPECT_EQ(d.value("recordName", ""), "a");
  EXPECT_EQ(d.value("deleted", false), true);
  EXPECT_EQ(one("delete", Rec("a", {}, "t")).value("serverErrorCode", ""), "NOT_FOUND");
  // forceDelete: only the name.
  EXPECT_EQ(one("forceDelete", {{"recordName", "b"}}).value("deleted", false), true);
  EXPECT_EQ(one("forceDelete", {{"recordName", "b"}}).value("serverErrorCode", ""), "NOT_FOUND");
  EXPECT_EQ(one("bogus", Rec("c")).value("serverErrorCode", ""), "BAD_REQUEST");
  // Per-record errors carry {recordName, reason, serverErrorCode, uuid}.
  json e = one("create", Rec("c"));
  EXPECT_EQ(e.value("recordName", ""), "c");
  EXPECT_FALSE(e.value("reason", "").empty());
  EXPECT_FALSE(e.value("uuid", "").empty());
  // A create without recordName gets a server-chosen one.
  EXPECT_FALSE(one("create", {{"recordType", "JFile"}}).value("recordName", "").empty());
}

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorRecordsAtomicAndNonAtomic) {
  Start();
  CreateZone("z");
  ASSERT_EQ(Modify("z", {Op("create", Rec("x"))}).status, 200);
  // Atomic (the default in a custom zone): nothing applied, the others ATOMIC_ERROR.
  Resp at = Modify("z", {Op("create", Rec("n1")), Op("create", Rec("x")), Op("create", Rec("n2"))});
  ASSERT_EQ(at.status, 200) << at.body;
  EXPECT_EQ(at.Json()["records"][0].value("serverErrorCode", ""), "ATOMIC_ERROR");
  EXPECT_EQ(at.Json()["records"][1].value("serverErrorCode", ""), "EXISTS");
  EXPECT_EQ(at.Json()["records"][2].value("serverErrorCode", ""), "ATOMIC_ERROR");
  EXPECT_EQ(Lookup("z", "n1").value("serverErrorCode", ""), "NOT_FOUND");
  // atomic:false: per operation.
  Resp per = Modify("z", {Op("create", Rec("n1")), Op("create", Rec("x")), Op("create", Rec("n2"))},
                    {{"atomic", false}, {"desiredKeys", json::array()}});
  ASSERT_EQ(per.status, 200);
  EXPECT_EQ(per.Json()["records"][0].value("recordName", ""), "n1");
  EXPECT_EQ(per.Json()["records"][0]["fields"].size(), 0u);
  EXPECT_EQ(per.Json()["records"][1].value("serverErrorCode", ""), "EXISTS");
  EXPECT_EQ(Lookup("z", "n2").value("recordName", ""), "n2");
  // The default zone is never atomic.
  Resp def = Post("private/records/modify", {{"operations", {Op("create", Rec("d1")), Op("forceDelete", {{"recordName", "none"}})}}});
  ASSERT_EQ(def.status, 200) << def.body;
  EXPECT_EQ(def.Json()["records"][0].value("recordName", ""), "d1");
  EXPECT_EQ(def.Json()["records"][0].value("serverErrorCode", ""), "");
  // One operation per record per request.
  EXPECT_EQ(Modify("z", {Op("forceUpdate", Rec("q")), Op("forceUpdate", Rec("q"))}).status, 400);
}

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorRecordsLimitsAndFieldTypes) {
  Start();
  CreateZone("z");
  json ops = json::array();
  for (int i = 0; i < 201; ++i) ops.push_back(Op("create", Rec("r" + std::to_string(i))));
  Resp too_many = Modify("z", ops.get<std::vector<json>>());
  EXPECT_EQ(too_many.status, 400);
  EXPECT_EQ(too_many.Code(), "BAD_REQUEST");
  ops.erase(ops.size() - 1);
  Resp ok = Modify("z", ops.get<std::vector<json>>(), {{"atomic", false}});
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(ok.Json()["records"].size(), 200u);
  // A record over 1 MB of fields → per-record error; BYTES round-trip as base64; types kept.
  const std::string big = Base64(Pattern(800 * 1024, 1));  // ~1.07 MB of base64
  Resp large = Modify("z", {Op("create", Rec("big", {{"data", {{"value", big}, {"type", "BYTES"}}}}))});
  ASSERT_EQ(large.status, 200);
  EXPECT_EQ(large.Json()["records"][0].value("serverErrorCode", ""), "BAD_REQUEST");
  const std::string small = Base64(Pattern(100, 2));
  const json fields = {{"data", {{"value", small}}},
                       {"size", {{"value", 100}, {"type", "INT64"}}},
                       {"ratio", {{"value", 0.5}, {"type", "DOUBLE"}}},
                       {"when", {{"value", 1700000000000}, {"type", "TIMESTAMP"}}},
                       {"tags", {{"value", {"a", "b"}}, {"type", "STRING_LIST"}}}};
  // text/plain bodies are accepted as JSON, like Apple's signed example.
  Resp plain = Api("POST", "private/records/modify",
                   {{"operations", json::array({Op("create", Rec("typed", fields))})}, {"zoneID", ZoneId("z")}},
                   "text/plain");
  ASSERT_EQ(plain.status, 200) << plain.body;
  const json got = Lookup("z", "typed");
  EXPECT_EQ(got["fields"]["data"]["value"], small);
  EXPECT_EQ(got["fields"]["size"]["value"], 100);
  EXPECT_EQ(got["fields"]["tags"]["value"], json({"a", "b"}));
  Resp wrong = Modify("z", {Op("create", Rec("w", {{"size", {{"value", "x"}, {"type", "INT64"}}}}))});
  EXPECT_EQ(wrong.Json()["records"][0].value("serverErrorCode", ""), "BAD_REQUEST");
}

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorRecordsLookupAndDesiredKeys) {
  Start();
  CreateZone("z");
  ASSERT_EQ(Modify("z", {Op("create", Rec("a", {{"path", Str("/a")}, {"sha256", Str("ab")}, {"size", {{"value", 3}}}}))}).status, 200);
  Resp r = Post("private/records/lookup", {{"records", {{{"recordName", "a"}}, {{"recordName", "zz"}}}},
                                           {"zoneID", ZoneId("z")},
                                           {"desiredKeys", {"sha256", "size"}}});
  ASSERT_EQ(r.status, 200);
  const json a = r.Json()["records"][0];
  EXPECT_EQ(a["fields"].size(), 2u) << a;
  EXPECT_TRUE(a["fields"].contains("sha256"));
  EXPECT_EQ(r.Json()["records"][1].value("serverErrorCode", ""), "NOT_FOUND");
  EXPECT_EQ(r.Json()["records"][1].value("recordName", ""), "zz");
  Resp none = Post("private/records/lookup", {{"records", {{{"recordName", "a"}, {"desiredKeys", json::array()}}}},
                                              {"zoneID", ZoneId("z")}});
  EXPECT_EQ(none.Json()["records"][0]["fields"].size(), 0u);
}

// ---- change feed ------------------------------------------------------------------------------

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorChangesZonePagingAndTombstones) {
  Start();
  CreateZone("z");
  json ops = json::array();
  for (int i = 0; i < 5; ++i) ops.push_back(Op("create", Rec("r" + std::to_string(i), {{"n", {{"value", i}}}})));
  ASSERT_EQ(Modify("z", ops.get<std::vector<json>>()).status, 200);
  std::vector<std::string> seen;
  std::string token;
  std::vector<bool> more;
  for (int page = 0; page < 5; ++page) {
    const json z = ChangesZone("z", token, 2);
    for (const auto& r : z["records"]) seen.push_back(r.value("recordName", ""));
    token = z.value("syncToken", "");
    more.push_back(z.value("moreComing", false));
    if (!more.back()) break;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"r0", "r1", "r2", "r3", "r4"}));  // oldest first
  EXPECT_EQ(more, (std::vector<bool>{true, true, false}));
  // Quiet: nothing new.
  const json quiet = ChangesZone("z", token);
  EXPECT_EQ(quiet["records"].size(), 0u);
  EXPECT_EQ(quiet.value("moreComing", true), false);
  // r1 changed twice and r3 deleted: one entry each, in their latest state.
  ASSERT_EQ(Modify("z", {Op("forceUpdate", Rec("r1", {{"n", {{"value", 10}}}}))}).status, 200);
  ASSERT_EQ(Modify("z", {Op("forceDelete", {{"recordName", "r3"}})}).status, 200);
  ASSERT_EQ(Modify("z", {Op("forceUpdate", Rec("r1", {{"n", {{"value", 11}}}}))}).status, 200);
  const json next = ChangesZone("z", quiet.value("syncToken", ""));
  ASSERT_EQ(next["records"].size(), 2u) << next;
  EXPECT_EQ(next["records"][0], json({{"recordName", "r3"}, {"deleted", true}}));
  EXPECT_EQ(next["records"][1].value("recordName", ""), "r1");
  EXPECT_EQ(next["records"][1]["fields"]["n"]["value"], 11);
  // A full scan shows the tombstone too; the default zone has no feed.
  EXPECT_EQ(ChangesZone("z", "")["records"].size(), 5u);
  EXPECT_EQ(ChangesZone("_defaultZone", "").value("serverErrorCode", ""), "BAD_REQUEST");
}

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorChangesPageSizeFlagAndExpiredTokens) {
  Start({"--page-size", "3"});
  CreateZone("z");
  json ops = json::array();
  for (int i = 0; i < 4; ++i) ops.push_back(Op("create", Rec("r" + std::to_string(i))));
  ASSERT_EQ(Modify("z", ops.get<std::vector<json>>()).status, 200);
  const json first = ChangesZone("z", "", 50);  // min(resultsLimit, --page-size)
  EXPECT_EQ(first["records"].size(), 3u);
  EXPECT_EQ(first.value("moreComing", false), true);
  Resp db = Post("private/changes/database", json::object());
  const std::string db_token = db.Json().value("syncToken", "");
  ASSERT_EQ(emu_->Admin("/_admin/sync-tokens/expire"), 200);
  const json stale = ChangesZone("z", first.value("syncToken", ""));
  EXPECT_EQ(stale.value("serverErrorCode", ""), "BAD_REQUEST");
  EXPECT_NE(stale.value("reason", "").find("sync token"), std::string::npos);
  Resp stale_db = Post("private/changes/database", {{"syncToken", db_token}});
  EXPECT_EQ(stale_db.status, 400);
  EXPECT_EQ(stale_db.Code(), "BAD_REQUEST");
  EXPECT_EQ(ChangesZone("z", "not-a-token").value("serverErrorCode", ""), "BAD_REQUEST");
  // From scratch works again.
  EXPECT_EQ(ChangesZone("z", "", 50)["records"].size(), 3u);
}

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorChangesDatabaseEmptyWhenQuiet) {
  Start();
  CreateZone("a");
  CreateZone("b");
  Resp all = Post("private/changes/database", json::object());
  ASSERT_EQ(all.status, 200) << all.body;
  std::set<std::string> names;
  const json all_zones = all.Json()["zones"];
  for (const auto& z : all_zones) names.insert(z["zoneID"].value("zoneName", ""));
  EXPECT_TRUE(names.count("a") && names.count("b")) << all.body;
  EXPECT_EQ(all.Json().value("moreComing", true), false);
  std::string token = all.Json().value("syncToken", "");
  Resp quiet = Post("private/changes/database", {{"syncToken", token}});
  EXPECT_EQ(quiet.Json()["zones"].size(), 0u);
  ASSERT_EQ(Modify("b", {Op("create", Rec("x"))}).status, 200);
  Resp changed = Post("private/changes/database", {{"syncToken", quiet.Json().value("syncToken", "")}});
  ASSERT_EQ(changed.Json()["zones"].size(), 1u);
  EXPECT_EQ(changed.Json()["zones"][0]["zoneID"].value("zoneName", ""), "b");
  EXPECT_TRUE(changed.Json()["zones"][0]["syncToken"].is_string());
  token = changed.Json().value("syncToken", "");
  ASSERT_EQ(emu_->Admin("/_admin/zones/a/delete"), 200);
  Resp deleted = Post("private/changes/database", {{"syncToken", token}});
  ASSERT_EQ(deleted.Json()["zones"].size(), 1u);
  EXPECT_EQ(deleted.Json()["zones"][0].value("deleted", false), true);
}

// ---- assets -----------------------------------------------------------------------------------

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorAssetsUploadAttachDownload) {
  Start();
  CreateZone("z");
  const std::string bytes = Pattern(5000, 7);
  Resp up = Post("private/assets/upload",
                 {{"zoneID", ZoneId("z")}, {"tokens", {{{"recordType", "JFile"}, {"fieldName", "blob"}, {"recordName", "f"}}}}});
  ASSERT_EQ(up.status, 200) << up.body;
  const json tok = up.Json()["tokens"][0];
  EXPECT_EQ(tok.value("recordName", ""), "f");
  EXPECT_EQ(tok.value("fieldName", ""), "blob");
  const std::string url = tok.value("url", "");
  ASSERT_EQ(url.rfind(emu_->base_url() + "/_upload/", 0), 0u) << url;
  Resp posted = RawHttp("POST", url, {"Content-Type: application/octet-stream"}, bytes);
  ASSERT_EQ(posted.status, 200) << posted.body;
  const json sf = posted.Json()["singleFile"];
  for (const char* k : {"wrappingKey", "fileChecksum", "receipt", "referenceChecksum"})
    EXPECT_TRUE(sf[k].is_string()) << k;
  EXPECT_EQ(sf.value("size", 0), 5000);
  const std::string checksum = Base64Decode(sf.value("fileChecksum", ""));
  ASSERT_EQ(checksum.size(), 21u);
  EXPECT_EQ(checksum[0], '\x01');
  // The upload URL is good once.
  EXPECT_NE(RawHttp("POST", url, {}, bytes).status, 200);
  Resp attach = Modify("z", {Op("create", Rec("f", {{"blob", {{"value", sf}}}, {"size", {{"value", 5000}}}}))});
  ASSERT_EQ(attach.status, 200) << attach.body;
  EXPECT_EQ(attach.Json()["records"][0].value("serverErrorCode", ""), "");
  // A receipt is used once.
  Resp reuse = Modify("z", {Op("create", Rec("g", {{"blob", {{"value", sf}}}}))});
  EXPECT_EQ(reuse.Json()["records"][0].value("serverErrorCode", ""), "BAD_REQUEST");
  Resp junk = Modify("z", {Op("create", Rec("h", {{"blob", {{"value", {{"receipt", "nope"}}}}}}))});
  EXPECT_EQ(junk.Json()["records"][0].value("serverErrorCode", ""), "BAD_REQUEST");

  const json blob = Lookup("z", "f")["fields"]["blob"];
  EXPECT_EQ(blob.value("type", ""), "ASSETID");
  EXPECT_EQ(blob["value"].value("fileChecksum", ""), sf.value("fileChecksum", ""));
  EXPECT_EQ(blob["value"].value("size", 0), 5000);
  std::string dl = blob["value"].value("downloadURL", "");
  const size_t f = dl.find("${f}");
  ASSERT_NE(f, std::string::npos) << dl;
  EXPECT_NE(dl.find("e="), std::string::npos);
  dl.replace(f, 4, UrlEscape("my file.bin"));
  Resp got = RawHttp("GET", dl);  // no ckWebAuthToken: pre-authenticated
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body, bytes);
  Resp part = RawHttp("GET", dl, {"Range: bytes=10-19"});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, bytes.substr(10, 10));
  EXPECT_EQ(part.headers["content-range"], "bytes 10-19/5000");
  EXPECT_EQ(RawHttp("GET", dl, {"Range: bytes=-5"}).body, bytes.substr(4995));
  Resp past = RawHttp("GET", dl, {"Range: bytes=6000-"});
  EXPECT_EQ(past.status, 416);
  EXPECT_EQ(past.headers["content-range"], "bytes */5000");
  // A tampered URL is refused; the same content gets the same checksum.
  std::string forged = dl;
  forged.replace(forged.find("o=") + 2, 2, "00");
  EXPECT_EQ(RawHttp("GET", forged).status, 403);
  Resp up2 = Post("private/assets/upload",
                  {{"zoneID", ZoneId("z")}, {"tokens", {{{"recordType", "JFile"}, {"fieldName", "blob"}, {"recordName", "f2"}}}}});
  Resp posted2 = RawHttp("POST", up2.Json()["tokens"][0].value("url", ""), {}, bytes);
  EXPECT_EQ(posted2.Json()["singleFile"].value("fileChecksum", ""), sf.value("fileChecksum", ""));
  // Deleting the record deletes its asset.
  ASSERT_EQ(Modify("z", {Op("forceDelete", {{"recordName", "f"}})}).status, 200);
  EXPECT_EQ(RawHttp("GET", dl).status, 404);
  // Unknown zone → request-level ZONE_NOT_FOUND; more than 200 tokens → 400.
  Resp nz = Post("private/assets/upload", {{"zoneID", ZoneId("nope")}, {"tokens", {{{"fieldName", "b"}, {"recordName", "x"}}}}});
  EXPECT_EQ(nz.status, 404);
  json many = json::array();
  for (int i = 0; i < 201; ++i) many.push_back({{"fieldName", "b"}, {"recordName", "x" + std::to_string(i)}});
  EXPECT_EQ(Post("private/assets/upload", {{"zoneID", ZoneId("z")}, {"tokens", many}}).status, 400);
}

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorAssetsUrlsExpireAndSizeLimit) {
  Start({"--asset-url-lifetime", "1", "--asset-max-bytes", "1000"});
  CreateZone("z");
  auto upload_url = [&](const std::string& name) {
    Resp up = Post("private/assets/upload",
                   {{"zoneID", ZoneId("z")}, {"tokens", {{{"recordType", "JFile"}, {"fieldName", "blob"}, {"recordName", name}}}}});
    return up.Json()["tokens"][0].value("url", "");
  };
  Resp big = RawHttp("POST", upload_url("a"), {}, Pattern(1001, 1));
  EXPECT_EQ(big.status, 413);
  Resp posted = RawHttp("POST", upload_url("b"), {}, Pattern(1000, 1));
  ASSERT_EQ(posted.status, 200);
  ASSERT_EQ(Modify("z", {Op("create", Rec("b", {{"blob", {{"value", posted.Json()["singleFile"]}}}}))}).status, 200);
  const std::string late = upload_url("c");
  std::string dl = Lookup("z", "b")["fields"]["blob"]["value"].value("downloadURL", "");
  dl.replace(dl.find("${f}"), 4, "b.bin");
  EXPECT_EQ(RawHttp("GET", dl).status, 200);
  EXPECT_TRUE(Eventually([&] { return RawHttp("GET", dl).status == 403; }));
  EXPECT_EQ(RawHttp("POST", late, {}, "x").status, 403);  // it expired no later than dl
}

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorQuotaPerRecordAndAssets) {
  Start({"--quota", "3000"});
  CreateZone("z");
  const json fields = {{"data", {{"value", std::string(1400, 'A')}}}};
  Resp a = Modify("z", {Op("create", Rec("a", fields))});
  EXPECT_EQ(a.Json()["records"][0].value("serverErrorCode", ""), "");
  Resp b = Modify("z", {Op("create", Rec("b", fields)), Op("create", Rec("c", fields))}, {{"atomic", false}});
  EXPECT_EQ(b.Json()["records"][0].value("serverErrorCode", ""), "");
  EXPECT_EQ(b.Json()["records"][1].value("serverErrorCode", ""), "QUOTA_EXCEEDED");
  Resp up = Post("private/assets/upload",
                 {{"zoneID", ZoneId("z")}, {"tokens", {{{"recordType", "JFile"}, {"fieldName", "blob"}, {"recordName", "d"}}}}});
  Resp asset = RawHttp("POST", up.Json()["tokens"][0].value("url", ""), {}, Pattern(500, 3));
  EXPECT_EQ(asset.status, 413);
  EXPECT_EQ(Resp(asset).Code(), "QUOTA_EXCEEDED");
  // Deleting frees the space.
  ASSERT_EQ(Modify("z", {Op("forceDelete", {{"recordName", "a"}})}).status, 200);
  Resp c = Modify("z", {Op("create", Rec("c", fields))});
  EXPECT_EQ(c.Json()["records"][0].value("serverErrorCode", ""), "");
}

// ---- faults -----------------------------------------------------------------------------------

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorFaultsAnswerBeforeTheTokenCheck) {
  Start({"--faults", "throttle:7@2,unavailable@3,unavailable:none@4,500@5,502@6,504@7,auth@8"});
  // Request 1 (users/caller with no token during SignIn) was counted; 2.. are faults.
  const std::string held = token_;
  auto expect = [&](long status, const std::string& code) {
    Resp r = Api("GET", "private/users/caller");
    EXPECT_EQ(r.status, status) << r.body;
    if (!code.empty()) {
      EXPECT_EQ(r.Code(), code);
    }
    EXPECT_EQ(r.Header("x-apple-cloudkit-web-auth-token"), "");  // not rotated
    EXPECT_EQ(token_, held);                                     // and not spent
    return r;
  };
  Resp t = expect(429, "THROTTLED");
  EXPECT_EQ(t.Json().value("retryAfter", 0), 7);
  EXPECT_FALSE(t.Json().value("uuid", "").empty());
  EXPECT_EQ(expect(503, "TRY_AGAIN_LATER").Json().value("retryAfter", 0), 5);
  EXPECT_FALSE(expect(503, "TRY_AGAIN_LATER").Json().contains("retryAfter"));
  expect(500, "INTERNAL_ERROR");
  expect(502, "");
  expect(504, "");
  Resp a = expect(421, "AUTHENTICATION_REQUIRED");
  EXPECT_TRUE(a.Json().contains("redirectURL"));
  EXPECT_EQ(Api("GET", "private/users/caller").status, 200);  // the same token still works
}

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorFaultsDropAndPerOperation) {
  Start({"--faults", "drop/records/modify@1,drop-after/records/modify@2,throttle:2/zones/list@1-2"});
  CreateZone("z");
  Resp list = Api("GET", "private/zones/list");
  EXPECT_EQ(list.status, 429);
  EXPECT_EQ(list.Json().value("retryAfter", 0), 2);
  EXPECT_EQ(Api("GET", "private/zones/list").status, 429);
  EXPECT_EQ(Api("GET", "private/zones/list").status, 200);
  const std::string held = token_;
  Resp dropped = Modify("z", {Op("create", Rec("a"))});
  EXPECT_TRUE(dropped.transport_error);
  EXPECT_EQ(Lookup("z", "a").value("serverErrorCode", ""), "NOT_FOUND");  // not carried out
  Resp after = Modify("z", {Op("create", Rec("a"))});
  EXPECT_TRUE(after.transport_error);
  // drop-after carried it out and spent the token: the answer (with its successor) was lost.
  EXPECT_EQ(RawHttp("GET", Url("private/users/caller", token_)).status, 401);
  std::string error;
  token_ = emu_->SignIn(&error);
  EXPECT_EQ(Lookup("z", "a").value("recordName", ""), "a");
  EXPECT_EQ(Modify("z", {Op("create", Rec("b"))}).status, 200);  // faults are spent
  (void)held;
}

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorFaultsOnAssetUrlsAndLatency) {
  Start({"--faults", "throttle:1/_upload@1,unavailable/_download@1", "--latency", "150"});
  CreateZone("z");
  Resp up = Post("private/assets/upload",
                 {{"zoneID", ZoneId("z")}, {"tokens", {{{"recordType", "JFile"}, {"fieldName", "blob"}, {"recordName", "a"}}}}});
  const std::string url = up.Json()["tokens"][0].value("url", "");
  Resp throttled = RawHttp("POST", url, {}, "bytes");
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(Resp(throttled).Code(), "THROTTLED");
  Resp posted = RawHttp("POST", url, {}, "bytes");  // the URL was not used up by the fault
  ASSERT_EQ(posted.status, 200) << posted.body;
  ASSERT_EQ(Modify("z", {Op("create", Rec("a", {{"blob", {{"value", posted.Json()["singleFile"]}}}}))}).status, 200);
  std::string dl = Lookup("z", "a")["fields"]["blob"]["value"].value("downloadURL", "");
  dl.replace(dl.find("${f}"), 4, "a");
  EXPECT_EQ(RawHttp("GET", dl).status, 503);
  const auto t0 = std::chrono::steady_clock::now();
  Resp got = RawHttp("GET", dl);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(150));  // --latency
  EXPECT_EQ(got.body, "bytes");
}

// The switches for what icloud.md marks inferred.
TEST_F(CloudKitEmulatorTest, CloudKitEmulatorSwitchesForInferredBehaviour) {
  Start({"--no-rotation", "--atomic-errors", "request", "--zone-create-exists"});
  const std::string held = token_;
  Resp me = Api("GET", "private/users/caller");
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(me.Header("x-apple-cloudkit-web-auth-token"), held);
  EXPECT_EQ(Api("GET", "private/users/caller").status, 200) << "the same token again";
  CreateZone("z");
  Resp again = Post("private/zones/modify",
                    {{"operations", {{{"operationType", "create"}, {"zone", {{"zoneID", ZoneId("z")}}}}}}});
  EXPECT_EQ(again.Json()["zones"][0].value("serverErrorCode", ""), "EXISTS");
  ASSERT_EQ(Modify("z", {Op("create", Rec("x"))}).status, 200);
  Resp at = Modify("z", {Op("create", Rec("n1")), Op("create", Rec("x"))});
  EXPECT_EQ(at.status, 400);
  EXPECT_EQ(at.Code(), "ATOMIC_ERROR");
  EXPECT_EQ(Lookup("z", "n1").value("serverErrorCode", ""), "NOT_FOUND");
}

TEST(CloudKitEmulatorFaultSpec, BadSpecsAreRefused) {
  for (const char* spec : {"nope", "throttle:x", "500:3", "throttle@0", "drop/@1"}) {
    std::string error;
    auto emu = CloudKitEmulator::Start({"--faults", spec}, &error);
    EXPECT_FALSE(emu) << spec;
  }
}

// ---- subscriptions, push tokens, courier ------------------------------------------------------

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorSubscriptionsAndCourier) {
  Start({"--courier-timeout", "1"});
  CreateZone("z");
  Resp tok = Api("POST", "tokens/create", {{"apnsEnvironment", "production"}});
  ASSERT_EQ(tok.status, 200) << tok.body;
  const json t = tok.Json();
  EXPECT_EQ(t.value("apnsEnvironment", ""), "production");
  const std::string courier = t.value("webcourierURL", "");
  ASSERT_EQ(courier.rfind(emu_->base_url() + "/_courier/", 0), 0u);
  EXPECT_EQ(Api("POST", "tokens/register", {{"apnsEnvironment", "production"}, {"apnsToken", t.value("apnsToken", "")}}).status, 200);
  EXPECT_EQ(Api("POST", "tokens/register", {{"apnsToken", "nope"}}).status, 400);
  Resp sub = Post("private/subscriptions/modify",
                  {{"operations", {{{"operationType", "create"},
                                    {"subscription", {{"subscriptionID", "jsync-zone"}, {"subscriptionType", "zone"},
                                                      {"zoneID", ZoneId("z")},
                                                      {"notificationInfo", {{"shouldSendContentAvailable", true}}}}}}}}});
  ASSERT_EQ(sub.status, 200) << sub.body;
  EXPECT_EQ(sub.Json()["subscriptions"][0].value("subscriptionID", ""), "jsync-zone");
  Resp list = Api("GET", "private/subscriptions/list");
  ASSERT_EQ(list.Json()["subscriptions"].size(), 1u);
  // Quiet: the long poll ends empty.
  Resp idle = RawHttp("GET", courier);
  EXPECT_EQ(idle.status, 200);
  EXPECT_EQ(idle.body, "");
  // A change in the subscribed zone: one notification.
  ASSERT_EQ(Modify("z", {Op("create", Rec("a"))}).status, 200);
  Resp note = RawHttp("GET", courier);
  ASSERT_EQ(note.status, 200);
  EXPECT_EQ(note.Json()["ck"].value("cid", ""), CloudKitEmulator::kContainer);
  EXPECT_EQ(note.Json()["ck"]["fet"].value("zid", ""), "z");
  EXPECT_FALSE(note.Json()["ck"].value("nid", "").empty());
  Resp del = Post("private/subscriptions/modify",
                  {{"operations", {{{"operationType", "delete"}, {"subscription", {{"subscriptionID", "jsync-zone"}}}}}}});
  EXPECT_EQ(del.Json()["subscriptions"][0].value("deleted", false), true);
  EXPECT_EQ(Api("GET", "private/subscriptions/list").Json()["subscriptions"].size(), 0u);
  EXPECT_EQ(RawHttp("GET", emu_->base_url() + "/_courier/unknown").status, 404);
}

// The emulator's answers (and the tests' requests) against the descriptions the plugin's shape
// test uses (tests/support/cloudkit_shapes.h), read back from the request log.
TEST_F(CloudKitEmulatorTest, CloudKitEmulatorAnswersHaveCloudKitsShape) {
  Start({"--page-size", "2"});
  auto shapes = CloudKitShapes::Load(JSYNC_CLOUDKIT_OPENAPI, JSYNC_CLOUDKIT_REFERENCE);
  ASSERT_TRUE(shapes.ok()) << shapes.status().ToString();
  CreateZone("z");
  CreateZone("z");
  Api("GET", "private/zones/list");
  Post("private/zones/lookup", {{"zones", {ZoneId("z"), ZoneId("nope")}}});
  Api("GET", "private/users/caller");
  Resp up = Post("private/assets/upload",
                 {{"zoneID", ZoneId("z")}, {"tokens", {{{"recordType", "JFile"}, {"fieldName", "blob"}, {"recordName", "a"}}}}});
  Resp posted = RawHttp("POST", up.Json()["tokens"][0].value("url", ""), {"Content-Type: application/octet-stream"}, Pattern(300, 1));
  Modify("z", {Op("create", Rec("a", {{"path", Str("/a")}, {"size", {{"value", 300}}}, {"blob", {{"value", posted.Json()["singleFile"]}}}})),
               Op("create", Rec("b", {{"path", Str("/b")}, {"data", {{"value", Base64("hello")}}}}))},
         {{"atomic", false}, {"desiredKeys", json::array()}});
  Modify("z", {Op("create", Rec("b"))}, {{"atomic", false}});
  Modify("z", {Op("create", Rec("c")), Op("create", Rec("b"))});
  Post("private/records/lookup", {{"records", {{{"recordName", "a"}}, {{"recordName", "zz"}}}},
                                  {"zoneID", ZoneId("z")}, {"desiredKeys", {"path", "blob"}}});
  Modify("z", {Op("forceDelete", {{"recordName", "b"}})}, {{"atomic", false}});
  const json page = ChangesZone("z", "", 2);
  ChangesZone("z", page.value("syncToken", ""));
  Resp db = Post("private/changes/database", json::object());
  Post("private/changes/database", {{"syncToken", db.Json().value("syncToken", "")}});
  Post("private/records/modify", json::object());  // a request-level error
  size_t bodies = 0;
  std::vector<std::string> violations;
  for (const json& r : ReadRequestLog(emu_->request_log_path())) {
    const std::string op = r.value("op", "");
    if (op.empty() || op == "_download" || op == "signin" || op == "_admin") continue;
    const std::string name = op == "_upload" ? "asset-upload-post" : op;
    if (r.contains("response_json")) {
      ++bodies;
      for (const std::string& v : shapes->CheckResponse(name, r.value("status", 0), r["response_json"]))
        violations.push_back(op + " answer " + v);
    }
  }
  EXPECT_GT(bodies, 10u);
  EXPECT_TRUE(violations.empty()) << ::testing::PrintToString(violations);
}

// ---- persistence and the request log ----------------------------------------------------------

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorRestartKeepsStateAndTokens) {
  Start();
  CreateZone("z");
  ASSERT_EQ(Modify("z", {Op("create", Rec("a", {{"path", Str("/a")}}))}).status, 200);
  const std::string feed = ChangesZone("z", "").value("syncToken", "");
  // A second emulator on the same folder is refused while this one runs.
  CloudKitEmulatorOptions o;
  o.state_dir = state_;
  std::string error;
  EXPECT_FALSE(CloudKitEmulator::Start(o, &error));
  Restart();
  EXPECT_EQ(Api("GET", "private/users/caller").status, 200) << "the rotated token survived";
  EXPECT_EQ(Lookup("z", "a")["fields"]["path"]["value"], "/a");
  ASSERT_EQ(Modify("z", {Op("create", Rec("b"))}).status, 200);
  const json next = ChangesZone("z", feed);
  ASSERT_EQ(next["records"].size(), 1u);
  EXPECT_EQ(next["records"][0].value("recordName", ""), "b");
}

TEST_F(CloudKitEmulatorTest, CloudKitEmulatorRequestLogHasNoSecrets) {
  Start();
  CreateZone("z");
  const std::string data = Base64(Pattern(3000, 9));
  ASSERT_EQ(Modify("z", {Op("create", Rec("a", {{"data", {{"value", data}}}}))}).status, 200);
  Lookup("z", "a");
  std::string log_text;
  {
    std::ifstream in(emu_->request_log_path());
    log_text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  EXPECT_EQ(log_text.find(CloudKitEmulator::kApiToken), std::string::npos);
  EXPECT_EQ(log_text.find(token_), std::string::npos);
  EXPECT_EQ(log_text.find(UrlEscape(token_)), std::string::npos);
  EXPECT_EQ(log_text.find("106__54__"), std::string::npos);
  EXPECT_EQ(log_text.find(data.substr(0, 64)), std::string::npos);
  const auto lines = ReadRequestLog(emu_->request_log_path());
  bool saw_modify = false, saw_lookup = false;
  for (const auto& l : lines) {
    if (l.value("op", "") == "records/modify") {
      saw_modify = true;
      EXPECT_EQ(l.value("status", 0), 200);
      EXPECT_EQ(l.value("db", ""), "private");
      EXPECT_EQ(l["query"].value("ckWebAuthToken", ""), "REDACTED");
      EXPECT_EQ(l["query"].value("ckAPIToken", ""), "REDACTED");
      EXPECT_EQ(l["body_json"]["operations"][0]["record"]["fields"]["data"]["value"], 3000);
      EXPECT_TRUE(l["response_json"]["records"].is_array());
    }
    if (l.value("op", "") == "records/lookup") {
      saw_lookup = true;
      EXPECT_EQ(l["response_json"]["records"][0]["fields"]["data"]["value"], 3000);
    }
  }
  EXPECT_TRUE(saw_modify);
  EXPECT_TRUE(saw_lookup);
}

}  // namespace
}  // namespace jsync::testing

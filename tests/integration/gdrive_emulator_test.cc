// The Google Drive v3 emulator (tools/emulators, `jsync-emulator gdrive`) against the documented
// behaviour in ../shared/reference/gdrive.md: OAuth, uploads, listing, ranges, changes, push,
// quota, faults and persistence. Every test starts its own emulator on a fresh state folder.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/crypto/primitives.h"
#include "tests/support/gdrive_emulator.h"

namespace jsync::testing {
namespace {

using nlohmann::json;

const char* kAppData = "https://www.googleapis.com/auth/drive.appdata";

struct Resp : HttpReply {
  Resp() = default;
  Resp(HttpReply r) : HttpReply(std::move(r)) {}  // NOLINT: implicit on purpose
  std::string Reason() const {
    const json j = Json();
    return j.is_object() && j.contains("error") && j["error"].is_object()
               ? j["error"]["errors"][0].value("reason", "")
               : "";
  }
  std::string OAuthError() const {
    const json j = Json();
    return j.is_object() ? j.value("error", "") : "";
  }
};

Resp Http(const std::string& method, const std::string& url,
          const std::vector<std::string>& headers = {}, const std::string& body = "") {
  return RawHttp(method, url, headers, body);
}

std::string Esc(const std::string& s) {
  char* e = curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size()));
  std::string out(e);
  curl_free(e);
  return out;
}

std::string QueryValue(const std::string& url, const std::string& name) {
  const size_t at = url.find(name + "=");
  if (at == std::string::npos) return "";
  const size_t start = at + name.size() + 1;
  const std::string raw = url.substr(start, url.find('&', start) - start);
  int n = 0;
  char* d = curl_easy_unescape(nullptr, raw.data(), static_cast<int>(raw.size()), &n);
  std::string out(d, static_cast<size_t>(n));
  curl_free(d);
  return out;
}

std::string Challenge(const std::string& verifier) {
  const auto d = crypto::HashSha256(
      ByteSpan(reinterpret_cast<const uint8_t*>(verifier.data()), verifier.size()));
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < d.size(); i += 3) {
    const uint32_t v = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
    for (int s = 18; s >= 0; s -= 6) out.push_back(k[(v >> s) & 63]);
  }
  const uint32_t v = (d[i] << 16) | (d[i + 1] << 8);
  out += {k[(v >> 18) & 63], k[(v >> 12) & 63], k[(v >> 6) & 63]};
  return out;
}

std::string Pattern(size_t n, uint8_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 31 + seed) & 0xff);
  return s;
}

class GdriveEmulatorTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args = {}, bool auto_approve = true) {
    GdriveEmulatorOptions o;
    o.args = std::move(args);
    o.auto_approve = auto_approve;
    std::string error;
    emu_ = GdriveEmulator::Start(o, &error);
    ASSERT_TRUE(emu_) << error;
    if (auto_approve) {
      tokens_ = emu_->AuthorizeWithCode(&error);
      ASSERT_FALSE(tokens_.access_token.empty()) << error;
    }
  }
  std::string U(const std::string& path) const { return emu_->base_url() + path; }
  std::string Auth() const { return "Authorization: Bearer " + tokens_.access_token; }
  Resp Get(const std::string& path, std::vector<std::string> h = {}) {
    h.push_back(Auth());
    return Http("GET", U(path), h);
  }
  Resp Send(const std::string& method, const std::string& path, const std::string& body,
            std::vector<std::string> h = {}) {
    h.push_back(Auth());
    return Http(method, U(path), h, body);
  }
  std::vector<std::string> Ids(int n) {
    const Resp r = Get("/drive/v3/files/generateIds?count=" + std::to_string(n) +
                       "&space=appDataFolder&type=files");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json()["ids"].get<std::vector<std::string>>();
  }
  // Multipart create into appDataFolder.
  Resp Create(const json& meta_in, const std::string& bytes, const std::string& fields =
                                                                 "id,name,size,md5Checksum") {
    json meta = meta_in;
    if (!meta.contains("parents")) meta["parents"] = {"appDataFolder"};
    const std::string body = "--XyZ\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n" +
                             meta.dump() + "\r\n--XyZ\r\nContent-Type: application/octet-stream\r\n\r\n" +
                             bytes + "\r\n--XyZ--\r\n";
    return Send("POST", "/upload/drive/v3/files?uploadType=multipart&fields=" + fields, body,
                {"Content-Type: multipart/related; boundary=XyZ"});
  }
  Resp Refresh() {
    return Http("POST", U("/token"), {},
                "grant_type=refresh_token&client_id=jsync-test-client&refresh_token=" +
                    Esc(tokens_.refresh_token));
  }

  std::unique_ptr<GdriveEmulator> emu_;
  GdriveTokens tokens_;
};

// ---- OAuth -------------------------------------------------------------------------------------

TEST_F(GdriveEmulatorTest, AuthorizationCodeWithPkce) {
  Start();
  EXPECT_EQ(tokens_.scope, kAppData);
  EXPECT_FALSE(tokens_.refresh_token.empty());
  const std::string verifier(64, 'v');
  const std::string redirect = "http://127.0.0.1:45678/cb";
  auto authorize = [&](const std::string& extra) {
    return Http("GET", U("/o/oauth2/v2/auth?response_type=code&client_id=jsync-test-client"
                         "&redirect_uri=" + Esc(redirect) + "&scope=" + Esc(kAppData) +
                         "&state=s1" + extra));
  };
  Resp a = authorize("&code_challenge=" + Challenge(verifier) + "&code_challenge_method=S256");
  ASSERT_EQ(a.status, 302);
  const std::string location = a.headers["location"];
  EXPECT_EQ(location.rfind(redirect + "?code=", 0), 0u) << location;
  EXPECT_EQ(QueryValue(location, "state"), "s1");
  const std::string code = QueryValue(location, "code");
  auto exchange = [&](const std::string& v) {
    return Http("POST", U("/token"), {},
                "grant_type=authorization_code&client_id=jsync-test-client&code=" + Esc(code) +
                    "&redirect_uri=" + Esc(redirect) + "&code_verifier=" + v);
  };
  Resp wrong = exchange(std::string(64, 'w'));
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(wrong.OAuthError(), "invalid_grant");
  EXPECT_EQ(wrong.headers["cache-control"].find("no-store") != std::string::npos, true);
  // The code was burnt by the failed attempt: single use.
  Resp reuse = exchange(verifier);
  EXPECT_EQ(reuse.OAuthError(), "invalid_grant");

  // A fresh code: success once, invalid_grant the second time.
  a = authorize("&code_challenge=" + Challenge(verifier) + "&code_challenge_method=S256");
  const std::string code2 = QueryValue(a.headers["location"], "code");
  auto exchange2 = [&] {
    return Http("POST", U("/token"), {},
                "grant_type=authorization_code&client_id=jsync-test-client&code=" + Esc(code2) +
                    "&redirect_uri=" + Esc(redirect) + "&code_verifier=" + verifier);
  };
  Resp ok = exchange2();
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Json()["token_type"], "Bearer");
  EXPECT_EQ(ok.Json()["expires_in"], 3599);
  EXPECT_EQ(exchange2().OAuthError(), "invalid_grant");

  // Errors: missing PKCE → redirect with error and state; a non-loopback redirect is not followed.
  Resp no_pkce = authorize("");
  ASSERT_EQ(no_pkce.status, 302);
  EXPECT_EQ(QueryValue(no_pkce.headers["location"], "error"), "invalid_request");
  EXPECT_EQ(QueryValue(no_pkce.headers["location"], "state"), "s1");
  Resp bad_redirect =
      Http("GET", U("/o/oauth2/v2/auth?response_type=code&client_id=jsync-test-client"
                    "&redirect_uri=" + Esc("https://evil.example/cb") + "&scope=" + Esc(kAppData) +
                    "&code_challenge=" + Challenge(verifier) + "&code_challenge_method=S256"));
  EXPECT_EQ(bad_redirect.status, 400);
  EXPECT_EQ(bad_redirect.headers.count("location"), 0u);
}

TEST_F(GdriveEmulatorTest, ConsentPageWithoutAutoApprove) {
  Start({}, /*auto_approve=*/false);
  const std::string verifier(50, 'q');
  Resp page = Http("GET", U("/o/oauth2/v2/auth?response_type=code&client_id=jsync-test-client"
                            "&redirect_uri=" + Esc("http://[::1]:4000") + "&scope=" + Esc(kAppData) +
                            "&code_challenge=" + Challenge(verifier) +
                            "&code_challenge_method=S256&state=zz"));
  ASSERT_EQ(page.status, 200);
  const size_t at = page.body.find("name=\"consent\" value=\"");
  ASSERT_NE(at, std::string::npos) << page.body;
  const size_t start = at + 22;
  const std::string consent = page.body.substr(start, page.body.find('"', start) - start);
  Resp deny = Http("POST", U("/o/oauth2/v2/auth/approve"), {},
                   "consent=" + consent + "&decision=deny");
  ASSERT_EQ(deny.status, 302);
  EXPECT_EQ(QueryValue(deny.headers["location"], "error"), "access_denied");
  EXPECT_EQ(QueryValue(deny.headers["location"], "state"), "zz");
}

TEST_F(GdriveEmulatorTest, DeviceFlowPendingThenSuccess) {
  Start({"--device-interval", "0"});
  Resp bad = Http("POST", U("/device/code"), {},
                  "client_id=jsync-test-client&scope=" + Esc("https://www.googleapis.com/auth/drive"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.OAuthError(), "invalid_scope");
  Resp dc = Http("POST", U("/device/code"), {}, "client_id=jsync-test-client&scope=" + Esc(kAppData));
  ASSERT_EQ(dc.status, 200) << dc.body;
  const json j = dc.Json();
  EXPECT_TRUE(j.contains("verification_url"));
  EXPECT_FALSE(j.contains("verification_uri"));
  EXPECT_EQ(j["expires_in"], 1800);
  EXPECT_EQ(j["interval"], 0);
  const std::string user_code = j["user_code"];
  ASSERT_EQ(user_code.size(), 9u);
  EXPECT_EQ(user_code[4], '-');
  for (char c : user_code.substr(0, 4) + user_code.substr(5))
    EXPECT_NE(std::string("BCDFGHJKLMNPQRSTVWXZ").find(c), std::string::npos);
  auto poll = [&] {
    return Http("POST", U("/token"), {},
                "client_id=jsync-test-client&device_code=" + Esc(j["device_code"]) +
                    "&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code");
  };
  Resp first = poll();
  EXPECT_EQ(first.status, 428);
  EXPECT_EQ(first.OAuthError(), "authorization_pending");
  Resp second = poll();
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_FALSE(second.Json().value("access_token", "").empty());
  EXPECT_EQ(poll().OAuthError(), "invalid_grant");  // consumed
}

TEST_F(GdriveEmulatorTest, DeviceFlowSlowDownAndUserApproval) {
  Start({"--device-interval", "5"}, /*auto_approve=*/false);
  Resp dc = Http("POST", U("/device/code"), {}, "client_id=jsync-test-client&scope=" + Esc(kAppData));
  ASSERT_EQ(dc.status, 200);
  const json j = dc.Json();
  EXPECT_EQ(j["verification_url"], U("/device"));
  auto poll = [&] {
    return Http("POST", U("/token"), {},
                "client_id=jsync-test-client&device_code=" + Esc(j["device_code"]) +
                    "&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code");
  };
  EXPECT_EQ(poll().OAuthError(), "authorization_pending");
  Resp fast = poll();
  EXPECT_EQ(fast.status, 403);
  EXPECT_EQ(fast.OAuthError(), "slow_down");
  EXPECT_EQ(Http("GET", U("/device")).status, 200);
  std::string code = j["user_code"];
  for (auto& c : code) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Resp approve = Http("POST", U("/device"), {}, "user_code=" + code + "&decision=approve");
  EXPECT_EQ(approve.status, 200) << approve.body;
}

TEST_F(GdriveEmulatorTest, RefreshRevokeAndExpiredToken) {
  Start({"--token-lifetime", "1"});
  EXPECT_EQ(Get("/drive/v3/about?fields=user").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Resp expired = Get("/drive/v3/about?fields=user");
  ASSERT_EQ(expired.status, 401);
  EXPECT_EQ(expired.Reason(), "authError");
  EXPECT_EQ(expired.Json()["error"]["message"], "Invalid Credentials");
  EXPECT_EQ(expired.Json()["error"]["errors"][0]["location"], "Authorization");
  EXPECT_NE(expired.headers["www-authenticate"].find("Bearer realm="), std::string::npos);
  Resp refreshed = Refresh();
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_FALSE(refreshed.Json().contains("refresh_token"));  // Google does not rotate
  tokens_.access_token = refreshed.Json()["access_token"];
  EXPECT_EQ(Get("/drive/v3/about?fields=user").status, 200);
  EXPECT_EQ(Refresh().status, 200);  // the same refresh token keeps working

  Resp revoke = Http("POST", U("/revoke"), {}, "token=" + Esc(tokens_.refresh_token));
  EXPECT_EQ(revoke.status, 200);
  EXPECT_EQ(Get("/drive/v3/about?fields=user").status, 401);  // the grant's access token too
  Resp after = Refresh();
  EXPECT_EQ(after.status, 400);
  EXPECT_EQ(after.OAuthError(), "invalid_grant");
  Resp again = Http("POST", U("/revoke?token=" + Esc(tokens_.refresh_token)));
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.OAuthError(), "invalid_token");
  EXPECT_EQ(Http("GET", U("/drive/v3/about?fields=user")).status, 401);  // no header at all
  // Tokens never reach the emulator's own log.
  EXPECT_EQ(emu_->Log().find(tokens_.refresh_token), std::string::npos);
  std::ifstream log(emu_->request_log_path());
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find(tokens_.refresh_token), std::string::npos);
}

// ---- files -------------------------------------------------------------------------------------

TEST_F(GdriveEmulatorTest, CreateWithGeneratedIdsAndConflicts) {
  Start();
  const auto ids = Ids(3);
  ASSERT_EQ(ids.size(), 3u);
  Resp r = Create({{"id", ids[0]}, {"name", "j-1.bin"}, {"appProperties", {{"seq", "1"}}}},
                  "ciphertext-1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["id"], ids[0]);
  EXPECT_EQ(r.Json()["size"], "12");  // int64 as a string
  Resp dup = Create({{"id", ids[0]}, {"name", "j-1.bin"}}, "ciphertext-1");
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(dup.Reason(), "fileIdInUse");
  Resp invented = Create({{"id", "1" + std::string(32, 'a')}, {"name", "x"}}, "x");
  EXPECT_EQ(invented.status, 400);
  // Duplicate names are fine.
  EXPECT_EQ(Create({{"id", ids[1]}, {"name", "j-1.bin"}}, "other").status, 200);
  // The stored blob is exactly the uploaded bytes.
  std::ifstream blob(emu_->state_dir() / "blobs" / ids[0], std::ios::binary);
  const std::string stored((std::istreambuf_iterator<char>(blob)), std::istreambuf_iterator<char>());
  EXPECT_EQ(stored, "ciphertext-1");
  // A media create would land in My Drive: refused with the appdata-only scope.
  Resp media = Send("POST", "/upload/drive/v3/files?uploadType=media", "x",
                    {"Content-Type: application/octet-stream"});
  EXPECT_EQ(media.status, 403);
  // Simple (media) upload replaces an existing file's content.
  Resp upd = Send("PATCH", "/upload/drive/v3/files/" + ids[1] + "?uploadType=media&fields=size,version",
                  "new content", {"Content-Type: application/octet-stream"});
  ASSERT_EQ(upd.status, 200) << upd.body;
  EXPECT_EQ(upd.Json()["size"], "11");
  EXPECT_EQ(upd.Json()["version"], "2");
  Resp meta = Get("/drive/v3/files/" + ids[0] + "?fields=id,name,size,md5Checksum,parents,"
                  "createdTime,modifiedTime,version,appProperties");
  ASSERT_EQ(meta.status, 200);
  const json m = meta.Json();
  EXPECT_EQ(m["md5Checksum"], "7c0f1a25964be61eeb201d3c1953c4e0");
  EXPECT_EQ(m["appProperties"]["seq"], "1");
  EXPECT_EQ(m["createdTime"].get<std::string>().size(), 24u);  // 2025-10-19T08:15:30.123Z
  EXPECT_EQ(m["parents"][0], Get("/drive/v3/files/appDataFolder?fields=id").Json()["id"]);
  EXPECT_FALSE(m.contains("kind"));
  // Delete: 204, then 404.
  EXPECT_EQ(Send("DELETE", "/drive/v3/files/" + ids[0], "").status, 204);
  Resp gone = Send("DELETE", "/drive/v3/files/" + ids[0], "");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.Reason(), "notFound");
}

TEST_F(GdriveEmulatorTest, ResumableUploadWithChunksStatusQueryAndDrop) {
  // Drive requests: 1 generateIds, 2 initiation, 3 first chunk (half stored, then dropped).
  Start({"--faults", "drop-upload@3"});
  const std::string data = Pattern(700 * 1024, 7);
  const std::string id = Ids(1)[0];  // Drive request 1 (OAuth is not counted)
  Resp init = Send("POST", "/upload/drive/v3/files?uploadType=resumable&fields=id,size,md5Checksum",
                   json{{"name", "big.bin"}, {"parents", {"appDataFolder"}}, {"id", id}}.dump(),
                   {"Content-Type: application/json; charset=UTF-8",
                    "X-Upload-Content-Length: " + std::to_string(data.size())});
  ASSERT_EQ(init.status, 200) << init.body;
  const std::string session = init.headers["location"];
  ASSERT_NE(session.find("uploadType=resumable&upload_id="), std::string::npos) << session;
  auto put = [&](size_t first, size_t len) {
    std::vector<std::string> h = {Auth(), "Content-Range: bytes " + std::to_string(first) + "-" +
                                              std::to_string(first + len - 1) + "/" +
                                              std::to_string(data.size())};
    return Http("PUT", session, h, data.substr(first, len));
  };
  auto status = [&] {
    return Http("PUT", session, {Auth(), "Content-Range: bytes */" + std::to_string(data.size())});
  };
  Resp dropped = put(0, 512 * 1024);
  EXPECT_TRUE(dropped.transport_error);
  Resp s1 = status();
  ASSERT_EQ(s1.status, 308);
  EXPECT_EQ(s1.headers["range"], "bytes=0-262143");  // half of the chunk
  // A non-aligned non-final chunk: only whole 256 KiB units persist.
  Resp part = put(262144, 300000);
  ASSERT_EQ(part.status, 308);
  EXPECT_EQ(part.headers["range"], "bytes=0-524287");
  Resp last = put(524288, data.size() - 524288);
  ASSERT_EQ(last.status, 200) << last.body;
  EXPECT_EQ(last.Json()["size"], std::to_string(data.size()));
  Resp done = status();
  EXPECT_EQ(done.status, 200);
  EXPECT_EQ(done.Json()["id"], id);
  Resp body = Get("/drive/v3/files/" + id + "?alt=media");
  EXPECT_EQ(body.status, 200);
  EXPECT_TRUE(body.body == data);
  // A fresh session with nothing received: 308 without Range.
  Resp init2 = Send("POST", "/upload/drive/v3/files?uploadType=resumable",
                    json{{"name", "b2"}, {"parents", {"appDataFolder"}}}.dump(),
                    {"Content-Type: application/json; charset=UTF-8"});
  Resp empty = Http("PUT", init2.headers["location"], {Auth(), "Content-Range: bytes */*"});
  EXPECT_EQ(empty.status, 308);
  EXPECT_EQ(empty.headers.count("range"), 0u);
  // 409 at initiation for a used id.
  Resp reuse = Send("POST", "/upload/drive/v3/files?uploadType=resumable",
                    json{{"name", "x"}, {"parents", {"appDataFolder"}}, {"id", id}}.dump(),
                    {"Content-Type: application/json; charset=UTF-8"});
  EXPECT_EQ(reuse.status, 409);
}

TEST_F(GdriveEmulatorTest, UploadSessionExpires) {
  Start({"--upload-session-ttl", "1"});
  Resp init = Send("POST", "/upload/drive/v3/files?uploadType=resumable",
                   json{{"name", "x"}, {"parents", {"appDataFolder"}}}.dump(),
                   {"Content-Type: application/json; charset=UTF-8"});
  ASSERT_EQ(init.status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Resp r = Http("PUT", init.headers["location"], {Auth(), "Content-Range: bytes */5"});
  EXPECT_EQ(r.status, 404);
}

TEST_F(GdriveEmulatorTest, ListWithQueryFieldsOrderAndPaging) {
  Start();
  const auto ids = Ids(6);
  const std::vector<std::string> names = {"j-003", "j-001", "it's", "j-002", "j-001", "back\\slash"};
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_EQ(Create({{"id", ids[i]}, {"name", names[i]},
                      {"appProperties", {{"seq", std::to_string(i)}}}},
                     "x")
                  .status,
              200);
  }
  ASSERT_EQ(Send("PATCH", "/drive/v3/files/" + ids[0], json{{"trashed", true}}.dump(),
                 {"Content-Type: application/json"})
                .status,
            200);
  auto list = [&](const std::string& q, const std::string& extra = "") {
    return Get("/drive/v3/files?spaces=appDataFolder&q=" + Esc(q) + extra);
  };
  auto names_of = [](const Resp& r) {
    std::vector<std::string> out;
    const json j = r.Json();
    for (const auto& f : j["files"]) out.push_back(f["name"]);
    return out;
  };
  Resp all = list("'appDataFolder' in parents and trashed = false",
                  "&orderBy=name&fields=" + Esc("files(id,name)"));
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(names_of(all), (std::vector<std::string>{"back\\slash", "it's", "j-001", "j-001", "j-002"}));
  EXPECT_EQ(names_of(list("name = 'j-001'")).size(), 2u);
  EXPECT_EQ(names_of(list("name = 'it\\'s'")), std::vector<std::string>{"it's"});
  EXPECT_EQ(names_of(list("name = 'back\\\\slash'")).size(), 1u);
  EXPECT_EQ(names_of(list("name contains 'j-00'")).size(), 4u);  // trashed included by default
  EXPECT_EQ(names_of(list("name contains '001'")).size(), 0u);   // prefix only
  EXPECT_EQ(names_of(list("appProperties has { key='seq' and value='3' }")),
            std::vector<std::string>{"j-002"});
  EXPECT_EQ(names_of(list("(name = 'j-002' or name = 'it\\'s') and trashed = false",
                          "&orderBy=" + Esc("name desc")))
                ,
            (std::vector<std::string>{"j-002", "it's"}));
  EXPECT_EQ(list("name = ").status, 400);
  // Paging: 6 files, pageSize 4 → 4 + 2.
  Resp p1 = list("'appDataFolder' in parents", "&pageSize=4&orderBy=createdTime&fields=" +
                                                    Esc("nextPageToken,files(id,name,size)"));
  ASSERT_EQ(p1.status, 200);
  ASSERT_EQ(p1.Json()["files"].size(), 4u);
  EXPECT_EQ(p1.Json()["files"][0]["size"], "1");
  const std::string token = p1.Json()["nextPageToken"];
  Resp p2 = list("'appDataFolder' in parents", "&pageSize=4&orderBy=createdTime&pageToken=" +
                                                    Esc(token) + "&fields=" +
                                                    Esc("nextPageToken,files(id,name,size)"));
  ASSERT_EQ(p2.Json()["files"].size(), 2u);
  EXPECT_FALSE(p2.Json().contains("nextPageToken"));
  EXPECT_EQ(list("", "&pageSize=1001").status, 400);
  Resp bad_field = list("", "&fields=" + Esc("files(id,nope)"));
  EXPECT_EQ(bad_field.status, 400);
  EXPECT_EQ(bad_field.Reason(), "invalidParameter");
  Resp default_space = Get("/drive/v3/files?q=" + Esc("'appDataFolder' in parents"));
  EXPECT_EQ(default_space.status, 403);
  EXPECT_EQ(default_space.Reason(), "insufficientScopes");
}

TEST_F(GdriveEmulatorTest, RangeReads) {
  Start();
  const std::string id = Ids(1)[0];
  ASSERT_EQ(Create({{"id", id}, {"name", "r"}}, "0123456789").status, 200);
  Resp part = Get("/drive/v3/files/" + id + "?alt=media", {"Range: bytes=2-5"});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "2345");
  EXPECT_EQ(part.headers["content-range"], "bytes 2-5/10");
  Resp tail = Get("/drive/v3/files/" + id + "?alt=media", {"Range: bytes=-3"});
  EXPECT_EQ(tail.body, "789");
  Resp open = Get("/drive/v3/files/" + id + "?alt=media", {"Range: bytes=8-"});
  EXPECT_EQ(open.body, "89");
  Resp bad = Get("/drive/v3/files/" + id + "?alt=media", {"Range: bytes=10-12"});
  EXPECT_EQ(bad.status, 416);
  EXPECT_EQ(bad.headers["content-range"], "bytes */10");
}

// ---- changes and push --------------------------------------------------------------------------

TEST_F(GdriveEmulatorTest, ChangesFeed) {
  Start();
  Resp start = Get("/drive/v3/changes/startPageToken");
  ASSERT_EQ(start.status, 200);
  const std::string token = start.Json()["startPageToken"];
  const auto ids = Ids(3);
  for (const auto& id : ids) ASSERT_EQ(Create({{"id", id}, {"name", id}}, "c").status, 200);
  ASSERT_EQ(Send("DELETE", "/drive/v3/files/" + ids[2], "").status, 204);
  const std::string fields = "&fields=" + Esc("nextPageToken,newStartPageToken,changes(changeType,"
                                              "time,removed,fileId,file(id,name,size))");
  Resp p1 = Get("/drive/v3/changes?spaces=appDataFolder&pageSize=2&pageToken=" + token + fields);
  ASSERT_EQ(p1.status, 200) << p1.body;
  const json j1 = p1.Json();
  ASSERT_EQ(j1["changes"].size(), 2u);
  EXPECT_EQ(j1["changes"][0]["fileId"], ids[0]);
  EXPECT_EQ(j1["changes"][0]["changeType"], "file");
  EXPECT_EQ(j1["changes"][0]["file"]["size"], "1");
  ASSERT_TRUE(j1.contains("nextPageToken"));
  EXPECT_FALSE(j1.contains("newStartPageToken"));
  Resp p2 = Get("/drive/v3/changes?spaces=appDataFolder&pageSize=2&pageToken=" +
                j1["nextPageToken"].get<std::string>() + fields);
  const json j2 = p2.Json();
  ASSERT_EQ(j2["changes"].size(), 1u);  // create + delete of ids[2] collapse into the removal
  EXPECT_EQ(j2["changes"][0]["fileId"], ids[2]);
  EXPECT_EQ(j2["changes"][0]["removed"], true);
  EXPECT_FALSE(j2["changes"][0].contains("file"));
  ASSERT_TRUE(j2.contains("newStartPageToken"));
  const std::string next = j2["newStartPageToken"];
  EXPECT_EQ(next, Get("/drive/v3/changes/startPageToken").Json()["startPageToken"]);
  Resp none = Get("/drive/v3/changes?spaces=appDataFolder&pageToken=" + next + fields);
  EXPECT_EQ(none.Json()["changes"].size(), 0u);
  EXPECT_EQ(none.Json()["newStartPageToken"], next);
  EXPECT_EQ(Get("/drive/v3/changes?spaces=appDataFolder").status, 400);  // pageToken required
  EXPECT_EQ(Get("/drive/v3/changes?spaces=appDataFolder&pageToken=999999").status, 400);
  EXPECT_EQ(Get("/drive/v3/changes?pageToken=1").status, 403);  // default spaces=drive
}

// A minimal HTTP receiver for webhook deliveries (one request per connection).
class HookReceiver {
 public:
  HookReceiver() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 8);
    thread_ = std::thread([this] { Run(); });
  }
  ~HookReceiver() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  // Waits for the nth (1-based) delivery's headers (lower-cased names).
  std::map<std::string, std::string> Wait(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(5), [&] { return got_.size() >= n; });
    return got_.size() >= n ? got_[n - 1] : std::map<std::string, std::string>{};
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return got_.size();
  }

 private:
  void Run() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      std::map<std::string, std::string> h;
      size_t pos = req.find("\r\n");
      while (pos != std::string::npos && pos + 2 < req.size()) {
        const size_t end = req.find("\r\n", pos + 2);
        const std::string line = req.substr(pos + 2, end - pos - 2);
        if (line.empty()) break;
        const size_t colon = line.find(':');
        std::string name = line.substr(0, colon);
        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        h[name] = line.substr(line.find_first_not_of(' ', colon + 1));
        pos = end;
      }
      h[":request-line"] = req.substr(0, req.find("\r\n"));
      const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      ::send(c, ok, sizeof ok - 1, MSG_NOSIGNAL);
      ::close(c);
      std::lock_guard lock(mu_);
      got_.push_back(h);
      cv_.notify_all();
    }
  }
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::map<std::string, std::string>> got_;
};

TEST_F(GdriveEmulatorTest, ChangesWatchDeliversWebhooks) {
  Start();
  HookReceiver hooks;
  const std::string token = Get("/drive/v3/changes/startPageToken").Json()["startPageToken"];
  Resp watch = Send("POST", "/drive/v3/changes/watch?spaces=appDataFolder&pageToken=" + token,
                    json{{"id", "chan-1"}, {"type", "web_hook"}, {"address", hooks.url()},
                         {"token", "opaque-42"}}
                        .dump(),
                    {"Content-Type: application/json"});
  ASSERT_EQ(watch.status, 200) << watch.body;
  const json ch = watch.Json();
  EXPECT_EQ(ch["kind"], "api#channel");
  EXPECT_EQ(ch["id"], "chan-1");
  EXPECT_TRUE(ch["expiration"].is_string());
  const std::string resource_id = ch["resourceId"];
  auto sync = hooks.Wait(1);
  EXPECT_EQ(sync[":request-line"], "POST /hook HTTP/1.1");
  EXPECT_EQ(sync["x-goog-resource-state"], "sync");
  EXPECT_EQ(sync["x-goog-message-number"], "1");
  EXPECT_EQ(sync["x-goog-channel-id"], "chan-1");
  EXPECT_EQ(sync["x-goog-channel-token"], "opaque-42");
  EXPECT_EQ(sync["x-goog-resource-id"], resource_id);
  EXPECT_EQ(sync["x-goog-resource-uri"], ch["resourceUri"]);
  EXPECT_FALSE(sync["x-goog-channel-expiration"].empty());
  ASSERT_EQ(Create({{"name", "n"}}, "x").status, 200);
  auto change = hooks.Wait(2);
  EXPECT_EQ(change["x-goog-resource-state"], "change");
  EXPECT_EQ(change["x-goog-message-number"], "2");
  Resp stop = Send("POST", "/drive/v3/channels/stop",
                   json{{"id", "chan-1"}, {"resourceId", resource_id}}.dump(),
                   {"Content-Type: application/json"});
  EXPECT_EQ(stop.status, 204);
  ASSERT_EQ(Create({{"name", "m"}}, "y").status, 200);
  // Deliveries are in order on one thread: a later watch's sync arriving proves none was queued.
  HookReceiver probe;
  Send("POST", "/drive/v3/changes/watch?pageToken=" + token,
       json{{"id", "chan-2"}, {"type", "web_hook"}, {"address", probe.url()}}.dump(),
       {"Content-Type: application/json"});
  probe.Wait(1);
  EXPECT_EQ(hooks.count(), 2u);
}

// ---- quota, faults, persistence ----------------------------------------------------------------

TEST_F(GdriveEmulatorTest, AboutAndStorageQuota) {
  Start({"--quota", "100"});
  Resp no_fields = Get("/drive/v3/about");
  EXPECT_EQ(no_fields.status, 400);
  EXPECT_EQ(no_fields.Reason(), "required");
  ASSERT_EQ(Create({{"name", "a"}}, std::string(60, 'a')).status, 200);
  Resp full = Create({{"name", "b"}}, std::string(60, 'b'));
  ASSERT_EQ(full.status, 403);
  EXPECT_EQ(full.Reason(), "storageQuotaExceeded");
  EXPECT_EQ(full.Json()["error"]["code"], 403);
  EXPECT_TRUE(full.Json()["error"]["message"].is_string());
  Resp about = Get("/drive/v3/about?fields=" + Esc("storageQuota,user(emailAddress)"));
  ASSERT_EQ(about.status, 200);
  const json q = about.Json()["storageQuota"];
  EXPECT_EQ(q["limit"], "100");
  EXPECT_EQ(q["usage"], "60");
  EXPECT_EQ(q["usageInDrive"], "60");
  EXPECT_EQ(q["usageInDriveTrash"], "0");
  EXPECT_EQ(about.Json()["user"].size(), 1u);
}

TEST_F(GdriveEmulatorTest, EveryFaultKind) {
  Start({"--faults", "rate@1,429@2,500@3,502@4,503@5,drop@6,quota@7,expire-token@8"});
  const std::string about = "/drive/v3/about?fields=user";
  Resp rate = Get(about);
  EXPECT_EQ(rate.status, 403);
  EXPECT_EQ(rate.Reason(), "userRateLimitExceeded");
  EXPECT_EQ(rate.Json()["error"]["errors"][0]["domain"], "usageLimits");
  Resp r429 = Get(about);
  EXPECT_EQ(r429.status, 429);
  EXPECT_EQ(r429.Reason(), "rateLimitExceeded");
  EXPECT_EQ(r429.headers["retry-after"], "1");
  EXPECT_EQ(Get(about).status, 500);
  EXPECT_EQ(Get(about).status, 502);
  EXPECT_EQ(Get(about).status, 503);
  EXPECT_TRUE(Get(about).transport_error);
  Resp quota = Get(about);
  EXPECT_EQ(quota.status, 403);
  EXPECT_EQ(quota.Reason(), "storageQuotaExceeded");
  Resp expired = Get(about);  // 8
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(expired.Reason(), "authError");
  EXPECT_EQ(Get(about).status, 401);  // 9: the token stays expired
  Resp refreshed = Refresh();         // OAuth: not counted
  ASSERT_EQ(refreshed.status, 200);
  tokens_.access_token = refreshed.Json()["access_token"];
  EXPECT_EQ(Get(about).status, 200);  // 10
}

TEST_F(GdriveEmulatorTest, DropAfterCommitMakesRetriesConflict) {
  Start({"--faults", "drop-after@2"});
  const std::string id = Ids(1)[0];                          // 1
  Resp lost = Create({{"id", id}, {"name", "c"}}, "bytes");  // 2: committed, answer lost
  EXPECT_TRUE(lost.transport_error);
  Resp retry = Create({{"id", id}, {"name", "c"}}, "bytes");  // 3
  EXPECT_EQ(retry.status, 409);
  EXPECT_EQ(retry.Reason(), "fileIdInUse");
  Resp meta = Get("/drive/v3/files/" + id + "?fields=size,md5Checksum");
  EXPECT_EQ(meta.Json()["size"], "5");
}

TEST_F(GdriveEmulatorTest, StateSurvivesRestartAndRequestsAreLogged) {
  Start({"--latency", "30"});
  const std::string id = Ids(1)[0];
  const std::string token = Get("/drive/v3/changes/startPageToken").Json()["startPageToken"];
  ASSERT_EQ(Create({{"id", id}, {"name", "keep.bin"}, {"appProperties", {{"k", "v"}}}}, "kept")
                .status,
            200);
  std::ifstream log(emu_->request_log_path());
  std::string line;
  bool seen = false;
  while (std::getline(log, line)) {
    const json j = json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    if (j["path"] == "/upload/drive/v3/files" && j["method"] == "POST") {
      EXPECT_EQ(j["query"]["uploadType"], "multipart");
      EXPECT_EQ(j["body_json"]["name"], "keep.bin");
      EXPECT_EQ(j["content_type"], "multipart/related; boundary=XyZ");
      seen = true;
    }
  }
  EXPECT_TRUE(seen);
  emu_->Stop();

  GdriveEmulatorOptions o;
  o.state_dir = emu_->state_dir();
  std::string error;
  auto second = GdriveEmulator::Start(o, &error);
  ASSERT_TRUE(second) << error;
  const auto t0 = std::chrono::steady_clock::now();
  // The access token survived too.
  Resp r = Http("GET", second->base_url() + "/drive/v3/files/" + id + "?alt=media", {Auth()});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "kept");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(30));  // no latency now
  Resp changes = Http("GET", second->base_url() + "/drive/v3/changes?spaces=appDataFolder&pageToken=" +
                                 token + "&fields=" + Esc("changes(fileId)"),
                      {Auth()});
  ASSERT_EQ(changes.status, 200) << changes.body;
  ASSERT_EQ(changes.Json()["changes"].size(), 1u);
  EXPECT_EQ(changes.Json()["changes"][0]["fileId"], id);
  Resp dup = Http("POST", second->base_url() + "/upload/drive/v3/files?uploadType=multipart",
                  {Auth(), "Content-Type: multipart/related; boundary=B"},
                  "--B\r\nContent-Type: application/json\r\n\r\n" +
                      json{{"id", id}, {"parents", {"appDataFolder"}}}.dump() +
                      "\r\n--B\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n--B--");
  EXPECT_EQ(dup.status, 409);
}

TEST_F(GdriveEmulatorTest, LatencyDelaysAnswers) {
  Start({"--latency", "150"});
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(Get("/drive/v3/about?fields=user").status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(150));
}

TEST(GdriveEmulatorCli, BadFaultSpecIsOneClearError) {
  GdriveEmulatorOptions o;
  o.args = {"--faults", "explode@1"};
  std::string error;
  auto emu = GdriveEmulator::Start(o, &error);
  EXPECT_FALSE(emu);
  EXPECT_NE(error.find("unknown fault kind 'explode'"), std::string::npos) << error;
}

}  // namespace
}  // namespace jsync::testing

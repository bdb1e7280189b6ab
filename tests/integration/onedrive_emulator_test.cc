// The Microsoft Graph emulator (tools/emulators, `jsync-emulator onedrive`) against the documented
// behaviour in ../shared/reference/onedrive.md: items, children paging, simple upload conflicts,
// upload sessions, downloads, delete and the recycle bin, delta, subscriptions, quota, faults,
// the request log and persistence. Every test starts its own emulator on a fresh state folder;
// requests are raw libcurl so the checks are on the wire format.
#include "tests/support/onedrive_emulator.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "net/local_http_server.h"
#include "tests/support/test_support.h"

namespace jsync::testing {
namespace {

using nlohmann::json;

struct Resp : HttpReply {
  Resp() = default;
  Resp(HttpReply r) : HttpReply(std::move(r)) {}  // NOLINT: implicit on purpose
  std::string Code() const {
    const json j = Json();
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
  }
  std::string InnerCode() const {
    const json j = Json();
    return j.is_object() && j.contains("error") && j["error"].contains("innerError")
               ? j["error"]["innerError"].value("code", "")
               : "";
  }
};

Resp Http(const std::string& method, const std::string& url,
          const std::vector<std::string>& headers = {}, const std::string& body = "") {
  return RawHttp(method, url, headers, body);
}

std::string Pattern(size_t n, uint8_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 31 + seed) & 0xff);
  return s;
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

std::vector<json> ReadLog(const std::filesystem::path& file) { return ReadRequestLog(file); }

constexpr const char* kApp = "/v1.0/me/drive/special/approot";
constexpr size_t kUnit = 320 * 1024;

class OnedriveEmulatorTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args = {}, const std::string& scope = "") {
    OnedriveEmulatorOptions o;
    o.args = std::move(args);
    if (!state_.empty()) o.state_dir = state_;
    std::string error;
    emu_ = OnedriveEmulator::Start(o, &error);
    ASSERT_TRUE(emu_) << error;
    state_ = emu_->state_dir();
    tokens_ = scope.empty() ? emu_->AuthorizeWithCode(&error)
                            : emu_->AuthorizeWithCode(&error, "jsync-test-client", scope);
    ASSERT_FALSE(tokens_.access_token.empty()) << error;
  }
  std::string U(const std::string& path) const { return emu_->base_url() + path; }
  std::string Auth() const { return "Authorization: Bearer " + tokens_.access_token; }
  Resp Get(const std::string& path, std::vector<std::string> h = {}) {
    h.push_back(Auth());
    return Http("GET", path.rfind("http", 0) == 0 ? path : U(path), h);
  }
  Resp Send(const std::string& method, const std::string& path, const std::string& body,
            std::vector<std::string> h = {}) {
    h.push_back(Auth());
    return Http(method, U(path), h, body);
  }
  Resp Put(const std::string& rel, const std::string& bytes, const std::string& query = "",
           std::vector<std::string> h = {}) {
    h.push_back("Content-Type: application/octet-stream");
    return Send("PUT", std::string(kApp) + ":/" + rel + ":/content" + query, bytes, h);
  }
  Resp Session(const std::string& rel,
               const json& body = {{"item", {{"@microsoft.graph.conflictBehavior", "fail"}}}}) {
    std::string path = kApp;
    path.append(":/").append(rel).append(":/createUploadSession");
    return Send("POST", path, body.dump(), {"Content-Type: application/json"});
  }
  // A fragment to a pre-authenticated upload URL (no Authorization).
  static Resp Fragment(const std::string& url, const std::string& all, size_t first, size_t n,
                       std::vector<std::string> h = {}) {
    h.push_back("Content-Range: bytes " + std::to_string(first) + "-" +
                std::to_string(first + n - 1) + "/" + std::to_string(all.size()));
    return Http("PUT", url, h, all.substr(first, n));
  }
  // Restarts on the same state folder. The port changes: Rebase() moves absolute URLs over.
  void Restart(std::vector<std::string> args = {}) {
    emu_->Stop();
    old_base_ = emu_->base_url();
    auto keep = std::move(emu_);  // keeps the state folder alive until the new one runs
    Start(std::move(args));
    keep_.push_back(std::move(keep));
  }
  std::string Rebase(const std::string& url) const {
    return url.rfind(old_base_, 0) == 0 ? emu_->base_url() + url.substr(old_base_.size()) : url;
  }
  // Follows @odata.nextLink to the end of a delta round; the items and the deltaLink.
  std::vector<json> Round(std::string url, std::string* delta_link, int* pages = nullptr) {
    std::vector<json> items;
    if (pages) *pages = 0;
    while (!url.empty()) {
      Resp r = Get(url);
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      const json j = r.Json();
      for (const auto& v : j["value"]) items.push_back(v);
      EXPECT_NE(j.contains("@odata.nextLink"), j.contains("@odata.deltaLink"));
      url = j.value("@odata.nextLink", "");
      *delta_link = j.value("@odata.deltaLink", "");
      if (pages) ++*pages;
    }
    return items;
  }

  std::filesystem::path state_;
  std::string old_base_;
  std::unique_ptr<OnedriveEmulator> emu_;
  std::vector<std::unique_ptr<OnedriveEmulator>> keep_;
  OnedriveTokens tokens_;
};

// ---- drive, items, simple upload --------------------------------------------------------------

TEST_F(OnedriveEmulatorTest, DriveApprootAndAuth) {
  Start();
  EXPECT_NE(tokens_.scope.find("Files.ReadWrite.AppFolder"), std::string::npos) << tokens_.scope;
  Resp none = Http("GET", U("/v1.0/me/drive"));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.Code(), "InvalidAuthenticationToken");
  EXPECT_NE(none.headers["www-authenticate"].find("Bearer"), std::string::npos);
  EXPECT_FALSE(none.headers["request-id"].empty());
  const json err = none.Json()["error"];
  EXPECT_TRUE(err["innerError"]["date"].is_string());
  EXPECT_EQ(err["innerError"]["request-id"], none.headers["request-id"]);
  Resp bogus = Http("GET", U("/v1.0/me/drive"), {"Authorization: Bearer nope"});
  EXPECT_EQ(bogus.status, 401);
  Resp echo = Http("GET", U("/v1.0/me/drive"), {"client-request-id: abc-123"});
  EXPECT_EQ(echo.headers["client-request-id"], "abc-123");

  Resp drive = Get("/v1.0/me/drive");
  ASSERT_EQ(drive.status, 200) << drive.body;
  const json d = drive.Json();
  EXPECT_EQ(d["driveType"], "personal");
  EXPECT_TRUE(d["id"].is_string());
  EXPECT_TRUE(d["owner"]["user"].is_object());
  for (const char* k : {"total", "used", "remaining", "deleted"})
    EXPECT_TRUE(d["quota"][k].is_number_integer()) << k;
  EXPECT_EQ(d["quota"]["total"], int64_t{5} << 30);
  EXPECT_EQ(d["quota"]["state"], "normal");

  Resp app = Get(kApp);
  ASSERT_EQ(app.status, 200) << app.body;
  const json a = app.Json();
  EXPECT_EQ(a["name"], "jsync");
  EXPECT_EQ(a["specialFolder"]["name"], "approot");
  EXPECT_EQ(a["folder"]["childCount"], 0);
  EXPECT_EQ(a["parentReference"]["path"], "/drive/root:/Apps");
  EXPECT_EQ(a["parentReference"]["driveId"], d["id"]);
  EXPECT_EQ(Get(kApp).Json()["id"], a["id"]) << "created once";
  EXPECT_EQ(Get("/v1.0/me/drive/items/" + a["id"].get<std::string>()).Json()["name"], "jsync");
  // An AppFolder token does not reach the rest of the drive.
  Resp root = Get("/v1.0/me/drive/root");
  EXPECT_EQ(root.status, 403);
  EXPECT_EQ(root.Code(), "accessDenied");
  EXPECT_EQ(Get("/v1.0/drives/" + d["id"].get<std::string>() + "/special/approot").status, 200);
}

TEST_F(OnedriveEmulatorTest, SimpleUploadConflictsAndHashes) {
  Start();
  // QuickXorHash test vectors (rclone quickxorhash_test.go), as the service reports them.
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
      {"Sg==", "SgAAAAAAAAAAAAAAAQAAAAAAAAA="},
      {"tbQ=", "taAFAAAAAAAAAAAAAgAAAAAAAAA="},
      {"T6LYJIfDh81JrAK309H2JMJTXis=", "zBTHrspn3mEcohlJdIUAbjGNaNg="}};
  for (size_t i = 0; i < vectors.size(); ++i) {
    Resp r = Put("v/" + std::to_string(i), Base64Decode(vectors[i].first));
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.Json()["file"]["hashes"]["quickXorHash"], vectors[i].second) << i;
  }
  // A longer input crosses the 160-bit wrap many times: its hash differs from a 1-byte change.
  const std::string big = Pattern(100000, 3);
  std::string big2 = big;
  big2[99999] ^= 1;
  EXPECT_NE(Put("v/big", big).Json()["file"]["hashes"]["quickXorHash"],
            Put("v/big2", big2).Json()["file"]["hashes"]["quickXorHash"]);

  const std::string q = "?@microsoft.graph.conflictBehavior=fail";
  Resp created = Put("j/changes/d1/0001.jchg", "first", q);
  ASSERT_EQ(created.status, 201) << created.body;
  const json item = created.Json();
  EXPECT_EQ(item["size"], 5);
  EXPECT_EQ(item["file"]["hashes"]["sha256Hash"],
            "A7937B64B8CAA58F03721BB6BACF5C78CB235FEBE0E70B1B84CD99541461A08E");
  EXPECT_EQ(item["parentReference"]["path"], "/drive/root:/Apps/jsync/j/changes/d1");
  EXPECT_FALSE(item.contains("@microsoft.graph.downloadUrl"));
  // The path PUT created the folders.
  EXPECT_TRUE(Get(std::string(kApp) + ":/j/changes").Json()["folder"].is_object());

  Resp again = Put("j/changes/d1/0001.jchg", "other", "?%40microsoft.graph.conflictBehavior=fail");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.Code(), "nameAlreadyExists");
  Resp inm = Put("j/changes/d1/0001.jchg", "other", "", {"If-None-Match: *"});
  EXPECT_EQ(inm.status, 412);
  EXPECT_EQ(inm.Code(), "preconditionFailed");
  Resp im = Put("j/changes/d1/0001.jchg", "other", "", {"If-Match: \"nope\""});
  EXPECT_EQ(im.status, 412);
  EXPECT_EQ(im.Code(), "resourceModified");
  Resp renamed = Put("j/changes/d1/0001.jchg", "x", "?@microsoft.graph.conflictBehavior=rename");
  EXPECT_EQ(renamed.status, 201);
  EXPECT_EQ(renamed.Json()["name"], "0001 1.jchg");
  Resp bad = Put("j/a.txt", "x", "?@microsoft.graph.conflictBehavior=sometimes");
  EXPECT_EQ(bad.status, 400);

  // Replace (the default): 200, same id, eTag and cTag change; metadata GET.
  Resp replaced = Put("j/changes/d1/0001.jchg", "second!", "",
                      {"If-Match: " + item["eTag"].get<std::string>()});
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(replaced.Json()["id"], item["id"]);
  EXPECT_NE(replaced.Json()["eTag"], item["eTag"]);
  EXPECT_NE(replaced.Json()["cTag"], item["cTag"]);
  Resp meta = Get(std::string(kApp) + ":/j/changes/d1/0001.jchg?$select=id,size,file");
  ASSERT_EQ(meta.status, 200);
  EXPECT_EQ(meta.Json().size(), 3u) << meta.body;
  EXPECT_EQ(meta.Json()["size"], 7);
  EXPECT_EQ(Get(std::string(kApp) + ":/j/x?$select=nosuch").status, 400);
  Resp by_id = Get("/v1.0/me/drive/items/" + item["id"].get<std::string>());
  EXPECT_TRUE(by_id.Json()["@microsoft.graph.downloadUrl"].is_string());
  Resp missing = Get(std::string(kApp) + ":/j/none");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Code(), "itemNotFound");

  // Folders: POST children, 409 on a second create, rename.
  const std::string parent = std::string(kApp) + ":/j:/children";
  const json folder = {{"name", "devices"},
                       {"folder", json::object()},
                       {"@microsoft.graph.conflictBehavior", "fail"}};
  Resp f1 = Send("POST", parent, folder.dump(), {"Content-Type: application/json"});
  EXPECT_EQ(f1.status, 201) << f1.body;
  Resp f2 = Send("POST", parent, folder.dump(), {"Content-Type: application/json"});
  EXPECT_EQ(f2.status, 409);
  EXPECT_EQ(f2.Code(), "nameAlreadyExists");
  Resp missing_parent = Send("POST", std::string(kApp) + ":/nowhere:/children", folder.dump(),
                             {"Content-Type: application/json"});
  EXPECT_EQ(missing_parent.status, 404);

  // Blobs hold exactly the uploaded bytes.
  std::string blob = ReadFileBytes(state_ / "blobs" / item["id"].get<std::string>());
  EXPECT_EQ(blob, "second!");
}

TEST_F(OnedriveEmulatorTest, ChildrenPaging) {
  Start({"--page-size", "3"});
  for (int i = 0; i < 7; ++i) ASSERT_EQ(Put("p/f" + std::to_string(i), "x").status, 201);
  std::vector<std::string> names;
  std::string url = U(std::string(kApp) + ":/p:/children?$select=name,size");
  int pages = 0;
  while (!url.empty()) {
    Resp r = Get(url);
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = r.Json();
    EXPECT_LE(j["value"].size(), 3u);
    for (const auto& v : j["value"]) {
      names.push_back(v["name"]);
      EXPECT_EQ(v.size(), 2u);
    }
    url = j.value("@odata.nextLink", "");
    if (!url.empty()) {
      EXPECT_NE(url.find("$skiptoken="), std::string::npos);
    }
    ++pages;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(names, (std::vector<std::string>{"f0", "f1", "f2", "f3", "f4", "f5", "f6"}));
  Resp top = Get(std::string(kApp) + ":/p:/children?$top=5");
  EXPECT_EQ(top.Json()["value"].size(), 5u);
  EXPECT_EQ(Get(std::string(kApp) + ":/p:/children?$skiptoken=forged").status, 400);
  EXPECT_EQ(Get(std::string(kApp) + ":/p:/children?$top=0").status, 400);
}

TEST_F(OnedriveEmulatorTest, DownloadRedirectRangesAndExpiry) {
  Start({"--download-url-ttl", "1"});
  const std::string bytes = Pattern(2048, 9);
  ASSERT_EQ(Put("d/blob", bytes).status, 201);
  Resp redirect = Get(std::string(kApp) + ":/d/blob:/content");
  ASSERT_EQ(redirect.status, 302) << redirect.body;
  const std::string url = redirect.headers["location"];
  ASSERT_EQ(url.rfind(emu_->base_url() + "/download/", 0), 0u) << url;
  Resp whole = Http("GET", url);
  EXPECT_EQ(whole.status, 200);
  EXPECT_EQ(whole.body, bytes);
  Resp part = Http("GET", url, {"Range: bytes=0-1023"});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.headers["content-range"], "bytes 0-1023/2048");
  EXPECT_EQ(part.body, bytes.substr(0, 1024));
  Resp tail = Http("GET", url, {"Range: bytes=2000-"});
  EXPECT_EQ(tail.status, 206);
  EXPECT_EQ(tail.body, bytes.substr(2000));
  Resp past = Http("GET", url, {"Range: bytes=4096-5000"});
  EXPECT_EQ(past.status, 416);
  EXPECT_EQ(past.headers["content-range"], "bytes */2048");
  Resp forged = Http("GET", url + "x");
  EXPECT_EQ(forged.status, 401);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(Http("GET", url).status, 401) << "the download URL expired";
  // The log says which requests carried a credential.
  bool logged = false;
  for (const json& l : ReadLog(emu_->request_log_path())) {
    if (l["path"] == "/download/REDACTED") {
      logged = true;
      EXPECT_FALSE(l.contains("authorization"));
    }
  }
  EXPECT_TRUE(logged);
}

TEST_F(OnedriveEmulatorTest, DeleteTwiceAndRecycleBin) {
  Start();
  ASSERT_EQ(Put("r/a", std::string(1000, 'a')).status, 201);
  ASSERT_EQ(Put("r/sub/b", std::string(500, 'b')).status, 201);
  EXPECT_EQ(Get("/v1.0/me/drive").Json()["quota"]["used"], 1500);
  Resp del = Send("DELETE", std::string(kApp) + ":/r/a", "");
  EXPECT_EQ(del.status, 204);
  EXPECT_TRUE(del.body.empty());
  Resp again = Send("DELETE", std::string(kApp) + ":/r/a", "");
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(again.Code(), "itemNotFound");
  json quota = Get("/v1.0/me/drive").Json()["quota"];
  EXPECT_EQ(quota["used"], 1500) << "the recycle bin counts";
  EXPECT_EQ(quota["deleted"], 1000);
  const std::string sub = Get(std::string(kApp) + ":/r/sub").Json()["id"];
  EXPECT_EQ(Send("POST", "/v1.0/me/drive/items/" + sub + "/permanentDelete", "").status, 204);
  quota = Get("/v1.0/me/drive").Json()["quota"];
  EXPECT_EQ(quota["used"], 1000);
  EXPECT_EQ(Get(std::string(kApp) + ":/r/sub/b").status, 404);
  // A deleted name is free again.
  EXPECT_EQ(Put("r/a", "new", "?@microsoft.graph.conflictBehavior=fail").status, 201);
}

// ---- upload sessions ---------------------------------------------------------------------------

TEST_F(OnedriveEmulatorTest, UploadSessionFragments) {
  Start();
  const std::string bytes = Pattern(2 * kUnit + 1000, 5);
  Resp s = Session("u/big.jchg");
  EXPECT_EQ(s.status, 404) << "the parent folder must exist";
  ASSERT_EQ(Send("POST", std::string(kApp) + "/children",
                 json{{"name", "u"}, {"folder", json::object()}}.dump(),
                 {"Content-Type: application/json"})
                .status,
            201);
  s = Session("u/big.jchg");
  ASSERT_EQ(s.status, 200) << s.body;
  const json sj = s.Json();
  std::string url = sj["uploadUrl"];
  EXPECT_EQ(sj["nextExpectedRanges"], json::array({"0-"}));
  EXPECT_TRUE(sj["expirationDateTime"].is_string());
  EXPECT_EQ(url.rfind(emu_->base_url() + "/upload/session/", 0), 0u);

  // A credential sent to the pre-authenticated URL is refused.
  Resp with_auth = Fragment(url, bytes, 0, kUnit, {Auth()});
  EXPECT_EQ(with_auth.status, 401);
  Resp odd = Fragment(url, bytes, 0, 1000);
  EXPECT_EQ(odd.status, 400) << "not a multiple of 320 KiB";
  Resp first = Fragment(url, bytes, 0, kUnit);
  ASSERT_EQ(first.status, 202) << first.body;
  EXPECT_EQ(first.Json()["nextExpectedRanges"], json::array({std::to_string(kUnit) + "-"}));
  Resp overlap = Fragment(url, bytes, 0, kUnit);
  EXPECT_EQ(overlap.status, 416);
  EXPECT_EQ(overlap.Code(), "invalidRange");
  EXPECT_EQ(overlap.InnerCode(), "fragmentOverlap");
  Resp ahead = Fragment(url, bytes, 2 * kUnit, 1000);
  EXPECT_EQ(ahead.status, 416);
  EXPECT_EQ(ahead.InnerCode(), "fragmentOutOfOrder");
  Resp status = Http("GET", url);
  EXPECT_EQ(status.status, 200);
  EXPECT_EQ(status.Json()["nextExpectedRanges"][0], std::to_string(kUnit) + "-");

  // The session survives a restart.
  Restart();
  url = Rebase(url);
  ASSERT_EQ(Fragment(url, bytes, kUnit, kUnit).status, 202);
  // Someone else takes the name meanwhile: conflictBehavior=fail answers 409 on the last one.
  ASSERT_EQ(Put("u/big.jchg", "squatter").status, 201);
  Resp conflict = Fragment(url, bytes, 2 * kUnit, 1000);
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(conflict.Code(), "nameAlreadyExists");
  EXPECT_EQ(Send("DELETE", std::string(kApp) + ":/u/big.jchg", "").status, 204);
  Resp done = Http("PUT", url,
                   {"Content-Range: bytes " + std::to_string(2 * kUnit) + "-" +
                    std::to_string(bytes.size() - 1) + "/" + std::to_string(bytes.size())},
                   bytes.substr(2 * kUnit));
  ASSERT_EQ(done.status, 201) << done.body;
  const json item = done.Json();
  EXPECT_EQ(item["size"], bytes.size());
  EXPECT_EQ(ReadFileBytes(state_ / "blobs" / item["id"].get<std::string>()), bytes);
  Resp gone = Http("GET", url);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.Code(), "itemNotFound");

  // fail at creation when the name exists; update by id replaces (200).
  EXPECT_EQ(Session("u/big.jchg").status, 409);
  Resp upd =
      Send("POST", "/v1.0/me/drive/items/" + item["id"].get<std::string>() + "/createUploadSession",
           "{}", {"Content-Type: application/json"});
  ASSERT_EQ(upd.status, 200) << upd.body;
  Resp replaced = Fragment(upd.Json()["uploadUrl"], "tiny", 0, 4);
  EXPECT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(replaced.Json()["id"], item["id"]);

  // Cancel, too large, wrong total.
  Resp s2 = Session("u/other");
  const std::string url2 = s2.Json()["uploadUrl"];
  Resp total1 = Fragment(url2, bytes, 0, kUnit);
  ASSERT_EQ(total1.status, 202);
  Resp mismatch =
      Http("PUT", url2, {"Content-Range: bytes 327680-327689/999999999"}, std::string(10, 'x'));
  EXPECT_EQ(mismatch.status, 416);
  EXPECT_EQ(mismatch.InnerCode(), "fragmentLengthMismatch");
  EXPECT_EQ(Http("DELETE", url2).status, 204);
  EXPECT_EQ(Http("GET", url2).status, 404);
  Resp s3 = Session("u/huge");
  const std::string huge(60 * 1024 * 1024 + kUnit, 'h');
  Resp too_big = Http("PUT", s3.Json()["uploadUrl"],
                      {"Content-Range: bytes 0-" + std::to_string(huge.size() - 1) + "/" +
                       std::to_string(huge.size() * 2)},
                      huge);
  EXPECT_EQ(too_big.status, 413);
}

TEST_F(OnedriveEmulatorTest, UploadSessionExpires) {
  Start({"--upload-session-ttl", "1"});
  Put("e/seed", "x");
  Resp s = Session("e/f");
  ASSERT_EQ(s.status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Resp late = Fragment(s.Json()["uploadUrl"], "abc", 0, 3);
  EXPECT_EQ(late.status, 404);
  EXPECT_EQ(late.Code(), "itemNotFound");
}

// ---- delta -------------------------------------------------------------------------------------

TEST_F(OnedriveEmulatorTest, DeltaPagesTombstonesLatestAndResync) {
  Start({"--faults", "resync@18"});
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Put("j/c/f" + std::to_string(i), "x").status, 201);
  // From scratch, 2 per page: the app folder, j, c, then the files; each once, parents first.
  std::string delta_link;
  int pages = 0;
  std::vector<json> items = Round(U(std::string(kApp) + "/delta?$top=2"), &delta_link, &pages);
  EXPECT_EQ(pages, 4);
  ASSERT_EQ(items.size(), 7u);
  EXPECT_EQ(items[0]["name"], "jsync");
  EXPECT_EQ(items[1]["name"], "j");
  EXPECT_EQ(items[2]["name"], "c");
  std::set<std::string> ids;
  for (const auto& v : items) {
    ids.insert(v["id"].get<std::string>());
    EXPECT_FALSE(v["parentReference"].contains("path")) << "no path in delta";
  }
  EXPECT_EQ(ids.size(), 7u);

  Resp latest = Get(std::string(kApp) + "/delta?token=latest");
  ASSERT_EQ(latest.status, 200);
  EXPECT_TRUE(latest.Json()["value"].empty());
  const std::string latest_link = latest.Json()["@odata.deltaLink"];

  // Changes since: a new file and a delete (with the deleted facet); f0 replaced twice → once.
  ASSERT_EQ(Put("j/c/f0", "y").status, 200);
  ASSERT_EQ(Put("j/c/f0", "z").status, 200);
  ASSERT_EQ(Put("j/c/new", "n").status, 201);
  ASSERT_EQ(Send("DELETE", std::string(kApp) + ":/j/c/f1", "").status, 204);
  std::string next_link;
  const std::vector<json> round =
      Round(delta_link, &next_link);  // 14-16 (2 per page); 17 the latest link's round
  std::map<std::string, json> by_name;
  int f0 = 0;
  for (const auto& v : round) {
    by_name[v.value("name", "")] = v;
    if (v.value("name", "") == "f0") ++f0;
  }
  EXPECT_EQ(f0, 1);
  ASSERT_TRUE(by_name.count("f1"));
  EXPECT_EQ(by_name["f1"]["deleted"]["state"], "deleted");
  EXPECT_FALSE(by_name["f1"].contains("size"));
  EXPECT_TRUE(by_name.count("new"));
  EXPECT_EQ(by_name["f0"]["size"], 1);
  EXPECT_FALSE(next_link.empty());
  std::string unused;
  EXPECT_EQ(Round(latest_link, &unused).size(), round.size());

  // The resync fault (request 18): 410 with a fresh start in Location.
  Resp gone = Get(delta_link);
  EXPECT_EQ(gone.status, 410) << gone.body;
  EXPECT_EQ(gone.Code(), "resyncRequired");
  EXPECT_EQ(gone.headers["location"], U(std::string(kApp) + "/delta"));
  EXPECT_EQ(Get(delta_link).status, 200) << "spent";
  EXPECT_EQ(Get(std::string(kApp) + "/delta?token=forged").status, 400);
  // Links keep $select (and $top), as Graph's do.
  const std::string selected =
      Get(std::string(kApp) + "/delta?token=latest&$select=id,name").Json()["@odata.deltaLink"];
  EXPECT_NE(selected.find("$select=id%2Cname"), std::string::npos) << selected;
}

TEST_F(OnedriveEmulatorTest, DeltaTokenTooOld) {
  Start({"--delta-token-ttl", "1"});
  const std::string link =
      Get(std::string(kApp) + "/delta?token=latest").Json()["@odata.deltaLink"];
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Resp old = Get(link);
  EXPECT_EQ(old.status, 410);
  EXPECT_EQ(old.Code(), "resyncRequired");
}

TEST_F(OnedriveEmulatorTest, BusinessDeltaOnTheRootOnly) {
  Start({"--business"}, "Files.ReadWrite offline_access");
  const json d = Get("/v1.0/me/drive").Json();
  EXPECT_EQ(d["driveType"], "business");
  EXPECT_EQ(d["quota"]["total"], int64_t{1} << 40);
  ASSERT_EQ(Put("b/one", "1").status, 201);
  Resp item = Get(std::string(kApp) + ":/b/one");
  EXPECT_FALSE(item.Json()["file"]["hashes"].contains("sha256Hash"));
  EXPECT_TRUE(item.Json()["file"]["hashes"].contains("quickXorHash"));
  Resp folder = Get(std::string(kApp) + "/delta");
  EXPECT_EQ(folder.status, 400);
  EXPECT_EQ(folder.Code(), "notSupported");
  Resp root = Get("/v1.0/me/drive/root/delta");
  ASSERT_EQ(root.status, 200) << root.body;
  const json v = root.Json()["value"];
  ASSERT_GE(v.size(), 5u);  // root, Apps, jsync, b, one
  EXPECT_TRUE(v[0].contains("root"));
  ASSERT_EQ(Send("DELETE", std::string(kApp) + ":/b/one", "").status, 204);
  Resp next = Get(root.Json()["@odata.deltaLink"].get<std::string>());
  ASSERT_EQ(next.status, 200) << next.body;
  bool tomb = false;
  const json next_items = next.Json()["value"];
  for (const auto& i : next_items)
    if (i.contains("deleted")) {
      tomb = true;
      EXPECT_FALSE(i.contains("name")) << "business omits the name of deleted items";
    }
  EXPECT_TRUE(tomb) << next.body;
}

// ---- subscriptions -----------------------------------------------------------------------------

class Receiver {
 public:
  explicit Receiver(bool echo = true) {
    auto server = net::LocalHttpServer::Start([this, echo](const net::LocalRequest& req) {
      std::lock_guard lock(mu_);
      const std::string token = req.QueryParam("validationToken");
      if (!token.empty()) {
        return echo ? net::LocalResponse::Text(200, token, "text/plain")
                    : net::LocalResponse::Text(200, "wrong", "text/plain");
      }
      bodies_.push_back(json::parse(req.body, nullptr, false));
      cv_.notify_all();
      return net::LocalResponse::Text(202, "");
    });
    server_ = std::move(server).value();
  }
  std::string url() const { return server_->base_url() + "/hook?x=1"; }
  json Wait(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return bodies_.size() >= n; });
    return bodies_.size() >= n ? bodies_[n - 1] : json();
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return bodies_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<json> bodies_;
  std::unique_ptr<net::LocalHttpServer> server_;
};

std::string InMinutes(int minutes) {
  const std::time_t t = std::time(nullptr) + minutes * 60;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

TEST_F(OnedriveEmulatorTest, SubscriptionHandshakeNotificationRenewal) {
  Start();
  Receiver hooks;
  const json body = {{"changeType", "updated"},
                     {"notificationUrl", hooks.url()},
                     {"resource", "/me/drive/special/approot"},
                     {"expirationDateTime", InMinutes(60)},
                     {"clientState", "secret-state"}};
  Resp created =
      Send("POST", "/v1.0/subscriptions", body.dump(), {"Content-Type: application/json"});
  ASSERT_EQ(created.status, 201) << created.body;
  const json sub = created.Json();
  EXPECT_EQ(sub["changeType"], "updated");
  EXPECT_EQ(sub["resource"], "/me/drive/special/approot");
  EXPECT_EQ(sub["clientState"], "secret-state");
  const std::string id = sub["id"];
  EXPECT_EQ(id.size(), 36u);
  ASSERT_EQ(Put("s/file", "x").status, 201);
  const json note = hooks.Wait(1);
  ASSERT_TRUE(note.is_object()) << "no notification";
  const json n = note["value"][0];
  EXPECT_EQ(n["subscriptionId"], id);
  EXPECT_EQ(n["clientState"], "secret-state");
  EXPECT_EQ(n["changeType"], "updated");
  EXPECT_EQ(n["resource"], "/me/drive/special/approot");
  EXPECT_TRUE(n["tenantId"].is_string());
  EXPECT_TRUE(n["subscriptionExpirationDateTime"].is_string());

  Resp renewed = Send("PATCH", "/v1.0/subscriptions/" + id,
                      json{{"expirationDateTime", InMinutes(42000)}}.dump(),
                      {"Content-Type: application/json"});
  EXPECT_EQ(renewed.status, 200) << renewed.body;
  Resp too_long = Send("PATCH", "/v1.0/subscriptions/" + id,
                       json{{"expirationDateTime", InMinutes(42400)}}.dump(),
                       {"Content-Type: application/json"});
  EXPECT_EQ(too_long.status, 400);
  EXPECT_EQ(Get("/v1.0/subscriptions/" + id).status, 200);
  EXPECT_EQ(Get("/v1.0/subscriptions").Json()["value"].size(), 1u);
  EXPECT_EQ(Send("DELETE", "/v1.0/subscriptions/" + id, "").status, 204);
  EXPECT_EQ(Send("DELETE", "/v1.0/subscriptions/" + id, "").status, 404);

  // A receiver that does not echo the token: the create fails.
  Receiver wrong(false);
  json bad = body;
  bad["notificationUrl"] = wrong.url();
  Resp refused =
      Send("POST", "/v1.0/subscriptions", bad.dump(), {"Content-Type: application/json"});
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.Code(), "InvalidRequest");
  // Only the root with an AppFolder token: 403; and the log never shows the client state.
  json root = body;
  root["resource"] = "/me/drive/root";
  EXPECT_EQ(
      Send("POST", "/v1.0/subscriptions", root.dump(), {"Content-Type: application/json"}).status,
      403);
  EXPECT_EQ(ReadFileBytes(emu_->request_log_path()).find("secret-state"), std::string::npos);
}

// ---- quota, faults, persistence, log ----------------------------------------------------------

TEST_F(OnedriveEmulatorTest, QuotaLimitReached) {
  Start({"--quota", "1000"});
  ASSERT_EQ(Put("q/a", std::string(950, 'a')).status, 201);
  const json quota = Get("/v1.0/me/drive").Json()["quota"];
  EXPECT_EQ(quota["remaining"], 50);
  EXPECT_EQ(quota["state"], "nearing");
  Resp full = Put("q/b", std::string(200, 'b'));
  EXPECT_EQ(full.status, 507);
  EXPECT_EQ(full.Code(), "quotaLimitReached");
  Resp s = Session("q/c", {{"item", {{"fileSize", 500}}}});
  EXPECT_EQ(s.status, 507);
  EXPECT_EQ(Put("q/d", std::string(50, 'd')).status, 201);
  EXPECT_EQ(Get("/v1.0/me/drive").Json()["quota"]["state"], "exceeded");
}

TEST_F(OnedriveEmulatorTest, EveryFaultKind) {
  // Requests count from 1 (identity requests are not counted): 1 is the approot GET below.
  Start({"--faults",
         "429@2,429:none@3,503:2.5@4,500@5,502@6,504@7,509@8,drop@9,drop-after@10,"
         "expire-token@12,423@14,quota@16,drop-download@18,drop-upload@20"});
  ASSERT_EQ(Get(kApp).status, 200);  // 1
  Resp r429 = Get(kApp);             // 2
  EXPECT_EQ(r429.status, 429);
  EXPECT_EQ(r429.Code(), "activityLimitReached");
  EXPECT_EQ(r429.headers["retry-after"], "5");
  Resp bare = Get(kApp);  // 3
  EXPECT_EQ(bare.status, 429);
  EXPECT_EQ(bare.headers.count("retry-after"), 0u);
  Resp r503 = Get(kApp);  // 4
  EXPECT_EQ(r503.status, 503);
  EXPECT_EQ(r503.Code(), "serviceNotAvailable");
  EXPECT_EQ(r503.headers["retry-after"], "2.5");
  EXPECT_EQ(Get(kApp).status, 500);  // 5
  EXPECT_EQ(Get(kApp).status, 502);  // 6
  EXPECT_EQ(Get(kApp).status, 504);  // 7
  Resp r509 = Get(kApp);             // 8
  EXPECT_EQ(r509.status, 509);
  EXPECT_EQ(r509.Code(), "bandwidthLimitExceeded");
  Resp dropped = Put("f/never", "x");  // 9
  EXPECT_TRUE(dropped.transport_error);
  Resp after = Put("f/landed", "x");  // 10: stored, answer lost
  EXPECT_TRUE(after.transport_error);
  EXPECT_EQ(Get(std::string(kApp) + ":/f/landed").status, 200);  // 11
  Resp expired = Get(std::string(kApp) + ":/f/never");           // 12: the token expires
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(expired.Code(), "InvalidAuthenticationToken");
  EXPECT_NE(expired.headers["www-authenticate"].find("expired"), std::string::npos);
  EXPECT_EQ(Get(kApp).status, 401) << "13: it stays expired";
  std::string error;
  tokens_ = emu_->AuthorizeWithCode(&error);  // identity: not counted
  ASSERT_FALSE(tokens_.access_token.empty()) << error;
  Resp locked = Put("f/l", "x");  // 14
  EXPECT_EQ(locked.status, 423);
  EXPECT_EQ(locked.InnerCode(), "resourceLocked");
  EXPECT_EQ(Put("f/l", "x").status, 201);  // 15
  Resp full = Put("f/q", "x");             // 16
  EXPECT_EQ(full.status, 507);
  Resp loc = Get(std::string(kApp) + ":/f/l:/content");  // 17
  ASSERT_EQ(loc.status, 302);
  ASSERT_EQ(Put("f/long", Pattern(10000, 1)).status, 201);  // 18 (drop-download armed)
  Resp cut = Get(std::string(kApp) + ":/f/long:/content");  // 19
  Resp partial = Http("GET", cut.headers["location"]);      // 20: download cut; drop-upload armed
  EXPECT_TRUE(partial.transport_error);
  EXPECT_LT(partial.body.size(), 10000u);
  Resp s = Session("f/up");  // 21
  ASSERT_EQ(s.status, 200);
  const std::string bytes = Pattern(kUnit, 2);
  Resp half = Fragment(s.Json()["uploadUrl"], bytes + "tail", 0, kUnit);  // 22
  EXPECT_TRUE(half.transport_error);
  Resp st = Http("GET", s.Json()["uploadUrl"]);  // 23
  EXPECT_EQ(st.Json()["nextExpectedRanges"][0], std::to_string(kUnit / 2) + "-");
  const std::string log = ReadFileBytes(emu_->request_log_path());
  EXPECT_NE(log.find("\"retry_after\":5"), std::string::npos);
  EXPECT_NE(log.find("\"retry_after\":3"), std::string::npos) << "2.5 rounded up";
}

TEST_F(OnedriveEmulatorTest, ThrottleEveryWindows) {
  Start({"--faults", "throttle-every:3:1"});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Get(kApp).status, 200) << i;
  Resp first = Get(kApp);
  EXPECT_EQ(first.status, 429);
  EXPECT_EQ(first.headers["retry-after"], "1");
  Resp inside = Put("t/x", "x");
  EXPECT_EQ(inside.status, 429) << "every request inside the window";
  EXPECT_EQ(inside.headers["retry-after"], "1");
  std::this_thread::sleep_for(std::chrono::milliseconds(1050));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Get(kApp).status, 200) << "counting again " << i;
  EXPECT_EQ(Get(kApp).status, 429);
  int with_retry_after = 0;
  for (const json& l : ReadLog(emu_->request_log_path()))
    if (l.value("status", 0) == 429 && l.contains("retry_after")) ++with_retry_after;
  EXPECT_EQ(with_retry_after, 3);
}

TEST_F(OnedriveEmulatorTest, RestartKeepsStateAndTheLogHasNoSecrets) {
  Start();
  ASSERT_EQ(Put("k/one", "persisted bytes").status, 201);
  const std::string id = Get(std::string(kApp) + ":/k/one").Json()["id"];
  const std::string link =
      Get(std::string(kApp) + "/delta?token=latest").Json()["@odata.deltaLink"];
  const std::string refresh = tokens_.refresh_token;
  const std::string old_access = tokens_.access_token;
  Restart();
  Resp again = Get(std::string(kApp) + ":/k/one");
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.Json()["id"], id);
  Resp dl = Http("GET", Get(std::string(kApp) + ":/k/one:/content").headers["location"]);
  EXPECT_EQ(dl.body, "persisted bytes");
  EXPECT_EQ(Http("GET", U("/v1.0/me/drive"), {"Authorization: Bearer " + old_access}).status, 200)
      << "tokens survive a restart";
  EXPECT_EQ(Get(Rebase(link)).status, 200);
  // The log: one line per request, with the fields the tests rely on, and no secret.
  const auto log = ReadLog(emu_->request_log_path());
  ASSERT_FALSE(log.empty());
  bool saw_auth = false;
  for (const json& l : log) {
    EXPECT_TRUE(l["t_ms"].is_number_integer());
    EXPECT_TRUE(l["status"].is_number_integer());
    if (l.value("authorization", false)) saw_auth = true;
  }
  EXPECT_TRUE(saw_auth);
  const std::string text = ReadFileBytes(emu_->request_log_path()) + emu_->Log();
  for (const std::string& secret :
       {refresh, old_access, tokens_.access_token, tokens_.refresh_token})
    EXPECT_EQ(text.find(secret), std::string::npos) << "a token in the log or stderr";
}

// Many small files (a journal's keys, devices and change files), a restart on the same state, then
// every file is still listed and downloads byte for byte; a second emulator on a state folder in
// use is refused instead of writing it concurrently.
TEST_F(OnedriveEmulatorTest, EveryBlobSurvivesARestartAndAStateFolderHasOneEmulator) {
  Start();
  constexpr int kFiles = 45;
  for (int i = 0; i < kFiles; ++i) {
    const std::string dir = i % 3 == 0 ? "keys" : i % 3 == 1 ? "devices" : "changes/d";
    ASSERT_EQ(Put("journal/" + dir + "/f" + std::to_string(i), Pattern(100 + i, uint8_t(i)),
                  "?@microsoft.graph.conflictBehavior=fail")
                  .status,
              201)
        << i;
  }
  OnedriveEmulatorOptions twin;
  twin.state_dir = state_;
  twin.ready_timeout_ms = 3000;
  std::string error;
  EXPECT_EQ(OnedriveEmulator::Start(twin, &error), nullptr) << "a second emulator on one state";
  EXPECT_NE(error.find("in use by another jsync-emulator"), std::string::npos) << error;
  Restart();
  for (int i = 0; i < kFiles; ++i) {
    const std::string dir = i % 3 == 0 ? "keys" : i % 3 == 1 ? "devices" : "changes/d";
    Resp loc = Get(std::string(kApp) + ":/journal/" + dir + "/f" + std::to_string(i) + ":/content");
    ASSERT_EQ(loc.status, 302) << i << " " << loc.body;
    Resp body = Http("GET", loc.headers["location"], {"Range: bytes=0-"});
    ASSERT_EQ(body.status, 206) << i << " " << body.body;
    EXPECT_EQ(body.body, Pattern(100 + i, uint8_t(i))) << i;
  }
  EXPECT_EQ(Get(std::string(kApp) + ":/journal/keys:/children").Json()["value"].size(),
            static_cast<size_t>(kFiles / 3));
}

}  // namespace
}  // namespace jsync::testing

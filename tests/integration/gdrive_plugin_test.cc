// Google Drive plugin behaviours the conformance suite does not cover, against the Drive
// emulator (`jsync-emulator gdrive`): duplicate names left by another client resolve to the
// same file for every reader; a resumable upload cut by a dropped connection resumes in the
// same session on the host's retry and leaves one file; a refused change token falls back to a
// listing; quota and Drive's error reasons map onto the status taxonomy; no message carries a
// token; an expired token is refreshed through the account's auth::OAuthCredentialSource. Each
// test starts its own emulator, so server-side fault numbers are exact, and links its account
// through auth/ (the device grant) into a temporary home (gdrive_testing::LinkEmulatorAccount).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/http_client.h"
#include "host/plugin_loader.h"
#include "tests/support/direct_instance.h"
#include "tests/support/linked_account.h"
#include "tests/support/gdrive_emulator.h"
#include "tests/support/test_support.h"

namespace jsync {
namespace {

using gdrive_testing::DirectInstance;
using nlohmann::json;

#if defined(JSYNC_EMULATOR_BINARY) && defined(JSYNC_GDRIVE_PLUGIN)
constexpr bool kHaveEverything = true;
#else
constexpr bool kHaveEverything = false;
#endif
#ifndef JSYNC_GDRIVE_PLUGIN
#define JSYNC_GDRIVE_PLUGIN ""
#endif

// Always-refused credentials: a 401 survives the host's refresh.
class RevokedCredentials final : public provider::CredentialSource {
 public:
  Result<std::string> Authorization() override { return std::string("Bearer ya29.revoked-secret"); }
  Status Refresh() override { return Status(Code::kAuthExpired, "revoked"); }
};

class GdrivePluginTest : public ::testing::Test {
 protected:
  // Starts an emulator with `args` and links its account in home_.
  void Start(std::vector<std::string> args = {}) {
    if (!kHaveEverything) GTEST_SKIP() << "built without the emulator or the gdrive plugin";
    args.insert(args.end(), {"--device-interval", "0"});
    std::string error;
    emu_ = testing::GdriveEmulator::Start(args, &error);
    ASSERT_NE(emu_, nullptr) << error;
    auto plugin = provider::LoadPlugin(JSYNC_GDRIVE_PLUGIN);
    ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
    plugin_ = *plugin;
    auto linked = gdrive_testing::LinkEmulatorAccount(plugin_, emu_->base_url(), home_.path().string());
    ASSERT_TRUE(linked.ok()) << linked.status().ToString();
    creds_ = *linked;
  }
  // The access token the account holds now (from its token store).
  std::string AccessToken() {
    auto secret = gdrive_testing::StoredSecret(home_.path().string());
    EXPECT_TRUE(secret.ok()) << secret.status().ToString();
    return secret.ok() ? secret->tokens.access_token : std::string();
  }
  std::unique_ptr<DirectInstance> Open(
      const std::string& location = "journal-a",
      std::shared_ptr<provider::CredentialSource> creds = nullptr) {
    const std::string config =
        json{{"api_base", emu_->base_url()}, {"resumable_threshold", "65536"}}.dump();
    auto d = DirectInstance::Open(plugin_, location, config, creds ? creds : creds_);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    if (!d.ok()) return nullptr;
    (*d)->http().set_fault_plan(std::nullopt);
    return std::move(d).value();
  }

  // A raw Drive request as "another client" (the same account).
  int Drive(const std::string& method, const std::string& url_path, const std::string& body,
            const std::string& content_type, std::string* answer) {
    provider::HttpClient client(creds_);
    client.set_fault_plan(std::nullopt);
    provider::HttpRequest req;
    req.method = method;
    req.url = emu_->base_url() + url_path;
    if (!content_type.empty()) req.headers = {{"Content-Type", content_type}};
    req.body = ByteSpan(reinterpret_cast<const uint8_t*>(body.data()), body.size());
    answer->clear();
    auto resp = client.Send(req, [&](ByteSpan b) {
      answer->append(reinterpret_cast<const char*>(b.data()), b.size());
      return true;
    });
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? resp->status : 0;
  }
  // Creates a file named `name` in appDataFolder the way another client would (no id).
  json CreateAsOtherClient(const std::string& name, const std::string& bytes) {
    const std::string meta =
        json{{"name", name}, {"parents", json::array({"appDataFolder"})}}.dump();
    const std::string body = "--b\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n" + meta +
                             "\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n" + bytes +
                             "\r\n--b--\r\n";
    std::string answer;
    const int status =
        Drive("POST", "/upload/drive/v3/files?uploadType=multipart&fields=id,createdTime", body,
              "multipart/related; boundary=b", &answer);
    EXPECT_EQ(status, 200) << answer;
    return json::parse(answer, nullptr, false);
  }
  // Every live file in appDataFolder named `name`.
  std::vector<json> FilesNamed(const std::string& name) {
    std::string q = "name = '" + name + "' and 'appDataFolder' in parents and trashed = false";
    std::string answer;
    const int status = Drive(
        "GET",
        "/drive/v3/files?spaces=appDataFolder&fields=files(id,name,size,md5Checksum,createdTime)"
        "&q=" +
            Escape(q),
        "", "", &answer);
    EXPECT_EQ(status, 200) << answer;
    const json j = json::parse(answer, nullptr, false);
    std::vector<json> out;
    if (j.is_object() && j.contains("files")) {
      for (const auto& f : j["files"]) out.push_back(f);
    }
    return out;
  }
  static std::string Escape(const std::string& s) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out.push_back(static_cast<char>(c));
      } else {
        out += {'%', kHex[c >> 4], kHex[c & 15]};
      }
    }
    return out;
  }
  // The requests of the log whose path starts with `prefix` (method, path, query).
  std::vector<json> Logged(const std::string& prefix) {
    std::vector<json> out;
    std::ifstream in(emu_->request_log_path());
    std::string line;
    while (std::getline(in, line)) {
      json j = json::parse(line, nullptr, false);
      if (j.is_object() && j.value("path", "").starts_with(prefix)) out.push_back(j);
    }
    return out;
  }

  testing::TempDir home_;  // the jsync home the account is linked in
  std::unique_ptr<testing::GdriveEmulator> emu_;
  std::shared_ptr<auth::OAuthCredentialSource> creds_;
  provider::PluginInfo plugin_;
  jsync_error err_{-1, {0}};
};

// Two files with one name left by another client: every reader picks the same one (earliest
// createdTime, then smallest id), a listing shows the name once, if_absent compares with the
// winner, and remove takes every copy.
TEST_F(GdrivePluginTest, DuplicateNamesResolveDeterministically) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const json a = CreateAsOtherClient("journal-a/dup/obj", "first copy");
  const json b = CreateAsOtherClient("journal-a/dup/obj", "second, longer copy");
  ASSERT_TRUE(a.contains("id") && b.contains("id"));
  // The expected winner by the rule, from Drive's own metadata.
  const bool a_wins =
      a["createdTime"] != b["createdTime"]
          ? a["createdTime"].get<std::string>() < b["createdTime"].get<std::string>()
          : a["id"].get<std::string>() < b["id"].get<std::string>();
  const std::string winner = a_wins ? "first copy" : "second, longer copy";
  const std::string loser = a_wins ? "second, longer copy" : "first copy";
  for (int reader = 0; reader < 3; ++reader) {
    auto p = Open();
    ASSERT_NE(p, nullptr);
    std::string got;
    ASSERT_EQ(p->Get("dup/obj", &got, &err_), JSYNC_OK) << err_.message;
    EXPECT_EQ(got, winner) << "reader " << reader;
    std::vector<provider::ObjectInfo> all;
    ASSERT_EQ(p->ListAll("", &all, &err_), JSYNC_OK) << err_.message;
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].path, "dup/obj");
    EXPECT_EQ(all[0].size, winner.size());
  }
  auto p = Open();
  EXPECT_EQ(p->Put("dup/obj", winner, &err_), JSYNC_OK) << err_.message;
  EXPECT_EQ(p->Put("dup/obj", loser, &err_), JSYNC_EXISTS) << err_.message;
  EXPECT_EQ(FilesNamed("journal-a/dup/obj").size(), 2u) << "a put never adds a third copy";
  // Another client's copy made after ours loses to ours.
  ASSERT_EQ(p->Put("mine/obj", "ours", &err_), JSYNC_OK) << err_.message;
  CreateAsOtherClient("journal-a/mine/obj", "theirs, later");
  auto fresh = Open();
  std::string got;
  ASSERT_EQ(fresh->Get("mine/obj", &got, &err_), JSYNC_OK) << err_.message;
  EXPECT_EQ(got, "ours");
  // Remove takes every copy: a loser must not become the object.
  ASSERT_EQ(p->Remove("dup/obj", &err_), JSYNC_OK) << err_.message;
  EXPECT_TRUE(FilesNamed("journal-a/dup/obj").empty());
  EXPECT_EQ(fresh->Get("dup/obj", &got, &err_), JSYNC_NOT_FOUND) << err_.message;
}

// The bytes of a resumable upload are cut by a dropped connection (the emulator keeps part):
// the put reports a retryable failure, the host's retry of the same put asks the session how
// much arrived and sends the rest, and Drive ends with one file holding the right bytes.
TEST_F(GdrivePluginTest, ResumableUploadResumesAfterADroppedConnection) {
  // Requests: 1 lookup, 2 generateIds, 3 session start, 4 the bytes (dropped part-way).
  ASSERT_NO_FATAL_FAILURE(Start({"--faults", "drop-upload@4"}));
  auto p = Open();
  std::string big(700 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) ^ (i >> 9));
  const int first = p->Put("snapshots/big", big, &err_);
  EXPECT_EQ(JSYNC_PRIMARY(first), JSYNC_RETRYABLE) << err_.message;
  ASSERT_EQ(p->Put("snapshots/big", big, &err_), JSYNC_OK) << err_.message;
  const auto files = FilesNamed("journal-a/snapshots/big");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].value("size", ""), std::to_string(big.size()));
  std::string got;
  ASSERT_EQ(Open()->Get("snapshots/big", &got, &err_), JSYNC_OK) << err_.message;
  EXPECT_TRUE(got == big) << "the stored bytes differ";
  // One session (no restart): one start, then the cut PUT, the status query and the rest.
  int starts = 0, session_puts = 0;
  for (const json& r : Logged("/upload/drive/v3/files")) {
    const json q = r.value("query", json::object());
    if (r.value("method", "") == "POST" && q.value("uploadType", "") == "resumable") ++starts;
    if (r.value("method", "") == "PUT" && q.contains("upload_id")) ++session_puts;
  }
  EXPECT_EQ(starts, 1);
  EXPECT_EQ(session_puts, 3);
}

// A change token Drive refuses: a version-3 host hears that it expired (and lists itself);
// a fresh start token then reports only what came after it.
TEST_F(GdrivePluginTest, RefusedChangeTokenIsReportedExpired) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto p = Open();
  for (const char* path : {"changes/d/1", "changes/d/2", "keys/k"}) {
    ASSERT_EQ(p->Put(path, std::string("bytes of ") + path, &err_), JSYNC_OK) << err_.message;
  }
  DirectInstance::Page page;
  EXPECT_EQ(p->Changes("999999999", &page, &err_), JSYNC_NOT_FOUND_CURSOR_EXPIRED);
  EXPECT_NE(std::string(err_.message).find("refused the change token"), std::string::npos)
      << err_.message;
  EXPECT_TRUE(page.objects.empty());
  ASSERT_EQ(p->Changes("", &page, &err_), JSYNC_OK) << err_.message;
  const std::string cursor = page.next;
  ASSERT_FALSE(cursor.empty());
  ASSERT_EQ(p->Put("changes/d/3", "three", &err_), JSYNC_OK) << err_.message;
  ASSERT_EQ(p->Changes(cursor, &page, &err_), JSYNC_OK) << err_.message;
  ASSERT_EQ(page.objects.size(), 1u);
  EXPECT_EQ(page.objects[0].path, "changes/d/3");
  EXPECT_EQ(page.objects[0].size, 5u);
}

// about.get storageQuota: usage grows with stored bytes, the limit is the total; an upload
// that does not fit is QUOTA_EXCEEDED (Drive: 403 storageQuotaExceeded).
TEST_F(GdrivePluginTest, QuotaAndFullDrive) {
  ASSERT_NO_FATAL_FAILURE(Start({"--quota", "15000"}));
  auto p = Open();
  uint64_t used0 = 0, total0 = 0, used1 = 0, total1 = 0;
  ASSERT_EQ(p->Quota(&used0, &total0, &err_), JSYNC_OK) << err_.message;
  EXPECT_EQ(total0, 15000u);
  ASSERT_EQ(p->Put("q/a", std::string(10000, 'q'), &err_), JSYNC_OK) << err_.message;
  ASSERT_EQ(p->Quota(&used1, &total1, &err_), JSYNC_OK) << err_.message;
  EXPECT_GE(used1, used0 + 10000);
  EXPECT_EQ(total1, 15000u);
  const int rc = p->Put("q/b", std::string(10000, 'r'), &err_);
  EXPECT_EQ(rc, JSYNC_QUOTA_EXCEEDED) << err_.message;
  EXPECT_NE(std::string(err_.message).find("full"), std::string::npos) << err_.message;
  std::string got;
  EXPECT_EQ(p->Get("q/b", &got, &err_), JSYNC_NOT_FOUND) << "nothing stored";
}

// Drive's reasons map onto the taxonomy, say what Drive said, and never carry a token.
TEST_F(GdrivePluginTest, ErrorsNameDrivesReasonAndNeverAToken) {
  // Each get is one lookup request. The host hands the plugin Drive's error document, so the
  // reason decides (no about.get check after the 403).
  ASSERT_NO_FATAL_FAILURE(Start({"--faults", "rate@1,429@2,503@3,502@4"}));
  auto p = Open();
  std::string got;
  std::vector<std::string> messages;
  int rc = p->Get("x", &got, &err_);
  EXPECT_EQ(rc, JSYNC_RETRYABLE_THROTTLED) << err_.message;
  EXPECT_NE(std::string(err_.message).find("(userRateLimitExceeded)"), std::string::npos)
      << err_.message;
  messages.push_back(err_.message);
  rc = p->Get("x", &got, &err_);
  EXPECT_EQ(rc, JSYNC_RETRYABLE_THROTTLED) << err_.message;
  EXPECT_EQ(err_.retry_after_ms, 1000);
  EXPECT_NE(std::string(err_.message).find("(rateLimitExceeded)"), std::string::npos)
      << err_.message;
  messages.push_back(err_.message);
  rc = p->Get("x", &got, &err_);
  EXPECT_EQ(rc, JSYNC_RETRYABLE_UNAVAILABLE) << err_.message;
  EXPECT_NE(std::string(err_.message).find("(backendError)"), std::string::npos) << err_.message;
  messages.push_back(err_.message);
  rc = p->Get("x", &got, &err_);  // an HTML 502 page: classified by status
  EXPECT_EQ(rc, JSYNC_RETRYABLE_UNAVAILABLE) << err_.message;
  messages.push_back(err_.message);
  rc = p->Get("x", &got, &err_);
  EXPECT_EQ(rc, JSYNC_NOT_FOUND) << err_.message;
  messages.push_back(err_.message);
  EXPECT_TRUE(Logged("/drive/v3/about").empty()) << "the 403's reason was readable";
  // Credentials refused even after the refresh: AUTH_EXPIRED.
  auto revoked = Open("journal-a", std::make_shared<RevokedCredentials>());
  rc = revoked->Put("y", "bytes", &err_);
  EXPECT_EQ(rc, JSYNC_AUTH_EXPIRED) << err_.message;
  messages.push_back(err_.message);
  auto secret = gdrive_testing::StoredSecret(home_.path().string());
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  ASSERT_FALSE(secret->tokens.access_token.empty());
  ASSERT_FALSE(secret->tokens.refresh_token.empty());
  for (const std::string& m : messages) {
    EXPECT_EQ(m.find(secret->tokens.access_token), std::string::npos) << m;
    EXPECT_EQ(m.find(secret->tokens.refresh_token), std::string::npos) << m;
    EXPECT_EQ(m.find("revoked-secret"), std::string::npos) << m;
    EXPECT_EQ(m.find("Bearer"), std::string::npos) << m;
    EXPECT_NE(m.find("Google Drive"), std::string::npos) << m;
  }
}

// Retry-After as an HTTP-date (RFC 9110 §10.2.3) is a wait too, not "no wait": the plugin used
// to read only delta-seconds and left such an answer to the host's blind backoff.
TEST_F(GdrivePluginTest, RetryAfterAsAnHttpDateIsHonoured) {
  ASSERT_NO_FATAL_FAILURE(Start({"--faults", "429-date@1,429@2"}));
  auto p = Open();
  std::string got;
  int rc = p->Get("x", &got, &err_);
  EXPECT_EQ(rc, JSYNC_RETRYABLE_THROTTLED) << err_.message;
  // The emulator dates it 30 s ahead of its clock, in whole seconds.
  EXPECT_GE(err_.retry_after_ms, 25000) << err_.message;
  EXPECT_LE(err_.retry_after_ms, 31000) << err_.message;
  rc = p->Get("x", &got, &err_);
  EXPECT_EQ(rc, JSYNC_RETRYABLE_THROTTLED) << err_.message;
  EXPECT_EQ(err_.retry_after_ms, 1000) << "delta-seconds as before";
  rc = p->Get("x", &got, &err_);
  EXPECT_EQ(rc, JSYNC_NOT_FOUND) << err_.message;
  EXPECT_EQ(err_.retry_after_ms, -1);
}

// An expired token mid-session (the emulator expires it): the host refreshes once through the
// account's OAuthCredentialSource (a refresh_token grant at the emulator's /token), which
// stores the new access token before using it; the put goes through, and the id reuse keeps
// it to one file.
TEST_F(GdrivePluginTest, ExpiredTokenIsRefreshedByTheHost) {
  ASSERT_NO_FATAL_FAILURE(Start({"--faults", "expire-token@3"}));
  const std::string linked_token = AccessToken();
  ASSERT_FALSE(linked_token.empty());
  auto p = Open();
  ASSERT_EQ(p->Put("t/obj", "after a refresh", &err_), JSYNC_OK) << err_.message;
  EXPECT_EQ(creds_->refreshes(), 1u);
  const std::string refreshed = AccessToken();
  EXPECT_FALSE(refreshed.empty());
  EXPECT_NE(refreshed, linked_token) << "the refreshed token was not stored";
  auto header = creds_->Authorization();
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(*header, "Bearer " + refreshed);
  int grants = 0;
  for (const json& r : Logged("/token")) grants += r.value("method", "") == "POST";
  EXPECT_EQ(grants, 1 + 2) << "the device grant's two polls, then one refresh";
  EXPECT_EQ(FilesNamed("journal-a/t/obj").size(), 1u);
}

// watch: changes.watch with a fresh start token, a channel id and the configured address.
TEST_F(GdrivePluginTest, WatchOpensAChannel) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto p = Open();
  EXPECT_EQ(p->Watch("", &err_), JSYNC_INVALID) << "no address configured";
  ASSERT_EQ(p->Watch("https://example.invalid/hook", &err_), JSYNC_OK) << err_.message;
  ASSERT_EQ(p->Watch("https://example.invalid/hook", &err_), JSYNC_OK) << err_.message;
  const auto watches = Logged("/drive/v3/changes/watch");
  ASSERT_EQ(watches.size(), 2u);
  const json body = watches[0].value("body_json", json::object());
  EXPECT_EQ(body.value("type", ""), "web_hook");
  EXPECT_EQ(body.value("address", ""), "https://example.invalid/hook");
  EXPECT_FALSE(body.value("id", "").empty());
  EXPECT_EQ(Logged("/drive/v3/channels/stop").size(), 1u) << "the first channel is stopped";
}

}  // namespace
}  // namespace jsync

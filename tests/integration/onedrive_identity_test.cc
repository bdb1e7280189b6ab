// The Microsoft identity platform v2.0 endpoints of the Graph emulator (`jsync-emulator
// onedrive`, tools/emulators/onedrive/identity_endpoints.*) against the documented behaviour in
// ../shared/reference/onedrive.md §1 and oauth.md §5.2, byte by byte with raw libcurl requests:
// code + PKCE, single-use codes, redirect matching, rotating refresh tokens, the device flow,
// client and scope checks, tenants, lifetimes, and no token in plain text anywhere.
// Every test starts its own emulator on a fresh state folder.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "auth/pkce.h"
#include "tests/support/child_process.h"
#include "tests/support/emulator_process.h"
#include "tests/support/test_support.h"

namespace jsync::testing {
namespace {

using nlohmann::json;

constexpr const char* kClient = "jsync-test-client";
constexpr const char* kScope = "Files.ReadWrite.AppFolder offline_access";
constexpr const char* kRedirect = "http://localhost:53682/callback";

#ifdef JSYNC_EMULATOR_BINARY
constexpr const char* kEmulator = JSYNC_EMULATOR_BINARY;
#else
constexpr const char* kEmulator = "";
#endif

struct Resp {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  json Json() const { return json::parse(body, nullptr, false); }
  std::string Error() const {
    const json j = Json();
    return j.is_object() ? j.value("error", "") : "";
  }
  // The AADSTS numbers of an error body.
  std::vector<int> Codes() const {
    const json j = Json();
    std::vector<int> out;
    if (j.is_object() && j.contains("error_codes") && j["error_codes"].is_array())
      for (const auto& c : j["error_codes"])
        if (c.is_number_integer()) out.push_back(c.get<int>());
    return out;
  }
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  std::string Location() const {
    auto it = headers.find("location");
    return it == headers.end() ? "" : it->second;
  }
};

std::string Form(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields)
    out += (out.empty() ? "" : "&") + UrlEscape(k) + "=" + UrlEscape(v);
  return out;
}

// A query parameter of a URL (percent-decoded); "" when absent.
std::string UrlParam(const std::string& url, const std::string& name) {
  const size_t q = url.find('?');
  if (q == std::string::npos) return "";
  std::string rest = url.substr(q + 1);
  size_t pos = 0;
  while (pos <= rest.size()) {
    size_t amp = rest.find('&', pos);
    if (amp == std::string::npos) amp = rest.size();
    const std::string pair = rest.substr(pos, amp - pos);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name && eq != std::string::npos) {
      int len = 0;
      char* decoded = curl_easy_unescape(nullptr, pair.c_str() + eq + 1,
                                         static_cast<int>(pair.size() - eq - 1), &len);
      std::string out(decoded, static_cast<size_t>(len));
      curl_free(decoded);
      return out;
    }
    pos = amp + 1;
  }
  return "";
}

// One request, redirects not followed (RawHttp, tests/support/emulator_process.h).
Resp Http(const std::string& method, const std::string& url, const std::string& form = "") {
  std::vector<std::string> headers;
  if (!form.empty()) headers.push_back("Content-Type: application/x-www-form-urlencoded");
  HttpReply reply = RawHttp(method, url, headers, form);
  Resp r;
  r.status = reply.status;
  r.headers = std::move(reply.headers);
  r.body = std::move(reply.body);
  return r;
}

// The emulator as a child process on a state folder of its own.
class Emulator {
 public:
  // Null (with *error) when it does not start.
  static std::unique_ptr<Emulator> Start(std::vector<std::string> args, std::string* error,
                                         const std::filesystem::path& state = {}) {
    auto e = std::unique_ptr<Emulator>(new Emulator);
    e->state_ = state.empty() ? e->dir_.path() / "state" : state;
    e->log_ = e->dir_.path() / "requests.jsonl";
    std::filesystem::create_directories(e->state_);
    std::vector<std::string> argv = {
        kEmulator, "onedrive",         "--port",        "0",
        "--state", e->state_.string(), "--request-log", e->log_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    e->process_ = ChildProcess::Start(argv, {}, error);
    if (!e->process_) return nullptr;
    e->base_ = e->process_->WaitForFirstLine(10000, error);
    if (e->base_.empty()) return nullptr;
    return e;
  }
  const std::string& base() const { return base_; }
  std::string Identity(const std::string& tenant = "common") const {
    return base_ + "/" + tenant + "/oauth2/v2.0";
  }
  const std::filesystem::path& state() const { return state_; }
  const std::filesystem::path& log_path() const { return log_; }
  std::string Stderr() const { return process_->Stderr() + process_->Stdout(); }
  void Stop() { process_->Stop(); }

 private:
  Emulator() = default;
  TempDir dir_;
  std::filesystem::path state_, log_;
  std::unique_ptr<ChildProcess> process_;
  std::string base_;
};

class OnedriveIdentity : public ::testing::Test {
 protected:
  void SetUp() override {
    if (*kEmulator == '\0') GTEST_SKIP() << "built without jsync-emulator";
  }

  void StartEmulator(std::vector<std::string> args = {"--auto-approve"}) {
    std::string error;
    emu_ = Emulator::Start(std::move(args), &error);
    ASSERT_NE(emu_, nullptr) << error;
  }

  std::string AuthorizeUrl(const std::string& challenge, const std::string& scope = kScope,
                           const std::string& redirect = kRedirect,
                           const std::string& tenant = "common",
                           const std::string& client = kClient) const {
    return emu_->Identity(tenant) + "/authorize?" +
           Form({{"client_id", client},
                 {"response_type", "code"},
                 {"redirect_uri", redirect},
                 {"scope", scope},
                 {"state", "st-123"},
                 {"code_challenge", challenge},
                 {"code_challenge_method", "S256"}});
  }

  // Authorize (auto-approved): the code from the redirect; "" on failure.
  std::string Code(const std::string& verifier, const std::string& scope = kScope,
                   const std::string& tenant = "common") {
    const Resp r =
        Http("GET", AuthorizeUrl(auth::S256Challenge(verifier), scope, kRedirect, tenant));
    EXPECT_EQ(r.status, 302) << r.body;
    EXPECT_EQ(UrlParam(r.Location(), "state"), "st-123") << r.Location();
    return UrlParam(r.Location(), "code");
  }

  Resp Redeem(const std::string& code, const std::string& verifier,
              const std::string& redirect = kRedirect, const std::string& tenant = "common") {
    return Http("POST", emu_->Identity(tenant) + "/token",
                Form({{"client_id", kClient},
                      {"grant_type", "authorization_code"},
                      {"code", code},
                      {"redirect_uri", redirect},
                      {"code_verifier", verifier}}));
  }

  Resp Refresh(const std::string& refresh_token) {
    return Http("POST", emu_->Identity() + "/token",
                Form({{"client_id", kClient},
                      {"grant_type", "refresh_token"},
                      {"refresh_token", refresh_token},
                      {"scope", kScope}}));
  }

  Resp DeviceCode(const std::string& scope = kScope, const std::string& client = kClient,
                  const std::string& tenant = "common") {
    return Http("POST", emu_->Identity(tenant) + "/devicecode",
                Form({{"client_id", client}, {"scope", scope}}));
  }

  Resp Poll(const std::string& device_code) {
    return Http("POST", emu_->Identity() + "/token",
                Form({{"client_id", kClient},
                      {"grant_type", "urn:ietf:params:oauth:grant-type:device_code"},
                      {"device_code", device_code}}));
  }

  // The fields every Microsoft token-endpoint error carries.
  static void ExpectErrorShape(const Resp& r) {
    const json j = r.Json();
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_TRUE(j["error"].is_string()) << r.body;
    EXPECT_TRUE(j["error_description"].is_string()) << r.body;
    EXPECT_TRUE(j["error_codes"].is_array()) << r.body;
    EXPECT_TRUE(j["timestamp"].is_string()) << r.body;
    EXPECT_TRUE(j["trace_id"].is_string()) << r.body;
    EXPECT_TRUE(j["correlation_id"].is_string()) << r.body;
  }

  std::unique_ptr<Emulator> emu_;
};

TEST_F(OnedriveIdentity, CodeFlowWithPkceAnswersMicrosoftsTokenResponse) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator());
  const std::string verifier = auth::NewCodeVerifier();
  const std::string code = Code(verifier);
  ASSERT_FALSE(code.empty());
  const Resp r = Redeem(code, verifier);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.Header("cache-control").find("no-store"), std::string::npos);
  const json j = r.Json();
  EXPECT_EQ(j.value("token_type", ""), "Bearer");
  EXPECT_FALSE(j.value("access_token", "").empty());
  EXPECT_FALSE(j.value("refresh_token", "").empty()) << "offline_access was asked";
  EXPECT_NE(j.value("scope", "").find("Files.ReadWrite.AppFolder"), std::string::npos);
  ASSERT_TRUE(j["expires_in"].is_number_integer());
  ASSERT_TRUE(j["ext_expires_in"].is_number_integer());
  // Microsoft randomises access-token lifetimes between 60 and 90 minutes.
  EXPECT_GE(j["expires_in"].get<int64_t>(), 3600);
  EXPECT_LE(j["expires_in"].get<int64_t>(), 5399);
  EXPECT_FALSE(j.contains("id_token")) << "no openid, no id_token";
}

TEST_F(OnedriveIdentity, RedirectWithoutPathGetsASlashAndTheStateBack) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator());
  const std::string verifier = auth::NewCodeVerifier();
  const Resp r =
      Http("GET", AuthorizeUrl(auth::S256Challenge(verifier), kScope, "http://127.0.0.1:41234"));
  ASSERT_EQ(r.status, 302) << r.body;
  EXPECT_EQ(r.Location().rfind("http://127.0.0.1:41234/?", 0), 0u) << r.Location();
  const Resp t = Redeem(UrlParam(r.Location(), "code"), verifier, "http://127.0.0.1:41234");
  EXPECT_EQ(t.status, 200) << t.body;
}

TEST_F(OnedriveIdentity, LifetimeOptionAndOpenidGiveExpiresInAndIdToken) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator({"--auto-approve", "--token-lifetime", "7"}));
  const std::string verifier = auth::NewCodeVerifier();
  const Resp r =
      Redeem(Code(verifier, "openid profile https://graph.microsoft.com/Files.Read"), verifier);
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = r.Json();
  EXPECT_EQ(j.value("expires_in", int64_t{0}), 7);
  EXPECT_TRUE(j.contains("id_token"));
  EXPECT_FALSE(j.contains("refresh_token")) << "no offline_access, no refresh token";
}

TEST_F(OnedriveIdentity, WrongVerifierIsInvalidGrantAndBurnsTheCode) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator());
  const std::string verifier = auth::NewCodeVerifier();
  const std::string code = Code(verifier);
  const Resp bad = Redeem(code, auth::NewCodeVerifier());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Error(), "invalid_grant") << bad.body;
  ExpectErrorShape(bad);
  const Resp again = Redeem(code, verifier);
  EXPECT_EQ(again.status, 400) << "a code is single-use, even after a failed redemption";
  EXPECT_EQ(again.Error(), "invalid_grant");
}

TEST_F(OnedriveIdentity, ReusedCodeIsInvalidGrantAlreadyRedeemed) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator());
  const std::string verifier = auth::NewCodeVerifier();
  const std::string code = Code(verifier);
  ASSERT_EQ(Redeem(code, verifier).status, 200);
  const Resp again = Redeem(code, verifier);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.Error(), "invalid_grant");
  EXPECT_EQ(again.Codes(), std::vector<int>{54005}) << again.body;
  EXPECT_EQ(Redeem("M.C5invented", verifier).Error(), "invalid_grant");
}

TEST_F(OnedriveIdentity, RedirectUriMustMatchAndBeLoopback) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator());
  const std::string verifier = auth::NewCodeVerifier();
  const std::string code = Code(verifier);
  const Resp mismatch = Redeem(code, verifier, "http://localhost:53682/other");
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_EQ(mismatch.Error(), "invalid_grant") << mismatch.body;
  // A redirect URI that is not a loopback one is shown as a page, never redirected to.
  for (const std::string uri : {"https://evil.example/cb", "http://10.0.0.1:80/cb", ""}) {
    const Resp r = Http("GET", AuthorizeUrl(auth::S256Challenge(verifier), kScope, uri));
    EXPECT_EQ(r.status, 400) << uri;
    EXPECT_TRUE(r.Location().empty()) << uri;
    EXPECT_NE(r.Header("content-type").find("text/html"), std::string::npos);
    EXPECT_NE(r.body.find("AADSTS50011"), std::string::npos) << r.body;
  }
  // Any port of a loopback host.
  for (const std::string uri :
       {"http://localhost:1/x", "http://127.0.0.1:65000", "http://[::1]:9"}) {
    const Resp r = Http("GET", AuthorizeUrl(auth::S256Challenge(verifier), kScope, uri));
    EXPECT_EQ(r.status, 302) << uri << ": " << r.body;
  }
}

TEST_F(OnedriveIdentity, AuthorizeErrorsRedirectWithAadstsDescription) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator());
  const std::string challenge = auth::S256Challenge(auth::NewCodeVerifier());
  auto error_of = [](const Resp& r) {
    EXPECT_EQ(r.status, 302) << r.body;
    EXPECT_EQ(UrlParam(r.Location(), "state"), "st-123");
    EXPECT_EQ(UrlParam(r.Location(), "error_description").rfind("AADSTS", 0), 0u) << r.Location();
    EXPECT_TRUE(UrlParam(r.Location(), "code").empty());
    return UrlParam(r.Location(), "error");
  };
  EXPECT_EQ(error_of(Http("GET", AuthorizeUrl(challenge, "Files.ReadWrite.All"))), "invalid_scope");
  EXPECT_EQ(error_of(Http("GET", AuthorizeUrl(challenge, "Sites.Read offline_access"))),
            "invalid_scope");
  std::string url = AuthorizeUrl(challenge);
  EXPECT_EQ(error_of(Http("GET", url.substr(0, url.find("&code_challenge=")))), "invalid_request")
      << "PKCE is required";
  std::string plain = url;
  plain.replace(plain.find("S256"), 4, "plain");
  EXPECT_EQ(error_of(Http("GET", plain)), "invalid_request");
  std::string token = url;
  token.replace(token.find("response_type=code"), 18, "response_type=token");
  EXPECT_EQ(error_of(Http("GET", token)), "unsupported_response_type");
}

TEST_F(OnedriveIdentity, RefreshRotatesAndTheOldTokenIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator());
  const std::string verifier = auth::NewCodeVerifier();
  const Resp first = Redeem(Code(verifier), verifier);
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string rt1 = first.Json().value("refresh_token", "");
  const Resp second = Refresh(rt1);
  ASSERT_EQ(second.status, 200) << second.body;
  const std::string rt2 = second.Json().value("refresh_token", "");
  ASSERT_FALSE(rt2.empty()) << "every refresh returns a new refresh token";
  EXPECT_NE(rt2, rt1);
  EXPECT_NE(second.Json().value("access_token", ""), first.Json().value("access_token", ""));
  const Resp old = Refresh(rt1);
  EXPECT_EQ(old.status, 400);
  EXPECT_EQ(old.Error(), "invalid_grant") << old.body;
  EXPECT_EQ(old.Codes(), std::vector<int>{70008});
  ExpectErrorShape(old);
  const Resp third = Refresh(rt2);
  EXPECT_EQ(third.status, 200) << "the newest refresh token still works: " << third.body;
  EXPECT_EQ(Refresh("not-a-refresh-token").Error(), "invalid_grant");
}

TEST_F(OnedriveIdentity, RefreshTokenSurvivesARestart) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator());
  const std::string verifier = auth::NewCodeVerifier();
  const Resp first = Redeem(Code(verifier), verifier);
  ASSERT_EQ(first.status, 200);
  const std::string rt = first.Json().value("refresh_token", "");
  const std::filesystem::path state = emu_->state();
  emu_->Stop();
  std::string error;
  auto again = Emulator::Start({"--auto-approve"}, &error, state);
  ASSERT_NE(again, nullptr) << error;
  std::swap(emu_, again);
  const Resp r = Refresh(rt);
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(OnedriveIdentity, DeviceFlowAutoApprovedIsPendingOnceThenSucceedsOnce) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator({"--auto-approve", "--device-interval", "0"}));
  const Resp start = DeviceCode();
  ASSERT_EQ(start.status, 200) << start.body;
  const json j = start.Json();
  EXPECT_EQ(j.value("verification_uri", ""), emu_->base() + "/devicelogin");
  EXPECT_EQ(j.value("expires_in", int64_t{0}), 900);
  EXPECT_EQ(j.value("interval", int64_t{-1}), 0);
  EXPECT_FALSE(j.value("user_code", "").empty());
  EXPECT_NE(j.value("message", "").find(j.value("user_code", "")), std::string::npos);
  EXPECT_FALSE(j.contains("verification_uri_complete")) << "Microsoft does not send it";
  const std::string device_code = j.value("device_code", "");
  const Resp pending = Poll(device_code);
  EXPECT_EQ(pending.status, 400);
  EXPECT_EQ(pending.Error(), "authorization_pending") << pending.body;
  EXPECT_EQ(pending.Codes(), std::vector<int>{70016});
  ExpectErrorShape(pending);
  const Resp ok = Poll(device_code);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_FALSE(ok.Json().value("refresh_token", "").empty());
  const Resp reused = Poll(device_code);
  EXPECT_EQ(reused.status, 400) << "device codes are single-use";
  EXPECT_EQ(reused.Error(), "invalid_grant");
}

TEST_F(OnedriveIdentity, DevicePollFasterThanTheIntervalIsSlowDown) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator({"--auto-approve", "--device-interval", "600"}));
  const std::string device_code = DeviceCode().Json().value("device_code", "");
  EXPECT_EQ(Poll(device_code).Error(), "authorization_pending");
  const Resp fast = Poll(device_code);  // well inside the 600 s interval
  EXPECT_EQ(fast.status, 400);
  EXPECT_EQ(fast.Error(), "slow_down") << fast.body;
  ExpectErrorShape(fast);
}

TEST_F(OnedriveIdentity, ExpiredDeviceCodeIsExpiredToken) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator({"--auto-approve", "--device-code-lifetime", "1"}));
  const std::string device_code = DeviceCode().Json().value("device_code", "");
  // Past the 1 s lifetime whatever the scheduling (the emulator takes no lifetime of 0).
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const Resp r = Poll(device_code);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Error(), "expired_token") << r.body;
}

TEST_F(OnedriveIdentity, DeviceLoginPageApprovesOrDeclines) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator({"--device-interval", "0"}));
  const Resp page = Http("GET", emu_->base() + "/devicelogin");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<form"), std::string::npos);

  const json a = DeviceCode().Json();
  EXPECT_EQ(Poll(a.value("device_code", "")).Error(), "authorization_pending");
  EXPECT_EQ(Poll(a.value("device_code", "")).Error(), "authorization_pending")
      << "without --auto-approve only the page approves";
  std::string user_code = a.value("user_code", "");
  for (auto& c : user_code) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const Resp approve = Http("POST", emu_->base() + "/devicelogin",
                            Form({{"otc", user_code}, {"decision", "accept"}}));
  EXPECT_EQ(approve.status, 200) << "user codes are matched case-insensitively";
  EXPECT_EQ(Poll(a.value("device_code", "")).status, 200);

  const json b = DeviceCode().Json();
  ASSERT_EQ(Http("POST", emu_->base() + "/devicelogin",
                 Form({{"otc", b.value("user_code", "")}, {"decision", "cancel"}}))
                .status,
            200);
  const Resp declined = Poll(b.value("device_code", ""));
  EXPECT_EQ(declined.status, 400);
  EXPECT_EQ(declined.Error(), "authorization_declined") << declined.body;
  EXPECT_EQ(Http("POST", emu_->base() + "/devicelogin", Form({{"otc", "NOSUCHCODE"}})).status, 400);
}

TEST_F(OnedriveIdentity, ConsentPageAcceptsOrCancels) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator({}));
  const std::string verifier = auth::NewCodeVerifier();
  const Resp page =
      Http("GET", AuthorizeUrl(auth::S256Challenge(verifier), kScope, kRedirect, "consumers"));
  ASSERT_EQ(page.status, 200) << page.body;
  const std::string action = "/consumers/oauth2/v2.0/authorize/consent";
  ASSERT_NE(page.body.find(action), std::string::npos) << page.body;
  const size_t at = page.body.find("name=\"consent\" value=\"");
  ASSERT_NE(at, std::string::npos);
  const size_t from = at + std::string("name=\"consent\" value=\"").size();
  const std::string id = page.body.substr(from, page.body.find('"', from) - from);
  const Resp accepted =
      Http("POST", emu_->base() + action, Form({{"consent", id}, {"decision", "accept"}}));
  ASSERT_EQ(accepted.status, 302);
  EXPECT_EQ(UrlParam(accepted.Location(), "state"), "st-123");
  EXPECT_EQ(Redeem(UrlParam(accepted.Location(), "code"), verifier, kRedirect, "consumers").status,
            200);
  EXPECT_EQ(
      Http("POST", emu_->base() + action, Form({{"consent", id}, {"decision", "accept"}})).status,
      400)
      << "a consent is answered once";

  const Resp second = Http("GET", AuthorizeUrl(auth::S256Challenge(verifier)));
  const size_t at2 = second.body.find("name=\"consent\" value=\"") + (from - at);
  const std::string id2 = second.body.substr(at2, second.body.find('"', at2) - at2);
  const Resp cancelled = Http("POST", emu_->base() + "/common/oauth2/v2.0/authorize/consent",
                              Form({{"consent", id2}, {"decision", "cancel"}}));
  ASSERT_EQ(cancelled.status, 302);
  EXPECT_EQ(UrlParam(cancelled.Location(), "error"), "access_denied");
}

TEST_F(OnedriveIdentity, UnknownClientIsInvalidClient) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator());
  const Resp token = Http("POST", emu_->Identity() + "/token",
                          Form({{"client_id", "someone-else"},
                                {"grant_type", "refresh_token"},
                                {"refresh_token", "x"}}));
  EXPECT_EQ(token.status, 400);
  EXPECT_EQ(token.Error(), "invalid_client") << token.body;
  EXPECT_EQ(token.Codes(), std::vector<int>{700016});
  ExpectErrorShape(token);
  const Resp device = DeviceCode(kScope, "someone-else");
  EXPECT_EQ(device.status, 400);
  EXPECT_EQ(device.Error(), "invalid_client");
  const Resp page = Http("GET", AuthorizeUrl(auth::S256Challenge(auth::NewCodeVerifier()), kScope,
                                             kRedirect, "common", "someone-else"));
  EXPECT_EQ(page.status, 400);
  EXPECT_TRUE(page.Location().empty()) << "a bad client is never redirected to";
  EXPECT_NE(page.body.find("AADSTS700016"), std::string::npos);
  const Resp missing =
      Http("POST", emu_->Identity() + "/token", Form({{"grant_type", "refresh_token"}}));
  EXPECT_EQ(missing.Error(), "invalid_request");
  const Resp grant = Http("POST", emu_->Identity() + "/token",
                          Form({{"client_id", kClient}, {"grant_type", "password"}}));
  EXPECT_EQ(grant.Error(), "unsupported_grant_type");
}

TEST_F(OnedriveIdentity, ScopesWithOrWithoutTheGraphPrefixOthersInvalid) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator());
  for (const std::string scope :
       {"Files.ReadWrite.AppFolder", "https://graph.microsoft.com/Files.ReadWrite offline_access",
        "files.read User.Read openid profile email", "https://graph.microsoft.com/User.Read"}) {
    const Resp r = DeviceCode(scope);
    EXPECT_EQ(r.status, 200) << scope << ": " << r.body;
  }
  for (const std::string scope : {"Files.ReadWrite.All", "https://graph.microsoft.com/.default",
                                  "Mail.Read offline_access", "https://evil.example/Files.Read"}) {
    const Resp r = DeviceCode(scope);
    EXPECT_EQ(r.status, 400) << scope;
    EXPECT_EQ(r.Error(), "invalid_scope") << scope << ": " << r.body;
  }
  EXPECT_EQ(DeviceCode("").Error(), "invalid_request");
}

TEST_F(OnedriveIdentity, EveryTenantFormWorksAndOthersAreNotFound) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator());
  for (const std::string tenant :
       {"common", "organizations", "consumers", "9188040d-6c67-4c5b-b112-36a304b66dad",
        "contoso.onmicrosoft.com"}) {
    const std::string verifier = auth::NewCodeVerifier();
    const Resp r = Redeem(Code(verifier, kScope, tenant), verifier, kRedirect, tenant);
    EXPECT_EQ(r.status, 200) << tenant << ": " << r.body;
    EXPECT_EQ(DeviceCode(kScope, kClient, tenant).status, 200) << tenant;
  }
  for (const std::string tenant : {"not_a_tenant", "contoso", "9188040d-6c67-4c5b-b112"}) {
    const Resp r = DeviceCode(kScope, kClient, tenant);
    EXPECT_EQ(r.status, 400) << tenant;
    EXPECT_EQ(r.Codes(), std::vector<int>{90002}) << tenant << ": " << r.body;
  }
}

TEST_F(OnedriveIdentity, TokenEndpointWantsPost) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator());
  const Resp r = Http("GET", emu_->Identity() + "/token");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Error(), "invalid_request");
}

// Every secret the flows handed out, then none of them in the emulator's output or files
// (state folder and request log).
TEST_F(OnedriveIdentity, NoTokenOrCodeInStderrStateOrRequestLog) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator({"--auto-approve", "--device-interval", "0"}));
  std::vector<std::string> secrets;
  const std::string verifier = auth::NewCodeVerifier();
  const std::string code = Code(verifier);
  secrets.push_back(code);
  secrets.push_back(verifier);
  const json tokens = Redeem(code, verifier).Json();
  secrets.push_back(tokens.value("access_token", ""));
  secrets.push_back(tokens.value("refresh_token", ""));
  const json rotated = Refresh(tokens.value("refresh_token", "")).Json();
  secrets.push_back(rotated.value("access_token", ""));
  secrets.push_back(rotated.value("refresh_token", ""));
  const std::string device_code = DeviceCode().Json().value("device_code", "");
  secrets.push_back(device_code);
  Poll(device_code);
  const json device = Poll(device_code).Json();
  secrets.push_back(device.value("access_token", ""));
  secrets.push_back(device.value("refresh_token", ""));
  for (const auto& s : secrets) ASSERT_GT(s.size(), 20u) << "every flow handed out its secret";

  std::vector<std::pair<std::string, std::string>> places = {{"stderr", emu_->Stderr()}};
  for (const auto& dir : {emu_->state(), emu_->log_path().parent_path()}) {
    for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
      if (!f.is_regular_file()) continue;
      std::ifstream in(f.path(), std::ios::binary);
      places.emplace_back(f.path().string(), std::string(std::istreambuf_iterator<char>(in), {}));
    }
  }
  ASSERT_GE(places.size(), 2u) << "the state was saved";
  for (const auto& [where, text] : places)
    for (size_t i = 0; i < secrets.size(); ++i) {
      EXPECT_EQ(text.find(secrets[i]), std::string::npos) << "secret #" << i << " in " << where;
      EXPECT_EQ(text.find(UrlEscape(secrets[i])), std::string::npos)
          << "secret #" << i << " (URL-encoded) in " << where;
    }
}

}  // namespace
}  // namespace jsync::testing

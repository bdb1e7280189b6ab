// The OAuth flows of auth/ against independent OAuth 2.0 servers from the npm registry:
// oauth2-mock-server and oidc-provider (tests/support/oauth_servers.h). The test plays the
// user's browser with TestBrowser; everything else is the real code path.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "auth/authorization_code_flow.h"
#include "auth/credential_store.h"
#include "auth/device_flow.h"
#include "auth/oauth_credentials.h"
#include "auth/pkce.h"
#include "net/local_http_server.h"
#include "tests/support/oauth_servers.h"
#include "tests/support/test_support.h"

namespace jsync::auth {
namespace {

using testing::OAuthServer;
using testing::TestBrowser;

std::unique_ptr<OAuthServer> StartServer(OAuthServer::Kind kind,
                                         std::vector<std::pair<std::string, std::string>> env = {}) {
  std::string error;
  auto server = OAuthServer::Start(kind, env, &error);
  EXPECT_NE(server, nullptr) << error;
  return server;
}

OAuthConfig MockConfig(const OAuthServer& s) {
  OAuthConfig c;
  c.authorize_url = s.base_url() + "/authorize";
  c.token_url = s.base_url() + "/token";
  c.revoke_url = s.base_url() + "/revoke";
  c.client_id = "journal-cli";
  c.scopes = "openid offline_access";
  return c;
}

OAuthConfig OidcConfig(const OAuthServer& s) {
  OAuthConfig c;
  c.authorize_url = s.base_url() + "/auth";
  c.token_url = s.base_url() + "/token";
  c.device_code_url = s.base_url() + "/device/auth";
  c.revoke_url = s.base_url() + "/token/revocation";
  c.client_id = "journal-cli";
  c.scopes = "openid offline_access";
  c.issuer = s.base_url();
  // oidc-provider drops offline_access (no refresh token) without a fresh consent prompt.
  c.authorize_params = {{"prompt", "consent"}};
  return c;
}

// The user at the browser: logs in as alice and consents on whatever pages the server shows.
// The browser runs beside the flow (which waits on its listener) and is joined on destruction.
class BrowserUser {
 public:
  ~BrowserUser() {
    if (thread_.joinable()) thread_.join();
  }
  BrowserFlowOptions Options() {
    BrowserFlowOptions o;
    o.timeout = std::chrono::seconds(30);
    o.open_url = [this](const std::string& url) {
      thread_ = std::thread([this, url] {
        landed_ = browser_.Complete(url, {{"login", "alice"}, {"password", "x"}}).body;
      });
    };
    return o;
  }
  // The page the browser ended on (the loopback listener's).
  std::string Landed() {
    if (thread_.joinable()) thread_.join();
    return landed_;
  }

 private:
  TestBrowser browser_;
  std::string landed_;
  std::thread thread_;
};

// Links "gdrive" in `home` through the browser flow, tokens in the file store.
Result<Account> LinkThroughBrowser(const std::string& home, const OAuthConfig& config,
                                   const nlohmann::json& user_config = nlohmann::json::object()) {
  BrowserUser user;
  OAuthLinkOptions options;
  options.browser = user.Options();
  options.store_backend = "file";
  options.passphrase = []() -> Result<std::string> { return std::string("journal passphrase"); };
  return LinkOAuthAccount(home, "gdrive", config, user_config, options);
}

// ---- oauth2-mock-server ------------------------------------------------------------------------

TEST(OAuthMockServer, AuthorizationCodeWithPkceThenRefreshThenRevocation) {
  auto server = StartServer(OAuthServer::Kind::kMock);
  ASSERT_NE(server, nullptr);
  BrowserUser user;
  OAuthConfig config = MockConfig(*server);
  auto tokens = RunAuthorizationCodeFlow(config, user.Options());
  ASSERT_TRUE(tokens.ok()) << tokens.status().message();
  EXPECT_FALSE(tokens->access_token.empty());
  EXPECT_FALSE(tokens->refresh_token.empty());
  EXPECT_GT(tokens->expires_at, NowUnixSeconds());
  // The page the user saw on the loopback listener.
  EXPECT_NE(user.Landed().find("You can close this tab"), std::string::npos) << user.Landed();

  provider::HttpClient http;
  auto refreshed = RefreshTokens(http, config, tokens->refresh_token, NowUnixSeconds());
  ASSERT_TRUE(refreshed.ok()) << refreshed.status().message();
  EXPECT_NE(refreshed->access_token, tokens->access_token);

  ASSERT_TRUE(RevokeToken(http, config, refreshed->refresh_token, "refresh_token").ok());
  auto dead = RefreshTokens(http, config, refreshed->refresh_token, NowUnixSeconds());
  ASSERT_FALSE(dead.ok());
  EXPECT_EQ(dead.status().code(), Code::kAuthExpired);
  EXPECT_NE(dead.status().message().find("invalid_grant"), std::string::npos);
}

TEST(OAuthMockServer, WrongVerifierIsRefusedByTheServer) {
  auto server = StartServer(OAuthServer::Kind::kMock);
  ASSERT_NE(server, nullptr);
  OAuthConfig config = MockConfig(*server);
  // Get a code as the browser would, then exchange it with another verifier.
  auto listener = net::LocalHttpServer::Start([](const net::LocalRequest&) {
    return net::LocalResponse::Text(200, "ok");
  });
  ASSERT_TRUE(listener.ok());
  const std::string redirect = (*listener)->base_url() + "/callback";
  const std::string verifier = NewCodeVerifier();
  provider::HttpClient http;
  provider::HttpRequest req;
  req.url = config.authorize_url + "?response_type=code&client_id=journal-cli&redirect_uri=" +
            net::PercentEncode(redirect) + "&scope=openid&state=s&code_challenge=" +
            S256Challenge(verifier) + "&code_challenge_method=S256";
  auto res = http.Send(req, nullptr);
  ASSERT_TRUE(res.ok());
  const std::string location = res->Header("location");
  net::LocalRequest redirected;
  redirected.query = location.substr(location.find('?') + 1);
  const std::string code = redirected.QueryParam("code");
  ASSERT_FALSE(code.empty()) << location;
  auto tokens = ExchangeCode(http, config, code, redirect, NewCodeVerifier(), NowUnixSeconds());
  ASSERT_FALSE(tokens.ok());
  EXPECT_NE(tokens.status().message().find("code_verifier"), std::string::npos)
      << tokens.status().message();
}

// ---- oidc-provider -----------------------------------------------------------------------------

TEST(OidcProvider, AuthorizationCodeWithPkceAndIssuerCheck) {
  auto server = StartServer(OAuthServer::Kind::kOidc);
  ASSERT_NE(server, nullptr);
  BrowserUser user;
  auto tokens = RunAuthorizationCodeFlow(OidcConfig(*server), user.Options());
  ASSERT_TRUE(tokens.ok()) << tokens.status().message() << "\n" << server->Log();
  EXPECT_FALSE(tokens->refresh_token.empty());
  EXPECT_NE(tokens->scope.find("offline_access"), std::string::npos);

  // A server that is not the one configured (RFC 9207 mix-up defence).
  OAuthConfig other = OidcConfig(*server);
  other.issuer = "https://issuer.example";
  BrowserUser user2;
  auto mixed = RunAuthorizationCodeFlow(other, user2.Options());
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.status().message().find("mix-up"), std::string::npos);
}

TEST(OidcProvider, RefusalOnTheLoginPageIsReported) {
  auto server = StartServer(OAuthServer::Kind::kOidc);
  ASSERT_NE(server, nullptr);
  TestBrowser browser;
  std::thread user;
  BrowserFlowOptions o;
  o.timeout = std::chrono::seconds(30);
  o.open_url = [&](const std::string& url) {
    user = std::thread([&browser, url] {
      // The user cancels on the sign-in page: the server redirects with access_denied.
      auto login = browser.Get(url);
      browser.Get(login.url + "/abort");
    });
  };
  auto tokens = RunAuthorizationCodeFlow(OidcConfig(*server), o);
  if (user.joinable()) user.join();
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.status().code(), Code::kInvalid);
  EXPECT_NE(tokens.status().message().find("access_denied"), std::string::npos)
      << tokens.status().message();
}

TEST(OidcProvider, StrictRotationIsStoredBeforeUseAndInvalidGrantMeansRelink) {
  auto server = StartServer(OAuthServer::Kind::kOidc);
  ASSERT_NE(server, nullptr);
  testing::TempDir home;
  OAuthConfig config = OidcConfig(*server);
  auto account = LinkThroughBrowser(home.path().string(), config, {{"api_base", "http://unused"}});
  ASSERT_TRUE(account.ok()) << account.status().message();
  EXPECT_EQ(account->store, "file");

  auto store = std::shared_ptr<SecretStore>(OpenFileSecretStore(home.path().string(), nullptr));
  auto first = OAuthSecret::Parse(**store->Get("gdrive"));
  ASSERT_TRUE(first.ok());

  OAuthCredentialSource source(home.path().string(), "gdrive", config, store);
  auto header1 = source.Authorization();
  ASSERT_TRUE(header1.ok());
  EXPECT_EQ(*header1, "Bearer " + first->tokens.access_token) << "fresh token: no refresh yet";
  ASSERT_TRUE(source.Refresh().ok());
  ASSERT_TRUE(source.Refresh().ok());
  EXPECT_EQ(source.refreshes(), 2u);
  auto now = OAuthSecret::Parse(**store->Get("gdrive"));
  ASSERT_TRUE(now.ok());
  EXPECT_NE(now->tokens.refresh_token, first->tokens.refresh_token) << "rotated and stored";
  EXPECT_EQ(*source.Authorization(), "Bearer " + now->tokens.access_token);

  // Reusing a retired refresh token makes oidc-provider revoke the whole grant: what the
  // single-flight refresh prevents. The next refresh then meets invalid_grant.
  provider::HttpClient http;
  auto replay = RefreshTokens(http, config, first->tokens.refresh_token, NowUnixSeconds());
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.status().code(), Code::kAuthExpired);
  Status relink = source.Refresh();
  ASSERT_EQ(relink.code(), Code::kAuthExpired);
  EXPECT_NE(relink.message().find("needs to be linked again"), std::string::npos);
  EXPECT_NE(relink.message().find("jsync link gdrive"), std::string::npos);
  auto marked = FindAccount(home.path().string(), "gdrive");
  ASSERT_TRUE(marked.ok() && marked->has_value());
  EXPECT_TRUE((*marked)->needs_relink);
  // Loading the account later still works (local edits go on); only network calls fail.
  auto creds = LoadCredentials(home.path().string(), "gdrive");
  ASSERT_TRUE(creds.ok());
  EXPECT_EQ((*creds)->Authorization().status().code(), Code::kAuthExpired);
}

TEST(OidcProvider, UnlinkRevokesAtTheServerAndForgetsLocally) {
  auto server = StartServer(OAuthServer::Kind::kOidc);
  ASSERT_NE(server, nullptr);
  testing::TempDir home;
  OAuthConfig config = OidcConfig(*server);
  ASSERT_TRUE(LinkThroughBrowser(home.path().string(), config).ok());
  auto store = OpenFileSecretStore(home.path().string(), nullptr);
  auto secret = OAuthSecret::Parse(**store->Get("gdrive"));
  ASSERT_TRUE(secret.ok());

  auto report = UnlinkAccount(home.path().string(), "gdrive", nullptr);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_TRUE(report->was_linked);
  EXPECT_TRUE(report->revoked) << report->revoke_problem;
  EXPECT_FALSE(store->Get("gdrive")->has_value());
  EXPECT_FALSE(FindAccount(home.path().string(), "gdrive")->has_value());
  provider::HttpClient http;
  auto after = RefreshTokens(http, config, secret->tokens.refresh_token, NowUnixSeconds());
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), Code::kAuthExpired) << "the server forgot the grant";
}

// The device flow's waits go on a virtual clock: the test never sleeps them, and a flow that
// is never approved still ends when the code's lifetime has passed on that clock.
struct VirtualTime {
  int64_t now_s = 0;
  std::vector<int64_t> waits_ms;
  void Apply(DeviceFlowOptions* o, std::function<void(size_t)> on_wait) {
    o->now = [this] { return now_s; };
    o->sleep = [this, on_wait](std::chrono::milliseconds d) {
      waits_ms.push_back(d.count());
      now_s += d.count() / 1000;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      on_wait(waits_ms.size());
    };
  }
};

TEST(OidcProvider, DeviceGrantThroughPendingToApproval) {
  auto server = StartServer(OAuthServer::Kind::kOidc);
  ASSERT_NE(server, nullptr);
  VirtualTime sleeper;
  TestBrowser browser;
  std::string complete, user_code;
  DeviceFlowOptions o;
  o.show = [&](const DevicePrompt& p) {
    user_code = p.user_code;
    complete = p.verification_uri_complete;
  };
  // Let two polls see authorization_pending, then approve like a user on another device.
  sleeper.Apply(&o, [&](size_t n) {
    if (n == 3) browser.Complete(complete, {{"confirm", "yes"}, {"login", "alice"}, {"password", "x"}});
  });
  auto tokens = RunDeviceFlow(OidcConfig(*server), o);
  ASSERT_TRUE(tokens.ok()) << tokens.status().message() << "\n" << server->Log();
  EXPECT_FALSE(tokens->refresh_token.empty());
  EXPECT_EQ(user_code.size(), 9u);  // XXXX-XXXX
  ASSERT_GE(sleeper.waits_ms.size(), 3u);
  EXPECT_EQ(sleeper.waits_ms[0], 5000) << "no interval from the server: the RFC's 5 s";
  EXPECT_EQ(sleeper.waits_ms[1], 5000);
}

TEST(OidcProvider, DeviceGrantSlowDownWidensTheInterval) {
  auto server = StartServer(OAuthServer::Kind::kOidc, {{"OIDC_SLOW_DOWN", "1"}});
  ASSERT_NE(server, nullptr);
  TestBrowser browser;
  VirtualTime clock;
  DeviceFlowOptions o;
  std::string complete;
  o.show = [&](const DevicePrompt& p) { complete = p.verification_uri_complete; };
  clock.Apply(&o, [&](size_t n) {
    if (n == 2) browser.Complete(complete, {{"confirm", "yes"}, {"login", "alice"}, {"password", "x"}});
  });
  const std::vector<int64_t>& waits = clock.waits_ms;
  auto tokens = RunDeviceFlow(OidcConfig(*server), o);
  ASSERT_TRUE(tokens.ok()) << tokens.status().message();
  ASSERT_GE(waits.size(), 2u);
  EXPECT_EQ(waits[0], 5000);
  EXPECT_EQ(waits[1], 10000) << "slow_down adds 5 s to this and every later poll";
}

TEST(OidcProvider, DeviceGrantDeniedByTheUser) {
  auto server = StartServer(OAuthServer::Kind::kOidc);
  ASSERT_NE(server, nullptr);
  TestBrowser browser;
  VirtualTime clock;
  DeviceFlowOptions o;
  std::string complete;
  o.show = [&](const DevicePrompt& p) { complete = p.verification_uri_complete; };
  clock.Apply(&o, [&](size_t n) {
    if (n == 2) browser.Complete(complete, {{"abort", "yes"}}, 1);
  });
  auto tokens = RunDeviceFlow(OidcConfig(*server), o);
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.status().code(), Code::kInvalid);
  EXPECT_NE(tokens.status().message().find("refused"), std::string::npos)
      << tokens.status().message();
}

TEST(OidcProvider, DeviceGrantExpiredCode) {
  auto server = StartServer(OAuthServer::Kind::kOidc, {{"OIDC_DEVICE_TTL", "1"}});
  ASSERT_NE(server, nullptr);
  DeviceFlowOptions o;
  o.show = [](const DevicePrompt&) {};
  // Our own clock says the code is still good; the server's says it expired.
  o.now = [] { return int64_t{0}; };
  o.sleep = [](std::chrono::milliseconds) { std::this_thread::sleep_for(std::chrono::milliseconds(1100)); };
  auto tokens = RunDeviceFlow(OidcConfig(*server), o);
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.status().code(), Code::kFatal);
  EXPECT_NE(tokens.status().message().find("expired"), std::string::npos);
}

// A token dies while a request is on its way: the resource server (here on loopback, asking
// oidc-provider's userinfo endpoint whether the bearer token is alive) answers 401, the host
// refreshes once through the token endpoint and the upload goes through. The device's clock
// is behind, so the proactive refresh does not fire first.
TEST(OidcProvider, AccessTokenExpiredMidUploadIsRefreshedOnceAndTheUploadSucceeds) {
  // The first token dies in 1 s; the refreshed one lives a minute, so a slow retry on a loaded
  // machine still carries a valid token (the test is about the one refresh, not its speed).
  auto server = StartServer(OAuthServer::Kind::kOidc, {{"OIDC_ACCESS_TTL", "1"},
                                                       {"OIDC_REFRESHED_ACCESS_TTL", "60"},
                                                       {"OIDC_CLOCK_TOLERANCE", "0"}});
  ASSERT_NE(server, nullptr);
  testing::TempDir home;
  OAuthConfig config = OidcConfig(*server);
  ASSERT_TRUE(LinkThroughBrowser(home.path().string(), config).ok());

  std::atomic<int> accepted{0}, refused{0};
  std::string stored;
  const std::string userinfo = server->base_url() + "/me";
  auto resource = net::LocalHttpServer::Start([&](const net::LocalRequest& r) {
    provider::HttpClient check;
    provider::HttpRequest who;
    who.url = userinfo;
    who.headers = {{"Authorization", r.Header("authorization")}};
    auto answer = check.Send(who, nullptr);
    if (!answer.ok() || answer->status != 200) {
      ++refused;
      net::LocalResponse denied = net::LocalResponse::Text(401, "token expired");
      denied.headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      return denied;
    }
    ++accepted;
    stored = r.body;
    return net::LocalResponse::Text(201, "stored");
  });
  ASSERT_TRUE(resource.ok());

  auto store = std::shared_ptr<SecretStore>(OpenFileSecretStore(home.path().string(), nullptr));
  auto source = std::make_shared<OAuthCredentialSource>(
      home.path().string(), "gdrive", config, store,
      // A device clock stopped a minute behind: no token ever looks expired to it, so only
      // the server's 401 can cause the refresh (a running clock would race 1 s tokens).
      [stopped = NowUnixSeconds() - 60] { return stopped; });
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));  // the 1 s token dies

  provider::HttpClient http(source);
  const std::string payload(256 * 1024, 'x');
  provider::HttpRequest put;
  put.method = "PUT";
  put.url = (*resource)->base_url() + "/files/change-1";
  put.body = ByteSpan(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
  auto res = http.Send(put, nullptr);
  ASSERT_TRUE(res.ok()) << res.status().message();
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(http.stats().refreshes, 1u);
  EXPECT_EQ(source->refreshes(), 1u);
  EXPECT_EQ(refused.load(), 1);
  EXPECT_EQ(accepted.load(), 1);
  EXPECT_EQ(stored.size(), payload.size());
}

}  // namespace
}  // namespace jsync::auth

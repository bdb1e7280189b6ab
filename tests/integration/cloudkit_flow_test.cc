// iCloud's CloudKit web-auth-token flow and its rotating credentials against a fake CloudKit
// written here with LocalHttpServer (oauth.md §7.3: CloudKit's 421 + header rotation are
// covered by the project's own fakes). The test's "browser" is a thread doing GETs through
// provider::HttpClient, following the sign-in page's redirect by hand.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "auth/accounts.h"
#include "auth/cloudkit_credentials.h"
#include "auth/cloudkit_flow.h"
#include "auth/credential_store.h"
#include "net/local_http_server.h"
#include "host/http_client.h"
#include "host/open_provider.h"
#include "tests/support/test_support.h"

namespace jsync::auth {
namespace {

constexpr char kApiToken[] = "api+tok/en=";
constexpr char kDbPath[] = "/database/1/iCloud.com.example.journal/development";

// A CloudKit that knows one user. Every accepted web token is replaced by a new one in
// X-Apple-CloudKit-Web-Auth-Token and stops working; `expire` makes it ask for a new sign-in.
class FakeCloudKit {
 public:
  explicit FakeCloudKit(uint16_t callback_port) : callback_port_(callback_port) {
    auto s = net::LocalHttpServer::Start([this](const net::LocalRequest& r) { return Handle(r); });
    EXPECT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(*s);
  }
  std::string api_base() const { return server_->base_url() + kDbPath; }
  std::string current_token() {
    std::lock_guard lock(mu_);
    return token_;
  }
  std::atomic<bool> expire{false};
  std::atomic<int> accepted{0};
  std::atomic<int> refused{0};

 private:
  static net::LocalResponse Error(int status, const std::string& code, const std::string& reason,
                                  const std::string& redirect = "") {
    nlohmann::json j{{"uuid", "0b7e"}, {"serverErrorCode", code}, {"reason", reason}};
    if (!redirect.empty()) j["redirectURL"] = redirect;
    return net::LocalResponse::Json(status, j.dump());
  }

  net::LocalResponse Handle(const net::LocalRequest& r) {
    if (r.path == "/signin") {
      // Apple's sign-in page, done: URL-redirect delivery to the API token's callback.
      std::lock_guard lock(mu_);
      token_ = "106__54__fresh+sign/in==__" + std::to_string(++minted_);
      net::LocalResponse out;
      out.status = 302;
      out.headers.emplace_back("Location", "http://127.0.0.1:" + std::to_string(callback_port_) +
                                               "/?ckWebAuthToken=" + net::PercentEncode(token_) +
                                               "&ckSession=abc");
      return out;
    }
    if (r.path.rfind(kDbPath, 0) != 0) return net::LocalResponse::Text(404, "no such container");
    if (r.QueryParam("ckAPIToken") != kApiToken)
      return Error(401, "AUTHENTICATION_FAILED", "no auth method found");
    const std::string sent = r.QueryParam("ckWebAuthToken");
    std::lock_guard lock(mu_);
    if (sent.empty() || expire)
      return Error(421, "AUTHENTICATION_REQUIRED", "request needs authorization",
                   server_->base_url() + "/signin?ck=1");
    if (sent != token_) {
      ++refused;
      return Error(401, "AUTHENTICATION_FAILED", "stale web auth token");
    }
    ++accepted;
    token_ = "106__54__rot+at/ed==__" + std::to_string(++minted_);
    const bool kept_query = r.QueryParam("x") == "1";
    auto out = net::LocalResponse::Json(
        200, nlohmann::json{{"userRecordName", "_abc"}, {"query", kept_query}}.dump());
    out.headers.emplace_back("X-Apple-CloudKit-Web-Auth-Token", token_);
    return out;
  }

  uint16_t callback_port_;
  std::unique_ptr<net::LocalHttpServer> server_;
  std::mutex mu_;
  std::string token_;
  int minted_ = 0;
};

// A port nothing listens on now: bind 0, read it, let it go.
uint16_t FreePort() {
  auto s = net::LocalHttpServer::Start([](const net::LocalRequest&) { return net::LocalResponse{}; });
  EXPECT_TRUE(s.ok());
  const uint16_t port = (*s)->port();
  (*s)->Stop();
  return port;
}

provider::HttpResponse Get(const std::string& url, std::string* body = nullptr) {
  provider::HttpClient http;
  provider::HttpRequest req;
  req.url = url;
  auto r = http.Send(req, [&](ByteSpan b) {
    if (body) body->append(reinterpret_cast<const char*>(b.data()), b.size());
    return true;
  });
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : provider::HttpResponse{};
}

// The user's browser: opens the sign-in page, pokes the listener with a favicon request and a
// token-less visit (both must be ignored), then follows the redirect to the callback.
class Browser {
 public:
  ~Browser() {
    if (thread_.joinable()) thread_.join();
  }
  BrowserFlowOptions Options() {
    BrowserFlowOptions o;
    o.timeout = std::chrono::seconds(20);
    o.open_url = [this](const std::string& url) {
      opened_ = url;
      thread_ = std::thread([this, url] {
        provider::HttpResponse signin = Get(url);
        EXPECT_EQ(signin.status, 302);
        const std::string location = signin.Header("location");
        const std::string origin = location.substr(0, location.find('/', 7));
        favicon_status_ = Get(origin + "/favicon.ico").status;
        no_token_status_ = Get(origin + "/").status;
        provider::HttpResponse landed = Get(location, &landed_);
        landed_status_ = landed.status;
        cache_control_ = landed.Header("cache-control");
      });
    };
    return o;
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  std::string opened_, landed_, cache_control_;
  int favicon_status_ = 0, no_token_status_ = 0, landed_status_ = 0;

 private:
  std::thread thread_;
};

OAuthConfig CloudKitConfig(const FakeCloudKit& ck, uint16_t port) {
  OAuthConfig c;
  c.kind = AuthKind::kCloudKit;
  c.cloudkit_api_base = ck.api_base();
  c.cloudkit_api_token = kApiToken;
  c.cloudkit_callback_port = port;
  return c;
}

TEST(CloudKitFlow, SignInReturnsTheWebAuthToken) {
  const uint16_t port = FreePort();
  FakeCloudKit ck(port);
  Browser browser;
  auto token = RunCloudKitWebAuthFlow(CloudKitConfig(ck, port), browser.Options());
  browser.Join();
  ASSERT_TRUE(token.ok()) << token.status().message();
  EXPECT_EQ(*token, ck.current_token());  // '+', '/' and '=' survived the round trip
  EXPECT_NE(token->find('+'), std::string::npos);
  EXPECT_NE(browser.opened_.find("/signin?ck=1"), std::string::npos);
  EXPECT_EQ(browser.favicon_status_, 404);
  EXPECT_EQ(browser.no_token_status_, 400);
  EXPECT_EQ(browser.landed_status_, 200);
  EXPECT_NE(browser.landed_.find("Linked — you can close this tab"), std::string::npos);
  EXPECT_EQ(browser.cache_control_, "no-store");
  // The listener is closed once the token is in.
  provider::HttpClient http;
  provider::HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  req.timeout_ms = 2000;
  EXPECT_FALSE(http.Send(req, nullptr).ok());
}

TEST(CloudKitFlow, WrongApiTokenIsAConfigurationError) {
  const uint16_t port = FreePort();
  FakeCloudKit ck(port);
  OAuthConfig c = CloudKitConfig(ck, port);
  c.cloudkit_api_token = "wrong-api-token";
  bool opened = false;
  BrowserFlowOptions o;
  o.open_url = [&](const std::string&) { opened = true; };
  auto token = RunCloudKitWebAuthFlow(c, o);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), Code::kInvalid);
  EXPECT_NE(token.status().message().find("the CloudKit API token is wrong (configuration)"),
            std::string::npos)
      << token.status().message();
  EXPECT_EQ(token.status().message().find("wrong-api-token"), std::string::npos);
  EXPECT_FALSE(opened);
}

TEST(CloudKitFlow, ConfigurationIsChecked) {
  OAuthConfig c;
  c.kind = AuthKind::kCloudKit;
  c.cloudkit_api_base = "https://api.apple-cloudkit.com/database/1/iCloud.x/development";
  c.cloudkit_api_token = "t";
  c.cloudkit_callback_port = 0;  // CloudKit redirects to a fixed URL: 0 cannot work
  auto r = RunCloudKitWebAuthFlow(c, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalid);
  EXPECT_NE(r.status().message().find("cloudkit_callback_port"), std::string::npos);
  c.cloudkit_callback_port = 8123;
  c.cloudkit_api_base = "https://api.apple-cloudkit.com/database/1";
  EXPECT_EQ(RunCloudKitWebAuthFlow(c, {}).status().code(), Code::kInvalid);
}

TEST(CloudKitFlow, AnswerOtherThan421IsRefused) {
  const uint16_t port = FreePort();
  auto other = net::LocalHttpServer::Start(
      [](const net::LocalRequest&) { return net::LocalResponse::Json(200, "{}"); });
  ASSERT_TRUE(other.ok());
  OAuthConfig c;
  c.cloudkit_api_base = (*other)->base_url() + kDbPath;
  c.cloudkit_api_token = kApiToken;
  c.cloudkit_callback_port = port;
  auto r = RunCloudKitWebAuthFlow(c, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalid);
  EXPECT_NE(r.status().message().find("HTTP 200"), std::string::npos) << r.status().message();
}

TEST(CloudKitFlow, RotatedTokensArePersistedAndA421AsksForANewLink) {
  testing::TempDir home;
  const uint16_t port = FreePort();
  FakeCloudKit ck(port);
  Browser browser;
  OAuthLinkOptions options;
  options.browser = browser.Options();
  options.store_backend = "file";
  options.passphrase = []() -> Result<std::string> { return std::string("journal passphrase"); };
  const nlohmann::json user_config{{"cloudkit_api_base", ck.api_base()},
                                   {"cloudkit_api_token", kApiToken},
                                   {"cloudkit_callback_port", port}};
  auto account = LinkCloudKitAccount(home.path().string(), "icloud",
                                     CloudKitConfig(ck, port), user_config, options);
  browser.Join();
  ASSERT_TRUE(account.ok()) << account.status().message();
  EXPECT_EQ(account->kind, "cloudkit");
  EXPECT_EQ(account->auth.value("cloudkit_api_base", ""), ck.api_base());
  EXPECT_EQ(account->auth.value("cloudkit_callback_port", 0), port);
  EXPECT_FALSE(account->config.contains("cloudkit_api_token"));  // secrets stay in the store

  auto stored = [&]() {
    auto store = OpenFileSecretStore(home.path().string(), nullptr);
    auto text = store->Get("icloud");
    EXPECT_TRUE(text.ok() && *text);
    auto secret = CloudKitSecret::Parse(text.ok() && *text ? **text : "");
    EXPECT_TRUE(secret.ok());
    return secret.ok() ? *secret : CloudKitSecret{};
  };
  EXPECT_EQ(stored().web_auth_token, ck.current_token());
  EXPECT_EQ(stored().api_token, kApiToken);

  auto creds = LoadCredentials(home.path().string(), "icloud");
  ASSERT_TRUE(creds.ok()) << creds.status().message();
  ASSERT_NE(*creds, nullptr);
  provider::HttpClient http(*creds);
  for (int i = 0; i < 3; ++i) {
    const std::string before = ck.current_token();
    provider::HttpRequest req;
    req.url = ck.api_base() + "/private/users/caller" + (i == 1 ? "?x=1" : "");
    std::string body;
    auto r = http.Send(req, [&](ByteSpan b) {
      body.append(reinterpret_cast<const char*>(b.data()), b.size());
      return true;
    });
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->status, 200) << r->error_body;  // the fake accepts only the latest token
    if (i == 1) {
      EXPECT_NE(body.find("\"query\":true"), std::string::npos) << body;
    }
    EXPECT_NE(ck.current_token(), before);
    EXPECT_EQ(stored().web_auth_token, ck.current_token());  // kept before the next call
  }
  EXPECT_EQ(ck.accepted.load(), 3);
  EXPECT_EQ(ck.refused.load(), 0);

  ck.expire = true;
  provider::HttpRequest req;
  req.url = ck.api_base() + "/private/records/query";
  auto r = http.Send(req, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kAuthExpired);
  EXPECT_NE(r.status().message().find("icloud needs to be linked again: run `jsync link icloud`"),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(r.status().message().find(ck.current_token()), std::string::npos);
  auto after = FindAccount(home.path().string(), "icloud");
  ASSERT_TRUE(after.ok() && *after);
  EXPECT_TRUE((*after)->needs_relink);
  auto relink = LoadCredentials(home.path().string(), "icloud");
  ASSERT_TRUE(relink.ok());
  EXPECT_EQ((*relink)->Authorization().status().code(), Code::kAuthExpired);

  auto unlinked = UnlinkAccount(home.path().string(), "icloud", nullptr);
  ASSERT_TRUE(unlinked.ok());
  EXPECT_TRUE(unlinked->was_linked);
  EXPECT_FALSE(unlinked->revoked);
  EXPECT_NE(unlinked->revoke_problem.find("no revocation"), std::string::npos);
  EXPECT_FALSE(*FindAccount(home.path().string(), "icloud"));
}

// Sources without the hooks are untouched: no query suffix, no 421 handling.
TEST(CloudKitFlow, OtherSourcesKeepTheirUrlsAnd421IsJustAStatus) {
  std::string seen;
  auto server = net::LocalHttpServer::Start([&](const net::LocalRequest& r) {
    seen = r.target;
    return net::LocalResponse::Text(421, "misdirected");
  });
  ASSERT_TRUE(server.ok());
  provider::HttpClient http(provider::BasicCredentials("u", "p"));
  provider::HttpRequest req;
  req.url = (*server)->base_url() + "/a?b=1";
  auto r = http.Send(req, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 421);
  EXPECT_EQ(seen, "/a?b=1");
  EXPECT_EQ(http.stats().refreshes, 0u);
}

}  // namespace
}  // namespace jsync::auth

// auth/: PKCE, configuration overrides, token responses and errors, the encrypted secret file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <set>

#include "auth/credential_store.h"
#include "auth/oauth_config.h"
#include "auth/oauth_credentials.h"
#include "auth/pkce.h"
#include "auth/secret_store.h"
#include "auth/token_endpoint.h"
#include "tests/support/test_support.h"

namespace jsync::auth {
namespace {

namespace fs = std::filesystem;

TEST(Pkce, MatchesRfc7636AppendixB) {
  const std::array<uint8_t, 32> octets = {116, 24,  223, 180, 151, 153, 224, 37,  79,  250, 96,
                                          125, 216, 173, 187, 186, 22,  212, 37,  77,  105, 214,
                                          191, 240, 91,  88,  5,   88,  83,  132, 141, 121};
  const std::string verifier = Base64Url(octets);
  EXPECT_EQ(verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  EXPECT_EQ(S256Challenge(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(Pkce, VerifiersAndStatesAreFreshAndWellFormed) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const std::string v = NewCodeVerifier();
    EXPECT_EQ(v.size(), 43u);
    EXPECT_EQ(v.find_first_not_of(
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"),
              std::string::npos);
    EXPECT_EQ(NewState().size(), 22u);  // 128 bits
    EXPECT_TRUE(seen.insert(v).second);
  }
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

// A descriptor as a Drive-like plugin declares it (providers/gdrive/gdrive_plugin.cc): auth
// takes everything from it, nothing from a provider's name.
AuthDescriptor DriveLikeDescriptor() {
  AuthDescriptor d;
  d.kind = "oauth2";
  d.authorize_url = "https://accounts.example/o/oauth2/v2/auth";
  d.token_url = "https://oauth2.example/token";
  d.device_code_url = "https://oauth2.example/device/code";
  d.revoke_url = "https://oauth2.example/revoke";
  d.scopes = "https://api.example/auth/app.data";
  d.authorize_params = {{"access_type", "offline"}, {"prompt", "consent"}};
  return d;
}

TEST(OAuthConfigTest, AuthBaseReplacesEveryOriginAndKeepsPaths) {
  auto c = ResolveOAuthConfig("anything", DriveLikeDescriptor(), nlohmann::json::object(), "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->authorize_params,
            (std::vector<std::pair<std::string, std::string>>{{"access_type", "offline"},
                                                              {"prompt", "consent"}}));
  EXPECT_EQ(c->redirect_host, "127.0.0.1");
  ASSERT_TRUE(ApplyOverrides({{"auth_base", "http://127.0.0.1:9/"}, {"client_id", "cli"}}, &*c).ok());
  EXPECT_EQ(c->authorize_url, "http://127.0.0.1:9/o/oauth2/v2/auth");
  EXPECT_EQ(c->token_url, "http://127.0.0.1:9/token");
  EXPECT_EQ(c->device_code_url, "http://127.0.0.1:9/device/code");
  EXPECT_EQ(c->revoke_url, "http://127.0.0.1:9/revoke");
  EXPECT_EQ(c->client_id, "cli");
  EXPECT_EQ(c->scopes, "https://api.example/auth/app.data");
  // A single endpoint can still be set on its own, after auth_base.
  ASSERT_TRUE(ApplyOverrides({{"token_url", "https://id.example/t"}}, &*c).ok());
  EXPECT_EQ(c->token_url, "https://id.example/t");
}

TEST(OAuthConfigTest, TenantPlaceholderAndLocalhostRedirectComeFromTheDescriptor) {
  AuthDescriptor d;
  d.kind = "oauth2";
  const std::string base = "https://login.example/{tenant}/oauth2/v2.0/";
  d.authorize_url = base + "authorize";
  d.token_url = base + "token";
  d.device_code_url = base + "devicecode";
  d.scopes = "Files.ReadWrite.AppFolder offline_access";
  d.redirect_host = "localhost";
  d.option_defaults = {{"tenant", "common"}};
  auto c = ResolveOAuthConfig("p", d, nlohmann::json::object(), "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->redirect_host, "localhost");
  EXPECT_TRUE(c->revoke_url.empty());
  EXPECT_EQ(c->token_url, "https://login.example/common/oauth2/v2.0/token");
  c = ResolveOAuthConfig("p", d, {{"tenant", "consumers"}}, "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->token_url, "https://login.example/consumers/oauth2/v2.0/token");
  EXPECT_EQ(c->authorize_url, "https://login.example/consumers/oauth2/v2.0/authorize");
  // A value that would change the address's path or query is refused, naming the option.
  for (const char* bad : {"evil.example/x", "common?x=1", "a#b", "..%2F", ""}) {
    auto refused = ResolveOAuthConfig("p", d, {{"tenant", bad}}, "");
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.status().code(), Code::kInvalid);
    EXPECT_NE(refused.status().message().find("option tenant must be"), std::string::npos)
        << refused.status().message();
  }
  c = ResolveOAuthConfig("p", d, {{"tenant", "contoso.onmicrosoft.com"}}, "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->token_url, "https://login.example/contoso.onmicrosoft.com/oauth2/v2.0/token");
  // A placeholder neither the user nor a default fills is one clear error.
  d.option_defaults.clear();
  auto missing = ResolveOAuthConfig("p", d, nlohmann::json::object(), "");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kInvalid);
  EXPECT_NE(missing.status().message().find("--option tenant=VALUE"), std::string::npos)
      << missing.status().message();
  // CloudKit: the descriptor names the database instead of an authorization endpoint.
  AuthDescriptor ck;
  ck.kind = "cloudkit";
  ck.authorize_url = "https://api.example/database/1/iCloud.x/development";
  auto k = ResolveOAuthConfig("p", ck, nlohmann::json::object(), "");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->kind, AuthKind::kCloudKit);
  EXPECT_EQ(k->cloudkit_api_base, ck.authorize_url);
  EXPECT_TRUE(k->authorize_url.empty());
}

TEST(OAuthConfigTest, RefusesBadValues) {
  OAuthConfig c;
  EXPECT_EQ(ApplyOverrides({{"auth_base", "ftp://x"}, {"token_url", "https://a/t"}}, &c).code(),
            Code::kInvalid);
  EXPECT_EQ(ApplyOverrides({{"token_url", 5}}, &c).code(), Code::kInvalid);
  EXPECT_EQ(ApplyOverrides({{"redirect_host", "evil.example"}}, &c).code(), Code::kInvalid);
  EXPECT_EQ(ApplyOverrides(nlohmann::json::array(), &c).code(), Code::kInvalid);
  Status s = CheckUsable(OAuthConfig{}, true);
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_NE(s.message().find("--client-id"), std::string::npos);
}

TEST(TokenResponse, ComputesAbsoluteExpiry) {
  auto t = ParseTokenResponse({{"access_token", "a"}, {"expires_in", 120}, {"refresh_token", "r"},
                               {"refresh_token_expires_in", "604800"}},
                              1000);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->expires_at, 1120);
  EXPECT_EQ(t->refresh_expires_at, 1000 + 604800);
  EXPECT_EQ(t->refresh_token, "r");
  EXPECT_EQ(ParseTokenResponse({{"access_token", "a"}}, 1000)->expires_at, 4600);  // assume 1 h
  EXPECT_EQ(ParseTokenResponse({{"token_type", "Bearer"}}, 0).status().code(), Code::kInvalid);
}

TEST(TokenResponse, ClassifiesErrorsByTheErrorFieldOnly) {
  EXPECT_EQ(ClassifyTokenError({400, "invalid_grant", "Token has been expired or revoked.", -1}, "x")
                .code(),
            Code::kAuthExpired);
  Status busy = ClassifyTokenError({503, "temporarily_unavailable", "", 7000}, "x");
  EXPECT_EQ(busy.code(), Code::kRetryable);
  EXPECT_EQ(busy.retry_after_ms(), 7000);
  EXPECT_EQ(ClassifyTokenError({429, "slow", "", -1}, "x").code(), Code::kRetryable);
  EXPECT_EQ(ClassifyTokenError({400, "invalid_client", "", -1}, "x").code(), Code::kInvalid);
  // The description is shown; the classification never depends on it.
  EXPECT_EQ(ClassifyTokenError({400, "invalid_scope", "invalid_grant", -1}, "x").code(),
            Code::kInvalid);
}

TEST(TokenResponse, RefreshMarginAbsorbsSkewButNotShortLifetimes) {
  EXPECT_EQ(RefreshMargin(0, 3600), 120);
  EXPECT_EQ(RefreshMargin(1000, 1000 + 3599), 120);
  EXPECT_EQ(RefreshMargin(1000, 1000 + 60), 30);  // short test tokens: half the lifetime
}

class SecretFileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { home_ = dir_.path().string(); }
  testing::TempDir dir_;
  PassphraseSource Pass(std::string p) {
    return [p, this]() -> Result<std::string> {
      ++asked_;
      return p;
    };
  }
  std::string home_;
  int asked_ = 0;
};

TEST_F(SecretFileStoreTest, RoundTripsEncryptedWithAPrivateFile) {
  auto store = OpenFileSecretStore(home_, Pass("correct horse"));
  ASSERT_TRUE(store->Put("gdrive", "{\"access_token\":\"ya29.SECRET-TOKEN\"}").ok());
  ASSERT_TRUE(store->Put("webdav", "pw-SECRET").ok());
  EXPECT_EQ(**store->Get("gdrive"), "{\"access_token\":\"ya29.SECRET-TOKEN\"}");
  EXPECT_FALSE(store->Get("onedrive")->has_value());
  EXPECT_EQ(asked_, 1) << "the derived key is cached; the passphrase is asked once";

  const std::string file = home_ + "/credentials/secrets.enc";
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.substr(0, 4), "JSSF");
  EXPECT_EQ(bytes.find("SECRET"), std::string::npos);
  EXPECT_EQ(bytes.find("gdrive"), std::string::npos) << "account names are encrypted too";

  ASSERT_TRUE(store->Remove("gdrive").ok());
  ASSERT_TRUE(store->Remove("gdrive").ok());
  EXPECT_FALSE(store->Get("gdrive")->has_value());
  EXPECT_EQ(**store->Get("webdav"), "pw-SECRET");
}

TEST_F(SecretFileStoreTest, WithoutTheCachedKeyOnlyThePassphraseOpensIt) {
  ASSERT_TRUE(OpenFileSecretStore(home_, Pass("right"))->Put("gdrive", "tok").ok());
  fs::remove(home_ + "/credentials/secrets.key");
  auto wrong = OpenFileSecretStore(home_, Pass("wrong"))->Get("gdrive");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), Code::kAuthExpired);
  EXPECT_NE(wrong.status().message().find("cannot be opened with this passphrase"),
            std::string::npos);
  fs::remove(home_ + "/credentials/secrets.key");
  auto locked = OpenFileSecretStore(home_, nullptr)->Get("gdrive");
  ASSERT_FALSE(locked.ok());
  EXPECT_NE(locked.status().message().find("token store is locked"), std::string::npos);
  EXPECT_EQ(**OpenFileSecretStore(home_, Pass("right"))->Get("gdrive"), "tok");
}

TEST_F(SecretFileStoreTest, RefusesATamperedOrExposedFile) {
  ASSERT_TRUE(OpenFileSecretStore(home_, Pass("p"))->Put("gdrive", "tok").ok());
  const std::string file = home_ + "/credentials/secrets.enc";
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-3, std::ios::end);
    f.put('\x5a');
  }
  auto tampered = OpenFileSecretStore(home_, Pass("p"))->Get("gdrive");
  ASSERT_FALSE(tampered.ok());
  EXPECT_NE(tampered.status().message().find("altered"), std::string::npos);

  ASSERT_TRUE(OpenFileSecretStore(home_, Pass("p"))->Remove("x").code() != Code::kOk);
  fs::remove(file);
  ASSERT_TRUE(OpenFileSecretStore(home_, Pass("p"))->Put("gdrive", "tok").ok());
  ::chmod(file.c_str(), 0644);
  auto exposed = OpenFileSecretStore(home_, Pass("p"))->Get("gdrive");
  ASSERT_FALSE(exposed.ok());
  EXPECT_NE(exposed.status().message().find("chmod 600"), std::string::npos);
}

TEST(SecretStoreChoice, ExplainsAnUnavailableOrUnknownBackend) {
  testing::TempDir dir;
  const std::string home = dir.path().string();
  auto unknown = OpenSecretStore(home, "keychain-of-doom", nullptr);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("auto, secret-service or file"), std::string::npos);
  auto file = OpenSecretStore(home, "file", nullptr);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->backend(), "file");
  if (OpenSecretServiceStore(home) == nullptr) {
    auto ss = OpenSecretStore(home, "secret-service", nullptr);
    ASSERT_FALSE(ss.ok());
    EXPECT_NE(ss.status().message().find("Secret Service"), std::string::npos);
    EXPECT_EQ((*OpenSecretStore(home, "auto", nullptr))->backend(), "file");
  }
}

TEST(LinkedAccounts, BasicPasswordMovesIntoTheStoreAndOldLinksStillWork) {
  testing::TempDir dir;
  const std::string home = dir.path().string();
  // A home linked before the token store (decision 0010) keeps working...
  fs::create_directories(home + "/credentials");
  testing::WriteFileBytes(home + "/credentials/webdav.json",
                          R"({"kind":"basic","user":"ann","password":"pw"})");
  auto legacy = LoadCredentials(home, "webdav");
  ASSERT_TRUE(legacy.ok() && *legacy);
  EXPECT_EQ(*(*legacy)->Authorization(), "Basic YW5uOnB3");  // ann:pw
  // ...and linking again moves the password into the encrypted store.
  ASSERT_TRUE(LinkBasicAccount(home, "webdav", "ann", "pw2",
                               []() -> Result<std::string> { return std::string("pp"); }, "file")
                  .ok());
  EXPECT_FALSE(fs::exists(home + "/credentials/webdav.json"));
  auto linked = LoadCredentials(home, "webdav");
  ASSERT_TRUE(linked.ok() && *linked);
  EXPECT_EQ(*(*linked)->Authorization(), "Basic YW5uOnB3Mg==");
  auto accounts = ListAccounts(home);
  ASSERT_TRUE(accounts.ok());
  ASSERT_EQ(accounts->size(), 1u);
  EXPECT_EQ((*accounts)[0].user, "ann");
  EXPECT_EQ(testing::ReadFileBytes(home + "/accounts.json").find("pw2"), std::string::npos);
  auto report = UnlinkAccount(home, "webdav", nullptr);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->was_linked);
  EXPECT_EQ(*LoadCredentials(home, "webdav"), nullptr);
}

}  // namespace
}  // namespace jsync::auth

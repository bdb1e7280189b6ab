#include "auth/credential_store.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "auth/cloudkit_credentials.h"
#include "auth/cloudkit_flow.h"
#include "auth/oauth_credentials.h"
#include "host/open_provider.h"

namespace jsync::auth {
namespace {

const char* IdentityProviderOf(const std::string& provider) {
  if (provider == "gdrive") return "google";
  if (provider == "onedrive") return "microsoft";
  if (provider == "icloud") return "icloud";
  return nullptr;
}

// Fields of a user's configuration that are secrets: kept in the SecretStore only.
nlohmann::json WithoutSecrets(const nlohmann::json& config) {
  nlohmann::json out = config.is_object() ? config : nlohmann::json::object();
  for (const char* key : {"client_secret", "password", "cloudkit_api_token"}) out.erase(key);
  return out;
}

nlohmann::json AuthJson(const OAuthConfig& c) {
  return {{"authorize_url", c.authorize_url}, {"token_url", c.token_url},
          {"device_code_url", c.device_code_url}, {"revoke_url", c.revoke_url},
          {"client_id", c.client_id}, {"scopes", c.scopes}, {"issuer", c.issuer},
          {"redirect_host", c.redirect_host}};
}

Result<OAuthConfig> ConfigFromAccount(const Account& a) {
  OAuthConfig c;
  c.kind = ParseAuthKind(a.kind);
  JSYNC_RETURN_IF_ERROR(ApplyOverrides(a.auth, &c));
  return c;
}

Result<std::shared_ptr<SecretStore>> StoreFor(const std::string& home, const std::string& backend,
                                              PassphraseSource passphrase) {
  JSYNC_ASSIGN_OR_RETURN(auto store, OpenSecretStore(home, backend, std::move(passphrase)));
  return std::shared_ptr<SecretStore>(std::move(store));
}

// Homes linked before the token store kept a WebDAV password in credentials/<provider>.json
// (decision 0010). Still read, so an upgrade does not unlink anyone; `jsync link` moves it.
Result<std::shared_ptr<provider::CredentialSource>> LegacyBasicCredentials(
    const std::string& home, const std::string& provider) {
  const std::string path = home + "/credentials/" + provider + ".json";
  std::ifstream in(path);
  if (!in) return std::shared_ptr<provider::CredentialSource>();
  auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("kind", "") != "basic" || !j.contains("user") ||
      !j["user"].is_string() || !j.contains("password") || !j["password"].is_string())
    return Status::Corrupt(path + " is damaged; link the account again");
  return provider::BasicCredentials(j["user"].get<std::string>(), j["password"].get<std::string>());
}

}  // namespace

PassphraseSource PassphraseFromEnvironment() {
  if (std::getenv("JSYNC_PASSPHRASE") == nullptr) return nullptr;
  return []() -> Result<std::string> { return std::string(std::getenv("JSYNC_PASSPHRASE")); };
}

Result<OAuthConfig> ResolveOAuthConfig(const std::string& provider, const AuthDescriptor& d,
                                       const nlohmann::json& user_config,
                                       const std::string& client_id) {
  OAuthConfig c;
  if (const char* idp = IdentityProviderOf(provider)) {
    JSYNC_ASSIGN_OR_RETURN(c, WellKnownConfig(idp));
  }
  if (!d.kind.empty()) c.kind = ParseAuthKind(d.kind);
  for (auto [from, to] : {std::pair{&d.authorize_url, &c.authorize_url},
                          {&d.token_url, &c.token_url},
                          {&d.device_code_url, &c.device_code_url},
                          {&d.revoke_url, &c.revoke_url},
                          {&d.scopes, &c.scopes}}) {
    if (!from->empty()) *to = *from;
  }
  JSYNC_RETURN_IF_ERROR(ApplyOverrides(user_config, &c));
  if (!client_id.empty()) c.client_id = client_id;
  return c;
}

Result<Account> LinkOAuthAccount(const std::string& home, const std::string& provider,
                                 const OAuthConfig& config, const nlohmann::json& user_config,
                                 const OAuthLinkOptions& options) {
  JSYNC_RETURN_IF_ERROR(CheckUsable(config, options.device_flow));
  // Open the store before the flow: a locked or misconfigured store fails before the user
  // approves anything.
  JSYNC_ASSIGN_OR_RETURN(auto store, StoreFor(home, options.store_backend, options.passphrase));
  const int64_t started = NowUnixSeconds();
  Result<TokenSet> tokens = options.device_flow ? RunDeviceFlow(config, options.device)
                                                : RunAuthorizationCodeFlow(config, options.browser);
  if (!tokens.ok()) return tokens.status();
  if (tokens->refresh_token.empty())
    std::fprintf(stderr,
                 "jsync: warning: %s gave no refresh token; the link lasts until the access "
                 "token expires\n",
                 provider.c_str());
  OAuthSecret secret;
  secret.tokens = *tokens;
  secret.issued_at = started;
  secret.client_secret = config.client_secret;
  JSYNC_RETURN_IF_ERROR(store->Put(provider, secret.Serialize()));
  Account a;
  a.provider = provider;
  a.kind = "oauth2";
  a.store = store->backend();
  a.auth = AuthJson(config);
  a.config = WithoutSecrets(user_config);
  a.scopes = tokens->scope.empty() ? config.scopes : tokens->scope;
  a.linked_at = started;
  a.expires_at = tokens->expires_at;
  a.refresh_expires_at = tokens->refresh_expires_at;
  JSYNC_RETURN_IF_ERROR(SaveAccount(home, a));
  return a;
}

Result<Account> LinkCloudKitAccount(const std::string& home, const std::string& provider,
                                    const OAuthConfig& config, const nlohmann::json& user_config,
                                    const OAuthLinkOptions& options) {
  if (options.device_flow)
    return Status::Invalid("iCloud has no device-code sign-in; link without --device-code (a "
                           "browser on this machine is needed)");
  JSYNC_RETURN_IF_ERROR(CheckCloudKitUsable(config));
  // Open the store before the flow: a locked or misconfigured store fails before the user
  // signs in.
  JSYNC_ASSIGN_OR_RETURN(auto store, StoreFor(home, options.store_backend, options.passphrase));
  const int64_t started = NowUnixSeconds();
  JSYNC_ASSIGN_OR_RETURN(std::string token, RunCloudKitWebAuthFlow(config, options.browser));
  CloudKitSecret secret{std::move(token), config.cloudkit_api_token};
  JSYNC_RETURN_IF_ERROR(store->Put(provider, secret.Serialize()));
  Account a;
  a.provider = provider;
  a.kind = "cloudkit";
  a.store = store->backend();
  a.auth = {{"cloudkit_api_base", config.cloudkit_api_base},
            {"cloudkit_callback_port", config.cloudkit_callback_port}};
  a.config = WithoutSecrets(user_config);
  a.linked_at = started;
  JSYNC_RETURN_IF_ERROR(SaveAccount(home, a));
  return a;
}

Status LinkBasicAccount(const std::string& home, const std::string& provider,
                        const std::string& user, const std::string& password,
                        PassphraseSource passphrase, const std::string& store_backend) {
  JSYNC_ASSIGN_OR_RETURN(auto store, StoreFor(home, store_backend, std::move(passphrase)));
  JSYNC_RETURN_IF_ERROR(
      store->Put(provider, nlohmann::json{{"kind", "basic"}, {"password", password}}.dump()));
  Account a;
  a.provider = provider;
  a.kind = "basic";
  a.store = store->backend();
  a.user = user;
  a.linked_at = NowUnixSeconds();
  JSYNC_RETURN_IF_ERROR(SaveAccount(home, a));
  std::error_code ec;
  std::filesystem::remove(home + "/credentials/" + provider + ".json", ec);  // decision 0010
  return Status::Ok();
}

Result<UnlinkReport> UnlinkAccount(const std::string& home, const std::string& provider,
                                   PassphraseSource passphrase) {
  UnlinkReport report;
  JSYNC_ASSIGN_OR_RETURN(auto account, FindAccount(home, provider));
  std::error_code ec;
  if (!account) {
    report.was_linked = std::filesystem::remove(home + "/credentials/" + provider + ".json", ec);
    return report;
  }
  report.was_linked = true;
  auto store = StoreFor(home, account->store, std::move(passphrase));
  if (store.ok() && account->kind == "oauth2") {
    auto text = (*store)->Get(provider);
    auto config = ConfigFromAccount(*account);
    if (text.ok() && *text && config.ok()) {
      auto secret = OAuthSecret::Parse(**text);
      if (secret.ok()) {
        config->client_secret = secret->client_secret;
        provider::HttpClient http;
        // Revoking the refresh token ends the grant (and its access tokens) where the server
        // supports it; without one, revoke the access token.
        const bool has_refresh = !secret->tokens.refresh_token.empty();
        Status s = RevokeToken(http, *config,
                               has_refresh ? secret->tokens.refresh_token : secret->tokens.access_token,
                               has_refresh ? "refresh_token" : "access_token");
        report.revoked = s.ok() && !config->revoke_url.empty();
        if (!s.ok()) report.revoke_problem = s.message();
        else if (config->revoke_url.empty())
          report.revoke_problem = "the provider has no revocation endpoint; remove the app's "
                                  "access in your account settings";
      }
    } else if (!text.ok()) {
      report.revoke_problem = text.status().message();
    }
  } else if (!store.ok()) {
    report.revoke_problem = store.status().message();
  } else if (account->kind == "cloudkit") {
    report.revoke_problem = "CloudKit has no revocation; the web token lapses by itself, or sign "
                            "out of the app's web sessions in your Apple ID settings";
  }
  if (store.ok()) JSYNC_RETURN_IF_ERROR((*store)->Remove(provider));
  std::filesystem::remove(home + "/credentials/" + provider + ".json", ec);  // decision 0010
  JSYNC_RETURN_IF_ERROR(RemoveAccount(home, provider));
  return report;
}

namespace {

Result<std::shared_ptr<provider::CredentialSource>> CredentialsFor(
    const std::string& home, const std::string& provider, const std::optional<Account>& account) {
  if (!account) return LegacyBasicCredentials(home, provider);
  JSYNC_ASSIGN_OR_RETURN(auto store, StoreFor(home, account->store, PassphraseFromEnvironment()));
  if (account->kind == "basic") {
    JSYNC_ASSIGN_OR_RETURN(auto text, store->Get(provider));
    auto j = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
    if (!j.is_object() || !j.contains("password") || !j["password"].is_string())
      return Status(Code::kAuthExpired, "the password for " + provider +
                                            " is missing from the token store; link it again");
    return provider::BasicCredentials(account->user, j["password"].get<std::string>());
  }
  if (account->kind == "oauth2" || account->kind == "cloudkit") {
    if (account->needs_relink)
      return std::shared_ptr<provider::CredentialSource>(std::make_shared<provider::FailingCredentials>(
          Status(Code::kAuthExpired, provider + " needs to be linked again (" + account->problem +
                                         "): run `jsync link " + provider +
                                         "`; edits made meanwhile stay on this device")));
    if (account->kind == "cloudkit")
      return std::shared_ptr<provider::CredentialSource>(
          std::make_shared<CloudKitCredentialSource>(home, provider, store));
    JSYNC_ASSIGN_OR_RETURN(auto config, ConfigFromAccount(*account));
    return std::shared_ptr<provider::CredentialSource>(
        std::make_shared<OAuthCredentialSource>(home, provider, config, store));
  }
  return Status::Invalid("accounts of kind '" + account->kind + "' are not supported by this build");
}

}  // namespace

Result<std::shared_ptr<provider::CredentialSource>> LoadCredentials(const std::string& home,
                                                                   const std::string& provider) {
  JSYNC_ASSIGN_OR_RETURN(auto account, FindAccount(home, provider));
  return CredentialsFor(home, provider, account);
}

Result<provider::AccountForStorage> LinkedAccountFor(const std::string& home,
                                                     const std::string& provider) {
  JSYNC_ASSIGN_OR_RETURN(auto account, FindAccount(home, provider));
  provider::AccountForStorage linked;
  JSYNC_ASSIGN_OR_RETURN(linked.credentials, CredentialsFor(home, provider, account));
  if (account) linked.config_json = account->config.dump();
  return linked;
}

}  // namespace jsync::auth

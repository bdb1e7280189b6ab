#include "auth/credential_store.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "auth/cloudkit_credentials.h"
#include "auth/cloudkit_flow.h"
#include "auth/oauth_credentials.h"
#include "host/open_provider.h"
#include "host/plugin_options.h"

namespace jsync::auth {
namespace {

// The secrets of the flows themselves: kept in the account's secret (OAuthSecret, the basic
// password, the CloudKit API token), and never handed to a plugin.
constexpr const char* kFlowSecrets[] = {"client_secret", "password", "cloudkit_api_token"};

bool IsFlowSecret(const std::string& key) {
  for (const char* k : kFlowSecrets) {
    if (key == k) return true;
  }
  return false;
}

// Fields of a user's configuration that are secrets: kept in the SecretStore only.
nlohmann::json WithoutSecrets(const nlohmann::json& config) {
  return WithoutSecretOptions(nullptr, config);
}

// Where a provider's secret options live in the token store.
std::string OptionsEntry(const std::string& provider) { return provider + ".options"; }

// `config` over what the account already had: setting one option keeps the others.
nlohmann::json MergedConfig(const std::optional<Account>& old, const nlohmann::json& config) {
  nlohmann::json out = old ? old->config : nlohmann::json::object();
  if (config.is_object()) {
    for (const auto& [k, v] : config.items()) out[k] = v;
  }
  return out;
}

// "{tenant}" in an endpoint: the option's value in the user's configuration, else its default.
Status FillPlaceholders(const std::string& provider, const AuthDescriptor& d,
                        const nlohmann::json& user_config, std::string* url) {
  for (size_t open = url->find('{'); open != std::string::npos; open = url->find('{', open)) {
    const size_t close = url->find('}', open);
    if (close == std::string::npos) break;
    const std::string name = url->substr(open + 1, close - open - 1);
    std::string value;
    if (user_config.is_object() && user_config.contains(name) && user_config[name].is_string()) {
      value = user_config[name].get<std::string>();
    } else if (auto it = d.option_defaults.find(name); it != d.option_defaults.end()) {
      value = it->second;
    } else {
      return Status::Invalid("the " + provider + " provider's sign-in address needs the option " +
                             name + ": set it with --option " + name + "=VALUE");
    }
    // The value lands in the endpoint's path: a slash, '?' or '#' would point the sign-in at
    // another address than the one the provider names.
    const bool path_safe = !value.empty() && value.find_first_not_of(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_") == std::string::npos;
    if (!path_safe)
      return Status::Invalid("the " + provider + " option " + name + " must be letters, digits, "
                             "'.', '-' or '_' (it is part of the sign-in address): \"" + value +
                             "\"");
    url->replace(open, close + 1 - open, value);
    open += value.size();
  }
  return Status::Ok();
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

AuthDescriptor AuthDescriptorOf(const provider::PluginInfo& plugin) {
  AuthDescriptor d;
  for (const auto& o : plugin.options) {
    if (o.default_value) d.option_defaults[o.name] = *o.default_value;
  }
  const jsync_auth_descriptor* a = plugin.table != nullptr ? plugin.table->auth : nullptr;
  if (a == nullptr) return d;
  auto str = [](const char* s) { return std::string(s ? s : ""); };
  d.kind = str(a->kind);
  d.authorize_url = str(a->authorize_url);
  d.token_url = str(a->token_url);
  d.device_code_url = str(a->device_code_url);
  d.revoke_url = str(a->revoke_url);
  d.scopes = str(a->scopes);
  // The descriptor grew in version 3; an older plugin's ends before these fields.
  if (plugin.abi_version >= 3) {
    for (size_t i = 0; a->authorize_params != nullptr && i < a->authorize_param_count; ++i) {
      const jsync_param& p = a->authorize_params[i];
      if (p.name != nullptr && *p.name != '\0') d.authorize_params.emplace_back(p.name, str(p.value));
    }
    d.redirect_host = str(a->redirect_host);
  }
  return d;
}

nlohmann::json SecretOptions(const provider::PluginInfo* plugin, const nlohmann::json& config) {
  nlohmann::json out = nlohmann::json::object();
  if (plugin == nullptr || !config.is_object()) return out;
  for (const auto& [k, v] : config.items()) {
    if (!IsFlowSecret(k) && provider::IsSecretOption(*plugin, k)) out[k] = v;
  }
  return out;
}

nlohmann::json WithoutSecretOptions(const provider::PluginInfo* plugin,
                                    const nlohmann::json& config) {
  nlohmann::json out = config.is_object() ? config : nlohmann::json::object();
  for (const char* key : kFlowSecrets) out.erase(key);
  if (plugin != nullptr) {
    for (const auto& o : plugin->options) {
      if (o.secret) out.erase(o.name);
    }
  }
  return out;
}

Result<OAuthConfig> ResolveOAuthConfig(const std::string& provider, const AuthDescriptor& d,
                                       const nlohmann::json& user_config,
                                       const std::string& client_id) {
  OAuthConfig c;
  if (!d.kind.empty()) c.kind = ParseAuthKind(d.kind);
  for (auto [from, to] : {std::pair{&d.authorize_url, &c.authorize_url},
                          {&d.token_url, &c.token_url},
                          {&d.device_code_url, &c.device_code_url},
                          {&d.revoke_url, &c.revoke_url},
                          {&d.scopes, &c.scopes}}) {
    if (!from->empty()) *to = *from;
  }
  for (std::string* url :
       {&c.authorize_url, &c.token_url, &c.device_code_url, &c.revoke_url}) {
    JSYNC_RETURN_IF_ERROR(FillPlaceholders(provider, d, user_config, url));
  }
  c.authorize_params = d.authorize_params;
  if (!d.redirect_host.empty()) c.redirect_host = d.redirect_host;
  if (c.kind == AuthKind::kCloudKit) {
    // CloudKit has no authorization endpoint: the descriptor names the database instead.
    c.cloudkit_api_base = c.authorize_url;
    c.authorize_url.clear();
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
  JSYNC_ASSIGN_OR_RETURN(auto old, FindAccount(home, provider));
  Account a;
  a.provider = provider;
  a.kind = "oauth2";
  a.store = store->backend();
  a.auth = AuthJson(config);
  a.config = MergedConfig(old, WithoutSecrets(user_config));
  if (old) a.secret_options = old->secret_options;
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
  JSYNC_ASSIGN_OR_RETURN(auto old, FindAccount(home, provider));
  Account a;
  a.provider = provider;
  a.kind = "cloudkit";
  a.store = store->backend();
  a.auth = {{"cloudkit_api_base", config.cloudkit_api_base},
            {"cloudkit_callback_port", config.cloudkit_callback_port}};
  a.config = MergedConfig(old, WithoutSecrets(user_config));
  if (old) a.secret_options = old->secret_options;
  a.linked_at = started;
  JSYNC_RETURN_IF_ERROR(SaveAccount(home, a));
  return a;
}

Status LinkBasicAccount(const std::string& home, const std::string& provider,
                        const std::string& user, const std::string& password,
                        PassphraseSource passphrase, const std::string& store_backend,
                        const nlohmann::json& config) {
  JSYNC_ASSIGN_OR_RETURN(auto store, StoreFor(home, store_backend, std::move(passphrase)));
  JSYNC_RETURN_IF_ERROR(
      store->Put(provider, nlohmann::json{{"kind", "basic"}, {"password", password}}.dump()));
  JSYNC_ASSIGN_OR_RETURN(auto old, FindAccount(home, provider));
  Account a;
  a.provider = provider;
  a.kind = "basic";
  a.store = store->backend();
  a.user = user;
  a.config = MergedConfig(old, WithoutSecrets(config));
  if (old) a.secret_options = old->secret_options;
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
  if (account->kind == "none" && account->secret_options.empty()) {
    // Options only: nothing to revoke, nothing in the token store.
    JSYNC_RETURN_IF_ERROR(RemoveAccount(home, provider));
    return report;
  }
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
  if (store.ok()) {
    JSYNC_RETURN_IF_ERROR((*store)->Remove(provider));
    if (!account->secret_options.empty()) {
      JSYNC_RETURN_IF_ERROR((*store)->Remove(OptionsEntry(provider)));
    }
  }
  std::filesystem::remove(home + "/credentials/" + provider + ".json", ec);  // decision 0010
  JSYNC_RETURN_IF_ERROR(RemoveAccount(home, provider));
  return report;
}

namespace {

Result<std::shared_ptr<provider::CredentialSource>> CredentialsFor(
    const std::string& home, const std::string& provider, const std::optional<Account>& account) {
  if (!account) return LegacyBasicCredentials(home, provider);
  // Options only (a provider without an account): credentials, if any, from the environment.
  if (account->kind == "none") return std::shared_ptr<provider::CredentialSource>();
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
  if (!account) return linked;
  nlohmann::json config = account->config;
  if (!account->secret_options.empty()) {
    JSYNC_ASSIGN_OR_RETURN(auto store,
                           StoreFor(home, account->store, PassphraseFromEnvironment()));
    JSYNC_ASSIGN_OR_RETURN(auto text, store->Get(OptionsEntry(provider)));
    auto secret = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
    if (!secret.is_object()) {
      return Status(Code::kAuthExpired, "the secret options of " + provider +
                                            " are missing from the token store; set them again "
                                            "with `jsync link " + provider + " --option`");
    }
    for (const auto& [k, v] : secret.items()) config[k] = v;
  }
  linked.config_json = config.dump();
  return linked;
}

Status SaveProviderOptions(const std::string& home, const provider::PluginInfo& plugin,
                           const nlohmann::json& config, PassphraseSource passphrase,
                           const std::string& store_backend) {
  JSYNC_ASSIGN_OR_RETURN(auto old, FindAccount(home, plugin.name));
  Account a;
  if (old) {
    a = *old;
  } else {
    a.provider = plugin.name;
    a.kind = "none";
    a.linked_at = NowUnixSeconds();
  }
  a.config = MergedConfig(old, WithoutSecretOptions(&plugin, config));
  const nlohmann::json secret = SecretOptions(&plugin, config);
  if (!secret.empty()) {
    JSYNC_ASSIGN_OR_RETURN(auto store, StoreFor(home, a.store.empty() ? store_backend : a.store,
                                                std::move(passphrase)));
    nlohmann::json all = nlohmann::json::object();
    if (!a.secret_options.empty()) {
      JSYNC_ASSIGN_OR_RETURN(auto text, store->Get(OptionsEntry(plugin.name)));
      if (text) all = nlohmann::json::parse(*text, nullptr, false);
      if (!all.is_object()) all = nlohmann::json::object();
    }
    for (const auto& [k, v] : secret.items()) all[k] = v;
    JSYNC_RETURN_IF_ERROR(store->Put(OptionsEntry(plugin.name), all.dump()));
    a.store = store->backend();
    a.secret_options.clear();
    for (const auto& [k, v] : all.items()) a.secret_options.push_back(k);
  }
  return SaveAccount(home, a);
}

}  // namespace jsync::auth

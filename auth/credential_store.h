// Linking accounts on this device: the flows (auth/*_flow.h) put together with the secret
// store and the account list. Only the host reads credentials; plugins never see them (the
// HTTP client injects them).
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "auth/accounts.h"
#include "auth/authorization_code_flow.h"
#include "auth/device_flow.h"
#include "auth/oauth_config.h"
#include "auth/secret_store.h"
#include "host/http_client.h"
#include "host/open_provider.h"
#include "host/plugin_loader.h"

namespace jsync::auth {

// What a provider plugin declares about linking (its jsync_auth_descriptor).
struct AuthDescriptor {
  std::string kind;  // "none", "basic", "oauth2", "cloudkit"; "" when the plugin has none
  // Endpoints may hold {option} placeholders (a tenant). For "cloudkit", authorize_url is the
  // CloudKit Web Services database URL (container and environment).
  std::string authorize_url, token_url, device_code_url, revoke_url, scopes;
  std::vector<std::pair<std::string, std::string>> authorize_params;  // ABI 3
  std::string redirect_host;                                          // ABI 3; "": 127.0.0.1
  // The plugin's option defaults, for the placeholders the user's configuration leaves open.
  std::map<std::string, std::string> option_defaults;
};

// The descriptor a plugin declares (its table's auth, the version-3 fields when it has them).
AuthDescriptor AuthDescriptorOf(const provider::PluginInfo& plugin);

// The flow configuration for a provider: the plugin's descriptor (placeholders filled from
// the user's configuration or the option defaults), then the user's configuration, then
// --client-id. Nothing is known of any provider by name: it all comes from the plugin.
Result<OAuthConfig> ResolveOAuthConfig(const std::string& provider, const AuthDescriptor& descriptor,
                                       const nlohmann::json& user_config,
                                       const std::string& client_id);

// The part of a provider's options that is secret: the plugin's secret options (and the
// secrets of the flows: client_secret, password, cloudkit_api_token). `config` minus these is
// what accounts.json keeps; these go to the token store only.
nlohmann::json SecretOptions(const provider::PluginInfo* plugin, const nlohmann::json& config);
nlohmann::json WithoutSecretOptions(const provider::PluginInfo* plugin,
                                    const nlohmann::json& config);

// Sets options for `provider` on this device, for a provider with or without an account:
// `config` (already checked against the plugin's table) is merged over what was set before,
// the plain part into accounts.json, the secret part into the token store.
Status SaveProviderOptions(const std::string& home, const provider::PluginInfo& plugin,
                           const nlohmann::json& config, PassphraseSource passphrase,
                           const std::string& store_backend = "");

struct OAuthLinkOptions {
  bool device_flow = false;
  BrowserFlowOptions browser;
  DeviceFlowOptions device;
  PassphraseSource passphrase;  // for the file store's key, when it has none cached
  std::string store_backend;    // "": JSYNC_TOKEN_STORE / auto
};

// Runs the flow and stores the result. `user_config` minus its secrets becomes the
// configuration the provider plugin is opened with.
Result<Account> LinkOAuthAccount(const std::string& home, const std::string& provider,
                                 const OAuthConfig& config, const nlohmann::json& user_config,
                                 const OAuthLinkOptions& options);

// iCloud (CloudKit Web Services): runs the web-auth-token flow (auth/cloudkit_flow.h) with
// options.browser and stores {kind "cloudkit", web_auth_token, api_token}; the account's auth
// JSON keeps cloudkit_api_base and cloudkit_callback_port. options.device_flow is refused.
Result<Account> LinkCloudKitAccount(const std::string& home, const std::string& provider,
                                    const OAuthConfig& config, const nlohmann::json& user_config,
                                    const OAuthLinkOptions& options);

// `config`: the provider's options (plain ones only: secret ones go through
// SaveProviderOptions); the options set before are kept.
Status LinkBasicAccount(const std::string& home, const std::string& provider,
                        const std::string& user, const std::string& password,
                        PassphraseSource passphrase, const std::string& store_backend = "",
                        const nlohmann::json& config = nlohmann::json::object());

struct UnlinkReport {
  bool was_linked = false;
  bool revoked = false;       // the server confirmed the revocation
  std::string revoke_problem; // why it could not (the link is forgotten locally anyway)
};
// Revokes (best effort), then forgets the secret and the account whatever the revocation did.
Result<UnlinkReport> UnlinkAccount(const std::string& home, const std::string& provider,
                                   PassphraseSource passphrase);

// The credentials a provider is opened with: nullptr when no account is linked for it.
Result<std::shared_ptr<provider::CredentialSource>> LoadCredentials(const std::string& home,
                                                                   const std::string& provider);
// What a journal opens its provider with: the credentials (nullptr when no account is linked)
// and the plugin's configuration JSON ("{}" when nothing was linked), from one account read.
// The host's AccountLookup (host/open_provider.h): the CLI wires it into the storage opener.
Result<provider::AccountForStorage> LinkedAccountFor(const std::string& home,
                                                     const std::string& provider);

// A PassphraseSource reading JSYNC_PASSPHRASE (null when it is unset): what unattended runs
// have to unlock the file store if its cached key is gone.
PassphraseSource PassphraseFromEnvironment();

}  // namespace jsync::auth

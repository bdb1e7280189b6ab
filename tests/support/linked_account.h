// Test-only (never compiled into a plugin): links an emulator's account (the plugin's name:
// gdrive, onedrive) into a temporary jsync home the way `jsync link NAME --device-code` does,
// through the real OAuth code of auth/: the plugin's auth descriptor, overridden to the emulator's
// endpoints (ResolveOAuthConfig), the device authorization grant (LinkOAuthAccount), tokens in the
// "file" secret store under a fixed test passphrase; then opens the account's credentials as the
// host does (LoadCredentials): an auth::OAuthCredentialSource that refreshes proactively and once
// after a 401, storing every refreshed token before using it.
//
// The emulator must run with --auto-approve (GdriveEmulatorOptions' default) and
// `--device-interval 0`, so the flow's two polls (pending, then approved) do not wait.
// Used by tests/conformance/gdrive_conformance_main.cc and tests/integration/gdrive_*.
// Header-only; needs jsync_auth.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "auth/credential_store.h"
#include "auth/oauth_credentials.h"
#include "auth/secret_store.h"
#include "host/plugin_loader.h"
#include "providers/sdk/jsync_provider.h"

namespace jsync::gdrive_testing {

// The only OAuth client the emulator accepts by default.
inline constexpr const char* kEmulatorClientId = "jsync-test-client";
// Unlocks the test home's file store (its derived key is cached there after the link).
inline constexpr const char* kTestPassphrase = "gdrive plugin test passphrase";

// Links the plugin's account in `home` against the emulator at `emulator_base` (which serves
// the API and the identity endpoints) and returns the account's credentials (the same object
// the host would open the provider with). `extra` adds options to the link's configuration.
inline Result<std::shared_ptr<auth::OAuthCredentialSource>> LinkEmulatorAccount(
    const provider::PluginInfo& plugin, const std::string& emulator_base, const std::string& home,
    const nlohmann::json& extra = nlohmann::json::object()) {
  const std::string name = plugin.name;
  const auth::AuthDescriptor descriptor = auth::AuthDescriptorOf(plugin);
  nlohmann::json user_config = {
      {"api_base", emulator_base}, {"auth_base", emulator_base}, {"client_id", kEmulatorClientId}};
  for (const auto& [k, v] : extra.items()) user_config[k] = v;
  JSYNC_ASSIGN_OR_RETURN(auto config, auth::ResolveOAuthConfig(name, descriptor, user_config, ""));
  auth::OAuthLinkOptions options;
  options.device_flow = true;
  options.device.show = [](const auth::DevicePrompt&) {};  // --auto-approve: no one to tell
  options.passphrase = []() -> Result<std::string> { return std::string(kTestPassphrase); };
  options.store_backend = "file";
  JSYNC_ASSIGN_OR_RETURN(auto account,
                         auth::LinkOAuthAccount(home, name, config, user_config, options));
  if (account.store != "file" || account.kind != "oauth2")
    return Status::Fatal("linked " + name + " as " + account.kind + " in the " + account.store +
                         " store, not oauth2 in the file store");
  JSYNC_ASSIGN_OR_RETURN(auto loaded, auth::LoadCredentials(home, name));
  auto oauth = std::dynamic_pointer_cast<auth::OAuthCredentialSource>(loaded);
  if (oauth == nullptr)
    return Status::Fatal("the linked " + name + " account has no OAuth credentials");
  return oauth;
}

// The tokens stored for `provider` in `home` (after the link, and after every refresh).
inline Result<auth::OAuthSecret> StoredSecret(const std::string& home,
                                              const std::string& provider = "gdrive") {
  auto store = auth::OpenFileSecretStore(
      home, []() -> Result<std::string> { return std::string(kTestPassphrase); });
  JSYNC_ASSIGN_OR_RETURN(auto text, store->Get(provider));
  if (!text) return Status::NotFound("no " + provider + " secret in " + home);
  return auth::OAuthSecret::Parse(*text);
}

}  // namespace jsync::gdrive_testing

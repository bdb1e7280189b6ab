// Opens a journal's provider by name: the built-in folder provider or a loaded plugin, wrapped
// in the host's retry, pacing and quota policy.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/provider/provider.h"
#include "core/provider/storage_opener.h"
#include "host/host_policy.h"
#include "host/http_client.h"
#include "host/plugin_loader.h"

namespace jsync::provider {

struct OpenOptions {
  bool create_location = false;    // JSYNC_OPEN_CREATE: only `jsync init` asks for it
  std::string config_json = "{}";  // the options; the table's defaults are filled in
  std::shared_ptr<CredentialSource> credentials;  // null: none (or from the environment)
  // Downloads of one batch at once (host/transfer_pool.h); 0: the plugin's max_concurrency,
  // else kDefaultTransfers, or JSYNC_TRANSFERS from the environment when set. 1: one at a time.
  int transfers = 0;
  // Told of long waits the service asked for (PolicyEnv::on_wait), so a person sees why a sync
  // pauses; null: silent.
  std::function<void(const std::string&)> on_wait;
};

Result<std::unique_ptr<Provider>> OpenProvider(const std::string& name, const std::string& location,
                                               const OpenOptions& options = {});
// OpenProvider, also returning the location in canonical form (what a journal stores).
Result<OpenedStorage> OpenStorage(const std::string& name, const std::string& location,
                                  const OpenOptions& options = {});
// The same for a plugin already found (FindPlugin), with the policy's clock injected: the
// plugin's default location when `location` is empty, its canonical form, its options with
// their defaults, its pacer hint applied by the PolicyProvider around it.
Result<OpenedStorage> OpenPlugin(PluginInfo plugin, const std::string& location,
                                 const OpenOptions& options, PolicyEnv env);
// The pacer the host keeps for a plugin: its declared hint (ABI 3), else none.
PacerPolicy PacerPolicyOf(const PluginInfo& plugin);
// "the webdav provider needs --location (the URL of a WebDAV collection)".
std::string NeedsLocation(const PluginInfo& plugin);

// What the host needs of a linked account to open a provider: its options and credentials.
struct AccountForStorage {
  std::string config_json = "{}";
  std::shared_ptr<CredentialSource> credentials;  // null: none (or from the environment)
};
using AccountLookup =
    std::function<Result<AccountForStorage>(const std::string& home, const std::string& provider)>;
// The opener an embedder hands Journal: providers by name through this host, with accounts
// from `accounts` (null: no accounts, credentials from the environment only); long waits the
// service asks for go to `on_wait` (null: silent).
StorageOpener MakeStorageOpener(AccountLookup accounts = nullptr,
                                std::function<void(const std::string&)> on_wait = nullptr);

// Basic credentials for HTTP providers (WebDAV): JSYNC_<NAME>_USER / JSYNC_<NAME>_PASSWORD.
std::shared_ptr<CredentialSource> CredentialsFromEnvironment(const std::string& provider_name);
// "JSYNC_<NAME>_<WHAT>": the provider's name upper-cased, other than letters and digits '_'.
std::string CredentialVariable(const std::string& provider_name, const std::string& what);
std::shared_ptr<CredentialSource> BasicCredentials(const std::string& user,
                                                   const std::string& password);

}  // namespace jsync::provider

#include "host/open_provider.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "host/plugin_options.h"
#include "host/plugin_provider.h"
#include "host/transfer_pool.h"

namespace jsync::provider {
namespace {

class BasicCredentialSource final : public CredentialSource {
 public:
  BasicCredentialSource(const std::string& user, const std::string& password) {
    const std::string plain = user + ":" + password;
    std::string b64(4 * ((plain.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                            reinterpret_cast<const unsigned char*>(plain.data()),
                            static_cast<int>(plain.size()));
    b64.resize(static_cast<size_t>(n));
    header_ = "Basic " + b64;
  }
  Result<std::string> Authorization() override { return header_; }
  Status Refresh() override {
    return Status(Code::kAuthExpired, "the user name or password was refused");
  }

 private:
  std::string header_;
};

// K for one location: the caller's choice, else JSYNC_TRANSFERS, else what the plugin declares,
// else the default; never more than the plugin allows.
int TransfersFor(const PluginInfo& plugin, int asked) {
  int k = asked;
  if (k <= 0) {
    if (const char* env = std::getenv("JSYNC_TRANSFERS"); env != nullptr && *env != '\0') {
      k = std::atoi(env);
    }
  }
  if (k <= 0)
    k = plugin.max_concurrency > 0 ? static_cast<int>(plugin.max_concurrency) : kDefaultTransfers;
  if (plugin.max_concurrency > 0) k = std::min(k, static_cast<int>(plugin.max_concurrency));
  return std::clamp(k, 1, 64);
}

}  // namespace

std::shared_ptr<CredentialSource> BasicCredentials(const std::string& user,
                                                   const std::string& password) {
  return std::make_shared<BasicCredentialSource>(user, password);
}

std::string CredentialVariable(const std::string& provider_name, const std::string& what) {
  std::string name = "JSYNC_";
  for (unsigned char c : provider_name) {
    name.push_back(std::isalnum(c) ? static_cast<char>(std::toupper(c)) : '_');
  }
  return name + "_" + what;
}

std::shared_ptr<CredentialSource> CredentialsFromEnvironment(const std::string& provider_name) {
  const char* user = std::getenv(CredentialVariable(provider_name, "USER").c_str());
  const char* pass = std::getenv(CredentialVariable(provider_name, "PASSWORD").c_str());
  if (user == nullptr || pass == nullptr) return nullptr;
  return BasicCredentials(user, pass);
}

Result<std::unique_ptr<Provider>> OpenProvider(const std::string& name, const std::string& location,
                                               const OpenOptions& options) {
  JSYNC_ASSIGN_OR_RETURN(OpenedStorage opened, OpenStorage(name, location, options));
  return std::move(opened.provider);
}

StorageOpener MakeStorageOpener(AccountLookup accounts,
                                std::function<void(const std::string&)> on_wait) {
  return [accounts = std::move(accounts),
          on_wait = std::move(on_wait)](const StorageSpec& spec) -> Result<OpenedStorage> {
    AccountForStorage account;
    if (accounts) {
      JSYNC_ASSIGN_OR_RETURN(account, accounts(spec.home, spec.provider));
    }
    OpenOptions options;
    options.create_location = spec.create;
    options.config_json = account.config_json;
    options.credentials = account.credentials;
    options.on_wait = on_wait;
    return OpenStorage(spec.provider, spec.location, options);
  };
}

Result<OpenedStorage> OpenStorage(const std::string& name, const std::string& location,
                                  const OpenOptions& options) {
  JSYNC_ASSIGN_OR_RETURN(PluginInfo chosen, FindPlugin(name));
  return OpenPlugin(std::move(chosen), location, options, PolicyEnv::Real(options.on_wait));
}

PacerPolicy PacerPolicyOf(const PluginInfo& plugin) {
  PacerPolicy pacer;
  pacer.min_interval_ms = plugin.pacer_min_interval_ms;
  pacer.burst = std::max(1, plugin.pacer_burst);
  return pacer;
}

std::string NeedsLocation(const PluginInfo& plugin) {
  return "the " + plugin.name + " provider needs --location" +
         (plugin.location.help.empty() ? "" : " (" + plugin.location.help + ")");
}

Result<OpenedStorage> OpenPlugin(PluginInfo chosen, const std::string& location,
                                 const OpenOptions& options, PolicyEnv env) {
  const std::string name = chosen.name;
  const std::string where = location.empty() ? chosen.location.default_location : location;
  if (where.empty()) return Status::Invalid(NeedsLocation(chosen));
  auto credentials = options.credentials ? options.credentials : CredentialsFromEnvironment(name);
  if (!credentials && chosen.capabilities.oauth) {
    const std::string why =
        "the " + name + " provider needs a linked account: run `jsync link " + name + "` first";
    // `init` stops here; an existing journal still opens so that local edits go on, and only
    // the calls that need the network fail.
    if (options.create_location) return Status::Invalid(why);
    credentials = std::make_shared<FailingCredentials>(Status(Code::kAuthExpired, why));
  }
  JSYNC_ASSIGN_OR_RETURN(std::string config, ConfigForOpen(chosen, options.config_json));
  // Every instance of this location shares one pacer (the plugin's hint), so parallel
  // transfers keep its rate together.
  auto pacer = std::make_shared<Pacer>(PacerPolicyOf(chosen));
  const PluginInfo plugin_info = chosen;
  JSYNC_ASSIGN_OR_RETURN(auto plugin, PluginProvider::Open(std::move(chosen), where, config,
                                                           credentials, options.create_location));
  const std::string canonical = plugin->location();
  auto with_policy = [pacer, env, name](std::unique_ptr<PluginProvider> instance) {
    auto policy = std::make_unique<PolicyProvider>(std::move(instance), RetryPolicy{}, pacer,
                                                   QuotaPolicy{}, env);
    policy->set_service_name(name);
    return std::unique_ptr<Provider>(std::move(policy));
  };
  // More instances of the same (now existing, canonical) place, for the transfer pool.
  auto open_instance = [plugin_info, canonical, config, credentials,
                        with_policy]() -> Result<std::unique_ptr<Provider>> {
    JSYNC_ASSIGN_OR_RETURN(
        auto more, PluginProvider::Open(plugin_info, canonical, config, credentials, false));
    return with_policy(std::move(more));
  };
  OpenedStorage opened;
  opened.location = canonical;
  opened.provider = std::make_unique<TransferPool>(with_policy(std::move(plugin)), open_instance,
                                                   TransfersFor(plugin_info, options.transfers));
  return opened;
}

}  // namespace jsync::provider

#include "host/open_provider.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "host/plugin_options.h"
#include "host/plugin_provider.h"

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

StorageOpener MakeStorageOpener(AccountLookup accounts) {
  return [accounts = std::move(accounts)](const StorageSpec& spec) -> Result<OpenedStorage> {
    AccountForStorage account;
    if (accounts) {
      JSYNC_ASSIGN_OR_RETURN(account, accounts(spec.home, spec.provider));
    }
    return OpenStorage(spec.provider, spec.location,
                       {spec.create, account.config_json, account.credentials});
  };
}

Result<OpenedStorage> OpenStorage(const std::string& name, const std::string& location,
                                  const OpenOptions& options) {
  JSYNC_ASSIGN_OR_RETURN(PluginInfo chosen, FindPlugin(name));
  return OpenPlugin(std::move(chosen), location, options, PolicyEnv::Real());
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
    const std::string why = "the " + name + " provider needs a linked account: run `jsync link " +
                            name + "` first";
    // `init` stops here; an existing journal still opens so that local edits go on, and only
    // the calls that need the network fail.
    if (options.create_location) return Status::Invalid(why);
    credentials = std::make_shared<FailingCredentials>(Status(Code::kAuthExpired, why));
  }
  JSYNC_ASSIGN_OR_RETURN(std::string config, ConfigForOpen(chosen, options.config_json));
  const PacerPolicy pacer = PacerPolicyOf(chosen);
  JSYNC_ASSIGN_OR_RETURN(auto plugin, PluginProvider::Open(std::move(chosen), where, config,
                                                           credentials, options.create_location));
  OpenedStorage opened;
  opened.location = plugin->location();
  opened.provider = std::make_unique<PolicyProvider>(std::move(plugin), RetryPolicy{}, pacer,
                                                     QuotaPolicy{}, std::move(env));
  return opened;
}

}  // namespace jsync::provider

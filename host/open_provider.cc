#include "host/open_provider.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "host/host_policy.h"
#include "host/plugin_loader.h"
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

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// K for one location: the caller's choice, else JSYNC_TRANSFERS, else what the plugin declares,
// else the default; never more than the plugin allows.
int TransfersFor(const PluginInfo& plugin, int asked) {
  int k = asked;
  if (k <= 0) {
    if (const char* env = std::getenv("JSYNC_TRANSFERS"); env != nullptr && *env != '\0') {
      k = std::atoi(env);
    }
  }
  if (k <= 0) k = plugin.max_concurrency > 0 ? static_cast<int>(plugin.max_concurrency)
                                             : kDefaultTransfers;
  if (plugin.max_concurrency > 0) k = std::min(k, static_cast<int>(plugin.max_concurrency));
  return std::clamp(k, 1, 64);
}

}  // namespace

std::shared_ptr<CredentialSource> BasicCredentials(const std::string& user,
                                                   const std::string& password) {
  return std::make_shared<BasicCredentialSource>(user, password);
}

std::shared_ptr<CredentialSource> CredentialsFromEnvironment(const std::string& provider_name) {
  const std::string prefix = "JSYNC_" + Upper(provider_name) + "_";
  const char* user = std::getenv((prefix + "USER").c_str());
  const char* pass = std::getenv((prefix + "PASSWORD").c_str());
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
  if (name == "folder" && options.create_location && !location.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(location, ec);
    if (ec) return Status::Fatal("cannot create " + location + ": " + ec.message());
  }
  // The built-in provider always wins over a plugin of the same name, so opening it needs no
  // scan: most commands of a folder journal then load no shared library at all.
  PluginInfo chosen = BuiltinFolderPlugin();
  if (name != chosen.name) {
    LoadReport plugins = LoadAllPlugins();
    auto it = std::find_if(plugins.loaded.begin(), plugins.loaded.end(),
                           [&](const PluginInfo& p) { return p.name == name; });
    if (it == plugins.loaded.end()) {
      std::string names;
      for (const auto& p : plugins.loaded) names += (names.empty() ? "" : ", ") + p.name;
      std::string msg = "unknown provider '" + name + "' (available: " + names + ")";
      for (const auto& r : plugins.refused) msg += "; " + r;
      return Status::Invalid(msg);
    }
    chosen = *it;
  }
  // App-folder providers (OAuth) hold only this app's files: a default namespace will do.
  std::string where_in = location;
  if (where_in.empty() && chosen.capabilities.oauth) where_in = "journal";
  if (where_in.empty()) return Status::Invalid("the " + name + " provider needs --location");
  auto credentials = options.credentials ? options.credentials : CredentialsFromEnvironment(name);
  if (!credentials && chosen.capabilities.oauth) {
    const std::string why = "the " + name + " provider needs a linked account: run `jsync link " +
                            name + "` first";
    // `init` stops here; an existing journal still opens so that local edits go on, and only
    // the calls that need the network fail.
    if (options.create_location) return Status::Invalid(why);
    credentials = std::make_shared<FailingCredentials>(Status(Code::kAuthExpired, why));
  }
  const std::string where =
      name == "folder" ? std::filesystem::absolute(where_in).lexically_normal().string() : where_in;
  // Every instance of this location shares one pacer, so parallel transfers keep its rate.
  auto pacer = std::make_shared<Pacer>(PacerPolicy{});
  auto open_instance = [chosen, where, config = options.config_json, credentials,
                        pacer]() -> Result<std::unique_ptr<Provider>> {
    JSYNC_ASSIGN_OR_RETURN(auto plugin, PluginProvider::Open(chosen, where, config, credentials));
    return std::unique_ptr<Provider>(std::make_unique<PolicyProvider>(
        std::move(plugin), RetryPolicy{}, pacer, QuotaPolicy{}, PolicyEnv::Real()));
  };
  JSYNC_ASSIGN_OR_RETURN(auto first, open_instance());
  OpenedStorage opened;
  opened.location = where;
  opened.provider = std::make_unique<TransferPool>(std::move(first), open_instance,
                                                   TransfersFor(chosen, options.transfers));
  return opened;
}

}  // namespace jsync::provider

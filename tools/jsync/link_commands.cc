// jsync link / unlink / accounts: linking cloud accounts to this device.
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "auth/credential_store.h"
#include "host/open_provider.h"
#include "host/plugin_loader.h"
#include "host/plugin_options.h"
#include "tools/jsync/commands.h"
#include "tools/jsync/passphrase.h"

namespace jsync::cli {
namespace {

int FailStatus(const Status& s) {
  return Fail(s.message(), s.code() == Code::kInvalid ? kExitUsage : kExitError);
}

// The passphrase is asked only when the token file has no cached key yet.
auth::PassphraseSource PassphraseFrom(const std::string& file) {
  return [file]() { return ReadPassphrase(file); };
}

Result<nlohmann::json> ReadConfig(const std::string& path) {
  if (path.empty()) return nlohmann::json::object();
  std::ifstream in(path);
  if (!in) return Status::Invalid("cannot read --config file " + path);
  auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (!j.is_object()) return Status::Invalid(path + " is not a JSON object");
  return j;
}

// --config and --option together: the options (checked against the plugin's table) over the
// file. The file may also carry the auth layer's endpoints (auth_base, token_url, ...).
Result<nlohmann::json> LinkConfig(const provider::PluginInfo& plugin, const LinkArgs& args) {
  JSYNC_ASSIGN_OR_RETURN(auto config, ReadConfig(args.config_file));
  JSYNC_ASSIGN_OR_RETURN(auto values, provider::ParseOptionArgs(args.options));
  JSYNC_RETURN_IF_ERROR(provider::CheckOptionNames(plugin, values));
  for (const auto& [k, v] : values) config[k] = v;
  return config;
}

// The options the provider will be opened with after this link, to check the required ones
// before any sign-in: what was set before, and this link's.
Status CheckRequired(const std::string& home, const provider::PluginInfo& plugin,
                     const nlohmann::json& config) {
  nlohmann::json all = nlohmann::json::object();
  JSYNC_ASSIGN_OR_RETURN(auto old, auth::FindAccount(home, plugin.name));
  if (old) {
    all = old->config;
    for (const auto& n : old->secret_options) all[n] = "";
  }
  for (const auto& [k, v] : config.items()) all[k] = v;
  return provider::CheckRequiredOptions(plugin, all.dump());
}

// The plugin's secret options of `config`, into the token store (the rest went with the link).
Status SaveSecretOptions(const std::string& home, const provider::PluginInfo& plugin,
                         const nlohmann::json& config, const LinkArgs& args) {
  const nlohmann::json secret = auth::SecretOptions(&plugin, config);
  if (secret.empty()) return Status::Ok();
  return auth::SaveProviderOptions(home, plugin, secret, PassphraseFrom(args.passphrase_file));
}

std::string Names(const nlohmann::json& config) {
  std::string names;
  for (const auto& [k, v] : config.items()) names += (names.empty() ? "" : ", ") + k;
  return names;
}

// A provider without an account (its table has no auth descriptor): only options to keep.
int LinkOptionsOnly(const std::string& home, const provider::PluginInfo& plugin,
                    const nlohmann::json& config, const LinkArgs& args) {
  if (config.empty()) {
    return Fail("the " + plugin.name + " provider needs no account" +
                    (plugin.options.empty() ? std::string(" and takes no options")
                                            : "; set its options with --option KEY=VALUE (" +
                                                  provider::OptionNames(plugin) + ")"),
                kExitUsage);
  }
  Status s = auth::SaveProviderOptions(home, plugin, config, PassphraseFrom(args.passphrase_file));
  if (!s.ok()) return FailStatus(s);
  std::fprintf(stderr, "set the %s options %s\n", plugin.name.c_str(), Names(config).c_str());
  return kExitOk;
}

int LinkBasic(const std::string& home, const provider::PluginInfo& plugin,
              const nlohmann::json& config, const LinkArgs& args) {
  const std::string& name = plugin.name;
  const std::string user_var = provider::CredentialVariable(name, "USER");
  const std::string password_var = provider::CredentialVariable(name, "PASSWORD");
  std::string user = args.user;
  if (const char* env = std::getenv(user_var.c_str()); user.empty() && env) user = env;
  if (user.empty()) return Fail("link " + name + " needs --user (or " + user_var + ")", kExitUsage);
  std::string password;
  if (!args.password_file.empty()) {
    std::ifstream in(args.password_file);
    if (!in) return Fail("cannot read password file " + args.password_file);
    std::getline(in, password);
  } else if (const char* env = std::getenv(password_var.c_str()); env && *env) {
    password = env;
  } else {
    return Fail("link " + name + " needs --password-file F (or " + password_var + ")",
                kExitUsage);
  }
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r'))
    password.pop_back();
  Status s = auth::LinkBasicAccount(home, name, user, password,
                                    PassphraseFrom(args.passphrase_file), "",
                                    auth::WithoutSecretOptions(&plugin, config));
  if (s.ok()) s = SaveSecretOptions(home, plugin, config, args);
  if (!s.ok()) return FailStatus(s);
  std::fprintf(stderr, "linked %s as %s\n", name.c_str(), user.c_str());
  return kExitOk;
}

std::string Iso8601(int64_t unix_seconds) {
  if (unix_seconds <= 0) return "";
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

int RunLink(const std::string& home, const LinkArgs& args) {
  auto plugin = provider::FindPlugin(args.provider);
  if (!plugin.ok()) return FailStatus(plugin.status());
  auto config = LinkConfig(*plugin, args);
  if (!config.ok()) return FailStatus(config.status());
  const auth::AuthDescriptor descriptor = auth::AuthDescriptorOf(*plugin);
  // No descriptor (or "none"): the provider needs no account (jsync_provider.auth NULL).
  const std::string kind = descriptor.kind.empty() ? "none" : descriptor.kind;
  if (kind != "none" || !config->empty()) {
    if (Status s = CheckRequired(home, *plugin, *config); !s.ok()) return FailStatus(s);
  }
  if (kind == "none") return LinkOptionsOnly(home, *plugin, *config, args);
  if (kind == "basic") return LinkBasic(home, *plugin, *config, args);
  if (kind != "oauth2" && kind != "cloudkit")
    return Fail("linking " + args.provider + " (" + kind + ") is not supported by this jsync",
                kExitUsage);
  auto oauth = auth::ResolveOAuthConfig(args.provider, descriptor, *config, args.client_id);
  if (!oauth.ok()) return FailStatus(oauth.status());
  auth::OAuthLinkOptions options;
  options.device_flow = args.device_code;
  options.passphrase = PassphraseFrom(args.passphrase_file);
  if (args.no_browser) {
    options.browser.open_url = [](const std::string& url) {
      std::fprintf(stderr, "Open this address in a browser on this machine:\n  %s\n", url.c_str());
    };
  }
  const nlohmann::json plain = auth::WithoutSecretOptions(&*plugin, *config);
  if (kind == "cloudkit") {
    auto account = auth::LinkCloudKitAccount(home, args.provider, *oauth, plain, options);
    if (!account.ok()) return FailStatus(account.status());
    if (Status s = SaveSecretOptions(home, *plugin, *config, args); !s.ok()) return FailStatus(s);
    std::fprintf(stderr, "linked %s (CloudKit web auth token in the %s store)\n",
                 args.provider.c_str(), account->store.c_str());
    return kExitOk;
  }
  auto account = auth::LinkOAuthAccount(home, args.provider, *oauth, plain, options);
  if (!account.ok()) return FailStatus(account.status());
  if (Status s = SaveSecretOptions(home, *plugin, *config, args); !s.ok()) return FailStatus(s);
  std::fprintf(stderr, "linked %s (scopes: %s; tokens in the %s store)\n", args.provider.c_str(),
               account->scopes.c_str(), account->store.c_str());
  return kExitOk;
}

int RunUnlink(const std::string& home, const std::string& provider,
              const std::string& passphrase_file) {
  auto report = auth::UnlinkAccount(home, provider, PassphraseFrom(passphrase_file));
  if (!report.ok()) return FailStatus(report.status());
  if (!report->was_linked) {
    std::fprintf(stderr, "%s was not linked on this device\n", provider.c_str());
    return kExitOk;
  }
  if (!report->revoke_problem.empty())
    std::fprintf(stderr, "jsync: warning: the tokens were not revoked at the provider (%s)\n",
                 report->revoke_problem.c_str());
  std::fprintf(stderr, "unlinked %s%s\n", provider.c_str(),
               report->revoked ? " (tokens revoked)" : "");
  return kExitOk;
}

int RunAccounts(const std::string& home, bool json) {
  auto accounts = auth::ListAccounts(home);
  if (!accounts.ok()) return FailStatus(accounts.status());
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& a : *accounts) {
      nlohmann::json j{{"provider", a.provider},
                       {"kind", a.kind},
                       {"store", a.store},
                       {"linked_at", Iso8601(a.linked_at)},
                       {"status", a.needs_relink ? "relink-needed" : "linked"}};
      if (!a.user.empty()) j["user"] = a.user;
      if (a.kind == "oauth2") {
        j["scopes"] = a.scopes;
        j["access_expires_at"] = Iso8601(a.expires_at);
        j["refresh_expires_at"] = a.refresh_expires_at ? Iso8601(a.refresh_expires_at) : "";
        j["client_id"] = a.auth.value("client_id", "");
        j["token_url"] = a.auth.value("token_url", "");
      }
      if (a.needs_relink) j["problem"] = a.problem;
      out.push_back(j);
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  if (accounts->empty()) std::cout << "no accounts linked\n";
  for (const auto& a : *accounts) {
    if (a.kind == "none") {
      std::cout << a.provider << "  options only (no account)\n";
      continue;
    }
    std::cout << a.provider << "  " << a.kind << "  "
              << (a.needs_relink ? "RE-LINK NEEDED" : "linked");
    if (!a.user.empty()) std::cout << "  user " << a.user;
    if (a.kind == "oauth2")
      std::cout << "  scopes " << a.scopes << "  access token expires " << Iso8601(a.expires_at);
    std::cout << "  (" << a.store << " store)\n";
    if (a.needs_relink) std::cout << "  " << a.problem << "\n";
  }
  return kExitOk;
}

}  // namespace jsync::cli

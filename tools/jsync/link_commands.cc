// jsync link / unlink / accounts: linking cloud accounts to this device.
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "auth/credential_store.h"
#include "host/plugin_loader.h"
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

// The auth descriptor of the provider's plugin; kind "" when the plugin says nothing.
Result<auth::AuthDescriptor> DescriptorOf(const std::string& provider) {
  if (provider == "folder") return Status::Invalid("the folder provider needs no account");
  provider::LoadReport report = provider::LoadAllPlugins();
  for (const auto& p : report.loaded) {
    if (p.name != provider || p.table == nullptr) continue;
    auth::AuthDescriptor d;
    if (const jsync_auth_descriptor* a = p.table->auth) {
      auto str = [](const char* s) { return std::string(s ? s : ""); };
      d = {str(a->kind), str(a->authorize_url), str(a->token_url), str(a->device_code_url),
           str(a->revoke_url), str(a->scopes)};
    }
    return d;
  }
  // No plugin by that name: a well-known identity provider still links (only iCloud, whose
  // CloudKit web token can be had before its plugin exists).
  if (provider == "icloud" && auth::WellKnownConfig(provider).ok()) {
    auth::AuthDescriptor d;
    d.kind = "cloudkit";
    return d;
  }
  std::string names;
  for (const auto& p : report.loaded) names += (names.empty() ? "" : ", ") + p.name;
  return Status::Invalid("unknown provider '" + provider + "' (available: " + names + ")");
}

int LinkBasic(const std::string& home, const LinkArgs& args) {
  if (args.user.empty()) return Fail("link " + args.provider + " needs --user", kExitUsage);
  std::string password;
  if (!args.password_file.empty()) {
    std::ifstream in(args.password_file);
    if (!in) return Fail("cannot read password file " + args.password_file);
    std::getline(in, password);
  } else if (const char* env = std::getenv("JSYNC_WEBDAV_PASSWORD"); env && *env) {
    password = env;
  } else {
    return Fail("link " + args.provider + " needs --password-file F (or JSYNC_WEBDAV_PASSWORD)",
                kExitUsage);
  }
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r'))
    password.pop_back();
  Status s = auth::LinkBasicAccount(home, args.provider, args.user, password,
                                    PassphraseFrom(args.passphrase_file));
  if (!s.ok()) return FailStatus(s);
  std::fprintf(stderr, "linked %s as %s\n", args.provider.c_str(), args.user.c_str());
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
  auto descriptor = DescriptorOf(args.provider);
  if (!descriptor.ok()) return FailStatus(descriptor.status());
  const std::string kind = descriptor->kind.empty() ? "basic" : descriptor->kind;
  if (kind == "basic") return LinkBasic(home, args);
  if (kind != "oauth2" && kind != "cloudkit")
    return Fail("linking " + args.provider + " (" + kind + ") is not supported by this jsync",
                kExitUsage);
  auto config = ReadConfig(args.config_file);
  if (!config.ok()) return FailStatus(config.status());
  auto oauth = auth::ResolveOAuthConfig(args.provider, *descriptor, *config, args.client_id);
  if (!oauth.ok()) return FailStatus(oauth.status());
  auth::OAuthLinkOptions options;
  options.device_flow = args.device_code;
  options.passphrase = PassphraseFrom(args.passphrase_file);
  if (args.no_browser) {
    options.browser.open_url = [](const std::string& url) {
      std::fprintf(stderr, "Open this address in a browser on this machine:\n  %s\n", url.c_str());
    };
  }
  if (kind == "cloudkit") {
    auto account = auth::LinkCloudKitAccount(home, args.provider, *oauth, *config, options);
    if (!account.ok()) return FailStatus(account.status());
    std::fprintf(stderr, "linked %s (CloudKit web auth token in the %s store)\n",
                 args.provider.c_str(), account->store.c_str());
    return kExitOk;
  }
  auto account = auth::LinkOAuthAccount(home, args.provider, *oauth, *config, options);
  if (!account.ok()) return FailStatus(account.status());
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

// What this device knows about its linked accounts, without the secrets: which provider,
// how it is linked, its configuration, scopes, expiry and whether it must be linked again.
// <home>/accounts.json, mode 0600, written atomically. The secrets live in the SecretStore.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/util/status.h"

namespace jsync::auth {

struct Account {
  std::string provider;   // "gdrive", "webdav"
  std::string kind;       // "basic", "oauth2", "cloudkit"; "none": options only, no account
  std::string store;      // the SecretStore backend holding the secret
  std::string user;       // basic: the user name
  nlohmann::json auth = nlohmann::json::object();      // endpoints, client id, scopes
  nlohmann::json config = nlohmann::json::object();    // what the provider plugin is opened with
  std::string scopes;     // as granted
  int64_t linked_at = 0;
  int64_t expires_at = 0;          // access token
  int64_t refresh_expires_at = 0;  // 0: unknown
  bool needs_relink = false;
  std::string problem;  // why it needs a re-link (never a secret)
  // Names of the plugin's secret options set on this device: their values are in the token
  // store (entry "<provider>.options"), never here.
  std::vector<std::string> secret_options;
};

Result<std::vector<Account>> ListAccounts(const std::string& home);
Result<std::optional<Account>> FindAccount(const std::string& home, const std::string& provider);
Status SaveAccount(const std::string& home, const Account& account);
Status RemoveAccount(const std::string& home, const std::string& provider);

}  // namespace jsync::auth

// Where and how an account is linked: the endpoints, client and scopes of one identity
// provider. Built from the provider plugin's auth descriptor (auth/credential_store.h:
// ResolveOAuthConfig; auth knows no provider by name) and then overridden by the user's
// configuration, so tests and self-hosted identity servers can stand in.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/util/status.h"

namespace jsync::auth {

enum class AuthKind { kNone, kBasic, kOAuth2, kCloudKit };

struct OAuthConfig {
  AuthKind kind = AuthKind::kOAuth2;
  std::string authorize_url;
  std::string token_url;
  std::string device_code_url;
  std::string revoke_url;  // "": the provider has none; unlink only forgets
  std::string client_id;
  std::string client_secret;  // installed-app "secrets" are not secret (RFC 8252 §8.5)
  std::string scopes;         // space-separated
  // Extra authorization-request parameters (the descriptor's: access_type=offline, ...).
  std::vector<std::pair<std::string, std::string>> authorize_params;
  // Expected `iss` on the redirect (RFC 9207); "" skips the check unless the redirect has one.
  std::string issuer;
  // Host used in the loopback redirect URI: "127.0.0.1" (RFC 8252), or "localhost" for
  // identity providers whose app registrations ignore the port only for localhost.
  std::string redirect_host = "127.0.0.1";
  std::string redirect_path = "/callback";
  // CloudKit web-auth-token flow (kind kCloudKit): the API token and the fixed callback port.
  std::string cloudkit_api_base;  // https://api.apple-cloudkit.com/database/1/{container}/{env}
  std::string cloudkit_api_token;
  int cloudkit_callback_port = 0;
};

// Applies a user's JSON configuration: "auth_base" replaces the scheme and host of every
// endpoint (keeping the path); "authorize_url", "token_url", "device_code_url",
// "revoke_url", "client_id", "client_secret", "scopes", "issuer" and "redirect_host" replace
// single fields. (A tenant is an option the descriptor's endpoints name as a {tenant}
// placeholder.) kInvalid for a malformed URL or wrong type.
Status ApplyOverrides(const nlohmann::json& config, OAuthConfig* out);

// kInvalid naming what is missing for the chosen flow ("device" or "browser").
Status CheckUsable(const OAuthConfig& config, bool device_flow);

AuthKind ParseAuthKind(const std::string& kind);

}  // namespace jsync::auth

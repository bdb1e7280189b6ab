// The Microsoft identity platform v2.0 endpoints as the OneDrive emulator serves them, under
// /{tenant}/oauth2/v2.0/ (tenant: common, organizations, consumers, a GUID or a domain):
//   GET  authorize           authorization (code + PKCE S256, loopback redirect)
//   POST authorize/consent   the consent page's form (without --auto-approve)
//   POST token               authorization_code, refresh_token (rotating), device_code grants
//   POST devicecode          device authorization (Microsoft's field names)
// and GET|POST /devicelogin, the device verification page (enter user code, approve).
// A token answer's `scope` lists the Graph permissions in full form
// ("https://graph.microsoft.com/Files.ReadWrite") and openid/profile/email by name, without
// offline_access, as Microsoft's examples do; clients must not expect the request's spelling.
// Refresh tokens rotate strictly: each refresh answer carries a new one and the previous one is
// refused (invalid_grant, AADSTS70008) — stricter than Microsoft, which lets an old one live, so
// a client that keeps the old token fails here instead of 90 days later.
// Tokens are random opaque strings; only their SHA-256 is kept (in memory and in
// STATE/identity.json), and no token is ever logged. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/util/status.h"
#include "net/local_http_server.h"

namespace jsync::emulator::onedrive {

struct IdentityOptions {
  std::string client_id = "jsync-test-client";
  std::string client_secret;  // "" accepts any (or none)
  bool auto_approve = false;
  int64_t token_lifetime_s = 0;  // 0: random 3600..5399 like Microsoft
  int64_t device_code_lifetime_s = 900;
  int64_t device_interval_s = 5;
  std::string state_dir;
};

class IdentityServer {
 public:
  explicit IdentityServer(IdentityOptions options);
  Status Load();
  void set_base_url(std::string url);

  // The answer when `req` is for an identity route; nullopt otherwise.
  std::optional<net::LocalResponse> Handle(const net::LocalRequest& req);

  enum class Check { kOk, kUnknown, kExpired };
  // Looks up a bearer token; on kOk sets *scope: the granted scopes, space-separated, in their
  // canonical short names without the Graph prefix ("Files.ReadWrite.AppFolder offline_access").
  Check CheckAccessToken(const std::string& token, std::string* scope);
  // Makes a token expire now (the expire-token fault).
  void ExpireAccessToken(const std::string& token);

 private:
  struct Grant {
    std::string client_id;
    std::string scope;
    std::string refresh_hash;  // the one valid refresh token; rotation replaces it
  };
  struct Access {
    std::string grant_id;
    int64_t expires_ms = 0;
  };
  struct AuthCode {
    std::string client_id, redirect_uri, scope, challenge;
    int64_t expires_ms = 0;
    bool used = false;
  };
  struct DeviceCode {
    std::string client_id, scope, user_code;
    int64_t expires_ms = 0;
    int64_t last_poll_ms = 0;
    int polls = 0;
    enum class State { kPending, kApproved, kDenied, kDone } state = State::kPending;
  };
  struct PendingConsent {
    std::string redirect_uri, state, scope, challenge, client_id;
  };

  net::LocalResponse Authorize(const net::LocalRequest& req);
  net::LocalResponse Consent(const net::LocalRequest& req);
  net::LocalResponse Token(const net::LocalRequest& req);
  net::LocalResponse DeviceCodeRequest(const net::LocalRequest& req);
  net::LocalResponse DeviceLogin(const net::LocalRequest& req);

  // Under mu_: a new grant with tokens / new tokens for a grant; the JSON token response.
  net::LocalResponse IssueTokens(const std::string& client_id, const std::string& scope);
  net::LocalResponse IssueAccess(const std::string& grant_id);
  int64_t TokenLifetime();
  void Save();  // under mu_

  IdentityOptions options_;
  std::string base_url_;
  std::mutex mu_;
  std::map<std::string, Grant> grants_;             // grant id → grant
  std::map<std::string, Access> access_;            // sha256(access token) → access
  std::map<std::string, std::string> refresh_;      // sha256(refresh token) → grant id
  std::map<std::string, std::string> retired_;      // sha256(rotated-out refresh) → grant id
  std::map<std::string, AuthCode> codes_;           // sha256(code) → request
  std::map<std::string, DeviceCode> devices_;       // sha256(device code) → request
  std::map<std::string, PendingConsent> consents_;  // consent id → request
};

}  // namespace jsync::emulator::onedrive

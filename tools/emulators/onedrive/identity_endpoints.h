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
#include <mutex>
#include <optional>
#include <string>

#include "core/util/status.h"
#include "net/local_http_server.h"
#include "tools/emulators/common/oauth_grants.h"

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

  using Check = TokenCheck;
  // Looks up a bearer token; on kOk sets *scope: the granted scopes, space-separated, in their
  // canonical short names without the Graph prefix ("Files.ReadWrite.AppFolder offline_access").
  Check CheckAccessToken(const std::string& token, std::string* scope);
  // The expire-token fault: `token` stops being valid now.
  void ExpireAccessToken(const std::string& token);

 private:
  net::LocalResponse Authorize(const net::LocalRequest& req);
  net::LocalResponse Consent(const net::LocalRequest& req);
  net::LocalResponse Token(const net::LocalRequest& req);
  // The token endpoint's grants, once the client is known.
  net::LocalResponse CodeGrant(const net::LocalRequest& req, const std::string& client_id);
  net::LocalResponse RefreshGrant(const net::LocalRequest& req, const std::string& client_id);
  net::LocalResponse DeviceGrant(const net::LocalRequest& req, const std::string& client_id);
  net::LocalResponse DeviceCodeRequest(const net::LocalRequest& req);
  net::LocalResponse DeviceLogin(const net::LocalRequest& req);

  // A new code for `request`; the redirect that hands it to the client.
  net::LocalResponse RedirectWithCode(const AuthRequest& request);
  // A new grant with its tokens; the token response.
  net::LocalResponse IssueTokens(const std::string& client_id, const std::string& scope);
  struct Tokens {
    std::string access, refresh;  // refresh "" without offline_access
    int64_t now_ms = 0, lifetime_s = 0;
  };
  Tokens Mint(const std::string& scope);
  net::LocalResponse TokenAnswer(const OAuthGrants::Grant& grant, const Tokens& tokens);
  int64_t TokenLifetime();
  std::string BaseUrl();

  IdentityOptions options_;
  std::mutex base_url_mu_;
  std::string base_url_;
  OAuthGrants grants_;
};

}  // namespace jsync::emulator::onedrive

// Google's OAuth 2.0 endpoints as the emulator serves them:
//   GET  /o/oauth2/v2/auth           authorization (code + PKCE S256, loopback redirect)
//   POST /o/oauth2/v2/auth/approve   the consent page's form (without --auto-approve)
//   POST /token                      authorization_code, refresh_token, device_code grants
//   POST /device/code                device authorization (Google's field names)
//   GET|POST /device                 the device verification page (enter user code, approve)
//   POST /revoke                     revoke a grant by its access or refresh token
// Access and refresh tokens are random opaque strings; only their SHA-256 is kept (in memory
// and in STATE/oauth.json), and no token is ever logged. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/util/status.h"
#include "net/local_http_server.h"
#include "tools/emulators/common/oauth_grants.h"

namespace jsync::emulator::gdrive {

inline constexpr const char* kScopeAppData = "https://www.googleapis.com/auth/drive.appdata";
inline constexpr const char* kScopeFile = "https://www.googleapis.com/auth/drive.file";
inline constexpr const char* kScopeDrive = "https://www.googleapis.com/auth/drive";

struct OAuthOptions {
  std::string client_id = "jsync-test-client";
  std::string client_secret;  // "" accepts any (or none)
  bool auto_approve = false;
  int64_t token_lifetime_s = 3599;
  int64_t device_code_lifetime_s = 1800;
  int64_t device_interval_s = 5;
  std::string state_dir;
};

class OAuthServer {
 public:
  explicit OAuthServer(OAuthOptions options);
  Status Load();
  void set_base_url(std::string url) { base_url_ = std::move(url); }

  // The answer when `req` is for an OAuth route; nullopt otherwise.
  std::optional<net::LocalResponse> Handle(const net::LocalRequest& req);

  using Check = TokenCheck;
  // Looks up a bearer token; on kOk sets *scope (space-separated).
  Check CheckAccessToken(const std::string& token, std::string* scope);
  // Makes a token expire now (the expire-token fault).
  void ExpireAccessToken(const std::string& token);

 private:
  net::LocalResponse Authorize(const net::LocalRequest& req);
  net::LocalResponse Approve(const net::LocalRequest& req);
  net::LocalResponse Token(const net::LocalRequest& req);
  net::LocalResponse DeviceCodeRequest(const net::LocalRequest& req);
  net::LocalResponse DevicePage(const net::LocalRequest& req);
  net::LocalResponse Revoke(const net::LocalRequest& req);

  // A new code for `request`; the redirect that hands it to the client.
  net::LocalResponse RedirectWithCode(const AuthRequest& request);
  // A new grant with its tokens (Google's refresh tokens do not rotate); the token response.
  net::LocalResponse IssueTokens(const std::string& client_id, const std::string& scope);
  // The token response of an access token.
  net::LocalResponse AccessAnswer(const std::string& token, const std::string& scope,
                                  const std::string& refresh_token);

  OAuthOptions options_;
  std::string base_url_;
  OAuthGrants grants_;
};

}  // namespace jsync::emulator::gdrive

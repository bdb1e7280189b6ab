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
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "net/local_http_server.h"
#include "core/util/status.h"

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

  enum class Check { kOk, kUnknown, kExpired };
  // Looks up a bearer token; on kOk sets *scope (space-separated).
  Check CheckAccessToken(const std::string& token, std::string* scope);
  // Makes a token expire now (the expire-token fault).
  void ExpireAccessToken(const std::string& token);

 private:
  struct Grant {
    std::string client_id;
    std::string scope;
    std::string refresh_hash;
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
  net::LocalResponse Approve(const net::LocalRequest& req);
  net::LocalResponse Token(const net::LocalRequest& req);
  net::LocalResponse DeviceCodeRequest(const net::LocalRequest& req);
  net::LocalResponse DevicePage(const net::LocalRequest& req);
  net::LocalResponse Revoke(const net::LocalRequest& req);

  // Under mu_: a new grant with tokens; the JSON token response.
  net::LocalResponse IssueTokens(const std::string& client_id, const std::string& scope);
  net::LocalResponse IssueAccess(const std::string& grant_id, bool with_refresh,
                                 const std::string& refresh_token);
  void Save();  // under mu_

  OAuthOptions options_;
  std::string base_url_;
  std::mutex mu_;
  std::map<std::string, Grant> grants_;       // grant id → grant
  std::map<std::string, Access> access_;      // sha256(access token) → access
  std::map<std::string, std::string> refresh_;  // sha256(refresh token) → grant id
  std::map<std::string, AuthCode> codes_;     // code → request
  std::map<std::string, DeviceCode> devices_;  // device code → request
  std::map<std::string, PendingConsent> consents_;  // consent id → request
};

}  // namespace jsync::emulator::gdrive

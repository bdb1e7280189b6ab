// The OAuth 2.0 token and revocation endpoints (RFC 6749 §4-6, RFC 7009, RFC 8628 §3.4).
// Failures are classified by the JSON `error` field only, never by description text:
//   invalid_grant                              -> kAuthExpired ("re-link needed")
//   network, 5xx, 429, temporarily_unavailable,
//   server_error                               -> kRetryable (retry_after_ms when sent)
//   anything else                              -> kInvalid (configuration or user action)
// No message ever contains a token, code, verifier or secret.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "auth/oauth_config.h"
#include "host/http_client.h"

namespace jsync::auth {

struct TokenSet {
  std::string access_token;
  std::string refresh_token;  // "" when the server gave none
  std::string token_type = "Bearer";
  std::string scope;
  int64_t expires_at = 0;          // unix seconds: time the request was sent + expires_in
  int64_t refresh_expires_at = 0;  // 0: unknown (Google's refresh_token_expires_in)
};

// What the token endpoint answered with an error.
struct TokenError {
  int http_status = 0;
  std::string error;        // "invalid_grant", "authorization_pending", ...
  std::string description;  // error_description, for the user; never contains secrets
  int64_t retry_after_ms = -1;
};

using Form = std::vector<std::pair<std::string, std::string>>;

// One POST of a form to an OAuth endpoint; a JSON answer either way. `error` is filled when
// the server answered with an OAuth error object (any 4xx/5xx, or Google's 428 for pending).
struct EndpointAnswer {
  int http_status = 0;
  nlohmann::json body;
  TokenError error;
  bool is_error() const { return !error.error.empty() || http_status >= 400; }
};
Result<EndpointAnswer> PostForm(provider::HttpClient& http, const std::string& url, const Form& form);
// The reading half of PostForm: `text` is the answer's body, `retry_after` its Retry-After
// header, `url` only names the endpoint in messages.
EndpointAnswer ReadEndpointAnswer(int http_status, const std::string& text,
                                  const std::string& retry_after, const std::string& url);
// A lifetime in seconds (a JSON integer, or a string of digits): -1 when absent or unreadable,
// capped at 100 years so adding it to a clock cannot overflow.
int64_t ParseJsonSeconds(const nlohmann::json& v);

// Parses a successful token response; `sent_at` is when the request left (unix seconds).
Result<TokenSet> ParseTokenResponse(const nlohmann::json& body, int64_t sent_at);
// The Status a token-endpoint error maps to (see the table above). `what` says which call.
Status ClassifyTokenError(const TokenError& error, const std::string& what);

// The client authentication fields every token request carries (public client: client_id,
// plus the installed-app secret when the provider wants one).
Form ClientFields(const OAuthConfig& config);

Result<TokenSet> ExchangeCode(provider::HttpClient& http, const OAuthConfig& config,
                              const std::string& code, const std::string& redirect_uri,
                              const std::string& code_verifier, int64_t now);
// Keeps the old refresh token when the answer has none (RFC 6749 §6).
Result<TokenSet> RefreshTokens(provider::HttpClient& http, const OAuthConfig& config,
                               const std::string& refresh_token, int64_t now);
// RFC 7009. Ok also when the server says the token is already invalid (Google answers 400
// invalid_token for that); kRetryable / kInvalid otherwise.
Status RevokeToken(provider::HttpClient& http, const OAuthConfig& config, const std::string& token,
                   const std::string& type_hint);

int64_t NowUnixSeconds();

}  // namespace jsync::auth

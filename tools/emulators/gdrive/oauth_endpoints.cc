#include "tools/emulators/gdrive/oauth_endpoints.h"

#include <nlohmann/json.hpp>
#include <set>

#include "tools/emulators/common/oauth_pages.h"
#include "tools/emulators/common/oauth_rules.h"
#include "tools/emulators/gdrive/util.h"

namespace jsync::emulator::gdrive {
namespace {

using net::LocalRequest;
using net::LocalResponse;

const char* kUserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ";
const char* kDeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";
constexpr int64_t kCodeLifetimeMs = 600'000;

LocalResponse OAuthJson(int status, const nlohmann::json& body) {
  LocalResponse r = LocalResponse::Json(status, body.dump(2));
  r.headers.emplace_back("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate");
  r.headers.emplace_back("Pragma", "no-cache");
  return r;
}

LocalResponse OAuthError(int status, const std::string& error, const std::string& description) {
  return OAuthJson(status, {{"error", error}, {"error_description", description}});
}

LocalResponse Redirect(const std::string& location) { return RedirectTo(location, "no-store"); }

bool ScopesAllowed(const std::string& scope, const std::set<std::string>& allowed) {
  const auto scopes = SplitScopes(scope);
  if (scopes.empty()) return false;
  for (const auto& s : scopes)
    if (!allowed.count(s)) return false;
  return true;
}

const std::set<std::string>& WebScopes() {
  static const std::set<std::string> s = {kScopeAppData,
                                          kScopeFile,
                                          kScopeDrive,
                                          "openid",
                                          "email",
                                          "profile",
                                          "https://www.googleapis.com/auth/userinfo.email",
                                          "https://www.googleapis.com/auth/userinfo.profile"};
  return s;
}

// Google's device-flow allow-list (limited-input-device#allowedscopes).
const std::set<std::string>& DeviceScopes() {
  static const std::set<std::string> s = {kScopeAppData,
                                          kScopeFile,
                                          "openid",
                                          "email",
                                          "profile",
                                          "https://www.googleapis.com/auth/youtube",
                                          "https://www.googleapis.com/auth/youtube.readonly"};
  return s;
}

OAuthGrantsOptions GrantsOptions(const OAuthOptions& o) {
  return {o.state_dir + "/oauth.json", o.auto_approve, o.device_interval_s * 1000};
}

}  // namespace

OAuthServer::OAuthServer(OAuthOptions options)
    : options_(std::move(options)), grants_(GrantsOptions(options_)) {}

Status OAuthServer::Load() { return grants_.Load(); }

std::optional<LocalResponse> OAuthServer::Handle(const LocalRequest& req) {
  if (req.path == "/o/oauth2/v2/auth" || req.path == "/o/oauth2/auth") return Authorize(req);
  if (req.path == "/o/oauth2/v2/auth/approve") return Approve(req);
  if (req.path == "/token" || req.path == "/oauth2/v4/token") return Token(req);
  if (req.path == "/device/code") return DeviceCodeRequest(req);
  if (req.path == "/device") return DevicePage(req);
  if (req.path == "/revoke" || req.path == "/o/oauth2/revoke") return Revoke(req);
  return std::nullopt;
}

LocalResponse OAuthServer::Authorize(const LocalRequest& req) {
  if (req.method != "GET" && req.method != "POST")
    return LocalResponse::Text(405, "method not allowed");
  const std::string client_id = req.QueryParam("client_id");
  const std::string redirect_uri = req.QueryParam("redirect_uri");
  // RFC 6749 §4.1.2.1: a bad client or redirect URI is shown to the user, never redirected to.
  if (client_id != options_.client_id)
    return HtmlPage(401, "Error 401: invalid_client", "<p>The OAuth client was not found.</p>");
  if (!IsLoopbackRedirect(redirect_uri)) {
    return HtmlPage(400, "Error 400: redirect_uri_mismatch",
                    "<p>The redirect URI must be a loopback address (http://127.0.0.1:PORT, "
                    "http://[::1]:PORT): " +
                        HtmlEscape(redirect_uri) + "</p>");
  }
  const std::string state = req.QueryParam("state");
  auto fail = [&](const std::string& error, const std::string& description) {
    std::string q = "error=" + error + "&error_description=" + net::PercentEncode(description);
    if (!state.empty()) q += "&state=" + net::PercentEncode(state);
    return Redirect(WithQuery(redirect_uri, q));
  };
  if (req.QueryParam("response_type") != "code")
    return fail("unsupported_response_type", "response_type must be code");
  const std::string scope = req.QueryParam("scope");
  if (scope.empty()) return fail("invalid_request", "Missing required parameter: scope");
  if (!ScopesAllowed(scope, WebScopes()))
    return fail("invalid_scope", "Some requested scopes were invalid.");
  const std::string challenge = req.QueryParam("code_challenge");
  if (challenge.empty())
    return fail("invalid_request", "Missing required parameter: code_challenge");
  if (req.QueryParam("code_challenge_method") != "S256")
    return fail("invalid_request", "code_challenge_method must be S256");
  if (challenge.size() != 43) return fail("invalid_request", "Invalid code_challenge");

  const AuthRequest request{client_id, redirect_uri, scope, challenge, state};
  if (options_.auto_approve) return RedirectWithCode(request);
  const std::string id = grants_.AddConsent(request);
  return HtmlPage(200, "jsync-emulator wants to access your Google Account",
                  "<p>Client <b>" + HtmlEscape(client_id) + "</b> asks for: " + HtmlEscape(scope) +
                      "</p><form method=\"post\" action=\"/o/oauth2/v2/auth/approve\">"
                      "<input type=\"hidden\" name=\"consent\" value=\"" +
                      id +
                      "\"><button name=\"decision\" value=\"approve\">Allow</button> "
                      "<button name=\"decision\" value=\"deny\">Cancel</button></form>");
}

LocalResponse OAuthServer::RedirectWithCode(const AuthRequest& request) {
  const std::string code = "4/0" + RandomString(60);
  grants_.AddCode(code, request, kCodeLifetimeMs);
  std::string q =
      "code=" + net::PercentEncode(code) + "&scope=" + net::PercentEncode(request.scope);
  if (!request.state.empty()) q += "&state=" + net::PercentEncode(request.state);
  return Redirect(WithQuery(request.redirect_uri, q));
}

LocalResponse OAuthServer::Approve(const LocalRequest& req) {
  if (req.method != "POST") return LocalResponse::Text(405, "method not allowed");
  AuthRequest request;
  if (!grants_.TakeConsent(req.FormParam("consent"), &request))
    return HtmlPage(400, "Error 400: invalid_request", "<p>This consent request is unknown.</p>");
  if (req.FormParam("decision") == "approve") return RedirectWithCode(request);
  std::string q = "error=access_denied";
  if (!request.state.empty()) q += "&state=" + net::PercentEncode(request.state);
  return Redirect(WithQuery(request.redirect_uri, q));
}

LocalResponse OAuthServer::AccessAnswer(const std::string& token, const std::string& scope,
                                        const std::string& refresh_token) {
  nlohmann::json body = {{"access_token", token},
                         {"expires_in", options_.token_lifetime_s},
                         {"scope", scope},
                         {"token_type", "Bearer"}};
  if (!refresh_token.empty()) body["refresh_token"] = refresh_token;
  return OAuthJson(200, body);
}

LocalResponse OAuthServer::IssueTokens(const std::string& client_id, const std::string& scope) {
  const std::string token = "ya29." + RandomString(64);
  const std::string refresh = "1//0" + RandomString(96);
  grants_.OpenGrant({client_id, scope}, token, NowMs() + options_.token_lifetime_s * 1000, refresh);
  return AccessAnswer(token, scope, refresh);
}

LocalResponse OAuthServer::Token(const LocalRequest& req) {
  if (req.method != "POST")
    return OAuthError(405, "invalid_request", "Token requests must use POST.");
  const std::string grant_type = req.FormParam("grant_type");
  const std::string client_id = req.FormParam("client_id");
  if (grant_type.empty())
    return OAuthError(400, "invalid_request", "Missing required parameter: grant_type");
  if (client_id != options_.client_id)
    return OAuthError(401, "invalid_client", "The OAuth client was not found.");
  if (!options_.client_secret.empty() && req.FormParam("client_secret") != options_.client_secret)
    return OAuthError(401, "invalid_client", "Unauthorized");

  if (grant_type == "authorization_code") {
    AuthRequest request;
    switch (grants_.RedeemCode(req.FormParam("code"), client_id, req.FormParam("redirect_uri"),
                               req.FormParam("code_verifier"), &request)) {
      case OAuthGrants::Redeem::kOk:
        return IssueTokens(client_id, request.scope);
      case OAuthGrants::Redeem::kUnknown:
        return OAuthError(400, "invalid_grant", "Malformed auth code.");
      case OAuthGrants::Redeem::kUsed:
      case OAuthGrants::Redeem::kExpired:
      case OAuthGrants::Redeem::kOtherClient:
        return OAuthError(400, "invalid_grant", "Bad Request");
      case OAuthGrants::Redeem::kOtherRedirect:
        return OAuthError(400, "redirect_uri_mismatch", "Bad Request");
      case OAuthGrants::Redeem::kNoVerifier:
        return OAuthError(400, "invalid_grant", "Missing code verifier.");
      case OAuthGrants::Redeem::kBadVerifier:
        return OAuthError(400, "invalid_grant", "Invalid code verifier.");
    }
  }

  if (grant_type == "refresh_token") {
    const std::string refresh = req.FormParam("refresh_token");
    const auto expired = [] {
      return OAuthError(400, "invalid_grant", "Token has been expired or revoked.");
    };
    OAuthGrants::Grant grant;
    if (grants_.FindRefresh(refresh, &grant) != OAuthGrants::Refresh::kOk) return expired();
    if (grant.client_id != client_id) return OAuthError(400, "unauthorized_client", "Unauthorized");
    const std::string token = "ya29." + RandomString(64);
    if (grants_.RefreshGrant(refresh, token, NowMs() + options_.token_lifetime_s * 1000, "") !=
        OAuthGrants::Refresh::kOk)
      return expired();
    return AccessAnswer(token, grant.scope, "");
  }

  if (grant_type == kDeviceGrant) {
    std::string scope;
    switch (grants_.PollDeviceCode(req.FormParam("device_code"), client_id, &scope)) {
      case OAuthGrants::Poll::kApproved:
        return IssueTokens(client_id, scope);
      case OAuthGrants::Poll::kUnknown:
        return OAuthError(400, "invalid_grant", "Malformed auth code.");
      case OAuthGrants::Poll::kOtherClient:
      case OAuthGrants::Poll::kRedeemed:
        return OAuthError(400, "invalid_grant", "Bad Request");
      case OAuthGrants::Poll::kExpired:
        return OAuthError(400, "expired_token", "Expired");
      case OAuthGrants::Poll::kDenied:
        return OAuthError(403, "access_denied", "Forbidden");
      case OAuthGrants::Poll::kSlowDown:
        return OAuthError(403, "slow_down", "Forbidden");
      case OAuthGrants::Poll::kPending:
        return OAuthError(428, "authorization_pending", "Precondition Required");
    }
  }
  return OAuthError(400, "unsupported_grant_type", "Invalid grant_type: " + grant_type);
}

LocalResponse OAuthServer::DeviceCodeRequest(const LocalRequest& req) {
  if (req.method != "POST")
    return OAuthError(405, "invalid_request", "Device code requests must use POST.");
  const std::string client_id = req.FormParam("client_id");
  if (client_id != options_.client_id)
    return OAuthError(401, "invalid_client", "The OAuth client was not found.");
  const std::string scope = req.FormParam("scope");
  if (scope.empty()) return OAuthError(400, "invalid_scope", "Missing required parameter: scope");
  if (!ScopesAllowed(scope, DeviceScopes()))
    return OAuthError(400, "invalid_scope", "Invalid device flow scope: " + scope);
  const std::string device_code = "AH-1Ng" + RandomString(60);
  const std::string raw = RandomString(8, kUserCodeAlphabet);
  grants_.AddDeviceCode(device_code, raw, client_id, scope, options_.device_code_lifetime_s * 1000);
  return OAuthJson(200, {{"device_code", device_code},
                         {"user_code", raw.substr(0, 4) + "-" + raw.substr(4)},
                         {"expires_in", options_.device_code_lifetime_s},
                         {"interval", options_.device_interval_s},
                         {"verification_url", base_url_ + "/device"}});
}

LocalResponse OAuthServer::DevicePage(const LocalRequest& req) {
  static const std::string kForm =
      "<form method=\"post\" action=\"/device\"><label>Code <input name=\"user_code\"></label> "
      "<button name=\"decision\" value=\"approve\">Allow</button> "
      "<button name=\"decision\" value=\"deny\">Cancel</button></form>";
  if (req.method == "GET") return HtmlPage(200, "Connect a device", kForm);
  if (req.method != "POST") return LocalResponse::Text(405, "method not allowed");
  const bool approve = req.FormParam("decision") != "deny";
  if (grants_.AnswerUserCode(req.FormParam("user_code"), approve))
    return HtmlPage(200, approve ? "Success" : "Access denied",
                    "<p>You may close this window and return to your device.</p>");
  return HtmlPage(400, "Invalid code",
                  "<p>That code is unknown or expired. Try again.</p>" + kForm);
}

LocalResponse OAuthServer::Revoke(const LocalRequest& req) {
  if (req.method != "POST") return OAuthError(405, "invalid_request", "Use POST.");
  std::string token = req.QueryParam("token");
  if (token.empty()) token = req.FormParam("token");
  // Revoking either token of a grant revokes the grant (both tokens).
  if (!grants_.Revoke(token)) return OAuthError(400, "invalid_token", "Token expired or revoked");
  return LocalResponse::Json(200, "{}");
}

OAuthServer::Check OAuthServer::CheckAccessToken(const std::string& token, std::string* scope) {
  return grants_.CheckAccessToken(token, scope);
}

void OAuthServer::ExpireAccessToken(const std::string& token) { grants_.ExpireAccessToken(token); }

}  // namespace jsync::emulator::gdrive

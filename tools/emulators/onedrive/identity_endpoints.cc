#include "tools/emulators/onedrive/identity_endpoints.h"

#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "tools/emulators/common/oauth_pages.h"
#include "tools/emulators/common/oauth_rules.h"
#include "tools/emulators/common/util.h"

namespace jsync::emulator::onedrive {
namespace {

using net::LocalRequest;
using net::LocalResponse;

constexpr const char* kDeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";
constexpr const char* kGraphPrefix = "https://graph.microsoft.com/";
// Microsoft's user codes are 9 upper-case letters and digits (e.g. "GQ3LPFS8X").
constexpr const char* kUserCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
constexpr int64_t kCodeLifetimeMs = 600'000;  // authorization codes live ~10 minutes

// "2025-10-19 08:15:30Z", the form of Microsoft's error `timestamp`.
std::string ErrorTimestamp() {
  const time_t secs = static_cast<time_t>(NowMs() / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

LocalResponse IdentityJson(int status, const nlohmann::json& body) {
  LocalResponse r = LocalResponse::Json(status, body.dump());
  r.headers.emplace_back("Cache-Control", "no-store, no-cache");
  r.headers.emplace_back("Pragma", "no-cache");
  return r;
}

// Microsoft's token-endpoint error body. `aadsts` 0: no AADSTS number (RFC 8628's slow_down,
// which Microsoft does not document).
LocalResponse IdentityError(int status, const std::string& error, int aadsts,
                            const std::string& text) {
  const std::string trace = RandomUuid(), correlation = RandomUuid(), ts = ErrorTimestamp();
  std::string description = aadsts ? "AADSTS" + std::to_string(aadsts) + ": " + text : text;
  description +=
      "\r\nTrace ID: " + trace + "\r\nCorrelation ID: " + correlation + "\r\nTimestamp: " + ts;
  nlohmann::json body = {
      {"error", error},
      {"error_description", description},
      {"error_codes", aadsts ? nlohmann::json::array({aadsts}) : nlohmann::json::array()},
      {"timestamp", ts},
      {"trace_id", trace},
      {"correlation_id", correlation}};
  if (aadsts)
    body["error_uri"] = "https://login.microsoftonline.com/error?code=" + std::to_string(aadsts);
  LocalResponse r = IdentityJson(status, body);
  r.headers.emplace_back("x-ms-request-id", trace);
  return r;
}

LocalResponse MissingParam(const std::string& name) {
  return IdentityError(400, "invalid_request", 900144,
                       "The request body must contain the following parameter: '" + name + "'.");
}

LocalResponse NotPost(const LocalRequest& req) {
  return IdentityError(
      405, "invalid_request", 900561,
      "The endpoint only accepts POST requests. Received a " + req.method + " request.");
}

LocalResponse UnknownClient(const std::string& client_id) {
  return IdentityError(
      400, "invalid_client", 700016,
      "Application with identifier '" + client_id + "' was not found in the directory.");
}

std::string ScopeNotValid(const std::string& bad) {
  return "The provided value for the input parameter 'scope' is not valid. The scope '" + bad +
         "' does not exist.";
}

LocalResponse InvalidScope(const std::string& bad) {
  return IdentityError(400, "invalid_scope", 70011, ScopeNotValid(bad));
}

LocalResponse Html(int status, const std::string& title, const std::string& body) {
  LocalResponse r = HtmlPage(status, title, body);
  r.headers.emplace_back("Cache-Control", "no-store, no-cache");
  return r;
}

// The sign-in page Microsoft shows instead of redirecting (bad client, bad redirect URI).
LocalResponse HtmlError(int aadsts, const std::string& text) {
  return Html(400, "Sign in to your account",
              "<p>Sorry, but we're having trouble signing you in.</p><p>AADSTS" +
                  std::to_string(aadsts) + ": " + HtmlEscape(text) + "</p>");
}

LocalResponse Redirect(const std::string& location) {
  return RedirectTo(location, "no-store, no-cache");
}

// common | organizations | consumers | a tenant GUID | a verified domain ("contoso.com").
bool ValidTenant(const std::string& t) {
  if (t == "common" || t == "organizations" || t == "consumers") return true;
  if (t.empty() || t.size() > 253) return false;
  const bool guid = t.size() == 36 && [&] {
    for (size_t i = 0; i < t.size(); ++i) {
      const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash ? t[i] != '-' : !std::isxdigit(static_cast<unsigned char>(t[i]))) return false;
    }
    return true;
  }();
  if (guid) return true;
  if (t.find('.') == std::string::npos || t.front() == '.' || t.back() == '.') return false;
  for (char c : t)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
  return true;
}

// Scopes Microsoft resolves against Graph (the prefix optional), in their canonical spelling;
// Microsoft compares scope names case-insensitively.
const std::vector<std::string>& KnownScopes() {
  static const std::vector<std::string> s = {"Files.ReadWrite.AppFolder",
                                             "Files.ReadWrite",
                                             "Files.Read",
                                             "User.Read",
                                             "offline_access",
                                             "openid",
                                             "profile",
                                             "email"};
  return s;
}

bool IsOidcScope(const std::string& s) {
  return s == "offline_access" || s == "openid" || s == "profile" || s == "email";
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Canonical short names, duplicates dropped, request order kept; false (and *bad = the first
// unknown one) when a scope is not one the emulator grants.
bool NormaliseScopes(const std::string& scope, std::vector<std::string>* out, std::string* bad) {
  for (const auto& s : SplitScopes(scope)) {
    std::string name = s;
    if (Lower(name).rfind(kGraphPrefix, 0) == 0)
      name = name.substr(std::string(kGraphPrefix).size());
    std::string canonical;
    for (const auto& k : KnownScopes())
      if (Lower(k) == Lower(name)) canonical = k;
    if (canonical.empty()) {
      *bad = s;
      return false;
    }
    bool seen = false;
    for (const auto& o : *out) seen = seen || o == canonical;
    if (!seen) out->push_back(canonical);
  }
  return true;
}

// The `scope` of a token response: Graph permissions in full form (as Microsoft answers), the
// OpenID Connect scopes other than offline_access by name.
std::string ResponseScope(const std::string& granted) {
  std::vector<std::string> out;
  for (const auto& s : SplitScopes(granted)) {
    if (s == "offline_access") continue;
    out.push_back(IsOidcScope(s) ? s : kGraphPrefix + s);
  }
  return JoinScopes(out);
}

// http://localhost, http://127.0.0.1 or http://[::1], any port, any path; no fragment.
bool LoopbackRedirect(const std::string& uri) {
  return uri.find('#') == std::string::npos && IsLoopbackRedirect(uri);
}

// Microsoft appends "/" to a redirect URI without a path.
std::string RedirectTarget(const std::string& uri) {
  const size_t scheme = uri.find("://");
  const size_t path = uri.find_first_of("/?", scheme + 3);
  if (path == std::string::npos) return uri + "/";
  if (uri[path] == '?') return uri.substr(0, path) + "/" + uri.substr(path);
  return uri;
}

// A readable id_token (alg "none": the emulator signs nothing; clients must not trust it).
std::string IdToken(const std::string& client_id, const std::string& base_url, int64_t now_s,
                    int64_t lifetime_s) {
  const nlohmann::json header = {{"typ", "JWT"}, {"alg", "none"}};
  const nlohmann::json claims = {{"ver", "2.0"},
                                 {"iss", base_url + "/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"},
                                 {"sub", "AAAAAAAAAAAAAAAAAAAAAJsyncEmulatorUser"},
                                 {"aud", client_id},
                                 {"iat", now_s},
                                 {"nbf", now_s},
                                 {"exp", now_s + lifetime_s},
                                 {"name", "Emulated User"},
                                 {"preferred_username", "user@jsync.example"},
                                 {"oid", "00000000-0000-0000-0000-00000000a11c"},
                                 {"tid", "9188040d-6c67-4c5b-b112-36a304b66dad"}};
  return Base64Url(header.dump()) + "." + Base64Url(claims.dump()) + ".";
}

// Microsoft rotates refresh tokens; the store remembers the rotated-out ones so that their use
// is told apart from an unknown token.
LocalResponse RefreshRefused(OAuthGrants::Refresh outcome) {
  if (outcome == OAuthGrants::Refresh::kRetired)
    return IdentityError(400, "invalid_grant", 70008,
                         "The refresh token has expired or was already used to get new "
                         "tokens; the client must keep the refresh token of the latest "
                         "answer.");
  return IdentityError(400, "invalid_grant", 9002313,
                       "Invalid request. Request is malformed or invalid: unknown refresh "
                       "token.");
}

OAuthGrantsOptions GrantsOptions(const IdentityOptions& o) {
  return {o.state_dir.empty() ? "" : o.state_dir + "/identity.json", o.auto_approve,
          o.device_interval_s * 1000};
}

}  // namespace

IdentityServer::IdentityServer(IdentityOptions options)
    : options_(std::move(options)), grants_(GrantsOptions(options_)) {}

void IdentityServer::set_base_url(std::string url) {
  std::lock_guard lock(base_url_mu_);
  base_url_ = std::move(url);
}

std::string IdentityServer::BaseUrl() {
  std::lock_guard lock(base_url_mu_);
  return base_url_;
}

Status IdentityServer::Load() { return grants_.Load(); }

std::optional<LocalResponse> IdentityServer::Handle(const LocalRequest& req) {
  if (req.path == "/devicelogin") return DeviceLogin(req);
  // /{tenant}/oauth2/v2.0/{endpoint}
  if (req.path.size() < 2 || req.path[0] != '/') return std::nullopt;
  const size_t slash = req.path.find('/', 1);
  if (slash == std::string::npos) return std::nullopt;
  static const std::string kMiddle = "/oauth2/v2.0/";
  if (req.path.compare(slash, kMiddle.size(), kMiddle) != 0) return std::nullopt;
  const std::string tenant = req.path.substr(1, slash - 1);
  const std::string endpoint = req.path.substr(slash + kMiddle.size());
  if (endpoint != "authorize" && endpoint != "authorize/consent" && endpoint != "token" &&
      endpoint != "devicecode")
    return std::nullopt;
  if (!ValidTenant(tenant)) {
    const std::string text = "Tenant '" + tenant +
                             "' not found. Check to make sure you have the correct tenant ID "
                             "and are signing into the correct cloud.";
    if (endpoint == "authorize") return HtmlError(90002, text);
    return IdentityError(400, "invalid_request", 90002, text);
  }
  if (endpoint == "authorize") return Authorize(req);
  if (endpoint == "authorize/consent") return Consent(req);
  if (endpoint == "token") return Token(req);
  return DeviceCodeRequest(req);
}

LocalResponse IdentityServer::Authorize(const LocalRequest& req) {
  if (req.method != "GET" && req.method != "POST")
    return LocalResponse::Text(405, "method not allowed");
  // A POSTed authorize request carries its parameters in the form.
  auto param = [&](const std::string& name) {
    return req.method == "POST" ? req.FormParam(name) : req.QueryParam(name);
  };
  const std::string client_id = param("client_id");
  const std::string redirect_uri = param("redirect_uri");
  // A bad client or redirect URI is shown to the user, never redirected to (RFC 6749 §4.1.2.1).
  if (client_id.empty())
    return HtmlError(900144,
                     "The request body must contain the following parameter: "
                     "'client_id'.");
  if (client_id != options_.client_id)
    return HtmlError(700016, "Application with identifier '" + client_id +
                                 "' was not found in the directory. This can happen if the "
                                 "application has not been installed by the administrator of "
                                 "the tenant or consented to by any user in the tenant.");
  if (!LoopbackRedirect(redirect_uri))
    return HtmlError(50011, "The redirect URI '" + redirect_uri +
                                "' specified in the request does not match the redirect URIs "
                                "configured for the application '" +
                                client_id + "'.");
  const std::string state = param("state");
  auto fail = [&](const std::string& error, int aadsts, const std::string& text) {
    std::string q = "error=" + error + "&error_description=" +
                    net::PercentEncode("AADSTS" + std::to_string(aadsts) + ": " + text);
    if (!state.empty()) q += "&state=" + net::PercentEncode(state);
    return Redirect(WithQuery(RedirectTarget(redirect_uri), q));
  };
  const std::string response_type = param("response_type");
  if (response_type.empty())
    return fail("invalid_request", 900144,
                "The request body must contain the following parameter: 'response_type'.");
  if (response_type != "code")
    return fail("unsupported_response_type", 700054,
                "response_type '" + response_type + "' is not enabled for the application.");
  const std::string mode = param("response_mode");
  if (!mode.empty() && mode != "query")
    return fail("invalid_request", 9002313,
                "Invalid request. Request is malformed or invalid (the emulator answers "
                "response_mode=query only).");
  const std::string scope = param("scope");
  if (scope.empty())
    return fail("invalid_request", 900144,
                "The request body must contain the following parameter: 'scope'.");
  std::vector<std::string> scopes;
  std::string bad;
  if (!NormaliseScopes(scope, &scopes, &bad))
    return fail("invalid_scope", 70011, ScopeNotValid(bad));
  const std::string challenge = param("code_challenge");
  if (challenge.empty())
    return fail("invalid_request", 9002325,
                "Proof Key for Code Exchange is required for this authorization request.");
  if (param("code_challenge_method") != "S256")
    return fail("invalid_request", 9002313,
                "Invalid request. The emulator requires code_challenge_method=S256.");
  if (!IsS256Challenge(challenge))
    return fail("invalid_request", 501491, "Invalid size of Code_Challenge parameter.");

  const AuthRequest request{client_id, redirect_uri, JoinScopes(scopes), challenge, state};
  if (options_.auto_approve) return RedirectWithCode(request);
  const std::string id = grants_.AddConsent(request);
  // The form posts back to this tenant's consent route: the request path minus "authorize".
  const std::string action = req.path + "/consent";
  return Html(200, "Let this app access your info?",
              "<p><b>" + HtmlEscape(client_id) + "</b> needs your permission to: " +
                  HtmlEscape(request.scope) + "</p><form method=\"post\" action=\"" +
                  HtmlEscape(action) + "\"><input type=\"hidden\" name=\"consent\" value=\"" + id +
                  "\"><button name=\"decision\" value=\"accept\">Accept</button> "
                  "<button name=\"decision\" value=\"cancel\">Cancel</button></form>");
}

LocalResponse IdentityServer::RedirectWithCode(const AuthRequest& request) {
  const std::string code = "M.C5" + RandomString(80);
  grants_.AddCode(code, request, kCodeLifetimeMs);
  std::string q = "code=" + net::PercentEncode(code);
  if (!request.state.empty()) q += "&state=" + net::PercentEncode(request.state);
  return Redirect(WithQuery(RedirectTarget(request.redirect_uri), q));
}

LocalResponse IdentityServer::Consent(const LocalRequest& req) {
  if (req.method != "POST") return LocalResponse::Text(405, "method not allowed");
  const std::string decision = req.FormParam("decision");
  AuthRequest request;
  if (!grants_.TakeConsent(req.FormParam("consent"), &request))
    return HtmlError(90014, "This consent request is unknown or was already answered.");
  if (decision == "accept" || decision == "approve") return RedirectWithCode(request);
  std::string q = "error=access_denied&error_description=" +
                  net::PercentEncode("AADSTS65004: User declined to consent to access the app.");
  if (!request.state.empty()) q += "&state=" + net::PercentEncode(request.state);
  return Redirect(WithQuery(RedirectTarget(request.redirect_uri), q));
}

int64_t IdentityServer::TokenLifetime() {
  if (options_.token_lifetime_s > 0) return options_.token_lifetime_s;
  // Microsoft randomises access-token lifetimes between 60 and 90 minutes.
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_int_distribution<int64_t>(3600, 5399)(rng);
}

IdentityServer::Tokens IdentityServer::Mint(const std::string& scope) {
  Tokens t;
  t.access = "EwB" + RandomString(120);
  // Rotation: every answer carries a new refresh token and the previous one stops working.
  if (HasScope(scope, "offline_access")) t.refresh = "M.C5_BAY." + RandomString(160);
  t.now_ms = NowMs();
  t.lifetime_s = TokenLifetime();
  return t;
}

LocalResponse IdentityServer::TokenAnswer(const OAuthGrants::Grant& grant, const Tokens& t) {
  nlohmann::json body = {{"token_type", "Bearer"},
                         {"scope", ResponseScope(grant.scope)},
                         {"expires_in", t.lifetime_s},
                         {"ext_expires_in", t.lifetime_s},
                         {"access_token", t.access}};
  if (!t.refresh.empty()) body["refresh_token"] = t.refresh;
  if (HasScope(grant.scope, "openid"))
    body["id_token"] = IdToken(grant.client_id, BaseUrl(), t.now_ms / 1000, t.lifetime_s);
  return IdentityJson(200, body);
}

LocalResponse IdentityServer::IssueTokens(const std::string& client_id, const std::string& scope) {
  const OAuthGrants::Grant grant{client_id, scope};
  const Tokens t = Mint(scope);
  grants_.OpenGrant(grant, t.access, t.now_ms + t.lifetime_s * 1000, t.refresh);
  return TokenAnswer(grant, t);
}

LocalResponse IdentityServer::Token(const LocalRequest& req) {
  if (req.method != "POST") return NotPost(req);
  const std::string grant_type = req.FormParam("grant_type");
  const std::string client_id = req.FormParam("client_id");
  if (grant_type.empty()) return MissingParam("grant_type");
  if (client_id.empty()) return MissingParam("client_id");
  if (client_id != options_.client_id) return UnknownClient(client_id);
  if (!options_.client_secret.empty() && req.FormParam("client_secret") != options_.client_secret)
    return IdentityError(401, "invalid_client", 7000215, "Invalid client secret provided.");
  if (grant_type == "authorization_code") return CodeGrant(req, client_id);
  if (grant_type == "refresh_token") return RefreshGrant(req, client_id);
  if (grant_type == kDeviceGrant) return DeviceGrant(req, client_id);
  return IdentityError(400, "unsupported_grant_type", 70003,
                       "The app requested an unsupported grant type '" + grant_type + "'.");
}

LocalResponse IdentityServer::CodeGrant(const LocalRequest& req, const std::string& client_id) {
  const std::string code = req.FormParam("code");
  if (code.empty()) return MissingParam("code");
  const std::string redirect_uri = req.FormParam("redirect_uri");
  AuthRequest request;
  switch (
      grants_.RedeemCode(code, client_id, redirect_uri, req.FormParam("code_verifier"), &request)) {
    case OAuthGrants::Redeem::kOk:
      break;
    case OAuthGrants::Redeem::kUnknown:
      return IdentityError(400, "invalid_grant", 70000,
                           "The provided value for the 'code' parameter is not valid.");
    case OAuthGrants::Redeem::kUsed:
      return IdentityError(400, "invalid_grant", 54005,
                           "OAuth2 Authorization code was already redeemed, please retry with a "
                           "new valid code or use an existing refresh token.");
    case OAuthGrants::Redeem::kExpired:
      return IdentityError(400, "invalid_grant", 70008,
                           "The provided authorization code or refresh token has expired due to "
                           "inactivity. Send a new interactive authorization request for this "
                           "user and resource.");
    case OAuthGrants::Redeem::kOtherClient:
      return IdentityError(400, "invalid_grant", 70000,
                           "The provided value for the 'code' parameter is not valid. The code "
                           "was issued to another client.");
    case OAuthGrants::Redeem::kOtherRedirect:
      if (redirect_uri.empty()) return MissingParam("redirect_uri");
      return IdentityError(400, "invalid_grant", 500112,
                           "The reply address '" + redirect_uri +
                               "' does not match the reply address '" + request.redirect_uri +
                               "' provided when requesting Authorization code.");
    case OAuthGrants::Redeem::kNoVerifier:
      return MissingParam("code_verifier");
    case OAuthGrants::Redeem::kBadVerifier:
      return IdentityError(400, "invalid_grant", 501481,
                           "The Code_Verifier does not match the code_challenge supplied in the "
                           "authorization request.");
  }
  return IssueTokens(client_id, request.scope);
}

LocalResponse IdentityServer::RefreshGrant(const LocalRequest& req, const std::string& client_id) {
  const std::string refresh = req.FormParam("refresh_token");
  if (refresh.empty()) return MissingParam("refresh_token");
  OAuthGrants::Grant grant;
  if (const auto found = grants_.FindRefresh(refresh, &grant); found != OAuthGrants::Refresh::kOk)
    return RefreshRefused(found);
  if (grant.client_id != client_id)
    return IdentityError(400, "invalid_grant", 70000,
                         "The refresh token was issued to a different client.");
  if (const std::string scope = req.FormParam("scope"); !scope.empty()) {
    std::vector<std::string> asked;
    std::string bad;
    if (!NormaliseScopes(scope, &asked, &bad)) return InvalidScope(bad);
    for (const auto& s : asked)
      if (!HasScope(grant.scope, s))
        return IdentityError(400, "invalid_grant", 65001,
                             "The user or administrator has not consented to use the "
                             "application with scope '" +
                                 s + "'.");
  }
  const Tokens t = Mint(grant.scope);
  if (const auto rotated =
          grants_.RefreshGrant(refresh, t.access, t.now_ms + t.lifetime_s * 1000, t.refresh);
      rotated != OAuthGrants::Refresh::kOk)
    return RefreshRefused(rotated);
  return TokenAnswer(grant, t);
}

LocalResponse IdentityServer::DeviceGrant(const LocalRequest& req, const std::string& client_id) {
  const std::string device_code = req.FormParam("device_code");
  if (device_code.empty()) return MissingParam("device_code");
  std::string scope;
  switch (grants_.PollDeviceCode(device_code, client_id, &scope)) {
    case OAuthGrants::Poll::kApproved:
      break;
    case OAuthGrants::Poll::kUnknown:
    case OAuthGrants::Poll::kOtherClient:
      return IdentityError(400, "bad_verification_code", 70000,
                           "The provided value for the 'device_code' parameter is not valid.");
    case OAuthGrants::Poll::kRedeemed:
      return IdentityError(400, "invalid_grant", 54005,
                           "The device code was already redeemed; start a new device flow.");
    case OAuthGrants::Poll::kExpired:
      return IdentityError(400, "expired_token", 70020,
                           "The provided value for the input parameter 'device_code' is not "
                           "valid. This device code has expired.");
    case OAuthGrants::Poll::kDenied:
      return IdentityError(400, "authorization_declined", 70000,
                           "The end user denied the authorization request.");
    case OAuthGrants::Poll::kSlowDown:
      return IdentityError(400, "slow_down", 0,
                           "Polled faster than the interval; wait 5 more seconds between polls.");
    case OAuthGrants::Poll::kPending:
      return IdentityError(400, "authorization_pending", 70016,
                           "OAuth 2.0 device flow error. Authorization is pending. Continue "
                           "polling.");
  }
  return IssueTokens(client_id, scope);
}

LocalResponse IdentityServer::DeviceCodeRequest(const LocalRequest& req) {
  if (req.method != "POST") return NotPost(req);
  const std::string client_id = req.FormParam("client_id");
  if (client_id.empty()) return MissingParam("client_id");
  if (client_id != options_.client_id) return UnknownClient(client_id);
  const std::string scope = req.FormParam("scope");
  if (scope.empty()) return MissingParam("scope");
  std::vector<std::string> scopes;
  std::string bad;
  if (!NormaliseScopes(scope, &scopes, &bad)) return InvalidScope(bad);
  const std::string device_code = "DAQABAAEAAAD" + RandomString(120);
  const std::string user_code = RandomString(9, kUserCodeAlphabet);
  grants_.AddDeviceCode(device_code, user_code, client_id, JoinScopes(scopes),
                        options_.device_code_lifetime_s * 1000);
  const std::string uri = BaseUrl() + "/devicelogin";
  return IdentityJson(200,
                      {{"user_code", user_code},
                       {"device_code", device_code},
                       {"verification_uri", uri},
                       {"expires_in", options_.device_code_lifetime_s},
                       {"interval", options_.device_interval_s},
                       {"message", "To sign in, use a web browser to open the page " + uri +
                                       " and enter the code " + user_code + " to authenticate."}});
}

LocalResponse IdentityServer::DeviceLogin(const LocalRequest& req) {
  static const std::string kForm =
      "<form method=\"post\" action=\"/devicelogin\"><label>Code <input name=\"otc\"></label> "
      "<button name=\"decision\" value=\"accept\">Allow</button> "
      "<button name=\"decision\" value=\"cancel\">Cancel</button></form>";
  if (req.method == "GET") return Html(200, "Enter code", kForm);
  if (req.method != "POST") return LocalResponse::Text(405, "method not allowed");
  std::string entered = req.FormParam("otc");
  if (entered.empty()) entered = req.FormParam("user_code");
  const std::string decision = req.FormParam("decision");
  const bool deny = decision == "cancel" || decision == "deny";
  if (grants_.AnswerUserCode(entered, !deny))
    return Html(200, deny ? "Access denied" : "You have signed in",
                "<p>You may close this window and return to your device.</p>");
  return Html(400, "Invalid code", "<p>That code is unknown or expired. Try again.</p>" + kForm);
}

IdentityServer::Check IdentityServer::CheckAccessToken(const std::string& token,
                                                       std::string* scope) {
  return grants_.CheckAccessToken(token, scope);
}

void IdentityServer::ExpireAccessToken(const std::string& token) {
  grants_.ExpireAccessToken(token);
}

}  // namespace jsync::emulator::onedrive

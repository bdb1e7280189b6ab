#include "tools/emulators/gdrive/oauth_endpoints.h"

#include <openssl/evp.h>

#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tools/emulators/gdrive/util.h"

namespace jsync::emulator::gdrive {
namespace {

using net::LocalRequest;
using net::LocalResponse;

const char* kUserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ";
const char* kDeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";

LocalResponse OAuthJson(int status, const nlohmann::json& body) {
  LocalResponse r = LocalResponse::Json(status, body.dump(2));
  r.headers.emplace_back("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate");
  r.headers.emplace_back("Pragma", "no-cache");
  return r;
}

LocalResponse OAuthError(int status, const std::string& error, const std::string& description) {
  return OAuthJson(status, {{"error", error}, {"error_description", description}});
}

LocalResponse Html(int status, const std::string& title, const std::string& body) {
  return LocalResponse::Text(status,
                             "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + title +
                                 "</title></head><body><h1>" + title + "</h1>" + body +
                                 "</body></html>\n",
                             "text/html; charset=utf-8");
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::vector<std::string> SplitScopes(const std::string& scope) {
  std::vector<std::string> out;
  std::stringstream in(scope);
  std::string s;
  while (in >> s) out.push_back(s);
  return out;
}

bool ScopesAllowed(const std::string& scope, const std::set<std::string>& allowed) {
  const auto scopes = SplitScopes(scope);
  if (scopes.empty()) return false;
  for (const auto& s : scopes)
    if (!allowed.count(s)) return false;
  return true;
}

const std::set<std::string>& WebScopes() {
  static const std::set<std::string> s = {kScopeAppData, kScopeFile, kScopeDrive,
                                          "openid",      "email",    "profile",
                                          "https://www.googleapis.com/auth/userinfo.email",
                                          "https://www.googleapis.com/auth/userinfo.profile"};
  return s;
}

// Google's device-flow allow-list (limited-input-device#allowedscopes).
const std::set<std::string>& DeviceScopes() {
  static const std::set<std::string> s = {
      kScopeAppData, kScopeFile, "openid", "email", "profile",
      "https://www.googleapis.com/auth/youtube", "https://www.googleapis.com/auth/youtube.readonly"};
  return s;
}

// http://127.0.0.1[:PORT][/path], http://[::1][:PORT][/path], http://localhost[:PORT][/path].
bool LoopbackRedirect(const std::string& uri) {
  std::string rest;
  for (const char* host : {"http://127.0.0.1", "http://[::1]", "http://localhost"}) {
    if (uri.rfind(host, 0) == 0) {
      rest = uri.substr(std::string(host).size());
      if (!rest.empty() && rest[0] == ':') {
        size_t i = 1;
        while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
        if (i == 1 || i > 6) return false;
        rest = rest.substr(i);
      }
      return rest.empty() || rest[0] == '/' || rest[0] == '?';
    }
  }
  return false;
}

std::string WithQuery(const std::string& uri, const std::string& query) {
  return uri + (uri.find('?') == std::string::npos ? "?" : "&") + query;
}

LocalResponse Redirect(const std::string& location) {
  LocalResponse r;
  r.status = 302;
  r.headers.emplace_back("Location", location);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

std::string Base64UrlSha256(const std::string& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned i = 0;
  for (; i + 2 < len; i += 3) {
    const uint32_t v = (md[i] << 16) | (md[i + 1] << 8) | md[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  if (i + 2 == len) {  // 32 = 30 + 2
    const uint32_t v = (md[i] << 16) | (md[i + 1] << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63]};
  }
  return out;
}

bool ValidVerifier(const std::string& v) {
  if (v.size() < 43 || v.size() > 128) return false;
  for (char c : v)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
          c == '~'))
      return false;
  return true;
}

std::string NormaliseUserCode(const std::string& code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

}  // namespace

OAuthServer::OAuthServer(OAuthOptions options) : options_(std::move(options)) {}

Status OAuthServer::Load() {
  std::string text;
  if (!ReadFile(options_.state_dir + "/oauth.json", &text)) return Status::Ok();
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return Status::Fatal(options_.state_dir + "/oauth.json is not valid JSON");
  std::lock_guard lock(mu_);
  const nlohmann::json grants = j.value("grants", nlohmann::json::object());
  const nlohmann::json access = j.value("access", nlohmann::json::object());
  for (const auto& [id, g] : grants.items()) {
    grants_[id] = {g.value("clientId", ""), g.value("scope", ""), g.value("refresh", "")};
    refresh_[g.value("refresh", "")] = id;
  }
  for (const auto& [hash, a] : access.items())
    access_[hash] = {a.value("grant", ""), a.value("expiresMs", int64_t{0})};
  return Status::Ok();
}

void OAuthServer::Save() {
  nlohmann::json grants = nlohmann::json::object();
  for (const auto& [id, g] : grants_)
    grants[id] = {{"clientId", g.client_id}, {"scope", g.scope}, {"refresh", g.refresh_hash}};
  nlohmann::json access = nlohmann::json::object();
  const int64_t now = NowMs();
  for (const auto& [hash, a] : access_)
    if (a.expires_ms > now) access[hash] = {{"grant", a.grant_id}, {"expiresMs", a.expires_ms}};
  WriteFileAtomic(options_.state_dir + "/oauth.json",
                  nlohmann::json{{"grants", grants}, {"access", access}}.dump());
}

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
  if (client_id != options_.client_id) {
    return Html(401, "Error 401: invalid_client",
                "<p>The OAuth client was not found.</p>");
  }
  if (!LoopbackRedirect(redirect_uri)) {
    return Html(400, "Error 400: redirect_uri_mismatch",
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
  if (!ScopesAllowed(scope, WebScopes())) return fail("invalid_scope", "Some requested scopes were invalid.");
  const std::string challenge = req.QueryParam("code_challenge");
  if (challenge.empty())
    return fail("invalid_request", "Missing required parameter: code_challenge");
  if (req.QueryParam("code_challenge_method") != "S256")
    return fail("invalid_request", "code_challenge_method must be S256");
  if (challenge.size() != 43) return fail("invalid_request", "Invalid code_challenge");

  PendingConsent consent{redirect_uri, state, scope, challenge, client_id};
  if (options_.auto_approve) {
    std::lock_guard lock(mu_);
    const std::string code = "4/0" + RandomString(60);
    codes_[code] = {client_id, redirect_uri, scope, challenge, NowMs() + 600'000, false};
    std::string q = "code=" + net::PercentEncode(code) + "&scope=" + net::PercentEncode(scope);
    if (!state.empty()) q += "&state=" + net::PercentEncode(state);
    return Redirect(WithQuery(redirect_uri, q));
  }
  std::string id;
  {
    std::lock_guard lock(mu_);
    id = RandomString(24);
    consents_[id] = consent;
  }
  return Html(200, "jsync-emulator wants to access your Google Account",
              "<p>Client <b>" + HtmlEscape(client_id) + "</b> asks for: " + HtmlEscape(scope) +
                  "</p><form method=\"post\" action=\"/o/oauth2/v2/auth/approve\">"
                  "<input type=\"hidden\" name=\"consent\" value=\"" +
                  id +
                  "\"><button name=\"decision\" value=\"approve\">Allow</button> "
                  "<button name=\"decision\" value=\"deny\">Cancel</button></form>");
}

LocalResponse OAuthServer::Approve(const LocalRequest& req) {
  if (req.method != "POST") return LocalResponse::Text(405, "method not allowed");
  PendingConsent consent;
  std::string code;
  const bool approve = req.FormParam("decision") == "approve";
  {
    std::lock_guard lock(mu_);
    auto it = consents_.find(req.FormParam("consent"));
    if (it == consents_.end())
      return Html(400, "Error 400: invalid_request", "<p>This consent request is unknown.</p>");
    consent = it->second;
    consents_.erase(it);
    if (approve) {
      code = "4/0" + RandomString(60);
      codes_[code] = {consent.client_id, consent.redirect_uri, consent.scope, consent.challenge,
                      NowMs() + 600'000, false};
    }
  }
  std::string q = approve ? "code=" + net::PercentEncode(code) + "&scope=" +
                                net::PercentEncode(consent.scope)
                          : "error=access_denied";
  if (!consent.state.empty()) q += "&state=" + net::PercentEncode(consent.state);
  return Redirect(WithQuery(consent.redirect_uri, q));
}

LocalResponse OAuthServer::IssueAccess(const std::string& grant_id, bool with_refresh,
                                       const std::string& refresh_token) {
  const std::string token = "ya29." + RandomString(64);
  access_[HexSha256(token)] = {grant_id, NowMs() + options_.token_lifetime_s * 1000};
  nlohmann::json body = {{"access_token", token},
                         {"expires_in", options_.token_lifetime_s},
                         {"scope", grants_[grant_id].scope},
                         {"token_type", "Bearer"}};
  if (with_refresh) body["refresh_token"] = refresh_token;
  Save();
  return OAuthJson(200, body);
}

LocalResponse OAuthServer::IssueTokens(const std::string& client_id, const std::string& scope) {
  const std::string grant_id = RandomString(16);
  const std::string refresh = "1//0" + RandomString(96);
  grants_[grant_id] = {client_id, scope, HexSha256(refresh)};
  refresh_[HexSha256(refresh)] = grant_id;
  return IssueAccess(grant_id, true, refresh);
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
  const int64_t now = NowMs();
  std::lock_guard lock(mu_);

  if (grant_type == "authorization_code") {
    auto it = codes_.find(req.FormParam("code"));
    if (it == codes_.end()) return OAuthError(400, "invalid_grant", "Malformed auth code.");
    AuthCode& code = it->second;
    if (code.used || code.expires_ms < now)
      return OAuthError(400, "invalid_grant", "Bad Request");
    if (code.client_id != client_id)
      return OAuthError(400, "invalid_grant", "Bad Request");
    if (req.FormParam("redirect_uri") != code.redirect_uri)
      return OAuthError(400, "redirect_uri_mismatch", "Bad Request");
    const std::string verifier = req.FormParam("code_verifier");
    if (verifier.empty()) return OAuthError(400, "invalid_grant", "Missing code verifier.");
    code.used = true;  // single use, whatever the outcome below
    if (!ValidVerifier(verifier) || Base64UrlSha256(verifier) != code.challenge)
      return OAuthError(400, "invalid_grant", "Invalid code verifier.");
    return IssueTokens(client_id, code.scope);
  }

  if (grant_type == "refresh_token") {
    auto it = refresh_.find(HexSha256(req.FormParam("refresh_token")));
    if (it == refresh_.end() || !grants_.count(it->second))
      return OAuthError(400, "invalid_grant", "Token has been expired or revoked.");
    if (grants_[it->second].client_id != client_id)
      return OAuthError(400, "unauthorized_client", "Unauthorized");
    return IssueAccess(it->second, false, "");
  }

  if (grant_type == kDeviceGrant) {
    auto it = devices_.find(req.FormParam("device_code"));
    if (it == devices_.end()) return OAuthError(400, "invalid_grant", "Malformed auth code.");
    DeviceCode& d = it->second;
    if (d.client_id != client_id) return OAuthError(400, "invalid_grant", "Bad Request");
    if (d.state == DeviceCode::State::kDone)
      return OAuthError(400, "invalid_grant", "Bad Request");
    if (d.expires_ms <= now) return OAuthError(400, "expired_token", "Expired");
    if (d.state == DeviceCode::State::kDenied) {
      d.state = DeviceCode::State::kDone;
      return OAuthError(403, "access_denied", "Forbidden");
    }
    if (d.polls > 0 && now - d.last_poll_ms < options_.device_interval_s * 1000) {
      d.last_poll_ms = now;
      return OAuthError(403, "slow_down", "Forbidden");
    }
    d.last_poll_ms = now;
    ++d.polls;
    // --auto-approve: the first poll is still pending, so clients exercise that path.
    if (options_.auto_approve && d.polls >= 2) d.state = DeviceCode::State::kApproved;
    if (d.state != DeviceCode::State::kApproved)
      return OAuthError(428, "authorization_pending", "Precondition Required");
    d.state = DeviceCode::State::kDone;
    return IssueTokens(client_id, d.scope);
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
  std::lock_guard lock(mu_);
  const std::string device_code = "AH-1Ng" + RandomString(60);
  const std::string raw = RandomString(8, kUserCodeAlphabet);
  const std::string user_code = raw.substr(0, 4) + "-" + raw.substr(4);
  DeviceCode d;
  d.client_id = client_id;
  d.scope = scope;
  d.user_code = raw;
  d.expires_ms = NowMs() + options_.device_code_lifetime_s * 1000;
  devices_[device_code] = d;
  return OAuthJson(200, {{"device_code", device_code},
                         {"user_code", user_code},
                         {"expires_in", options_.device_code_lifetime_s},
                         {"interval", options_.device_interval_s},
                         {"verification_url", base_url_ + "/device"}});
}

LocalResponse OAuthServer::DevicePage(const LocalRequest& req) {
  static const std::string kForm =
      "<form method=\"post\" action=\"/device\"><label>Code <input name=\"user_code\"></label> "
      "<button name=\"decision\" value=\"approve\">Allow</button> "
      "<button name=\"decision\" value=\"deny\">Cancel</button></form>";
  if (req.method == "GET") return Html(200, "Connect a device", kForm);
  if (req.method != "POST") return LocalResponse::Text(405, "method not allowed");
  const std::string code = NormaliseUserCode(req.FormParam("user_code"));
  const bool approve = req.FormParam("decision") != "deny";
  std::lock_guard lock(mu_);
  for (auto& [device_code, d] : devices_) {
    if (d.user_code == code && d.state == DeviceCode::State::kPending && d.expires_ms > NowMs()) {
      d.state = approve ? DeviceCode::State::kApproved : DeviceCode::State::kDenied;
      return Html(200, approve ? "Success" : "Access denied",
                  "<p>You may close this window and return to your device.</p>");
    }
  }
  return Html(400, "Invalid code", "<p>That code is unknown or expired. Try again.</p>" + kForm);
}

LocalResponse OAuthServer::Revoke(const LocalRequest& req) {
  if (req.method != "POST") return OAuthError(405, "invalid_request", "Use POST.");
  std::string token = req.QueryParam("token");
  if (token.empty()) token = req.FormParam("token");
  const std::string hash = HexSha256(token);
  std::lock_guard lock(mu_);
  std::string grant_id;
  if (auto a = access_.find(hash); a != access_.end() && a->second.expires_ms > NowMs())
    grant_id = a->second.grant_id;
  else if (auto r = refresh_.find(hash); r != refresh_.end())
    grant_id = r->second;
  if (grant_id.empty() || !grants_.count(grant_id))
    return OAuthError(400, "invalid_token", "Token expired or revoked");
  // Revoking either token of a grant revokes the grant (both tokens).
  refresh_.erase(grants_[grant_id].refresh_hash);
  grants_.erase(grant_id);
  for (auto it = access_.begin(); it != access_.end();)
    it = it->second.grant_id == grant_id ? access_.erase(it) : std::next(it);
  Save();
  LocalResponse r = LocalResponse::Json(200, "{}");
  return r;
}

OAuthServer::Check OAuthServer::CheckAccessToken(const std::string& token, std::string* scope) {
  std::lock_guard lock(mu_);
  auto it = access_.find(HexSha256(token));
  if (it == access_.end()) return Check::kUnknown;
  auto g = grants_.find(it->second.grant_id);
  if (g == grants_.end()) return Check::kUnknown;
  if (it->second.expires_ms <= NowMs()) return Check::kExpired;
  *scope = g->second.scope;
  return Check::kOk;
}

void OAuthServer::ExpireAccessToken(const std::string& token) {
  std::lock_guard lock(mu_);
  auto it = access_.find(HexSha256(token));
  if (it != access_.end()) it->second.expires_ms = NowMs() - 1;
}

}  // namespace jsync::emulator::gdrive

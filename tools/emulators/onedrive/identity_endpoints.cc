#include "tools/emulators/onedrive/identity_endpoints.h"

#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <vector>

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

LocalResponse Html(int status, const std::string& title, const std::string& body) {
  LocalResponse r = LocalResponse::Text(
      status,
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + HtmlEscape(title) +
          "</title></head><body><h1>" + HtmlEscape(title) + "</h1>" + body + "</body></html>\n",
      "text/html; charset=utf-8");
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
  LocalResponse r;
  r.status = 302;
  r.headers.emplace_back("Location", location);
  r.headers.emplace_back("Cache-Control", "no-store, no-cache");
  return r;
}

std::string WithQuery(const std::string& uri, const std::string& query) {
  return uri + (uri.find('?') == std::string::npos ? "?" : "&") + query;
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
  std::stringstream in(scope);
  std::string s;
  while (in >> s) {
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

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

bool HasScope(const std::string& granted, const std::string& scope) {
  for (const auto& s : Split(granted))
    if (s == scope) return true;
  return false;
}

// The `scope` of a token response: Graph permissions in full form (as Microsoft answers), the
// OpenID Connect scopes other than offline_access by name.
std::string ResponseScope(const std::string& granted) {
  std::vector<std::string> out;
  for (const auto& s : Split(granted)) {
    if (s == "offline_access") continue;
    out.push_back(IsOidcScope(s) ? s : kGraphPrefix + s);
  }
  return Join(out);
}

// http://localhost, http://127.0.0.1 or http://[::1], any port, any path; no fragment.
bool LoopbackRedirect(const std::string& uri) {
  if (uri.find('#') != std::string::npos) return false;
  for (const char* host : {"http://127.0.0.1", "http://[::1]", "http://localhost"}) {
    if (uri.rfind(host, 0) != 0) continue;
    std::string rest = uri.substr(std::string(host).size());
    if (!rest.empty() && rest[0] == ':') {
      size_t i = 1;
      while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
      if (i == 1 || i > 6) return false;
      rest = rest.substr(i);
    }
    return rest.empty() || rest[0] == '/' || rest[0] == '?';
  }
  return false;
}

// Microsoft appends "/" to a redirect URI without a path.
std::string RedirectTarget(const std::string& uri) {
  const size_t scheme = uri.find("://");
  const size_t path = uri.find_first_of("/?", scheme + 3);
  if (path == std::string::npos) return uri + "/";
  if (uri[path] == '?') return uri.substr(0, path) + "/" + uri.substr(path);
  return uri;
}

bool ValidVerifier(const std::string& v) {
  if (v.size() < 43 || v.size() > 128) return false;
  for (char c : v)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
          c == '~'))
      return false;
  return true;
}

bool ValidChallenge(const std::string& c) {
  if (c.size() != 43) return false;  // base64url of 32 bytes, no padding
  for (char ch : c)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_')) return false;
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

}  // namespace

IdentityServer::IdentityServer(IdentityOptions options) : options_(std::move(options)) {}

void IdentityServer::set_base_url(std::string url) {
  std::lock_guard lock(mu_);
  base_url_ = std::move(url);
}

Status IdentityServer::Load() {
  std::string text;
  const std::string path = options_.state_dir + "/identity.json";
  if (!ReadFile(path, &text)) return Status::Ok();
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return Status::Fatal(path + " is not valid JSON");
  std::lock_guard lock(mu_);
  // Named copies: items() of a temporary would dangle.
  const nlohmann::json grants = j.value("grants", nlohmann::json::object());
  const nlohmann::json retired = j.value("retired", nlohmann::json::object());
  const nlohmann::json access = j.value("access", nlohmann::json::object());
  for (const auto& [id, g] : grants.items()) {
    if (!g.is_object()) continue;
    grants_[id] = {g.value("clientId", ""), g.value("scope", ""), g.value("refresh", "")};
    if (!grants_[id].refresh_hash.empty()) refresh_[grants_[id].refresh_hash] = id;
  }
  for (const auto& [hash, id] : retired.items())
    if (id.is_string()) retired_[hash] = id.get<std::string>();
  for (const auto& [hash, a] : access.items())
    if (a.is_object()) access_[hash] = {a.value("grant", ""), a.value("expiresMs", int64_t{0})};
  return Status::Ok();
}

void IdentityServer::Save() {
  if (options_.state_dir.empty()) return;
  nlohmann::json grants = nlohmann::json::object();
  for (const auto& [id, g] : grants_)
    grants[id] = {{"clientId", g.client_id}, {"scope", g.scope}, {"refresh", g.refresh_hash}};
  nlohmann::json access = nlohmann::json::object();
  const int64_t now = NowMs();
  for (const auto& [hash, a] : access_)
    if (a.expires_ms > now) access[hash] = {{"grant", a.grant_id}, {"expiresMs", a.expires_ms}};
  nlohmann::json retired(retired_);
  WriteFileAtomic(
      options_.state_dir + "/identity.json",
      nlohmann::json{{"grants", grants}, {"access", access}, {"retired", retired}}.dump());
}

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
  const std::string target = RedirectTarget(redirect_uri);
  auto fail = [&](const std::string& error, int aadsts, const std::string& text) {
    std::string q = "error=" + error + "&error_description=" +
                    net::PercentEncode("AADSTS" + std::to_string(aadsts) + ": " + text);
    if (!state.empty()) q += "&state=" + net::PercentEncode(state);
    return Redirect(WithQuery(target, q));
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
    return fail("invalid_scope", 70011,
                "The provided value for the input parameter 'scope' is not valid. The scope '" +
                    bad + "' does not exist.");
  const std::string challenge = param("code_challenge");
  if (challenge.empty())
    return fail("invalid_request", 9002325,
                "Proof Key for Code Exchange is required for this authorization request.");
  if (param("code_challenge_method") != "S256")
    return fail("invalid_request", 9002313,
                "Invalid request. The emulator requires code_challenge_method=S256.");
  if (!ValidChallenge(challenge))
    return fail("invalid_request", 501491, "Invalid size of Code_Challenge parameter.");

  const PendingConsent consent{redirect_uri, state, Join(scopes), challenge, client_id};
  if (options_.auto_approve) {
    const std::string code = "M.C5" + RandomString(80);
    {
      std::lock_guard lock(mu_);
      codes_[HexSha256(code)] = {
          client_id, redirect_uri, consent.scope, challenge, NowMs() + kCodeLifetimeMs, false};
    }
    std::string q = "code=" + net::PercentEncode(code);
    if (!state.empty()) q += "&state=" + net::PercentEncode(state);
    return Redirect(WithQuery(target, q));
  }
  const std::string id = RandomString(24);
  {
    std::lock_guard lock(mu_);
    consents_[id] = consent;
  }
  // The form posts back to this tenant's consent route: the request path minus "authorize".
  const std::string action = req.path + "/consent";
  return Html(200, "Let this app access your info?",
              "<p><b>" + HtmlEscape(client_id) + "</b> needs your permission to: " +
                  HtmlEscape(consent.scope) + "</p><form method=\"post\" action=\"" +
                  HtmlEscape(action) + "\"><input type=\"hidden\" name=\"consent\" value=\"" + id +
                  "\"><button name=\"decision\" value=\"accept\">Accept</button> "
                  "<button name=\"decision\" value=\"cancel\">Cancel</button></form>");
}

LocalResponse IdentityServer::Consent(const LocalRequest& req) {
  if (req.method != "POST") return LocalResponse::Text(405, "method not allowed");
  const std::string decision = req.FormParam("decision");
  const bool accept = decision == "accept" || decision == "approve";
  PendingConsent consent;
  std::string code;
  {
    std::lock_guard lock(mu_);
    auto it = consents_.find(req.FormParam("consent"));
    if (it == consents_.end())
      return HtmlError(90014, "This consent request is unknown or was already answered.");
    consent = it->second;
    consents_.erase(it);
    if (accept) {
      code = "M.C5" + RandomString(80);
      codes_[HexSha256(code)] = {consent.client_id, consent.redirect_uri,      consent.scope,
                                 consent.challenge, NowMs() + kCodeLifetimeMs, false};
    }
  }
  std::string q = accept ? "code=" + net::PercentEncode(code)
                         : "error=access_denied&error_description=" +
                               net::PercentEncode(
                                   "AADSTS65004: User declined to consent to "
                                   "access the app.");
  if (!consent.state.empty()) q += "&state=" + net::PercentEncode(consent.state);
  return Redirect(WithQuery(RedirectTarget(consent.redirect_uri), q));
}

int64_t IdentityServer::TokenLifetime() {
  if (options_.token_lifetime_s > 0) return options_.token_lifetime_s;
  // Microsoft randomises access-token lifetimes between 60 and 90 minutes.
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_int_distribution<int64_t>(3600, 5399)(rng);
}

LocalResponse IdentityServer::IssueAccess(const std::string& grant_id) {
  Grant& grant = grants_[grant_id];
  const std::string token = "EwB" + RandomString(120);
  const int64_t lifetime = TokenLifetime();
  const int64_t now = NowMs();
  access_[HexSha256(token)] = {grant_id, now + lifetime * 1000};
  nlohmann::json body = {{"token_type", "Bearer"},
                         {"scope", ResponseScope(grant.scope)},
                         {"expires_in", lifetime},
                         {"ext_expires_in", lifetime},
                         {"access_token", token}};
  if (HasScope(grant.scope, "offline_access")) {
    // Rotation: every answer carries a new refresh token and the previous one stops working.
    const std::string refresh = "M.C5_BAY." + RandomString(160);
    if (!grant.refresh_hash.empty()) {
      refresh_.erase(grant.refresh_hash);
      retired_[grant.refresh_hash] = grant_id;
    }
    grant.refresh_hash = HexSha256(refresh);
    refresh_[grant.refresh_hash] = grant_id;
    body["refresh_token"] = refresh;
  }
  if (HasScope(grant.scope, "openid"))
    body["id_token"] = IdToken(grant.client_id, base_url_, now / 1000, lifetime);
  Save();
  return IdentityJson(200, body);
}

LocalResponse IdentityServer::IssueTokens(const std::string& client_id, const std::string& scope) {
  const std::string grant_id = RandomString(16);
  grants_[grant_id] = {client_id, scope, ""};
  return IssueAccess(grant_id);
}

LocalResponse IdentityServer::Token(const LocalRequest& req) {
  if (req.method != "POST")
    return IdentityError(
        405, "invalid_request", 900561,
        "The endpoint only accepts POST requests. Received a " + req.method + " request.");
  const std::string grant_type = req.FormParam("grant_type");
  const std::string client_id = req.FormParam("client_id");
  if (grant_type.empty()) return MissingParam("grant_type");
  if (client_id.empty()) return MissingParam("client_id");
  if (client_id != options_.client_id)
    return IdentityError(
        400, "invalid_client", 700016,
        "Application with identifier '" + client_id + "' was not found in the directory.");
  if (!options_.client_secret.empty() && req.FormParam("client_secret") != options_.client_secret)
    return IdentityError(401, "invalid_client", 7000215, "Invalid client secret provided.");
  const int64_t now = NowMs();
  std::lock_guard lock(mu_);

  if (grant_type == "authorization_code") {
    const std::string code_text = req.FormParam("code");
    if (code_text.empty()) return MissingParam("code");
    auto it = codes_.find(HexSha256(code_text));
    if (it == codes_.end())
      return IdentityError(400, "invalid_grant", 70000,
                           "The provided value for the 'code' parameter is not valid.");
    AuthCode& code = it->second;
    if (code.used)
      return IdentityError(400, "invalid_grant", 54005,
                           "OAuth2 Authorization code was already redeemed, please retry with a "
                           "new valid code or use an existing refresh token.");
    if (code.expires_ms < now)
      return IdentityError(400, "invalid_grant", 70008,
                           "The provided authorization code or refresh token has expired due to "
                           "inactivity. Send a new interactive authorization request for this "
                           "user and resource.");
    if (code.client_id != client_id)
      return IdentityError(400, "invalid_grant", 70000,
                           "The provided value for the 'code' parameter is not valid. The code "
                           "was issued to another client.");
    const std::string redirect_uri = req.FormParam("redirect_uri");
    if (redirect_uri.empty()) return MissingParam("redirect_uri");
    if (redirect_uri != code.redirect_uri)
      return IdentityError(400, "invalid_grant", 500112,
                           "The reply address '" + redirect_uri +
                               "' does not match the reply address '" + code.redirect_uri +
                               "' provided when requesting Authorization code.");
    const std::string verifier = req.FormParam("code_verifier");
    if (verifier.empty()) return MissingParam("code_verifier");
    code.used = true;  // single use, whatever the outcome below
    if (!ValidVerifier(verifier) || Base64Url(Sha256(verifier)) != code.challenge)
      return IdentityError(400, "invalid_grant", 501481,
                           "The Code_Verifier does not match the code_challenge supplied in the "
                           "authorization request.");
    return IssueTokens(client_id, code.scope);
  }

  if (grant_type == "refresh_token") {
    const std::string refresh = req.FormParam("refresh_token");
    if (refresh.empty()) return MissingParam("refresh_token");
    const std::string hash = HexSha256(refresh);
    auto it = refresh_.find(hash);
    if (it == refresh_.end() || !grants_.count(it->second)) {
      if (retired_.count(hash))
        return IdentityError(400, "invalid_grant", 70008,
                             "The refresh token has expired or was already used to get new "
                             "tokens; the client must keep the refresh token of the latest "
                             "answer.");
      return IdentityError(400, "invalid_grant", 9002313,
                           "Invalid request. Request is malformed or invalid: unknown refresh "
                           "token.");
    }
    const std::string grant_id = it->second;
    if (grants_[grant_id].client_id != client_id)
      return IdentityError(400, "invalid_grant", 70000,
                           "The refresh token was issued to a different client.");
    if (const std::string scope = req.FormParam("scope"); !scope.empty()) {
      std::vector<std::string> asked;
      std::string bad;
      if (!NormaliseScopes(scope, &asked, &bad))
        return IdentityError(400, "invalid_scope", 70011,
                             "The provided value for the input parameter 'scope' is not valid. "
                             "The scope '" +
                                 bad + "' does not exist.");
      for (const auto& s : asked)
        if (!HasScope(grants_[grant_id].scope, s))
          return IdentityError(400, "invalid_grant", 65001,
                               "The user or administrator has not consented to use the "
                               "application with scope '" +
                                   s + "'.");
    }
    return IssueAccess(grant_id);
  }

  if (grant_type == kDeviceGrant) {
    const std::string device_code = req.FormParam("device_code");
    if (device_code.empty()) return MissingParam("device_code");
    auto it = devices_.find(HexSha256(device_code));
    if (it == devices_.end() || it->second.client_id != client_id)
      return IdentityError(400, "bad_verification_code", 70000,
                           "The provided value for the 'device_code' parameter is not valid.");
    DeviceCode& d = it->second;
    if (d.state == DeviceCode::State::kDone)
      return IdentityError(400, "invalid_grant", 54005,
                           "The device code was already redeemed; start a new device flow.");
    if (d.expires_ms <= now)
      return IdentityError(400, "expired_token", 70020,
                           "The provided value for the input parameter 'device_code' is not "
                           "valid. This device code has expired.");
    if (d.state == DeviceCode::State::kDenied) {
      d.state = DeviceCode::State::kDone;
      return IdentityError(400, "authorization_declined", 70000,
                           "The end user denied the authorization request.");
    }
    if (d.polls > 0 && now - d.last_poll_ms < options_.device_interval_s * 1000) {
      d.last_poll_ms = now;
      return IdentityError(400, "slow_down", 0,
                           "Polled faster than the interval; wait 5 more seconds between polls.");
    }
    d.last_poll_ms = now;
    ++d.polls;
    // --auto-approve: the first poll is still pending, so clients exercise that path.
    if (options_.auto_approve && d.polls >= 2) d.state = DeviceCode::State::kApproved;
    if (d.state != DeviceCode::State::kApproved)
      return IdentityError(400, "authorization_pending", 70016,
                           "OAuth 2.0 device flow error. Authorization is pending. Continue "
                           "polling.");
    d.state = DeviceCode::State::kDone;
    return IssueTokens(client_id, d.scope);
  }
  return IdentityError(400, "unsupported_grant_type", 70003,
                       "The app requested an unsupported grant type '" + grant_type + "'.");
}

LocalResponse IdentityServer::DeviceCodeRequest(const LocalRequest& req) {
  if (req.method != "POST")
    return IdentityError(
        405, "invalid_request", 900561,
        "The endpoint only accepts POST requests. Received a " + req.method + " request.");
  const std::string client_id = req.FormParam("client_id");
  if (client_id.empty()) return MissingParam("client_id");
  if (client_id != options_.client_id)
    return IdentityError(
        400, "invalid_client", 700016,
        "Application with identifier '" + client_id + "' was not found in the directory.");
  const std::string scope = req.FormParam("scope");
  if (scope.empty()) return MissingParam("scope");
  std::vector<std::string> scopes;
  std::string bad;
  if (!NormaliseScopes(scope, &scopes, &bad))
    return IdentityError(400, "invalid_scope", 70011,
                         "The provided value for the input parameter 'scope' is not valid. The "
                         "scope '" +
                             bad + "' does not exist.");
  const std::string device_code = "DAQABAAEAAAD" + RandomString(120);
  const std::string user_code = RandomString(9, kUserCodeAlphabet);
  std::lock_guard lock(mu_);
  DeviceCode d;
  d.client_id = client_id;
  d.scope = Join(scopes);
  d.user_code = user_code;
  d.expires_ms = NowMs() + options_.device_code_lifetime_s * 1000;
  devices_[HexSha256(device_code)] = d;
  const std::string uri = base_url_ + "/devicelogin";
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
  const std::string code = NormaliseUserCode(entered);
  const std::string decision = req.FormParam("decision");
  const bool deny = decision == "cancel" || decision == "deny";
  std::lock_guard lock(mu_);
  for (auto& [hash, d] : devices_) {
    if (d.user_code == code && d.state == DeviceCode::State::kPending && d.expires_ms > NowMs()) {
      d.state = deny ? DeviceCode::State::kDenied : DeviceCode::State::kApproved;
      return Html(200, deny ? "Access denied" : "You have signed in",
                  "<p>You may close this window and return to your device.</p>");
    }
  }
  return Html(400, "Invalid code", "<p>That code is unknown or expired. Try again.</p>" + kForm);
}

IdentityServer::Check IdentityServer::CheckAccessToken(const std::string& token,
                                                       std::string* scope) {
  std::lock_guard lock(mu_);
  auto it = access_.find(HexSha256(token));
  if (it == access_.end()) return Check::kUnknown;
  auto g = grants_.find(it->second.grant_id);
  if (g == grants_.end()) return Check::kUnknown;
  if (it->second.expires_ms <= NowMs()) return Check::kExpired;
  *scope = g->second.scope;
  return Check::kOk;
}

void IdentityServer::ExpireAccessToken(const std::string& token) {
  std::lock_guard lock(mu_);
  auto it = access_.find(HexSha256(token));
  if (it != access_.end()) it->second.expires_ms = NowMs() - 1;
}

}  // namespace jsync::emulator::onedrive

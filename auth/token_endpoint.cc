#include "auth/token_endpoint.h"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "net/local_http_server.h"

namespace jsync::auth {
namespace {

constexpr int64_t kDefaultLifetimeSeconds = 3600;  // when expires_in is missing (oauth.md §4)

std::string EncodeForm(const Form& form) {
  std::string out;
  for (const auto& [k, v] : form) {
    if (!out.empty()) out += '&';
    out += net::PercentEncode(k) + "=" + net::PercentEncode(v);
  }
  return out;
}

constexpr int64_t kMaxSeconds = 100LL * 366 * 24 * 3600;  // longer is nonsense: cap it

int64_t ParseRetryAfter(const std::string& value) {
  if (value.empty()) return -1;
  char* end = nullptr;
  long long seconds = std::strtoll(value.c_str(), &end, 10);
  if (end == value.c_str() || seconds < 0) return -1;
  return std::min<long long>(seconds, kMaxSeconds) * 1000;
}

}  // namespace

int64_t NowUnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Form ClientFields(const OAuthConfig& config) {
  Form f{{"client_id", config.client_id}};
  if (!config.client_secret.empty()) f.emplace_back("client_secret", config.client_secret);
  return f;
}

int64_t ParseJsonSeconds(const nlohmann::json& v) {
  int64_t seconds = -1;
  if (v.is_number_unsigned()) {
    seconds = static_cast<int64_t>(std::min<uint64_t>(v.get<uint64_t>(), kMaxSeconds));
  } else if (v.is_number_integer()) {
    seconds = v.get<int64_t>();
  } else if (v.is_string()) {
    // Some servers send expires_in as a string; accept digits only.
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return -1;
    uint64_t parsed = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
    // Digits only: the one failure left is a number too large for 64 bits.
    seconds = ec == std::errc() ? static_cast<int64_t>(std::min<uint64_t>(parsed, kMaxSeconds))
                                : kMaxSeconds;
  }
  return seconds < 0 ? -1 : std::min(seconds, kMaxSeconds);
}

Result<EndpointAnswer> PostForm(provider::HttpClient& http, const std::string& url,
                                const Form& form) {
  const std::string body = EncodeForm(form);
  provider::HttpRequest req;
  req.method = "POST";
  req.url = url;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"Accept", "application/json"}};
  req.body = ByteSpan(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  req.timeout_ms = 30000;
  std::string text;
  auto res = http.Send(req, [&](ByteSpan b) {
    text.append(reinterpret_cast<const char*>(b.data()), b.size());
    return text.size() < (1u << 20);
  });
  if (!res.ok()) {
    // The transport message names the URL, never the form (which holds the secrets).
    return Status(Code::kRetryable, "cannot reach " + url + ": " + res.status().message());
  }
  if (res->status >= 300) text = res->error_body;
  return ReadEndpointAnswer(res->status, text, res->Header("retry-after"), url);
}

EndpointAnswer ReadEndpointAnswer(int http_status, const std::string& text,
                                  const std::string& retry_after, const std::string& url) {
  EndpointAnswer answer;
  answer.http_status = http_status;
  answer.body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (answer.body.is_object() && answer.body.contains("error") && answer.body["error"].is_string()) {
    answer.error.error = answer.body["error"].get<std::string>();
    if (answer.body.contains("error_description") && answer.body["error_description"].is_string())
      answer.error.description = answer.body["error_description"].get<std::string>();
  }
  answer.error.http_status = http_status;
  answer.error.retry_after_ms = ParseRetryAfter(retry_after);
  if (answer.http_status >= 400 && answer.error.error.empty()) {
    answer.error.error = answer.http_status >= 500 || answer.http_status == 429
                             ? "temporarily_unavailable"
                             : "invalid_request";
    answer.error.description = "HTTP " + std::to_string(answer.http_status) + " from " + url;
  }
  return answer;
}

Result<TokenSet> ParseTokenResponse(const nlohmann::json& body, int64_t sent_at) {
  if (!body.is_object() || !body.contains("access_token") || !body["access_token"].is_string() ||
      body["access_token"].get<std::string>().empty()) {
    return Status::Invalid("the token endpoint answered without an access token");
  }
  TokenSet t;
  t.access_token = body["access_token"].get<std::string>();
  if (body.contains("refresh_token") && body["refresh_token"].is_string())
    t.refresh_token = body["refresh_token"].get<std::string>();
  if (body.contains("token_type") && body["token_type"].is_string())
    t.token_type = body["token_type"].get<std::string>();
  if (body.contains("scope") && body["scope"].is_string()) t.scope = body["scope"].get<std::string>();
  int64_t lifetime = body.contains("expires_in") ? ParseJsonSeconds(body["expires_in"]) : -1;
  t.expires_at = sent_at + (lifetime > 0 ? lifetime : kDefaultLifetimeSeconds);
  if (body.contains("refresh_token_expires_in")) {
    int64_t r = ParseJsonSeconds(body["refresh_token_expires_in"]);
    if (r > 0) t.refresh_expires_at = sent_at + r;
  }
  return t;
}

Status ClassifyTokenError(const TokenError& e, const std::string& what) {
  std::string detail = e.error;
  if (!e.description.empty()) detail += ": " + e.description;
  if (e.error == "invalid_grant") {
    return Status(Code::kAuthExpired,
                  what + " was refused (" + detail + ")");
  }
  if (e.error == "temporarily_unavailable" || e.error == "server_error" || e.http_status == 429 ||
      e.http_status >= 500) {
    Status s(Code::kRetryable, what + " failed for now (" + detail + ")");
    return s.WithRetryAfter(e.retry_after_ms);
  }
  return Status::Invalid(what + " was refused (" + detail + ")");
}

Result<TokenSet> ExchangeCode(provider::HttpClient& http, const OAuthConfig& config,
                              const std::string& code, const std::string& redirect_uri,
                              const std::string& code_verifier, int64_t now) {
  Form form{{"grant_type", "authorization_code"},
            {"code", code},
            {"redirect_uri", redirect_uri},
            {"code_verifier", code_verifier}};
  for (auto& f : ClientFields(config)) form.push_back(f);
  JSYNC_ASSIGN_OR_RETURN(auto answer, PostForm(http, config.token_url, form));
  if (answer.is_error()) return ClassifyTokenError(answer.error, "exchanging the authorization code");
  return ParseTokenResponse(answer.body, now);
}

Result<TokenSet> RefreshTokens(provider::HttpClient& http, const OAuthConfig& config,
                               const std::string& refresh_token, int64_t now) {
  if (refresh_token.empty())
    return Status(Code::kAuthExpired, "the access token expired and there is no refresh token");
  Form form{{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}};
  // Microsoft wants the same scopes again on refresh; others accept them.
  if (!config.scopes.empty()) form.emplace_back("scope", config.scopes);
  for (auto& f : ClientFields(config)) form.push_back(f);
  JSYNC_ASSIGN_OR_RETURN(auto answer, PostForm(http, config.token_url, form));
  if (answer.is_error()) return ClassifyTokenError(answer.error, "refreshing the access token");
  JSYNC_ASSIGN_OR_RETURN(TokenSet t, ParseTokenResponse(answer.body, now));
  if (t.refresh_token.empty()) t.refresh_token = refresh_token;
  return t;
}

Status RevokeToken(provider::HttpClient& http, const OAuthConfig& config, const std::string& token,
                   const std::string& type_hint) {
  if (config.revoke_url.empty() || token.empty()) return Status::Ok();
  Form form{{"token", token}, {"token_type_hint", type_hint}};
  for (auto& f : ClientFields(config)) form.push_back(f);
  JSYNC_ASSIGN_OR_RETURN(auto answer, PostForm(http, config.revoke_url, form));
  if (!answer.is_error() || answer.error.error == "invalid_token") return Status::Ok();
  return ClassifyTokenError(answer.error, "revoking the token");
}

}  // namespace jsync::auth

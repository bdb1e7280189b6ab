#include "auth/oauth_credentials.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "auth/accounts.h"
#include "core/util/private_file.h"

namespace jsync::auth {
namespace {

}  // namespace

std::string OAuthSecret::Serialize() const {
  nlohmann::json j{{"kind", "oauth2"},
                   {"access_token", tokens.access_token},
                   {"refresh_token", tokens.refresh_token},
                   {"token_type", tokens.token_type},
                   {"scope", tokens.scope},
                   {"expires_at", tokens.expires_at},
                   {"refresh_expires_at", tokens.refresh_expires_at},
                   {"issued_at", issued_at}};
  if (!client_secret.empty()) j["client_secret"] = client_secret;
  return j.dump();
}

Result<OAuthSecret> OAuthSecret::Parse(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || j.value("kind", "") != "oauth2" || !j.contains("access_token") ||
      !j["access_token"].is_string())
    return Status::Corrupt("the stored tokens are damaged; link the account again");
  OAuthSecret s;
  s.tokens.access_token = j["access_token"].get<std::string>();
  s.tokens.refresh_token = j.value("refresh_token", "");
  s.tokens.token_type = j.value("token_type", "Bearer");
  s.tokens.scope = j.value("scope", "");
  s.tokens.expires_at = j.value("expires_at", int64_t{0});
  s.tokens.refresh_expires_at = j.value("refresh_expires_at", int64_t{0});
  s.issued_at = j.value("issued_at", int64_t{0});
  s.client_secret = j.value("client_secret", "");
  return s;
}

int64_t RefreshMargin(int64_t issued_at, int64_t expires_at) {
  const int64_t lifetime = issued_at > 0 ? expires_at - issued_at : 3600;
  return std::clamp<int64_t>(lifetime / 2, 0, 120);
}

OAuthCredentialSource::OAuthCredentialSource(std::string home, std::string provider,
                                             OAuthConfig config, std::shared_ptr<SecretStore> store,
                                             std::function<int64_t()> now)
    : home_(std::move(home)),
      provider_(std::move(provider)),
      config_(std::move(config)),
      store_(std::move(store)),
      now_(std::move(now)) {}

Status OAuthCredentialSource::Load() {
  JSYNC_ASSIGN_OR_RETURN(auto text, store_->Get(provider_));
  if (!text)
    return Status(Code::kAuthExpired, provider_ + " is not linked on this device: run `jsync link " +
                                          provider_ + "`");
  JSYNC_ASSIGN_OR_RETURN(secret_, OAuthSecret::Parse(*text));
  if (!secret_.client_secret.empty()) config_.client_secret = secret_.client_secret;
  loaded_ = true;
  return Status::Ok();
}

Result<std::string> OAuthCredentialSource::Authorization() {
  std::lock_guard lock(mu_);
  if (!loaded_) JSYNC_RETURN_IF_ERROR(Load());
  const int64_t margin = RefreshMargin(secret_.issued_at, secret_.tokens.expires_at);
  if (now_() >= secret_.tokens.expires_at - margin) {
    JSYNC_RETURN_IF_ERROR(RefreshLocked(secret_.tokens.access_token));
  }
  return "Bearer " + secret_.tokens.access_token;
}

Status OAuthCredentialSource::Refresh() {
  std::lock_guard lock(mu_);
  if (!loaded_) JSYNC_RETURN_IF_ERROR(Load());
  return RefreshLocked(secret_.tokens.access_token);
}

Status OAuthCredentialSource::RefreshLocked(std::string seen_access_token) {
  // Serialises refreshes of one account between processes (two `jsync sync` at once).
  std::error_code ec;
  std::filesystem::create_directories(home_ + "/credentials", ec);
  FileLock lock(home_ + "/credentials/" + provider_ + ".refresh.lock");
  // Another process may have refreshed while we waited for the lock: use its tokens rather
  // than spend (and, with rotation, invalidate) the refresh token a second time.
  JSYNC_RETURN_IF_ERROR(Load());
  if (secret_.tokens.access_token != seen_access_token &&
      now_() < secret_.tokens.expires_at - RefreshMargin(secret_.issued_at, secret_.tokens.expires_at))
    return Status::Ok();
  provider::HttpClient http;
  const int64_t sent_at = now_();
  auto fresh = RefreshTokens(http, config_, secret_.tokens.refresh_token, sent_at);
  if (!fresh.ok()) {
    if (fresh.status().code() == Code::kAuthExpired) return MarkRelinkNeeded(fresh.status());
    return fresh.status();
  }
  OAuthSecret next = secret_;
  next.tokens = *fresh;
  next.issued_at = sent_at;
  // Store first: a rotated refresh token that is used but not kept would end the link.
  JSYNC_RETURN_IF_ERROR(store_->Put(provider_, next.Serialize()));
  secret_ = next;
  ++refreshes_;
  if (auto account = FindAccount(home_, provider_); account.ok() && account->has_value()) {
    Account a = **account;
    a.expires_at = next.tokens.expires_at;
    a.refresh_expires_at = next.tokens.refresh_expires_at;
    if (!next.tokens.scope.empty()) a.scopes = next.tokens.scope;
    a.needs_relink = false;
    a.problem.clear();
    (void)SaveAccount(home_, a);  // metadata only; the tokens are already safe
  }
  return Status::Ok();
}

Status OAuthCredentialSource::MarkRelinkNeeded(const Status& cause) {
  if (auto account = FindAccount(home_, provider_); account.ok() && account->has_value()) {
    Account a = **account;
    a.needs_relink = true;
    a.problem = cause.message();
    (void)SaveAccount(home_, a);
  }
  return Status(Code::kAuthExpired,
                provider_ + " needs to be linked again (" + cause.message() + "): run `jsync link " +
                    provider_ + "`; edits made meanwhile stay on this device and upload after");
}

}  // namespace jsync::auth

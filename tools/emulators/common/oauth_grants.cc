#include "tools/emulators/common/oauth_grants.h"

#include <iterator>
#include <nlohmann/json.hpp>

#include "tools/emulators/common/oauth_rules.h"
#include "tools/emulators/common/util.h"

namespace jsync::emulator {

OAuthGrants::OAuthGrants(OAuthGrantsOptions options) : options_(std::move(options)) {}

Status OAuthGrants::Load() {
  std::string text;
  if (options_.state_file.empty() || !ReadFile(options_.state_file, &text)) return Status::Ok();
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return Status::Fatal(options_.state_file + " is not valid JSON");
  std::lock_guard lock(mu_);
  // Named copies: items() of a temporary would dangle.
  const nlohmann::json grants = j.value("grants", nlohmann::json::object());
  const nlohmann::json retired = j.value("retired", nlohmann::json::object());
  const nlohmann::json access = j.value("access", nlohmann::json::object());
  for (const auto& [id, g] : grants.items()) {
    if (!g.is_object()) continue;
    StoredGrant& stored = grants_[id];
    stored = {{g.value("clientId", ""), g.value("scope", "")}, g.value("refresh", "")};
    if (!stored.refresh_hash.empty()) refresh_[stored.refresh_hash] = id;
  }
  for (const auto& [hash, id] : retired.items())
    if (id.is_string()) retired_[hash] = id.get<std::string>();
  for (const auto& [hash, a] : access.items())
    if (a.is_object()) access_[hash] = {a.value("grant", ""), a.value("expiresMs", int64_t{0})};
  return Status::Ok();
}

void OAuthGrants::Save() {
  if (options_.state_file.empty()) return;
  nlohmann::json grants = nlohmann::json::object();
  for (const auto& [id, g] : grants_)
    grants[id] = {
        {"clientId", g.grant.client_id}, {"scope", g.grant.scope}, {"refresh", g.refresh_hash}};
  nlohmann::json access = nlohmann::json::object();
  const int64_t now = NowMs();
  for (const auto& [hash, a] : access_)
    if (a.expires_ms > now) access[hash] = {{"grant", a.grant_id}, {"expiresMs", a.expires_ms}};
  nlohmann::json state = {{"grants", grants}, {"access", access}};
  if (!retired_.empty()) state["retired"] = retired_;
  WriteFileAtomic(options_.state_file, state.dump());
}

std::string OAuthGrants::AddConsent(const AuthRequest& request) {
  const std::string id = RandomString(24);
  std::lock_guard lock(mu_);
  consents_[id] = request;
  return id;
}

bool OAuthGrants::TakeConsent(const std::string& id, AuthRequest* request) {
  std::lock_guard lock(mu_);
  auto it = consents_.find(id);
  if (it == consents_.end()) return false;
  *request = it->second;
  consents_.erase(it);
  return true;
}

void OAuthGrants::AddCode(const std::string& code, const AuthRequest& request,
                          int64_t lifetime_ms) {
  std::lock_guard lock(mu_);
  codes_[HexSha256(code)] = {request, NowMs() + lifetime_ms, false};
}

OAuthGrants::Redeem OAuthGrants::RedeemCode(const std::string& code, const std::string& client_id,
                                            const std::string& redirect_uri,
                                            const std::string& verifier, AuthRequest* request) {
  std::lock_guard lock(mu_);
  auto it = codes_.find(HexSha256(code));
  if (it == codes_.end()) return Redeem::kUnknown;
  Code& c = it->second;
  *request = c.request;
  if (c.used) return Redeem::kUsed;
  if (c.expires_ms < NowMs()) return Redeem::kExpired;
  if (c.request.client_id != client_id) return Redeem::kOtherClient;
  if (redirect_uri != c.request.redirect_uri) return Redeem::kOtherRedirect;
  if (verifier.empty()) return Redeem::kNoVerifier;
  c.used = true;
  return PkceS256Matches(verifier, c.request.challenge) ? Redeem::kOk : Redeem::kBadVerifier;
}

void OAuthGrants::AddDeviceCode(const std::string& device_code, const std::string& user_code,
                                const std::string& client_id, const std::string& scope,
                                int64_t lifetime_ms) {
  Device d;
  d.client_id = client_id;
  d.scope = scope;
  d.user_code = user_code;
  d.expires_ms = NowMs() + lifetime_ms;
  std::lock_guard lock(mu_);
  devices_[HexSha256(device_code)] = d;
}

bool OAuthGrants::AnswerUserCode(const std::string& typed, bool approve) {
  const std::string code = NormaliseUserCode(typed);
  std::lock_guard lock(mu_);
  for (auto& [hash, d] : devices_) {
    if (d.user_code == code && d.state == Device::State::kPending && d.expires_ms > NowMs()) {
      d.state = approve ? Device::State::kApproved : Device::State::kDenied;
      return true;
    }
  }
  return false;
}

OAuthGrants::Poll OAuthGrants::PollDeviceCode(const std::string& device_code,
                                              const std::string& client_id, std::string* scope) {
  const int64_t now = NowMs();
  std::lock_guard lock(mu_);
  auto it = devices_.find(HexSha256(device_code));
  if (it == devices_.end()) return Poll::kUnknown;
  Device& d = it->second;
  if (d.client_id != client_id) return Poll::kOtherClient;
  if (d.state == Device::State::kDone) return Poll::kRedeemed;
  if (d.expires_ms <= now) return Poll::kExpired;
  if (d.state == Device::State::kDenied) {
    d.state = Device::State::kDone;
    return Poll::kDenied;
  }
  if (d.polls > 0 && now - d.last_poll_ms < options_.device_interval_ms) {
    d.last_poll_ms = now;
    return Poll::kSlowDown;
  }
  d.last_poll_ms = now;
  ++d.polls;
  // Auto-approval: the first poll is still pending, so clients exercise that path.
  if (options_.auto_approve && d.polls >= 2) d.state = Device::State::kApproved;
  if (d.state != Device::State::kApproved) return Poll::kPending;
  d.state = Device::State::kDone;
  *scope = d.scope;
  return Poll::kApproved;
}

void OAuthGrants::AddAccessLocked(const std::string& grant_id, const std::string& access_token,
                                  int64_t expires_ms) {
  access_[HexSha256(access_token)] = {grant_id, expires_ms};
}

void OAuthGrants::OpenGrant(const Grant& grant, const std::string& access_token,
                            int64_t access_expires_ms, const std::string& refresh_token) {
  const std::string grant_id = RandomString(16);
  std::lock_guard lock(mu_);
  StoredGrant& stored = grants_[grant_id];
  stored.grant = grant;
  if (!refresh_token.empty()) {
    stored.refresh_hash = HexSha256(refresh_token);
    refresh_[stored.refresh_hash] = grant_id;
  }
  AddAccessLocked(grant_id, access_token, access_expires_ms);
  Save();
}

OAuthGrants::Refresh OAuthGrants::FindRefreshLocked(const std::string& hash,
                                                    std::string* grant_id) const {
  auto it = refresh_.find(hash);
  if (it != refresh_.end() && grants_.count(it->second)) {
    *grant_id = it->second;
    return Refresh::kOk;
  }
  return retired_.count(hash) ? Refresh::kRetired : Refresh::kUnknown;
}

OAuthGrants::Refresh OAuthGrants::FindRefresh(const std::string& refresh_token, Grant* grant) {
  std::lock_guard lock(mu_);
  std::string grant_id;
  const Refresh found = FindRefreshLocked(HexSha256(refresh_token), &grant_id);
  if (found == Refresh::kOk) *grant = grants_.at(grant_id).grant;
  return found;
}

OAuthGrants::Refresh OAuthGrants::RefreshGrant(const std::string& refresh_token,
                                               const std::string& access_token,
                                               int64_t access_expires_ms,
                                               const std::string& next_refresh) {
  const std::string hash = HexSha256(refresh_token);
  std::lock_guard lock(mu_);
  std::string grant_id;
  const Refresh found = FindRefreshLocked(hash, &grant_id);
  if (found != Refresh::kOk) return found;
  AddAccessLocked(grant_id, access_token, access_expires_ms);
  if (!next_refresh.empty()) {
    StoredGrant& stored = grants_.at(grant_id);
    refresh_.erase(hash);
    retired_[hash] = grant_id;
    stored.refresh_hash = HexSha256(next_refresh);
    refresh_[stored.refresh_hash] = grant_id;
  }
  Save();
  return Refresh::kOk;
}

bool OAuthGrants::Revoke(const std::string& token) {
  const std::string hash = HexSha256(token);
  std::lock_guard lock(mu_);
  std::string grant_id;
  if (auto a = access_.find(hash); a != access_.end() && a->second.expires_ms > NowMs())
    grant_id = a->second.grant_id;
  else if (auto r = refresh_.find(hash); r != refresh_.end())
    grant_id = r->second;
  auto g = grants_.find(grant_id);
  if (grant_id.empty() || g == grants_.end()) return false;
  refresh_.erase(g->second.refresh_hash);
  grants_.erase(g);
  for (auto it = access_.begin(); it != access_.end();)
    it = it->second.grant_id == grant_id ? access_.erase(it) : std::next(it);
  for (auto it = retired_.begin(); it != retired_.end();)
    it = it->second == grant_id ? retired_.erase(it) : std::next(it);
  Save();
  return true;
}

TokenCheck OAuthGrants::CheckAccessToken(const std::string& token, std::string* scope) {
  std::lock_guard lock(mu_);
  auto it = access_.find(HexSha256(token));
  if (it == access_.end()) return TokenCheck::kUnknown;
  auto g = grants_.find(it->second.grant_id);
  if (g == grants_.end()) return TokenCheck::kUnknown;
  if (it->second.expires_ms <= NowMs()) return TokenCheck::kExpired;
  *scope = g->second.grant.scope;
  return TokenCheck::kOk;
}

void OAuthGrants::ExpireAccessToken(const std::string& token) {
  std::lock_guard lock(mu_);
  auto it = access_.find(HexSha256(token));
  if (it != access_.end()) it->second.expires_ms = NowMs() - 1;
}

}  // namespace jsync::emulator

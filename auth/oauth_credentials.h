// The Authorization header of an OAuth-linked account, kept fresh: the access token is
// refreshed before it expires (a clock-skew margin early) and once after a 401. Refreshes are
// single-flight per account, across threads and processes, and the new tokens are stored
// before they are used, so a rotated refresh token is never lost (oauth.md §0).
// `invalid_grant` marks the account "re-link needed"; local edits stay queued.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "auth/oauth_config.h"
#include "auth/secret_store.h"
#include "auth/token_endpoint.h"
#include "host/http_client.h"

namespace jsync::auth {

// The secret stored for an OAuth account (a JSON text in the SecretStore).
struct OAuthSecret {
  TokenSet tokens;
  int64_t issued_at = 0;
  std::string client_secret;
  std::string Serialize() const;
  static Result<OAuthSecret> Parse(const std::string& text);
};

// Refresh this long before expiry: 120 s, or half the lifetime for short-lived tokens.
int64_t RefreshMargin(int64_t issued_at, int64_t expires_at);

class OAuthCredentialSource final : public provider::CredentialSource {
 public:
  OAuthCredentialSource(std::string home, std::string provider, OAuthConfig config,
                        std::shared_ptr<SecretStore> store,
                        std::function<int64_t()> now = NowUnixSeconds);

  Result<std::string> Authorization() override;
  Status Refresh() override;
  uint64_t refreshes() const { return refreshes_; }

 private:
  Status Load();
  Status RefreshLocked(std::string seen_access_token);
  Status MarkRelinkNeeded(const Status& cause);

  std::string home_;
  std::string provider_;
  OAuthConfig config_;
  std::shared_ptr<SecretStore> store_;
  std::function<int64_t()> now_;
  std::mutex mu_;
  bool loaded_ = false;
  OAuthSecret secret_;
  uint64_t refreshes_ = 0;
};

}  // namespace jsync::auth

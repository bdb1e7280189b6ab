// The state of an emulated OAuth 2.0 authorization server, whatever the provider: pending
// consents, authorization codes, device codes, grants and their tokens. Each operation checks
// and changes the state under one lock and answers an outcome; the provider turns outcomes into
// its own wire format (paths, field names, error bodies, lifetimes, token shapes).
// Codes and tokens are kept only as their SHA-256; grants and live access tokens persist in a
// JSON state file, saved after every change to them. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "core/util/status.h"

namespace jsync::emulator {

enum class TokenCheck { kOk, kUnknown, kExpired };

// What an authorization request asked for: kept while the user consents, then in its code.
struct AuthRequest {
  std::string client_id, redirect_uri, scope, challenge, state;
};

struct OAuthGrantsOptions {
  std::string state_file;             // "": nothing persists
  bool auto_approve = false;          // device codes approve themselves at the second poll
  int64_t device_interval_ms = 5000;  // polls closer together than this: slow down
};

class OAuthGrants {
 public:
  explicit OAuthGrants(OAuthGrantsOptions options);
  // Reads the state file if there is one; an error when it is not valid JSON.
  Status Load();

  // A consent the user has still to answer; returns its id for the consent form.
  std::string AddConsent(const AuthRequest& request);
  // Removes the consent `id` and gives its request; false when unknown (or already answered).
  bool TakeConsent(const std::string& id, AuthRequest* request);

  void AddCode(const std::string& code, const AuthRequest& request, int64_t lifetime_ms);
  enum class Redeem {
    kOk,
    kUnknown,
    kUsed,
    kExpired,
    kOtherClient,
    kOtherRedirect,
    kNoVerifier,
    kBadVerifier
  };
  // Redeems an authorization code, checking in this order: known, unused, unexpired, issued to
  // `client_id`, for `redirect_uri`, a verifier given, PKCE. A code is spent by the redemption
  // attempt that reaches the PKCE check, whatever its outcome. Whenever the code is known,
  // *request is its request.
  Redeem RedeemCode(const std::string& code, const std::string& client_id,
                    const std::string& redirect_uri, const std::string& verifier,
                    AuthRequest* request);

  void AddDeviceCode(const std::string& device_code, const std::string& user_code,
                     const std::string& client_id, const std::string& scope, int64_t lifetime_ms);
  // The verification page's answer: approves (or denies) the pending, unexpired device code
  // whose user code is `typed` once normalised. False when there is none.
  bool AnswerUserCode(const std::string& typed, bool approve);
  enum class Poll {
    kApproved,
    kUnknown,
    kOtherClient,
    kRedeemed,
    kExpired,
    kDenied,
    kSlowDown,
    kPending
  };
  // A token request's poll of `device_code`, checked in this order. kDenied is answered once,
  // kApproved once (with *scope, the code then redeemed); a poll sooner than the interval after
  // the previous one is kSlowDown and counts as the previous one.
  Poll PollDeviceCode(const std::string& device_code, const std::string& client_id,
                      std::string* scope);

  struct Grant {
    std::string client_id, scope;
  };
  // A new grant with its first access token and, unless "", its refresh token.
  void OpenGrant(const Grant& grant, const std::string& access_token, int64_t access_expires_ms,
                 const std::string& refresh_token);
  enum class Refresh { kOk, kUnknown, kRetired };
  // The grant `refresh_token` belongs to; kRetired when rotation has replaced it.
  Refresh FindRefresh(const std::string& refresh_token, Grant* grant);
  // A new access token for the grant of `refresh_token`; a non-empty `next_refresh` replaces
  // that refresh token, which is retired (rotation). Not kOk when `refresh_token` is no longer
  // the grant's, e.g. a concurrent refresh rotated it first.
  Refresh RefreshGrant(const std::string& refresh_token, const std::string& access_token,
                       int64_t access_expires_ms, const std::string& next_refresh);
  // Revokes the grant that a live access token or a refresh token belongs to, with all its
  // tokens. False when the token is neither.
  bool Revoke(const std::string& token);

  // On kOk sets *scope, the grant's.
  TokenCheck CheckAccessToken(const std::string& token, std::string* scope);
  void ExpireAccessToken(const std::string& token);

 private:
  struct StoredGrant {
    Grant grant;
    std::string refresh_hash;  // the one valid refresh token ("" none); rotation replaces it
  };
  struct Access {
    std::string grant_id;
    int64_t expires_ms = 0;
  };
  struct Code {
    AuthRequest request;
    int64_t expires_ms = 0;
    bool used = false;
  };
  struct Device {
    std::string client_id, scope, user_code;
    int64_t expires_ms = 0;
    int64_t last_poll_ms = 0;
    int polls = 0;
    enum class State { kPending, kApproved, kDenied, kDone } state = State::kPending;
  };

  // Under mu_.
  Refresh FindRefreshLocked(const std::string& hash, std::string* grant_id) const;
  void AddAccessLocked(const std::string& grant_id, const std::string& access_token,
                       int64_t expires_ms);
  void Save();

  const OAuthGrantsOptions options_;
  std::mutex mu_;
  std::map<std::string, StoredGrant> grants_;    // grant id → grant
  std::map<std::string, Access> access_;         // sha256(access token) → access
  std::map<std::string, std::string> refresh_;   // sha256(refresh token) → grant id
  std::map<std::string, std::string> retired_;   // sha256(rotated-out refresh) → grant id
  std::map<std::string, Code> codes_;            // sha256(code) → request
  std::map<std::string, Device> devices_;        // sha256(device code) → request
  std::map<std::string, AuthRequest> consents_;  // consent id → request
};

}  // namespace jsync::emulator

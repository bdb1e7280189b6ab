// The credentials of an iCloud (CloudKit Web Services) account: no Authorization header, but
// `ckAPIToken=…&ckWebAuthToken=…` in every request's query string. The web auth token is good
// for one round trip: each response may carry its replacement in X-Apple-CloudKit-Web-Auth-Token,
// which is stored (SecretStore Put) before the next request goes out (icloud.md §2.1). There is
// no refresh: a 421 (or 401) means the user must sign in again, and the account is marked so.
// Requests of one account must be serialised (one token chain): use one HttpClient at a time.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "auth/oauth_config.h"
#include "auth/secret_store.h"
#include "host/http_client.h"

namespace jsync::auth {

// The secret stored for a CloudKit account (a JSON text in the SecretStore).
struct CloudKitSecret {
  std::string web_auth_token;
  std::string api_token;
  std::string Serialize() const;
  static Result<CloudKitSecret> Parse(const std::string& text);
};

class CloudKitCredentialSource final : public provider::CredentialSource {
 public:
  CloudKitCredentialSource(std::string home, std::string provider,
                           std::shared_ptr<SecretStore> store);

  // "" normally; the storage error when a rotated token could not be stored (the request is
  // not sent: the stored chain would be broken by it).
  Result<std::string> Authorization() override;
  // Ok when the store holds a newer token than the one refused (another client rotated it);
  // else marks the account "re-link needed" and returns kAuthExpired.
  Status Refresh() override;
  std::string UrlQuerySuffix() override;
  void ObserveResponse(const provider::HttpResponse& response) override;
  uint64_t rotations() const { return rotations_; }

 private:
  Status LoadLocked();
  std::string home_;
  std::string provider_;
  std::shared_ptr<SecretStore> store_;
  std::mutex mu_;
  bool loaded_ = false;
  CloudKitSecret secret_;
  bool unsaved_ = false;  // secret_ holds a rotated token the store does not have yet
  uint64_t rotations_ = 0;
};

}  // namespace jsync::auth

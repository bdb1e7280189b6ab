#include "auth/cloudkit_credentials.h"

#include <nlohmann/json.hpp>

#include "auth/accounts.h"
#include "net/local_http_server.h"

namespace jsync::auth {
namespace {

constexpr char kRotatedTokenHeader[] = "x-apple-cloudkit-web-auth-token";

}  // namespace

std::string CloudKitSecret::Serialize() const {
  return nlohmann::json{{"kind", "cloudkit"},
                        {"web_auth_token", web_auth_token},
                        {"api_token", api_token}}
      .dump();
}

Result<CloudKitSecret> CloudKitSecret::Parse(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || j.value("kind", "") != "cloudkit" || !j.contains("web_auth_token") ||
      !j["web_auth_token"].is_string() || !j.contains("api_token") || !j["api_token"].is_string())
    return Status::Corrupt("the stored CloudKit tokens are damaged; link the account again");
  return CloudKitSecret{j["web_auth_token"].get<std::string>(), j["api_token"].get<std::string>()};
}

CloudKitCredentialSource::CloudKitCredentialSource(std::string home, std::string provider,
                                                   std::shared_ptr<SecretStore> store)
    : home_(std::move(home)), provider_(std::move(provider)), store_(std::move(store)) {}

Status CloudKitCredentialSource::LoadLocked() {
  JSYNC_ASSIGN_OR_RETURN(auto text, store_->Get(provider_));
  if (!text)
    return Status(Code::kAuthExpired, "the iCloud tokens of " + provider_ +
                                          " are missing from the token store; run `jsync link " +
                                          provider_ + "`");
  JSYNC_ASSIGN_OR_RETURN(secret_, CloudKitSecret::Parse(*text));
  loaded_ = true;
  return Status::Ok();
}

Result<std::string> CloudKitCredentialSource::Authorization() {
  std::lock_guard lock(mu_);
  if (!loaded_) JSYNC_RETURN_IF_ERROR(LoadLocked());
  if (unsaved_) {
    // Retry storing the rotated token: sending it before it is kept could end the link.
    JSYNC_RETURN_IF_ERROR(store_->Put(provider_, secret_.Serialize()));
    unsaved_ = false;
  }
  return std::string();
}

std::string CloudKitCredentialSource::UrlQuerySuffix() {
  std::lock_guard lock(mu_);
  if (!loaded_) return "";  // Authorization() reported why
  return "ckAPIToken=" + net::PercentEncode(secret_.api_token) +
         "&ckWebAuthToken=" + net::PercentEncode(secret_.web_auth_token);
}

void CloudKitCredentialSource::ObserveResponse(const provider::HttpResponse& response) {
  const std::string next = response.Header(kRotatedTokenHeader);
  std::lock_guard lock(mu_);
  if (next.empty() || !loaded_ || next == secret_.web_auth_token) return;
  secret_.web_auth_token = next;
  ++rotations_;
  // Stored before the next request; when the store fails, Authorization() retries and holds
  // the next request back until it succeeds.
  unsaved_ = !store_->Put(provider_, secret_.Serialize()).ok();
}

Status CloudKitCredentialSource::Refresh() {
  std::lock_guard lock(mu_);
  if (loaded_ && !unsaved_) {
    // Another client of this account may have rotated the token meanwhile: use its token.
    const std::string refused = secret_.web_auth_token;
    if (LoadLocked().ok() && secret_.web_auth_token != refused) return Status::Ok();
  }
  const std::string problem = "CloudKit asked for a new iCloud sign-in";
  if (auto account = FindAccount(home_, provider_); account.ok() && account->has_value()) {
    Account a = **account;
    a.needs_relink = true;
    a.problem = problem;
    (void)SaveAccount(home_, a);
  }
  return Status(Code::kAuthExpired, provider_ + " needs to be linked again: run `jsync link " +
                                        provider_ + "`; edits made meanwhile stay on this device");
}

}  // namespace jsync::auth

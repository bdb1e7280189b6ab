// Test-only: the Drive emulator's OAuth tokens as a provider::CredentialSource. Refresh()
// posts grant_type=refresh_token to {emulator}/token (RFC 6749 §6) through its own HttpClient
// with transport faults off. Header-only; needs jsync_core and nlohmann/json.
//
// TODO(auth): use jsync::auth::OAuthCredentialSource (auth/oauth_credentials.h) once it can run
// on an in-memory secret store in tests.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "core/provider/http_client.h"

namespace jsync::gdrive_testing {

class EmulatorCredentials final : public provider::CredentialSource {
 public:
  EmulatorCredentials(std::string base_url, std::string client_id, std::string access_token,
                      std::string refresh_token)
      : base_url_(std::move(base_url)),
        client_id_(std::move(client_id)),
        access_(std::move(access_token)),
        refresh_(std::move(refresh_token)) {}
  Result<std::string> Authorization() override { return "Bearer " + access_; }
  Status Refresh() override {
    provider::HttpClient client;  // no credentials of its own
    client.set_fault_plan(std::nullopt);
    const std::string form =
        "grant_type=refresh_token&refresh_token=" + refresh_ + "&client_id=" + client_id_;
    provider::HttpRequest req;
    req.method = "POST";
    req.url = base_url_ + "/token";
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    req.body = ByteSpan(reinterpret_cast<const uint8_t*>(form.data()), form.size());
    std::string body;
    auto resp = client.Send(req, [&](ByteSpan b) {
      body.append(reinterpret_cast<const char*>(b.data()), b.size());
      return true;
    });
    if (!resp.ok()) return resp.status();
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (resp->status != 200 || !j.is_object() || !j.contains("access_token")) {
      return Status(Code::kAuthExpired,
                    "the emulator refused the refresh (HTTP " + std::to_string(resp->status) + ")");
    }
    access_ = j.value("access_token", "");
    if (j.contains("refresh_token")) refresh_ = j.value("refresh_token", "");
    ++refreshes_;
    return Status::Ok();
  }
  const std::string& access_token() const { return access_; }
  int refreshes() const { return refreshes_; }

 private:
  std::string base_url_;
  std::string client_id_;
  std::string access_;
  std::string refresh_;
  int refreshes_ = 0;
};

}  // namespace jsync::gdrive_testing

#include "auth/cloudkit_flow.h"

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "net/local_http_server.h"
#include "host/http_client.h"

namespace jsync::auth {
namespace {

// CloudKit's Sign-In Callback URL is configured on the API token as http://127.0.0.1:PORT/.
constexpr char kCallbackPath[] = "/";

net::LocalResponse Page(int status, const std::string& title, const std::string& text) {
  net::LocalResponse r = net::LocalResponse::Text(
      status,
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>journal-sync</title></head>"
      "<body><h1>" + title + "</h1><p>" + text + "</p></body></html>",
      "text/html; charset=utf-8");
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Connection", "close");
  return r;
}

// The sign-in address from the answer to users/caller without a web token.
Result<std::string> SignInUrl(const OAuthConfig& config) {
  std::string base = config.cloudkit_api_base;
  while (!base.empty() && base.back() == '/') base.pop_back();
  provider::HttpClient http;
  provider::HttpRequest req;
  req.url = base + "/private/users/caller?ckAPIToken=" +
            net::PercentEncode(config.cloudkit_api_token);
  req.timeout_ms = 30000;
  std::string body;
  auto response = http.Send(req, [&](ByteSpan chunk) {
    if (body.size() < (64u << 10)) body.append(reinterpret_cast<const char*>(chunk.data()),
                                               chunk.size());
    return true;
  });
  if (!response.ok())
    return Status(response.status().code(),
                  "cannot reach CloudKit at " + base + ": " + response.status().message());
  const std::string& text = response->status >= 300 ? response->error_body : body;
  auto j = nlohmann::json::parse(text, nullptr, false);
  const std::string code =
      j.is_object() && j.contains("serverErrorCode") && j["serverErrorCode"].is_string()
          ? j["serverErrorCode"].get<std::string>()
          : "";
  const std::string what = "CloudKit answered users/caller with HTTP " +
                           std::to_string(response->status) +
                           (code.empty() ? "" : " " + code);
  if (code == "AUTHENTICATION_FAILED")
    return Status::Invalid("the CloudKit API token is wrong (configuration): " + what +
                           "; check cloudkit_api_token and cloudkit_api_base (container and "
                           "environment) against CloudKit Console");
  if (response->status == 200)
    return Status::Invalid(what + " without a web auth token, which CloudKit never does; is "
                           "cloudkit_api_base a CloudKit Web Services database URL?");
  if (response->status != 421 || code != "AUTHENTICATION_REQUIRED")
    return Status::Invalid(what + ", expected 421 AUTHENTICATION_REQUIRED with a sign-in "
                           "address; is cloudkit_api_base right?");
  const std::string url = j.contains("redirectURL") && j["redirectURL"].is_string()
                              ? j["redirectURL"].get<std::string>()
                              : "";
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
    return Status::Invalid(what + " but no usable redirectURL to sign in at");
  return url;
}

}  // namespace

Status CheckCloudKitUsable(const OAuthConfig& config) {
  const std::string& base = config.cloudkit_api_base;
  if (base.rfind("https://", 0) != 0 && base.rfind("http://", 0) != 0)
    return Status::Invalid("cloudkit_api_base must be an http(s) URL, e.g. "
                           "https://api.apple-cloudkit.com/database/1/iCloud.com.example/"
                           "development");
  std::string trimmed = base;
  while (!trimmed.empty() && trimmed.back() == '/') trimmed.pop_back();
  if (trimmed.size() >= 11 && trimmed.compare(trimmed.size() - 11, 11, "/database/1") == 0)
    return Status::Invalid("cloudkit_api_base must name the container and environment, e.g. " +
                           trimmed + "/iCloud.com.example/development");
  if (config.cloudkit_api_token.empty())
    return Status::Invalid("no CloudKit API token: put \"cloudkit_api_token\" (CloudKit Console "
                           "→ Tokens & Keys) in the --config file");
  if (config.cloudkit_callback_port <= 0 || config.cloudkit_callback_port > 65535)
    return Status::Invalid(
        "cloudkit_callback_port must be the fixed port of the API token's Sign-In Callback "
        "(http://127.0.0.1:PORT/), 1 to 65535; 0 cannot work because CloudKit redirects to the "
        "configured URL only");
  return Status::Ok();
}

Result<std::string> RunCloudKitWebAuthFlow(const OAuthConfig& config,
                                           const BrowserFlowOptions& options) {
  JSYNC_RETURN_IF_ERROR(CheckCloudKitUsable(config));
  JSYNC_ASSIGN_OR_RETURN(const std::string sign_in_url, SignInUrl(config));

  std::mutex mu;
  std::condition_variable cv;
  std::optional<std::string> token;
  auto handler = [&](const net::LocalRequest& req) {
    if (req.method != "GET" || req.path != kCallbackPath)
      return net::LocalResponse::Text(404, "not found");  // favicon.ico and the like
    const std::string t = req.QueryParam("ckWebAuthToken");
    if (t.empty())
      return Page(400, "Waiting for iCloud",
                  "This address carries no ckWebAuthToken; finish signing in to iCloud in the "
                  "page jsync opened.");
    std::lock_guard lock(mu);
    if (token) return Page(409, "Already done", "You can close this tab.");
    token = t;
    cv.notify_all();
    return Page(200, "Linked — you can close this tab",
                "journal-sync has the iCloud sign-in. Return to the terminal.");
  };
  net::LocalServerOptions listen;
  listen.address = "127.0.0.1";
  listen.port = static_cast<uint16_t>(config.cloudkit_callback_port);
  auto server = net::LocalHttpServer::Start(handler, listen);
  if (!server.ok())
    return Status::Fatal("cannot listen on the CloudKit sign-in callback port " +
                         std::to_string(config.cloudkit_callback_port) +
                         " (is another jsync link running?): " + server.status().message());
  (options.open_url ? options.open_url : OpenInSystemBrowser)(sign_in_url);

  std::string result;
  {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, options.timeout, [&] { return token.has_value(); })) {
      lock.unlock();
      (*server)->Stop();
      return Status::Fatal("no answer from the browser within " +
                           std::to_string(options.timeout.count()) + " s; run the link again");
    }
    result = *token;
  }
  (*server)->Stop();  // the port is open only while we wait
  return result;
}

}  // namespace jsync::auth

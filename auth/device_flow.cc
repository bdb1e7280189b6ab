#include "auth/device_flow.h"

#include <algorithm>
#include <cstdio>
#include <thread>

namespace jsync::auth {
namespace {

std::string StringField(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

int64_t IntField(const nlohmann::json& j, const char* key, int64_t fallback) {
  if (!j.contains(key)) return fallback;
  const int64_t v = ParseJsonSeconds(j[key]);
  return v < 0 ? fallback : v;
}

void ShowOnStderr(const DevicePrompt& p) {
  std::fprintf(stderr, "To link this device, visit\n  %s\nand enter the code  %s\n",
               p.verification_uri.c_str(), p.user_code.c_str());
  if (!p.verification_uri_complete.empty())
    std::fprintf(stderr, "(or open %s)\n", p.verification_uri_complete.c_str());
  std::fprintf(stderr, "Waiting for approval...\n");
}

}  // namespace

Result<DeviceAuthorization> ParseDeviceAuthorization(const nlohmann::json& body,
                                                     int64_t default_interval_s) {
  DeviceAuthorization a;
  a.prompt.user_code = StringField(body, "user_code");
  a.prompt.verification_uri = StringField(body, "verification_uri");
  if (a.prompt.verification_uri.empty())
    a.prompt.verification_uri = StringField(body, "verification_url");  // Google
  a.prompt.verification_uri_complete = StringField(body, "verification_uri_complete");
  a.prompt.expires_in = IntField(body, "expires_in", 600);
  a.device_code = StringField(body, "device_code");
  if (a.device_code.empty() || a.prompt.user_code.empty() || a.prompt.verification_uri.empty())
    return Status::Invalid("the device authorization endpoint answered without a code or address");
  a.interval_s = std::max<int64_t>(IntField(body, "interval", default_interval_s), 0);
  return a;
}

Result<TokenSet> RunDeviceFlow(const OAuthConfig& config, const DeviceFlowOptions& options) {
  JSYNC_RETURN_IF_ERROR(CheckUsable(config, /*device_flow=*/true));
  auto now = options.now ? options.now : [] { return NowUnixSeconds(); };
  auto sleep = options.sleep ? options.sleep
                             : [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  provider::HttpClient http;

  Form request = ClientFields(config);
  if (!config.scopes.empty()) request.emplace_back("scope", config.scopes);
  JSYNC_ASSIGN_OR_RETURN(auto start, PostForm(http, config.device_code_url, request));
  if (start.is_error()) return ClassifyTokenError(start.error, "starting the device authorization");
  JSYNC_ASSIGN_OR_RETURN(DeviceAuthorization authorization,
                         ParseDeviceAuthorization(start.body, options.default_interval_s));
  const DevicePrompt& prompt = authorization.prompt;
  const std::string& device_code = authorization.device_code;
  (options.show ? options.show : ShowOnStderr)(prompt);

  int64_t interval = authorization.interval_s;
  const int64_t deadline = now() + prompt.expires_in;
  int64_t network_backoff_ms = 1000;
  Form poll{{"grant_type", "urn:ietf:params:oauth:grant-type:device_code"},
            {"device_code", device_code}};
  for (auto& f : ClientFields(config)) poll.push_back(f);
  while (true) {
    sleep(std::chrono::seconds(interval));
    if (now() >= deadline)
      return Status::Fatal("the device code expired before it was approved; run the link again");
    const int64_t sent_at = NowUnixSeconds();
    auto answer = PostForm(http, config.token_url, poll);
    if (!answer.ok()) {
      // Connection trouble: back off exponentially (RFC 8628 §3.5), capped at a minute.
      sleep(std::chrono::milliseconds(network_backoff_ms));
      network_backoff_ms = std::min<int64_t>(network_backoff_ms * 2, 60000);
      continue;
    }
    network_backoff_ms = 1000;
    if (!answer->is_error()) return ParseTokenResponse(answer->body, sent_at);
    const std::string& error = answer->error.error;
    if (error == "authorization_pending") continue;
    if (error == "slow_down") {
      interval += 5;  // for this and every later poll (RFC 8628 §3.5)
      continue;
    }
    if (error == "access_denied" || error == "authorization_declined")
      return Status::Invalid("the link was refused on the approval page");
    if (error == "expired_token")
      return Status::Fatal("the device code expired before it was approved; run the link again");
    if (answer->http_status >= 500 || answer->http_status == 429) {
      sleep(std::chrono::milliseconds(std::max<int64_t>(answer->error.retry_after_ms, 1000)));
      continue;
    }
    // Any other error must stop the polling (§3.5).
    return ClassifyTokenError(answer->error, "waiting for the device approval");
  }
}

}  // namespace jsync::auth

// The device authorization grant (RFC 8628) for machines without a browser: show a short
// code and an address to visit elsewhere, then poll the token endpoint until the user has
// approved, refused, or the code expired.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "auth/oauth_config.h"
#include "auth/token_endpoint.h"

namespace jsync::auth {

struct DevicePrompt {
  std::string user_code;
  std::string verification_uri;           // Google calls it verification_url
  std::string verification_uri_complete;  // may be ""
  int64_t expires_in = 0;
};

struct DeviceFlowOptions {
  // Shows the user code and address. Default: prints them to stderr.
  std::function<void(const DevicePrompt&)> show;
  // Waits between polls; tests pass a fake that advances a clock instead of sleeping.
  std::function<void(std::chrono::milliseconds)> sleep;
  // Seconds since some epoch, for the expiry of the device code. Default: the real clock.
  std::function<int64_t()> now;
  int64_t default_interval_s = 5;  // RFC 8628 §3.2 when the server sends none
};

// What the device authorization endpoint answered (RFC 8628 §3.2). `body` is the JSON answer;
// kInvalid when it lacks the device code, user code or address.
struct DeviceAuthorization {
  DevicePrompt prompt;
  std::string device_code;
  int64_t interval_s = 0;  // between polls
};
Result<DeviceAuthorization> ParseDeviceAuthorization(const nlohmann::json& body,
                                                     int64_t default_interval_s);

// kInvalid for access_denied / authorization_declined (the user said no) and for other
// refusals; kFatal when the code expired (start again); kRetryable when the server could not
// be reached for too long.
Result<TokenSet> RunDeviceFlow(const OAuthConfig& config, const DeviceFlowOptions& options);

}  // namespace jsync::auth

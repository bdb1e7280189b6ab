// Apple CloudKit Web Services sign-in (not OAuth 2.0; oauth.md §5.3, icloud.md §2.1): ask
// `{cloudkit_api_base}/private/users/caller?ckAPIToken=…` with no user token, take the
// `redirectURL` of the HTTP 421 AUTHENTICATION_REQUIRED answer, send the browser there, and
// wait on a loopback listener at the API token's fixed Sign-In Callback
// (http://127.0.0.1:<cloudkit_callback_port>/) for the one redirect carrying `ckWebAuthToken`.
#pragma once

#include <string>

#include "auth/authorization_code_flow.h"
#include "auth/oauth_config.h"

namespace jsync::auth {

// kInvalid naming what is missing or wrong in a CloudKit configuration (API base, API token,
// callback port).
Status CheckCloudKitUsable(const OAuthConfig& config);

// Ok with the web auth token (a secret: never printed). kInvalid when the configuration or the
// server's answer is wrong (AUTHENTICATION_FAILED: the API token), kFatal when the callback
// port cannot be bound or the browser does not come back within options.timeout.
Result<std::string> RunCloudKitWebAuthFlow(const OAuthConfig& config,
                                           const BrowserFlowOptions& options);

}  // namespace jsync::auth

// Authorization code + PKCE (S256) with a loopback redirect (RFC 8252 §7.3, RFC 7636): bind
// 127.0.0.1 on a port the kernel picks, send the user's browser to the authorization URL,
// accept exactly one redirect carrying the right `state`, answer it with a short page, close
// the listener, and exchange the code.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "auth/oauth_config.h"
#include "auth/token_endpoint.h"

namespace jsync::auth {

struct BrowserFlowOptions {
  // Opens the authorization URL. Default: prints it to stderr and tries xdg-open/open.
  // Tests pass a function that acts as the browser.
  std::function<void(const std::string& url)> open_url;
  std::chrono::seconds timeout{300};
};

// Ok with the tokens; kInvalid when the user or the server refused (the server's error is
// named), kFatal on timeout, kAuthExpired when the code was rejected at the token endpoint.
Result<TokenSet> RunAuthorizationCodeFlow(const OAuthConfig& config,
                                          const BrowserFlowOptions& options);

// The default open_url: the URL on stderr, then the system browser when there is a display.
void OpenInSystemBrowser(const std::string& url);

}  // namespace jsync::auth

// Test-only: an iCloud (CloudKit) account linked into a temporary jsync home against the CloudKit
// emulator, through the real code of auth/ as `jsync link icloud --no-browser` does: the
// plugin's auth descriptor overridden by the `cloudkit_*` keys (ResolveOAuthConfig), the
// web-auth-token sign-in (LinkCloudKitAccount: 421, redirectURL, the loopback callback), the
// token in the "file" secret store under a fixed passphrase; then the credentials the host
// opens (LoadCredentials: a CloudKitCredentialSource that stores every rotated token before the
// next request). The "browser" is one GET of the sign-in URL on a thread, following its 302 to
// the callback: the emulator must run with --auto-approve and --callback-url on that port
// (StartCloudKitForLink does both). Header-only; needs jsync_auth and jsync_net.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "auth/credential_store.h"
#include "auth/secret_store.h"
#include "host/http_client.h"
#include "host/plugin_loader.h"
#include "net/local_http_server.h"
#include "tests/support/cloudkit_emulator.h"

namespace jsync::cloudkit_testing {

inline constexpr const char* kTestPassphrase = "icloud plugin test passphrase";

// A port nothing listens on now.
inline uint16_t FreePort() {
  auto s = net::LocalHttpServer::Start([](const net::LocalRequest&) { return net::LocalResponse{}; });
  if (!s.ok()) return 0;
  const uint16_t port = (*s)->port();
  (*s)->Stop();
  return port;
}

// Starts the emulator with its sign-in callback on a free port (*port gets it).
inline std::unique_ptr<testing::CloudKitEmulator> StartCloudKitForLink(
    std::vector<std::string> args, uint16_t* port, std::string* error) {
  *port = FreePort();
  args.insert(args.end(),
              {"--callback-url", "http://127.0.0.1:" + std::to_string(*port) + "/"});
  return testing::CloudKitEmulator::Start(args, error);
}

// Follows the sign-in URL like a browser whose user approves: GET it, then GET its Location.
inline void ApproveSignIn(const std::string& url) {
  provider::HttpClient http;
  provider::HttpRequest req;
  req.url = url;
  auto page = http.Send(req, [](ByteSpan) { return true; });
  if (!page.ok() || page->status != 302) return;
  provider::HttpRequest back;
  back.url = page->Header("location");
  (void)http.Send(back, [](ByteSpan) { return true; });
}

// Links `plugin`'s account (named plugin.name) in `home` and returns its credentials.
inline Result<std::shared_ptr<provider::CredentialSource>> LinkCloudKitEmulatorAccount(
    const provider::PluginInfo& plugin, const testing::CloudKitEmulator& emu, uint16_t port,
    const std::string& home) {
  const auth::AuthDescriptor descriptor = auth::AuthDescriptorOf(plugin);
  const nlohmann::json user_config = emu.CloudKitConfig(port);
  JSYNC_ASSIGN_OR_RETURN(auto config,
                         auth::ResolveOAuthConfig(plugin.name, descriptor, user_config, ""));
  auth::OAuthLinkOptions options;
  options.store_backend = "file";
  options.passphrase = []() -> Result<std::string> { return std::string(kTestPassphrase); };
  std::thread browser;
  options.browser.timeout = std::chrono::seconds(20);
  options.browser.open_url = [&browser](const std::string& url) {
    browser = std::thread([url] { ApproveSignIn(url); });
  };
  auto account = auth::LinkCloudKitAccount(home, plugin.name, config,
                                           auth::WithoutSecretOptions(&plugin, user_config), options);
  if (browser.joinable()) browser.join();
  if (!account.ok()) return account.status();
  return auth::LoadCredentials(home, plugin.name);
}

}  // namespace jsync::cloudkit_testing

#include "auth/authorization_code_flow.h"

#include <spawn.h>
#include <sys/wait.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>

#include "auth/pkce.h"
#include "net/local_http_server.h"

extern char** environ;

namespace jsync::auth {
namespace {

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

net::LocalResponse Page(int status, const std::string& title, const std::string& text) {
  net::LocalResponse r = net::LocalResponse::Text(
      status,
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>journal-sync</title></head>"
      "<body><h1>" + HtmlEscape(title) + "</h1><p>" + HtmlEscape(text) + "</p></body></html>",
      "text/html; charset=utf-8");
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Connection", "close");
  return r;
}

// What the one accepted redirect carried.
struct Callback {
  std::string code;
  std::string error;
  std::string error_description;
  std::string iss;
};

}  // namespace

void OpenInSystemBrowser(const std::string& url) {
  std::fprintf(stderr, "Open this address in a browser to link the account:\n  %s\n", url.c_str());
  const char* opener = nullptr;
#if defined(__APPLE__)
  opener = "open";
#else
  if (std::getenv("DISPLAY") || std::getenv("WAYLAND_DISPLAY")) opener = "xdg-open";
#endif
  if (opener == nullptr) return;
  pid_t pid = 0;
  char* argv[] = {const_cast<char*>(opener), const_cast<char*>(url.c_str()), nullptr};
  if (posix_spawnp(&pid, opener, nullptr, nullptr, argv, environ) == 0) {
    int status = 0;
    waitpid(pid, &status, 0);
  }
}

Result<TokenSet> RunAuthorizationCodeFlow(const OAuthConfig& config,
                                          const BrowserFlowOptions& options) {
  JSYNC_RETURN_IF_ERROR(CheckUsable(config, /*device_flow=*/false));
  const std::string state = NewState();
  const std::string verifier = NewCodeVerifier();

  std::mutex mu;
  std::condition_variable cv;
  std::optional<Callback> result;
  auto handler = [&](const net::LocalRequest& req) {
    if (req.method != "GET" || req.path != config.redirect_path)
      return net::LocalResponse::Text(404, "not found");  // favicon.ico and the like
    // A redirect with a wrong or missing state is a stale tab or a forgery: refuse, keep waiting.
    if (!ConstantTimeEquals(req.QueryParam("state"), state))
      return Page(400, "This sign-in link is not the one jsync is waiting for",
                  "Go back to the terminal and start the link again if needed.");
    std::lock_guard lock(mu);
    if (result) return Page(409, "Already done", "You can close this tab.");
    Callback cb{req.QueryParam("code"), req.QueryParam("error"),
                req.QueryParam("error_description"), req.QueryParam("iss")};
    const bool failed = !cb.error.empty() || cb.code.empty();
    result = cb;
    cv.notify_all();
    if (failed)
      return Page(200, "Linking failed",
                  (cb.error.empty() ? std::string("no authorization code") : cb.error) +
                      (cb.error_description.empty() ? "" : ": " + cb.error_description) +
                      ". Return to the terminal.");
    return Page(200, "Linked", "journal-sync has the authorization. You can close this tab and "
                               "return to the terminal.");
  };
  net::LocalServerOptions listen;
  listen.address = config.redirect_host == "[::1]" ? "::1" : "127.0.0.1";
  JSYNC_ASSIGN_OR_RETURN(auto server, net::LocalHttpServer::Start(handler, listen));
  const std::string redirect_uri = "http://" + config.redirect_host + ":" +
                                   std::to_string(server->port()) + config.redirect_path;

  std::string url = config.authorize_url;
  url += url.find('?') == std::string::npos ? '?' : '&';
  std::vector<std::pair<std::string, std::string>> params{
      {"response_type", "code"},       {"client_id", config.client_id},
      {"redirect_uri", redirect_uri},  {"scope", config.scopes},
      {"state", state},                {"code_challenge", S256Challenge(verifier)},
      {"code_challenge_method", "S256"}};
  for (const auto& p : config.authorize_params) params.push_back(p);
  bool first = true;
  for (const auto& [k, v] : params) {
    if (!first) url += '&';
    first = false;
    url += net::PercentEncode(k) + "=" + net::PercentEncode(v);
  }
  (options.open_url ? options.open_url : OpenInSystemBrowser)(url);

  Callback cb;
  {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, options.timeout, [&] { return result.has_value(); })) {
      return Status::Fatal("no answer from the browser within " +
                           std::to_string(options.timeout.count()) + " s; run the link again");
    }
    cb = *result;
  }
  server->Stop();  // the port is open only while we wait (RFC 8252 §8.3)
  if (!cb.error.empty())
    return Status::Invalid("the authorization was refused (" + cb.error +
                           (cb.error_description.empty() ? "" : ": " + cb.error_description) + ")");
  if (cb.code.empty()) return Status::Invalid("the redirect carried no authorization code");
  if (!cb.iss.empty() && !config.issuer.empty() && cb.iss != config.issuer)
    return Status::Invalid("the redirect came from issuer " + cb.iss + ", expected " +
                           config.issuer + " (mix-up attack?)");
  provider::HttpClient http;
  return ExchangeCode(http, config, cb.code, redirect_uri, verifier, NowUnixSeconds());
}

}  // namespace jsync::auth

// CloudKit's user authentication (icloud.md §2.1): web auth tokens that are good for one round
// trip (each accepted request spends its token and the answer carries a fresh one), a lifetime
// from creation, the sign-in page behind the 421's redirectURL (URL-redirect delivery to
// --callback-url, at once with --auto-approve or after the page's form is posted), and the
// Advanced Data Protection switch (no tokens issued; 403 ACCESS_DENIED for holders).
// Tokens are kept only as SHA-256 in auth.json (with the ADP switch). Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "core/util/status.h"
#include "net/local_http_server.h"

namespace jsync::emulator::cloudkit {

struct WebAuthOptions {
  std::string state_file;  // "": nothing persists
  int64_t token_lifetime_s = 1800;
  bool auto_approve = false;
  std::string callback_url = "http://127.0.0.1:8765/";
};

class WebAuth {
 public:
  explicit WebAuth(WebAuthOptions options);
  Status Load();

  enum class Check { kOk, kUnknown, kExpired };  // a spent token is unknown
  Check CheckToken(const std::string& token);
  // Spends `token` (when it is live) and mints its successor.
  std::string Rotate(const std::string& token);
  // Every token issued so far stops working.
  void ExpireAll();
  void SetAdp(bool on);
  bool adp();
  size_t live_tokens();

  // GET /signin (the page, or with --auto-approve the redirect) and POST /signin (the form).
  net::LocalResponse HandleSignIn(const net::LocalRequest& req);

 private:
  struct Token {
    int64_t expires_ms = 0;
  };
  std::string MintLocked();
  void SaveLocked();
  net::LocalResponse RedirectWithNewToken();

  const WebAuthOptions options_;
  std::mutex mu_;
  bool adp_ = false;
  std::map<std::string, Token> tokens_;  // sha256 hex → live (unspent) token
  std::set<std::string> sessions_;       // sign-in pages shown and not yet approved
};

}  // namespace jsync::emulator::cloudkit

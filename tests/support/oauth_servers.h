// Independent OAuth 2.0 servers for the auth tests, from the npm registry (tests/peers,
// installed by scripts/install-test-peers.sh), each a node process on 127.0.0.1:
//   - kMock: oauth2-mock-server 8 (tests/peers/oauth-mock.mjs)
//   - kOidc: oidc-provider 9, a certified OpenID Provider (tests/peers/oidc.mjs), with the
//            client "journal-cli" (native, public, PKCE required, device grant, rotation).
// And TestBrowser, the "user with a browser" of the flows: libcurl with cookies that follows
// redirects and submits the login/consent forms.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/child_process.h"

namespace jsync::testing {

class OAuthServer {
 public:
  enum class Kind { kMock, kOidc };
  static std::unique_ptr<OAuthServer> Start(
      Kind kind, const std::vector<std::pair<std::string, std::string>>& env, std::string* error);
  const std::string& base_url() const { return base_url_; }
  std::string Log() const { return process_->Stdout() + process_->Stderr(); }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string base_url_;
};

class TestBrowser {
 public:
  struct Page {
    int status = 0;
    std::string url;  // after redirects
    std::string body;
  };
  TestBrowser();
  ~TestBrowser();
  Page Get(const std::string& url);
  Page Post(const std::string& url, const std::vector<std::pair<std::string, std::string>>& form);
  // Opens `url` and, while the page shows a POST form, submits its hidden fields plus
  // `fields` (login, password, confirm...). Returns the last page.
  Page Complete(const std::string& url, const std::map<std::string, std::string>& fields,
                int max_forms = 6);

 private:
  Page Fetch(const std::string& url, const std::string* post_body);
  void* curl_;
};

}  // namespace jsync::testing

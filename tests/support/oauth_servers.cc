#include "tests/support/oauth_servers.h"

#include <curl/curl.h>

#include <regex>

#include "core/net/local_http_server.h"
#include "tests/support/webdav_servers.h"

namespace jsync::testing {

std::unique_ptr<OAuthServer> OAuthServer::Start(
    Kind kind, const std::vector<std::pair<std::string, std::string>>& env, std::string* error) {
  const auto peers = SourceRoot() / "tests" / "peers";
  const std::string script = kind == Kind::kMock ? "oauth-mock.mjs" : "oidc.mjs";
  const std::string package = kind == Kind::kMock ? "oauth2-mock-server" : "oidc-provider";
  if (!std::filesystem::exists(peers / "node_modules" / package / "package.json")) {
    *error = package + " is not installed in tests/peers (run scripts/install-test-peers.sh)";
    return nullptr;
  }
  auto process = ChildProcess::Start({"node", (peers / script).string()}, env, error);
  if (!process) return nullptr;
  const std::string line = process->WaitForFirstLine(20000, error);
  const size_t space = line.find(' ');
  if (line.empty() || space == std::string::npos) {
    if (error->empty()) *error = script + " printed an unexpected first line: " + line;
    return nullptr;
  }
  std::unique_ptr<OAuthServer> server(new OAuthServer());
  server->process_ = std::move(process);
  server->base_url_ = line.substr(space + 1);
  return server;
}

namespace {
size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}
}  // namespace

TestBrowser::TestBrowser() : curl_(curl_easy_init()) {
  curl_easy_setopt(static_cast<CURL*>(curl_), CURLOPT_COOKIEFILE, "");  // cookie engine on
  curl_easy_setopt(static_cast<CURL*>(curl_), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(static_cast<CURL*>(curl_), CURLOPT_MAXREDIRS, 20L);
  curl_easy_setopt(static_cast<CURL*>(curl_), CURLOPT_TIMEOUT, 30L);
}

TestBrowser::~TestBrowser() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

TestBrowser::Page TestBrowser::Fetch(const std::string& url, const std::string* post_body) {
  CURL* c = static_cast<CURL*>(curl_);
  Page page;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &page.body);
  if (post_body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, post_body->c_str());
    // After a 303 the browser GETs the next page.
    curl_easy_setopt(c, CURLOPT_POSTREDIR, 0L);
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  if (curl_easy_perform(c) == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    page.status = static_cast<int>(status);
    char* effective = nullptr;
    curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
    page.url = effective ? effective : url;
  } else {
    page.status = -1;
  }
  return page;
}

TestBrowser::Page TestBrowser::Get(const std::string& url) { return Fetch(url, nullptr); }

TestBrowser::Page TestBrowser::Post(const std::string& url,
                                    const std::vector<std::pair<std::string, std::string>>& form) {
  std::string body;
  for (const auto& [k, v] : form)
    body += (body.empty() ? "" : "&") + net::PercentEncode(k) + "=" + net::PercentEncode(v);
  return Fetch(url, &body);
}

TestBrowser::Page TestBrowser::Complete(const std::string& url,
                                        const std::map<std::string, std::string>& fields,
                                        int max_forms) {
  Page page = Get(url);
  static const std::regex form_re(R"re(<form[^>]*action="([^"]+)"[^>]*method="post")re",
                                  std::regex::icase);
  static const std::regex form_re2(R"re(<form[^>]*method="post"[^>]*action="([^"]+)")re",
                                   std::regex::icase);
  static const std::regex hidden_re(
      R"re(<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)")re", std::regex::icase);
  for (int i = 0; i < max_forms; ++i) {
    std::smatch m;
    if (!std::regex_search(page.body, m, form_re) && !std::regex_search(page.body, m, form_re2))
      break;
    const std::string action = m[1];
    std::vector<std::pair<std::string, std::string>> form;
    for (auto it = std::sregex_iterator(page.body.begin(), page.body.end(), hidden_re);
         it != std::sregex_iterator(); ++it)
      form.emplace_back((*it)[1], (*it)[2]);
    for (const auto& [k, v] : fields) form.emplace_back(k, v);
    page = Post(action, form);
  }
  return page;
}

}  // namespace jsync::testing

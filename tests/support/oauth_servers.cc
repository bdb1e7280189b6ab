#include "tests/support/oauth_servers.h"

#include <curl/curl.h>


#include "net/local_http_server.h"
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

namespace {

// The value of attribute `name` in one HTML tag (`<input type="hidden" name="x" value="y">`);
// "" when absent. Enough for the login and consent forms of the test servers.
std::string Attribute(const std::string& tag, const std::string& name) {
  const std::string key = " " + name + "=\"";
  const size_t at = tag.find(key);
  if (at == std::string::npos) return "";
  const size_t start = at + key.size();
  const size_t end = tag.find('"', start);
  return end == std::string::npos ? "" : tag.substr(start, end - start);
}

// Every tag `<name ...>` in the page, in order.
std::vector<std::string> Tags(const std::string& page, const std::string& name) {
  std::vector<std::string> out;
  for (size_t at = page.find("<" + name); at != std::string::npos;
       at = page.find("<" + name, at + 1)) {
    const size_t end = page.find('>', at);
    if (end == std::string::npos) break;
    out.push_back(page.substr(at, end - at + 1));
  }
  return out;
}

}  // namespace

TestBrowser::Page TestBrowser::Complete(const std::string& url,
                                        const std::map<std::string, std::string>& fields,
                                        int max_forms) {
  Page page = Get(url);
  for (int i = 0; i < max_forms; ++i) {
    std::string action;
    for (const auto& form : Tags(page.body, "form"))
      if (Attribute(form, "method") == "post") action = Attribute(form, "action");
    if (action.empty()) break;
    std::vector<std::pair<std::string, std::string>> form;
    for (const auto& input : Tags(page.body, "input"))
      if (Attribute(input, "type") == "hidden")
        form.emplace_back(Attribute(input, "name"), Attribute(input, "value"));
    for (const auto& [k, v] : fields) form.emplace_back(k, v);
    page = Post(action, form);
  }
  return page;
}

}  // namespace jsync::testing

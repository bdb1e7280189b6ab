// The host's two HTTP services for plugins: `http` injects the account's credentials and
// refreshes once on a 401; `http_without_credentials` (ABI 3) is for the pre-authenticated URLs
// a service hands out (OneDrive's upload sessions and download links), which must never see the
// account's token. Against a real loopback server that records what arrived.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "host/http_client.h"
#include "host/plugin_provider.h"
#include "net/local_http_server.h"
#include "providers/sdk/jsync_provider.h"

namespace jsync {
namespace {

class CountingCredentials final : public provider::CredentialSource {
 public:
  Result<std::string> Authorization() override { return std::string("Bearer secret-token"); }
  Status Refresh() override {
    ++refreshes;
    return Status::Ok();
  }
  std::atomic<int> refreshes{0};
};

struct Recorder {
  std::mutex mu;
  std::vector<std::string> authorizations;
  int status = 200;
};

int Call(int (*service)(void*, const jsync_http_request*, jsync_http_response*, jsync_error*),
         provider::HttpClient* client, const std::string& url, const char* plugin_header) {
  jsync_header headers[] = {{"Authorization", plugin_header}};
  jsync_http_request req{"GET", url.c_str(), headers, plugin_header ? 1u : 0u, nullptr, 0, 0};
  jsync_http_response resp{};
  jsync_error err{-1, {0}};
  const int rc = service(client, &req, &resp, &err);
  EXPECT_EQ(rc, JSYNC_OK) << err.message;
  return resp.status;
}

TEST(HostHttpCredentials, OnlyTheAccountsRequestsCarryTheToken) {
  Recorder rec;
  auto server = net::LocalHttpServer::Start([&rec](const net::LocalRequest& r) {
    std::lock_guard lock(rec.mu);
    rec.authorizations.push_back(r.Header("authorization"));
    net::LocalResponse out;
    out.status = rec.status;
    return out;
  });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto credentials = std::make_shared<CountingCredentials>();
  provider::HttpClient client(credentials);
  const std::string url = (*server)->base_url() + "/upload/session/1";

  EXPECT_EQ(Call(provider::HostHttp, &client, url, nullptr), 200);
  EXPECT_EQ(Call(provider::HostHttpWithoutCredentials, &client, url, nullptr), 200);
  // A plugin cannot smuggle a header of its own into either.
  EXPECT_EQ(Call(provider::HostHttpWithoutCredentials, &client, url, "Bearer forged"), 200);
  {
    std::lock_guard lock(rec.mu);
    ASSERT_EQ(rec.authorizations.size(), 3u);
    EXPECT_EQ(rec.authorizations[0], "Bearer secret-token");
    EXPECT_EQ(rec.authorizations[1], "");
    EXPECT_EQ(rec.authorizations[2], "");
    rec.status = 401;
    rec.authorizations.clear();
  }
  // A 401 from a pre-authenticated URL (an expired session) is the plugin's to handle: the
  // account's token is not refreshed for it, nor is the request sent again.
  EXPECT_EQ(Call(provider::HostHttpWithoutCredentials, &client, url, nullptr), 401);
  EXPECT_EQ(credentials->refreshes, 0);
  {
    std::lock_guard lock(rec.mu);
    EXPECT_EQ(rec.authorizations.size(), 1u);
  }
}

}  // namespace
}  // namespace jsync

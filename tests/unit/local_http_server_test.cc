#include "net/local_http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "host/http_client.h"

namespace jsync::net {
namespace {

std::string Fetch(provider::HttpClient& client, const std::string& method, const std::string& url,
                  const std::string& body, int* status) {
  provider::HttpRequest req;
  req.method = method;
  req.url = url;
  req.body = ByteSpan(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  std::string got;
  auto res = client.Send(req, [&](ByteSpan b) {
    got.append(reinterpret_cast<const char*>(b.data()), b.size());
    return true;
  });
  *status = res.ok() ? res.value().status : -1;
  return got;
}

TEST(LocalHttpServer, BindsAnEphemeralLoopbackPortAndServesRequests) {
  std::atomic<int> calls{0};
  auto server = LocalHttpServer::Start([&](const LocalRequest& r) {
    ++calls;
    if (r.path != "/echo") return LocalResponse::Text(404, "no");
    return LocalResponse::Json(200, "{\"method\":\"" + r.method + "\",\"q\":\"" + r.QueryParam("q") +
                                        "\",\"f\":\"" + r.FormParam("f") + "\"}");
  });
  ASSERT_TRUE(server.ok()) << server.status().message();
  auto& s = *server.value();
  EXPECT_NE(s.port(), 0);
  EXPECT_EQ(s.base_url(), "http://127.0.0.1:" + std::to_string(s.port()));

  provider::HttpClient client;
  int status = 0;
  EXPECT_EQ(Fetch(client, "POST", s.base_url() + "/echo?q=a%20b%2Bc", "f=x+y%26z", &status),
            "{\"method\":\"POST\",\"q\":\"a b+c\",\"f\":\"x y&z\"}");
  EXPECT_EQ(status, 200);
  Fetch(client, "GET", s.base_url() + "/favicon.ico", "", &status);
  EXPECT_EQ(status, 404);
  EXPECT_EQ(calls.load(), 2);
  s.Stop();
  Fetch(client, "GET", s.base_url() + "/echo", "", &status);
  EXPECT_EQ(status, -1) << "a stopped server must refuse connections";
}

TEST(LocalHttpServer, DroppedConnectionIsATransportFailure) {
  auto server = LocalHttpServer::Start([](const LocalRequest&) {
    LocalResponse r;
    r.drop_connection = true;
    return r;
  });
  ASSERT_TRUE(server.ok());
  provider::HttpClient client;
  int status = 0;
  Fetch(client, "PUT", server.value()->base_url() + "/x", "data", &status);
  EXPECT_EQ(status, -1);
}

TEST(LocalHttpServer, RefusesANonAddress) {
  LocalServerOptions options;
  options.address = "localhost";
  auto server = LocalHttpServer::Start([](const LocalRequest&) { return LocalResponse{}; }, options);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("not an IP address"), std::string::npos);
}

TEST(PercentCoding, RoundTripsAndParsesForms) {
  EXPECT_EQ(PercentEncode("a b/c~"), "a%20b%2Fc~");
  EXPECT_EQ(PercentDecode(PercentEncode("ä&=+%"), false), "ä&=+%");
  EXPECT_EQ(PercentDecode("100%", false), "100%");
  auto form = ParseForm("a=1&b=&c&d=x%3Dy");
  ASSERT_EQ(form.size(), 4u);
  EXPECT_EQ(form[3].second, "x=y");
  EXPECT_EQ(form[2].first, "c");
}

}  // namespace
}  // namespace jsync::net

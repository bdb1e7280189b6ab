// net/ws_client against a small Boost.Beast WebSocket server run inside the test (echo and
// fault modes, plain and TLS with a self-signed certificate made here). Test-only Beast code:
// the product's Beast stays in net/ (decision 0011).
#include "net/ws_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/test_support.h"

namespace jsync::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Polls `done` until it holds or `ms` pass.
template <class F>
bool WaitFor(F done, int ms = 5000) {
  auto end = Clock::now() + std::chrono::milliseconds(ms);
  while (!done()) {
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

int64_t MillisSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

bool Readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

enum class Mode {
  kEcho,            // echoes every message
  kPingThenEcho,    // pings first, counts pongs
  kCloseWith1008,   // closes at once with 1008 "too much garbage"
  kSendOversize,    // sends 73,728 bytes, then 73,729
  kReject404,       // answers the upgrade request with HTTP 404
  kSilent,          // accepts, then never reads (a dead relay: no pongs)
  kTextThenBinary,  // a text frame, then binary 01 02 03, then echoes
  kSendBurst,       // ten one-byte messages 0..9, then echoes
};

// A WebSocket server on 127.0.0.1:0, one thread per connection, synchronous Beast calls.
class TestWsServer {
 public:
  explicit TestWsServer(Mode mode, ssl::context* tls = nullptr)
      : mode_(mode), tls_(tls), acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~TestWsServer() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    cv_.notify_all();
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    accept_thread_.join();
    for (auto& t : threads_) t.join();
  }

  std::string url(const std::string& target = "/v1/room/abc?hook=def") const {
    return std::string(tls_ ? "wss" : "ws") + "://127.0.0.1:" +
           std::to_string(acceptor_.local_endpoint().port()) + target;
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  std::atomic<int> pongs{0};
  std::atomic<int> client_close_code{-1};  // the code of the client's close frame
  std::atomic<int> accepted{0};
  std::atomic<int> messages_received{0};  // by the echo loop

 private:
  // Keeps a connection's fd listed (for shutdown on stop) exactly while its socket is open.
  struct Listed {
    Listed(TestWsServer* s, int fd) : server(s), fd(fd) {
      std::lock_guard lock(server->mu_);
      server->fds_.push_back(fd);
    }
    ~Listed() {
      std::lock_guard lock(server->mu_);
      std::erase(server->fds_, fd);
    }
    TestWsServer* server;
    int fd;
  };

  void AcceptLoop() {
    for (;;) {
      tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      std::lock_guard lock(mu_);
      if (ec || stopping_) return;
      threads_.emplace_back([this, s = std::move(socket)]() mutable { Serve(std::move(s)); });
    }
  }

  void Serve(tcp::socket socket) {
    int fd = socket.native_handle();
    try {
      if (tls_) {
        websocket::stream<beast::ssl_stream<tcp::socket>> ws(std::move(socket), *tls_);
        Listed listed(this, fd);
        ws.next_layer().handshake(ssl::stream_base::server);
        Run(ws);
      } else {
        websocket::stream<tcp::socket> ws(std::move(socket));
        Listed listed(this, fd);
        Run(ws);
      }
    } catch (const std::exception&) {
      // The client went away or the test stopped the server.
    }
  }

  template <class Ws>
  void Run(Ws& ws) {
    if (mode_ == Mode::kReject404) {
      beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(ws.next_layer(), buffer, req);
      http::response<http::string_body> res(http::status::not_found, 11);
      res.body() = "no such room\n";
      res.prepare_payload();
      http::write(ws.next_layer(), res);
      return;
    }
    ws.accept();
    ++accepted;
    ws.binary(true);
    try {
      switch (mode_) {
        case Mode::kCloseWith1008:
          ws.close(websocket::close_reason(websocket::close_code::policy_error, "too much garbage"));
          return;
        case Mode::kSendOversize:
          ws.write(asio::buffer(std::vector<uint8_t>(73728, 7)));
          ws.write(asio::buffer(std::vector<uint8_t>(73729, 7)));
          break;
        case Mode::kSilent: {
          std::unique_lock lock(mu_);
          cv_.wait(lock, [this] { return stopping_; });
          return;
        }
        case Mode::kTextThenBinary:
          ws.text(true);
          ws.write(asio::buffer(std::string("hello")));
          ws.binary(true);
          ws.write(asio::buffer(std::vector<uint8_t>{1, 2, 3}));
          break;
        case Mode::kSendBurst:
          for (uint8_t i = 0; i < 10; ++i) ws.write(asio::buffer(std::vector<uint8_t>{i}));
          break;
        case Mode::kPingThenEcho:
          ws.control_callback([this](websocket::frame_type kind, beast::string_view) {
            if (kind == websocket::frame_type::pong) ++pongs;
          });
          ws.ping({});
          break;
        default:
          break;
      }
      for (;;) {  // echo
        beast::flat_buffer buffer;
        ws.read(buffer);
        ++messages_received;
        ws.binary(ws.got_binary());
        ws.write(buffer.data());
      }
    } catch (const boost::system::system_error& e) {
      if (e.code() == websocket::error::closed) client_close_code = ws.reason().code;
    }
  }

  const Mode mode_;
  ssl::context* tls_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
  std::thread accept_thread_;
};

// A self-signed certificate for IP 127.0.0.1 only (so "localhost" must fail the name check).
struct TestCert {
  std::string cert_file;
  std::string key_file;
};

TestCert MakeSelfSignedCert(const testing::TempDir& dir) {
  TestCert out{dir / "cert.pem", dir / "key.pem"};
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("jsync test relay"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  FILE* f = std::fopen(out.cert_file.c_str(), "w");
  PEM_write_X509(f, x);
  std::fclose(f);
  f = std::fopen(out.key_file.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

std::unique_ptr<WsClient> MustConnect(const std::string& url, const WsClientOptions& options = {}) {
  auto client = WsClient::Connect(url, options);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

// Receives until the connection ends; returns the final status.
Status ReceiveUntilClosed(WsClient& client) {
  auto end = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < end) {
    auto r = client.Receive(200);
    if (!r.ok()) return r.status();
  }
  return Status::Fatal("still open after 5 s");
}

TEST(WsUrl, ParsesSchemesHostsPortsAndTargets) {
  auto a = ParseWsUrl("ws://127.0.0.1:8080/v1/room/ab?hook=cd");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_FALSE(a->tls);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  EXPECT_EQ(a->target, "/v1/room/ab?hook=cd");
  EXPECT_EQ(a->HostHeader(), "127.0.0.1:8080");
  auto b = ParseWsUrl("WSS://relay.example.org");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->tls);
  EXPECT_EQ(b->port, 443);
  EXPECT_EQ(b->target, "/");
  EXPECT_EQ(b->HostHeader(), "relay.example.org");
  auto c = ParseWsUrl("ws://[::1]:9/x");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->HostHeader(), "[::1]:9");
  auto d = ParseWsUrl("ws://h?q=1");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->target, "/?q=1");
}

TEST(WsUrl, RefusesMalformedUrlsAsInvalid) {
  for (const char* url : {"", "http://h/", "ws://", "ws:///x", "ws://h:0/", "ws://h:65536/",
                          "ws://h:/", "ws://h:8a/", "ws://[::1/", "ws://[zz]/", "ws://::1/",
                          "wss://user@h/", "ws://h/x#frag", "ws://h/a b", "ws://h\n/"}) {
    auto r = ParseWsUrl(url);
    EXPECT_FALSE(r.ok()) << url;
    EXPECT_TRUE(r.status().Is(Code::kInvalid)) << url;
    auto c = WsClient::Connect(url);
    EXPECT_TRUE(c.status().Is(Code::kInvalid)) << url;
  }
}

TEST(WsClient, SendsAndReceivesBinaryMessages) {
  TestWsServer server(Mode::kEcho);
  auto client = MustConnect(server.url());
  ASSERT_TRUE(client);
  EXPECT_FALSE(client->closed());
  Bytes big(73728, 0xab);
  for (const Bytes& m : {Bytes{1, 2, 3}, Bytes{}, big}) {
    ASSERT_TRUE(client->Send(m).ok());
    auto r = client->Receive(5000);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ(**r, m);
  }
  auto none = client->Receive(0);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  // One byte over the limit would make the relay close the connection: refused here.
  EXPECT_TRUE(client->Send(Bytes(73729)).Is(Code::kInvalid));
}

TEST(WsClient, AnswersTheServersPing) {
  TestWsServer server(Mode::kPingThenEcho);
  auto client = MustConnect(server.url());
  ASSERT_TRUE(client);
  EXPECT_TRUE(WaitFor([&] { return server.pongs.load() >= 1; }));
}

TEST(WsClient, ReportsTheRelaysCloseCodeAndReason) {
  TestWsServer server(Mode::kCloseWith1008);
  auto client = MustConnect(server.url());
  ASSERT_TRUE(client);
  Status s = ReceiveUntilClosed(*client);
  EXPECT_TRUE(s.Is(Code::kRetryable)) << s.ToString();
  EXPECT_NE(s.message().find("code 1008"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("too much garbage"), std::string::npos) << s.message();
  EXPECT_TRUE(client->closed());
  EXPECT_TRUE(client->Send(Bytes{1}).Is(Code::kRetryable));
  // Later calls keep reporting the same end.
  EXPECT_EQ(client->Receive(0).status().message(), s.message());
}

TEST(WsClient, AnOversizeIncomingMessageClosesWith1009) {
  TestWsServer server(Mode::kSendOversize);
  auto client = MustConnect(server.url());
  ASSERT_TRUE(client);
  auto first = client->Receive(5000);  // exactly the limit: delivered
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->size(), 73728u);
  Status s = ReceiveUntilClosed(*client);
  EXPECT_TRUE(s.Is(Code::kRetryable));
  EXPECT_NE(s.message().find("1009"), std::string::npos) << s.message();
  EXPECT_TRUE(WaitFor([&] { return server.client_close_code.load() == 1009; }))
      << server.client_close_code.load();
}

TEST(WsClient, ARefusedUpgradeNamesTheHttpStatus) {
  TestWsServer server(Mode::kReject404);
  auto client = WsClient::Connect(server.url("/v1/room/not-hex"));
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(client.status().Is(Code::kRetryable));
  EXPECT_EQ(client.status().message(), "relay refused the upgrade: HTTP 404");
}

TEST(WsClient, ARefusedConnectionSaysSo) {
  // A bound socket that does not listen: the kernel answers a connect with a reset.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string url = "ws://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/v1/room/x";
  auto client = WsClient::Connect(url);
  ::close(fd);
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(client.status().Is(Code::kRetryable));
  EXPECT_NE(client.status().message().find("refused"), std::string::npos)
      << client.status().message();
  EXPECT_EQ(client.status().message().find("/v1/room"), std::string::npos);  // no room id
}

TEST(WsClient, ConnectGivesUpAtTheDeadline) {
  // Listening but never accepting: TCP connects (the backlog), the upgrade is never answered.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  WsClientOptions options;
  options.connect_timeout_ms = 300;
  auto start = Clock::now();
  auto client =
      WsClient::Connect("ws://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/", options);
  int64_t took = MillisSince(start);
  ::close(fd);
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(client.status().Is(Code::kRetryable));
  EXPECT_NE(client.status().message().find("within 300 ms"), std::string::npos)
      << client.status().message();
  EXPECT_GE(took, 250);
  EXPECT_LT(took, 2000);
}

TEST(WsClient, SendAfterCloseFailsAndTheServerSeesTheCode) {
  TestWsServer server(Mode::kEcho);
  auto client = MustConnect(server.url());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->Send(Bytes{9}).ok());
  client->Close();
  EXPECT_TRUE(client->closed());
  EXPECT_TRUE(client->Send(Bytes{1}).Is(Code::kRetryable));
  EXPECT_TRUE(WaitFor([&] { return server.client_close_code.load() == 1000; }));
  // What was queued before Close() went first (its echo, arriving after the close frame left,
  // is discarded by the closing handshake); then the end is reported.
  EXPECT_EQ(server.messages_received.load(), 1);
  Status s = ReceiveUntilClosed(*client);
  EXPECT_NE(s.message().find("closed by this client with code 1000"), std::string::npos)
      << s.message();
  client->Close();  // idempotent
}

TEST(WsClient, TheDestructorClosesWith1001) {
  TestWsServer server(Mode::kEcho);
  auto client = MustConnect(server.url());
  ASSERT_TRUE(client);
  client.reset();
  EXPECT_TRUE(WaitFor([&] { return server.client_close_code.load() == 1001; }));
}

TEST(WsClient, ConcurrentSendsArriveInPerThreadOrder) {
  TestWsServer server(Mode::kEcho);
  WsClientOptions options;
  constexpr int kThreads = 4, kEach = 250;
  options.max_queued_sends = kThreads * kEach;
  auto client = MustConnect(server.url(), options);
  ASSERT_TRUE(client);
  std::vector<std::thread> senders;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        ByteWriter w;
        w.U32(static_cast<uint32_t>(t));
        w.U32(static_cast<uint32_t>(i));
        if (!client->Send(w.Take()).ok()) ++failures;
      }
    });
  }
  for (auto& s : senders) s.join();
  EXPECT_EQ(failures.load(), 0);
  std::vector<int> next(kThreads, 0);
  for (int n = 0; n < kThreads * kEach; ++n) {
    auto r = client->Receive(5000);
    ASSERT_TRUE(r.ok() && r->has_value()) << "message " << n;
    ByteReader reader(**r);
    uint32_t t = reader.U32(), i = reader.U32();
    ASSERT_TRUE(reader.ok() && t < kThreads);
    EXPECT_EQ(static_cast<int>(i), next[t]) << "thread " << t;
    next[t] = static_cast<int>(i) + 1;
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next[t], kEach);
  EXPECT_EQ(client->dropped_receives(), 0u);
}

TEST(WsClient, ReadyFdIsReadableWhileMessagesWaitOrClosed) {
  TestWsServer server(Mode::kEcho);
  auto client = MustConnect(server.url());
  ASSERT_TRUE(client);
  int fd = client->ready_fd();
  ASSERT_GE(fd, 0);
  EXPECT_FALSE(Readable(fd, 0));
  ASSERT_TRUE(client->Send(Bytes{1}).ok());
  ASSERT_TRUE(client->Send(Bytes{2}).ok());
  EXPECT_TRUE(Readable(fd, 5000));
  ASSERT_TRUE(WaitFor([&] {  // both echoes in: the fd stays readable until the last is taken
    auto r = client->Receive(0);
    return r.ok() && r->has_value() && (**r)[0] == 2;
  }));
  EXPECT_FALSE(Readable(fd, 0));
  client->Close();
  EXPECT_TRUE(Readable(fd, 0));
}

TEST(WsClient, TextFramesAreIgnoredAndCounted) {
  TestWsServer server(Mode::kTextThenBinary);
  auto client = MustConnect(server.url());
  ASSERT_TRUE(client);
  auto r = client->Receive(5000);
  ASSERT_TRUE(r.ok() && r->has_value()) << r.status().ToString();
  EXPECT_EQ(**r, (Bytes{1, 2, 3}));
  EXPECT_EQ(client->ignored_text_frames(), 1u);
}

TEST(WsClient, AFullReceiveQueueDropsTheOldest) {
  TestWsServer server(Mode::kSendBurst);
  WsClientOptions options;
  options.max_queued_receives = 3;
  auto client = MustConnect(server.url(), options);
  ASSERT_TRUE(client);
  ASSERT_TRUE(WaitFor([&] { return client->dropped_receives() == 7; }))
      << client->dropped_receives();
  for (uint8_t want : {7, 8, 9}) {
    auto r = client->Receive(0);
    ASSERT_TRUE(r.ok() && r->has_value());
    EXPECT_EQ(**r, Bytes{want});
  }
  auto none = client->Receive(0);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(WsClient, AFullSendQueueRefusesInsteadOfGrowing) {
  TestWsServer server(Mode::kSilent);  // reads nothing: the socket buffers fill, then the queue
  WsClientOptions options;
  options.max_queued_sends = 4;
  options.close_timeout_ms = 300;
  auto client = MustConnect(server.url(), options);
  ASSERT_TRUE(client);
  Status refused;
  for (int i = 0; i < 10000 && refused.ok(); ++i) refused = client->Send(Bytes(65536, 1));
  EXPECT_TRUE(refused.Is(Code::kRetryable)) << refused.ToString();
  EXPECT_NE(refused.message().find("queue full"), std::string::npos) << refused.message();
  // The relay takes nothing: Close() gives up on the handshake at close_timeout_ms.
  auto start = Clock::now();
  client->Close();
  EXPECT_TRUE(client->closed());
  EXPECT_LT(MillisSince(start), 2000);
}

TEST(WsClient, ADeadRelayIsNoticedByTheKeepAlivePing) {
  TestWsServer server(Mode::kSilent);  // never reads, so never answers a ping
  WsClientOptions options;
  options.idle_timeout_ms = 400;
  auto start = Clock::now();
  auto client = MustConnect(server.url(), options);
  ASSERT_TRUE(client);
  Status s = ReceiveUntilClosed(*client);
  EXPECT_TRUE(s.Is(Code::kRetryable));
  EXPECT_NE(s.message().find("not even a pong"), std::string::npos) << s.message();
  EXPECT_GE(MillisSince(start), 350);
  EXPECT_LT(MillisSince(start), 3000);
}

class WsClientTls : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = MakeSelfSignedCert(dir_);
    server_tls_.use_certificate_chain_file(cert_.cert_file);
    server_tls_.use_private_key_file(cert_.key_file, ssl::context::pem);
  }
  testing::TempDir dir_;
  TestCert cert_;
  ssl::context server_tls_{ssl::context::tls_server};
};

TEST_F(WsClientTls, ASelfSignedCertificateIsAcceptedWithCaFile) {
  TestWsServer server(Mode::kEcho, &server_tls_);
  WsClientOptions options;
  options.ca_file = cert_.cert_file;
  auto client = MustConnect(server.url(), options);
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->Send(Bytes{4, 5}).ok());
  auto r = client->Receive(5000);
  ASSERT_TRUE(r.ok() && r->has_value()) << r.status().ToString();
  EXPECT_EQ(**r, (Bytes{4, 5}));
  client->Close();
  EXPECT_TRUE(WaitFor([&] { return server.client_close_code.load() == 1000; }));
}

TEST_F(WsClientTls, ASelfSignedCertificateIsRefusedWithoutCaFile) {
  TestWsServer server(Mode::kEcho, &server_tls_);
  auto client = WsClient::Connect(server.url());
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(client.status().Is(Code::kRetryable));
  EXPECT_NE(client.status().message().find("TLS handshake"), std::string::npos)
      << client.status().message();
  EXPECT_NE(client.status().message().find("self-signed"), std::string::npos)
      << client.status().message();
  EXPECT_EQ(server.accepted.load(), 0);
}

TEST_F(WsClientTls, ACertificateForAnotherNameIsRefused) {
  TestWsServer server(Mode::kEcho, &server_tls_);
  WsClientOptions options;
  options.ca_file = cert_.cert_file;  // trusted, but it names 127.0.0.1 only
  auto client =
      WsClient::Connect("wss://localhost:" + std::to_string(server.port()) + "/x", options);
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(client.status().Is(Code::kRetryable));
  EXPECT_NE(client.status().message().find("mismatch"), std::string::npos)
      << client.status().message();
}

TEST_F(WsClientTls, AnUnreadableCaFileIsInvalid) {
  WsClientOptions options;
  options.ca_file = dir_ / "missing.pem";
  auto client = WsClient::Connect("wss://127.0.0.1:1/", options);
  EXPECT_TRUE(client.status().Is(Code::kInvalid)) << client.status().ToString();
}

}  // namespace
}  // namespace jsync::net

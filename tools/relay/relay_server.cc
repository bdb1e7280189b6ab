#include "tools/relay/relay_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>
#include <optional>
#include <type_traits>

#include "tools/relay/routes.h"
#include "tools/relay/webhooks.h"
#include "tools/relay/ws_session.h"

namespace jsync::relay {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr auto kHttpTimeout = std::chrono::seconds(30);

template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

http::response<http::string_body> TextResponse(http::status status, unsigned version,
                                               std::string body,
                                               const std::string& type = "text/plain; charset=utf-8") {
  http::response<http::string_body> res{status, version};
  res.set(http::field::server, "jsync-relay");
  res.set(http::field::content_type, type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// One HTTP connection: requests until the peer closes or upgrades to a WebSocket.
template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  template <class... Args>
  HttpSession(RoomHub& hub, int ping_seconds, Args&&... args)
      : stream_(std::forward<Args>(args)...), hub_(hub), ping_seconds_(ping_seconds) {}

  void Run() {
    if constexpr (kIsTls<Stream>) {
      beast::get_lowest_layer(stream_).expires_after(kHttpTimeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (!ec) self->DoRead();
                              });
    } else {
      DoRead();
    }
  }

 private:
  void DoRead() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(kMaxWebhookBody);
    beast::get_lowest_layer(stream_).expires_after(kHttpTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       self->OnRead(ec);
                     });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      Send(TextResponse(http::status::payload_too_large, 11, "body over 64 KiB\n"), false);
      return;
    }
    if (ec) return Shutdown();
    http::request<http::string_body> req = parser_->release();
    const Route route = ParseTarget(std::string_view(req.target().data(), req.target().size()));
    if (websocket::is_upgrade(req)) {
      if (route.kind == Route::Kind::kRoom) {
        std::make_shared<WsSession<Stream>>(std::move(stream_), hub_, ping_seconds_)
            ->Start(std::move(req), route.room, route.hook);
        return;
      }
      const bool bad_hook = route.kind == Route::Kind::kBadHook;
      Send(TextResponse(bad_hook ? http::status::bad_request : http::status::not_found,
                        req.version(), bad_hook ? "malformed hook id\n" : "not found\n"),
           false);
      return;
    }
    Send(Answer(req, route), req.keep_alive());
  }

  http::response<http::string_body> Answer(const http::request<http::string_body>& req,
                                           const Route& route) {
    const unsigned v = req.version();
    const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
    switch (route.kind) {
      case Route::Kind::kRoot:
        if (get) return TextResponse(http::status::ok, v, "jsync-relay\n");
        break;
      case Route::Kind::kStats:
        if (get) return TextResponse(http::status::ok, v, hub_.StatsJson(), "application/json");
        break;
      case Route::Kind::kWebhook: {
        const WebhookReply w =
            HandleWebhook(std::string(req.method_string()), route.query,
                          std::string(req["X-Goog-Channel-ID"]), req.body());
        if (w.nudge) {
          ++hub_.counters().hooks;
          hub_.Nudge(route.hook);
        }
        return TextResponse(static_cast<http::status>(w.status), v, w.body, w.content_type);
      }
      case Route::Kind::kRoom:
        return TextResponse(http::status::upgrade_required, v, "WebSocket only\n");
      case Route::Kind::kBadHook:
        return TextResponse(http::status::bad_request, v, "malformed hook id\n");
      case Route::Kind::kNotFound:
        return TextResponse(http::status::not_found, v, "not found\n");
    }
    return TextResponse(http::status::method_not_allowed, v, "method not allowed\n");
  }

  void Send(http::response<http::string_body> res, bool keep_alive) {
    res.keep_alive(keep_alive);
    auto sp = std::make_shared<http::response<http::string_body>>(std::move(res));
    http::async_write(stream_, *sp,
                      [self = this->shared_from_this(), sp, keep_alive](beast::error_code ec,
                                                                        size_t) {
                        if (ec || !keep_alive) return self->Shutdown();
                        self->DoRead();
                      });
  }

  void Shutdown() {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  Stream stream_;
  RoomHub& hub_;
  const int ping_seconds_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

}  // namespace

struct RelayServer::Impl : std::enable_shared_from_this<RelayServer::Impl> {
  Impl(net::io_context& io, RoomHub& h) : ioc(io), hub(h), acceptor(net::make_strand(io)),
                                          retry(acceptor.get_executor()) {}

  void Accept() {
    acceptor.async_accept(net::make_strand(ioc), [self = shared_from_this()](
                                                     beast::error_code ec, tcp::socket socket) {
      self->OnAccept(ec, std::move(socket));
    });
  }

  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (stopping) return;
    if (ec) {
      // Out of descriptors and the like: say so once per burst, wait, and go on.
      if (!logged_accept_error) {
        std::fprintf(stderr, "jsync-relay: accept failed: %s\n", ec.message().c_str());
        logged_accept_error = true;
      }
      retry.expires_after(std::chrono::milliseconds(100));
      retry.async_wait([self = shared_from_this()](beast::error_code e) {
        if (!e && !self->stopping) self->Accept();
      });
      return;
    }
    logged_accept_error = false;
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (tls) {
      std::make_shared<HttpSession<TlsStream>>(hub, options.ping_seconds, std::move(socket), *tls)
          ->Run();
    } else {
      std::make_shared<HttpSession<beast::tcp_stream>>(hub, options.ping_seconds,
                                                       std::move(socket))
          ->Run();
    }
    Accept();
  }

  net::io_context& ioc;
  RoomHub& hub;
  RelayServerOptions options;
  tcp::acceptor acceptor;
  net::steady_timer retry;
  std::optional<ssl::context> tls;
  uint16_t port = 0;
  bool stopping = false;
  bool logged_accept_error = false;
};

RelayServer::RelayServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
RelayServer::~RelayServer() = default;

std::unique_ptr<RelayServer> RelayServer::Create(net::io_context& ioc, RoomHub& hub,
                                                 const RelayServerOptions& options,
                                                 std::string* error) {
  auto impl = std::make_shared<Impl>(ioc, hub);
  impl->options = options;
  beast::error_code ec;
  if (!options.cert.empty() || !options.key.empty()) {
    if (options.cert.empty() || options.key.empty()) {
      *error = "--cert and --key go together";
      return nullptr;
    }
    impl->tls.emplace(ssl::context::tls_server);
    impl->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1);
    impl->tls->use_certificate_chain_file(options.cert, ec);
    if (ec) {
      *error = "cannot load certificate " + options.cert + ": " + ec.message();
      return nullptr;
    }
    impl->tls->use_private_key_file(options.key, ssl::context::pem, ec);
    if (ec) {
      *error = "cannot load key " + options.key + ": " + ec.message();
      return nullptr;
    }
  }
  const auto address = net::ip::make_address(options.host, ec);
  if (ec) {
    *error = "bad listen address " + options.host + ": " + ec.message();
    return nullptr;
  }
  const tcp::endpoint endpoint(address, options.port);
  auto& a = impl->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    *error = "cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " +
             ec.message();
    return nullptr;
  }
  impl->port = a.local_endpoint().port();
  return std::unique_ptr<RelayServer>(new RelayServer(std::move(impl)));
}

std::string RelayServer::url() const {
  std::string host = impl_->options.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(impl_->tls ? "wss://" : "ws://") + host + ":" + std::to_string(impl_->port);
}

void RelayServer::Start() {
  net::post(impl_->acceptor.get_executor(), [impl = impl_] { impl->Accept(); });
}

void RelayServer::Shutdown() {
  net::post(impl_->acceptor.get_executor(), [impl = impl_] {
    impl->stopping = true;
    beast::error_code ec;
    impl->acceptor.close(ec);
    impl->retry.cancel();
  });
  impl_->hub.CloseAll(websocket::close_code::going_away);
}

}  // namespace jsync::relay

#include "tests/support/ws_test_client.h"

#include <fcntl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <cstdint>

namespace jsync::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;

struct WsTestClient::Impl {
  net::io_context ioc;
  net::ssl::context tls{net::ssl::context::tls_client};
  std::unique_ptr<websocket::stream<beast::tcp_stream>> plain;
  std::unique_ptr<websocket::stream<beast::ssl_stream<beast::tcp_stream>>> secure;
  beast::flat_buffer buffer;
  bool reading = false;
  bool read_done = false;
  beast::error_code read_ec;
  bool is_closed = false;
  int code = 0;
  int ping_count = 0;

  template <class F>
  void With(F&& f) {
    if (plain) f(*plain);
    else f(*secure);
  }
  // Runs handlers until done() or the deadline.
  template <class Done>
  bool RunUntil(Done done, int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    ioc.restart();
    while (!done()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        ioc.poll();  // what is ready already counts, even with no time left
        return done();
      }
      ioc.run_one_for(deadline - now);
      if (ioc.stopped()) ioc.restart();
    }
    return true;
  }
  void StartRead() {
    if (reading || read_done || is_closed) return;  // one read at a time, results kept
    reading = true;
    With([this](auto& ws) {
      ws.async_read(buffer, [this](beast::error_code ec, size_t) {
        reading = false;
        read_done = true;
        read_ec = ec;
        if (ec) {
          is_closed = true;
          With([this](auto& w) { code = w.reason().code; });
        }
      });
    });
  }
};

WsTestClient::WsTestClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WsTestClient::~WsTestClient() {
  if (!impl_->is_closed) {
    beast::error_code ec;
    impl_->With([&ec](auto& ws) { beast::get_lowest_layer(ws).socket().close(ec); });
  }
}

std::unique_ptr<WsTestClient> WsTestClient::Connect(const std::string& url, std::string* error,
                                                    int* http_status, int timeout_ms) {
  if (http_status) *http_status = 0;
  const bool tls = url.rfind("wss://", 0) == 0;
  if (!tls && url.rfind("ws://", 0) != 0) {
    *error = "not a ws:// URL: " + url;
    return nullptr;
  }
  const std::string rest = url.substr(tls ? 6 : 5);
  const size_t slash = rest.find('/');
  const std::string hostport = rest.substr(0, slash);
  const std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  const size_t colon = hostport.rfind(':');
  const std::string host = hostport.substr(0, colon);
  const std::string port = hostport.substr(colon + 1);

  auto impl = std::make_unique<Impl>();
  impl->tls.set_verify_mode(net::ssl::verify_none);
  beast::error_code ec;
  tcp::resolver resolver(impl->ioc);
  const auto endpoints = resolver.resolve(host, port, ec);
  if (ec) {
    *error = "resolve " + hostport + ": " + ec.message();
    return nullptr;
  }
  if (tls) {
    impl->secure = std::make_unique<websocket::stream<beast::ssl_stream<beast::tcp_stream>>>(
        impl->ioc, impl->tls);
  } else {
    impl->plain = std::make_unique<websocket::stream<beast::tcp_stream>>(impl->ioc);
  }
  bool done = false;
  websocket::response_type res;
  impl->With([&](auto& ws) {
    beast::get_lowest_layer(ws).expires_after(std::chrono::milliseconds(timeout_ms));
    // Opened here with FD_CLOEXEC: a child the test starts later (ChildProcess forks) must not
    // inherit the socket, or closing it here would not close the connection.
    const tcp::endpoint endpoint = *endpoints.begin();
    auto& socket = beast::get_lowest_layer(ws).socket();
    socket.open(endpoint.protocol(), ec);
    if (!ec) ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
    beast::get_lowest_layer(ws).async_connect(endpoint, [&](beast::error_code e) {
      if (e) {
        ec = e;
        done = true;
        return;
      }
      auto upgrade = [&] {
        ws.async_handshake(res, hostport, target, [&](beast::error_code e2) {
          ec = e2;
          done = true;
        });
      };
      if constexpr (std::is_same_v<std::decay_t<decltype(ws)>,
                                   websocket::stream<beast::ssl_stream<beast::tcp_stream>>>) {
        ws.next_layer().async_handshake(net::ssl::stream_base::client,
                                        [&, upgrade](beast::error_code e3) {
                                          if (e3) {
                                            ec = e3;
                                            done = true;
                                            return;
                                          }
                                          upgrade();
                                        });
      } else {
        upgrade();
      }
    });
  });
  if (!impl->RunUntil([&] { return done; }, timeout_ms + 1000)) {
    *error = "connect " + url + ": timed out";
    return nullptr;
  }
  if (ec) {
    if (http_status) *http_status = static_cast<int>(res.result_int());
    *error = "connect " + url + ": " + ec.message() + " (HTTP " +
             std::to_string(res.result_int()) + ")";
    return nullptr;
  }
  impl->With([&](auto& ws) {
    beast::get_lowest_layer(ws).expires_never();
    ws.binary(true);
    ws.read_message_max(1u << 20);
    Impl* raw = impl.get();
    ws.control_callback([raw](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::ping) ++raw->ping_count;
    });
  });
  return std::unique_ptr<WsTestClient>(new WsTestClient(std::move(impl)));
}

bool WsTestClient::Send(const std::string& bytes, bool binary, int timeout_ms) {
  if (impl_->is_closed) return false;
  bool done = false;
  beast::error_code ec;
  impl_->With([&](auto& ws) {
    ws.binary(binary);
    ws.async_write(net::buffer(bytes), [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    });
  });
  // Keep a read pending meanwhile so pings are answered and a close is seen.
  impl_->StartRead();
  if (!impl_->RunUntil([&] { return done; }, timeout_ms)) return false;
  return !ec;
}

std::optional<std::string> WsTestClient::Read(int timeout_ms) {
  if (!impl_->read_done) {
    impl_->StartRead();
    if (!impl_->RunUntil([&] { return impl_->read_done; }, timeout_ms)) return std::nullopt;
  }
  impl_->read_done = false;
  if (impl_->read_ec) return std::nullopt;
  std::string out = beast::buffers_to_string(impl_->buffer.data());
  impl_->buffer.consume(impl_->buffer.size());
  return out;
}

bool WsTestClient::WaitClosed(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!impl_->is_closed) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return false;
    Read(static_cast<int>(left));
  }
  return true;
}

bool WsTestClient::closed() const { return impl_->is_closed; }
int WsTestClient::close_code() const { return impl_->code; }
int WsTestClient::pings() const { return impl_->ping_count; }

void WsTestClient::Close(int timeout_ms) {
  if (impl_->is_closed) return;
  bool done = false;
  impl_->With([&](auto& ws) {
    ws.async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
  });
  impl_->RunUntil([&] { return done; }, timeout_ms);
  impl_->is_closed = true;
}

std::string RelayFrame(uint64_t tag, size_t size) {
  std::string f(size < 46 ? 46 : size, '\0');
  f[0] = 1;
  f[1] = 1;
  for (int i = 0; i < 8; ++i) f[2 + i] = static_cast<char>(tag >> (56 - 8 * i));
  for (size_t i = 10; i < f.size(); ++i) f[i] = static_cast<char>((tag * 131 + i * 7) & 0xff);
  return f;
}

std::string HexId(const std::string& name) {
  // FNV-1a stretched over 32 bytes: distinct names give distinct ids, no crypto needed.
  static const char* kHex = "0123456789abcdef";
  std::string out;
  uint64_t h = 1469598103934665603ull;
  for (char c : name) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  while (out.size() < 64) {
    h = (h ^ out.size()) * 1099511628211ull;
    out.push_back(kHex[(h >> 33) & 15]);
  }
  return out;
}

}  // namespace jsync::testing

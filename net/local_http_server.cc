#include "net/local_http_server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <list>
#include <mutex>
#include <thread>

#include <sys/socket.h>

namespace jsync::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string ParamFrom(const std::string& encoded, const std::string& name) {
  for (auto& [k, v] : ParseForm(encoded))
    if (k == name) return v;
  return "";
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The parser every connection uses, with the server's limits.
struct RequestParser {
  explicit RequestParser(uint64_t max_body_bytes) {
    parser.body_limit(max_body_bytes);
    parser.header_limit(64 * 1024);
  }
  http::request_parser<http::string_body> parser;
};

LocalRequest ToLocalRequest(http::request<http::string_body>& req, std::string peer) {
  LocalRequest in;
  in.method = std::string(req.method_string());
  in.target = std::string(req.target());
  size_t q = in.target.find('?');
  in.path = PercentDecode(in.target.substr(0, q), false);
  in.query = q == std::string::npos ? "" : in.target.substr(q + 1);
  for (const auto& field : req)
    in.headers.emplace_back(Lower(std::string(field.name_string())), std::string(field.value()));
  in.body = std::move(req.body());
  in.peer_address = std::move(peer);
  return in;
}

}  // namespace

std::vector<LocalRequest> ParseRequestStream(std::string_view bytes, uint64_t max_body_bytes) {
  std::vector<LocalRequest> out;
  while (!bytes.empty()) {
    RequestParser p(max_body_bytes);
    beast::error_code ec;
    // What http::read does over a socket, over the bytes at hand: feed until done or stuck.
    while (!p.parser.is_done() && !bytes.empty()) {
      const size_t used = p.parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
      bytes.remove_prefix(used);
      if (ec == http::error::need_more) {
        if (used == 0) return out;  // an incomplete request: the server would wait for more
        ec = {};
        continue;
      }
      if (ec) return out;
    }
    if (!p.parser.is_done()) return out;
    out.push_back(ToLocalRequest(p.parser.get(), "127.0.0.1"));
    if (!p.parser.get().keep_alive()) break;  // the server closes after answering it
  }
  return out;
}

std::string PercentDecode(const std::string& s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else if (s[i] == '+' && plus_as_space) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string PercentEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseForm(const std::string& s) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('&', start);
    if (end == std::string::npos) end = s.size();
    std::string part = s.substr(start, end - start);
    if (!part.empty()) {
      size_t eq = part.find('=');
      if (eq == std::string::npos)
        out.emplace_back(PercentDecode(part, true), "");
      else
        out.emplace_back(PercentDecode(part.substr(0, eq), true),
                         PercentDecode(part.substr(eq + 1), true));
    }
    start = end + 1;
  }
  return out;
}

std::string LocalRequest::Header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return "";
}
std::string LocalRequest::QueryParam(const std::string& name) const {
  return ParamFrom(query, name);
}
std::string LocalRequest::FormParam(const std::string& name) const { return ParamFrom(body, name); }

LocalResponse LocalResponse::Json(int status, std::string json_text) {
  LocalResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json; charset=UTF-8");
  r.body = std::move(json_text);
  return r;
}

LocalResponse LocalResponse::Text(int status, std::string text, std::string content_type) {
  LocalResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::move(content_type));
  r.body = std::move(text);
  return r;
}

// One thread per connection keeps the code plain blocking Beast; connections are few (loopback
// tests and one browser), and Stop() unblocks them by shutting their sockets down.
struct LocalHttpServer::Impl {
  LocalHandler handler;
  LocalServerOptions options;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  uint16_t port = 0;
  std::thread accept_thread;
  struct Connection {
    explicit Connection(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    std::thread worker;
    std::atomic<bool> done{false};
  };
  std::mutex mu;
  std::list<std::unique_ptr<Connection>> connections;
  std::atomic<bool> stopping{false};

  void AcceptLoop() {
    while (!stopping) {
      auto conn = std::make_unique<Connection>(io);
      beast::error_code ec;
      acceptor.accept(conn->socket, ec);
      if (stopping) break;
      if (ec) continue;
      std::lock_guard lock(mu);
      ReapFinished();
      Connection* raw = conn.get();
      connections.push_back(std::move(conn));
      raw->worker = std::thread([this, raw] {
        Serve(raw->socket);
        raw->done = true;
      });
    }
  }

  // Joins the threads of closed connections so a long-running emulator does not collect them.
  void ReapFinished() {
    for (auto it = connections.begin(); it != connections.end();) {
      if ((*it)->done) {
        (*it)->worker.join();
        it = connections.erase(it);
      } else {
        ++it;
      }
    }
  }

  void Serve(tcp::socket& socket) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    const std::string peer = socket.remote_endpoint(ec).address().to_string();
    while (!stopping) {
      RequestParser p(options.max_body_bytes);
      http::read(socket, buffer, p.parser, ec);
      if (ec) break;
      auto& req = p.parser.get();
      const bool keep_alive = req.keep_alive();
      LocalRequest in = ToLocalRequest(req, peer);
      LocalResponse out;
      try {
        out = handler(in);
      } catch (const std::exception& e) {
        out = LocalResponse::Text(500, std::string("internal error: ") + e.what());
      }
      if (out.drop_connection) break;
      http::response<http::string_body> res{static_cast<http::status>(out.status), req.version()};
      bool has_type = false;
      bool close = !keep_alive;
      for (const auto& [k, v] : out.headers) {
        res.set(k, v);
        if (Lower(k) == "content-type") has_type = true;
        if (Lower(k) == "connection" && Lower(v) == "close") close = true;
      }
      if (!has_type && !out.body.empty()) res.set(http::field::content_type, "text/plain");
      res.keep_alive(!close);
      res.body() = std::move(out.body);
      res.prepare_payload();
      if (out.truncate_body_at >= 0 &&
          static_cast<uint64_t>(out.truncate_body_at) < res.body().size()) {
        http::response_serializer<http::string_body> sr{res};
        http::write_header(socket, sr, ec);
        if (!ec)
          asio::write(socket,
                      asio::buffer(res.body().data(), static_cast<size_t>(out.truncate_body_at)),
                      ec);
        break;
      }
      http::write(socket, res, ec);
      if (ec || close) break;
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }
};

LocalHttpServer::LocalHttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<LocalHttpServer>> LocalHttpServer::Start(LocalHandler handler,
                                                                const LocalServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->handler = std::move(handler);
  impl->options = options;
  beast::error_code ec;
  auto address = asio::ip::make_address(options.address, ec);
  if (ec) return Status::Invalid("not an IP address: " + options.address);
  tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Status::Fatal("cannot listen on " + options.address + ":" +
                         std::to_string(options.port) + ": " + ec.message());
  impl->port = impl->acceptor.local_endpoint().port();
  Impl* raw = impl.get();
  impl->accept_thread = std::thread([raw] { raw->AcceptLoop(); });
  return std::unique_ptr<LocalHttpServer>(new LocalHttpServer(std::move(impl)));
}

LocalHttpServer::~LocalHttpServer() { Stop(); }

uint16_t LocalHttpServer::port() const { return impl_->port; }

std::string LocalHttpServer::base_url() const {
  const bool v6 = impl_->options.address.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + impl_->options.address + "]" : impl_->options.address) + ":" +
         std::to_string(impl_->port);
}

void LocalHttpServer::Stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  beast::error_code ec;
  // A blocking accept() is not woken by close() on Linux; shutdown() on the listening socket is.
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  impl_->acceptor.close(ec);
  std::lock_guard lock(impl_->mu);
  // Shutting down the receiving side wakes workers waiting for a next request, and lets one
  // that is answering (the OAuth redirect page) finish writing.
  for (auto& c : impl_->connections) c->socket.shutdown(tcp::socket::shutdown_receive, ec);
  for (auto& c : impl_->connections)
    if (c->worker.joinable()) c->worker.join();
  impl_->connections.clear();
}

}  // namespace jsync::net

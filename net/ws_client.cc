#include "net/ws_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

namespace jsync::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Millis = std::chrono::milliseconds;

// See the header: the caller's answer to every transport failure is "reconnect later".
Status Unavailable(std::string message) { return Status::Retryable(std::move(message)); }

bool IsIpLiteral(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// A close reason from the relay goes into logs: printable ASCII only.
std::string Printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  return out;
}

// Codes an endpoint may send (RFC 6455 §7.4); anything else becomes 1000.
uint16_t SendableCloseCode(uint16_t code) {
  bool ok = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
            (code >= 3000 && code <= 4999);
  return ok ? code : 1000;
}

Result<std::unique_ptr<ssl::context>> MakeTlsContext(const std::string& ca_file) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  error_code ec;
  ctx->set_default_verify_paths(ec);  // no system store is not fatal: ca_file may suffice
  if (!ca_file.empty()) {
    ctx->load_verify_file(ca_file, ec);
    if (ec) return Status::Invalid("cannot load the CA file " + ca_file + ": " + ec.message());
  }
  ctx->set_verify_mode(ssl::verify_peer, ec);
  if (ec) return Status::Fatal("TLS setup failed: " + ec.message());
  return ctx;
}

// What the caller's threads and the io thread share; every field under `mu`.
struct SharedState {
  explicit SharedState(const WsClientOptions& o) : options(o) {
    event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  }
  ~SharedState() {
    if (event_fd >= 0) ::close(event_fd);
  }
  SharedState(const SharedState&) = delete;
  SharedState& operator=(const SharedState&) = delete;

  // ready_fd is readable exactly while a message waits or the connection is over.
  void UpdateSignalLocked() {
    bool want = !received.empty() || closed;
    if (want == signalled || event_fd < 0) return;
    uint64_t v = 1;
    ssize_t n = want ? ::write(event_fd, &v, sizeof v) : ::read(event_fd, &v, sizeof v);
    if (n == static_cast<ssize_t>(sizeof v)) signalled = want;
  }

  const WsClientOptions options;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<Bytes> received;
  std::deque<Bytes> to_send;
  bool close_requested = false;
  uint16_t close_code = 1000;
  bool closed = false;
  std::string close_reason;
  uint64_t dropped = 0;
  uint64_t text_frames = 0;
  int event_fd = -1;
  bool signalled = false;
};

// The connection's state machine. Every method runs on the io thread.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void Start(std::promise<Status>* connected) = 0;
  // Starts the next queued write, or the closing handshake once the queue is empty.
  virtual void Pump() = 0;
  // Drops the connection now (close timeout, an exception in a handler).
  virtual void Abort(const std::string& reason) = 0;
};

template <bool kTls>
class Session final : public SessionBase {
  using Transport =
      std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;
  using Ws = websocket::stream<Transport>;

 public:
  Session(asio::io_context& ioc, SharedState& st, WsUrl url, std::unique_ptr<ssl::context> tls)
      : st_(st), url_(std::move(url)), tls_(std::move(tls)), resolver_(ioc), deadline_(ioc) {
    bool v6 = url_.host.find(':') != std::string::npos;
    where_ = (v6 ? "[" + url_.host + "]" : url_.host) + ":" + std::to_string(url_.port);
    if constexpr (kTls)
      ws_.emplace(ioc, *tls_);
    else
      ws_.emplace(ioc);
  }

  void Start(std::promise<Status>* connected) override {
    connected_promise_ = connected;
    // One deadline for resolve + TCP + TLS + upgrade: when it passes, the pending step fails.
    deadline_.expires_after(Millis(std::max(1, st_.options.connect_timeout_ms)));
    deadline_.async_wait([this](error_code ec) {
      if (ec || open_ || finished_) return;
      timed_out_ = true;
      resolver_.cancel();
      beast::get_lowest_layer(*ws_).close();
    });
    resolver_.async_resolve(url_.host, std::to_string(url_.port),
                            [this](error_code ec, tcp::resolver::results_type results) {
                              OnResolved(ec, std::move(results));
                            });
  }

  void Pump() override {
    if (!open_ || finished_ || writing_ || close_started_) return;
    uint16_t code = 0;
    {
      std::lock_guard lock(st_.mu);
      if (!st_.to_send.empty()) {
        out_ = std::move(st_.to_send.front());
        st_.to_send.pop_front();
      } else if (st_.close_requested) {
        code = st_.close_code;
      } else {
        return;
      }
    }
    if (code != 0) return StartClose(code);
    writing_ = true;
    ws_->async_write(asio::buffer(out_), [this](error_code ec, size_t) {
      writing_ = false;
      if (finished_) return;
      // Aborted: the read side is closing the stream and reports why.
      if (ec == asio::error::operation_aborted) return;
      if (ec) return Abort("sending to " + where_ + " failed: " + ec.message());
      Pump();
    });
  }

  void Abort(const std::string& reason) override {
    if (connected_promise_) return FailConnect(Unavailable(reason));
    Finish(reason);
    deadline_.cancel();
    resolver_.cancel();
    beast::get_lowest_layer(*ws_).close();
  }

 private:
  void OnResolved(error_code ec, tcp::resolver::results_type results) {
    if (ec) return FailConnect(ec, "cannot resolve " + url_.host);
    beast::get_lowest_layer(*ws_).async_connect(
        results, [this](error_code ec, const tcp::endpoint&) { OnTcpConnected(ec); });
  }

  void OnTcpConnected(error_code ec) {
    if (ec) return FailConnect(ec, "cannot connect to " + where_);
    beast::get_lowest_layer(*ws_).socket().set_option(tcp::no_delay(true), ec);
    if constexpr (kTls) {
      SSL* ssl = ws_->next_layer().native_handle();
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      if (IsIpLiteral(url_.host)) {
        // RFC 6066: no SNI for an address; the certificate must name the address itself.
        X509_VERIFY_PARAM_set1_ip_asc(param, url_.host.c_str());
      } else {
        SSL_set_tlsext_host_name(ssl, url_.host.c_str());
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        X509_VERIFY_PARAM_set1_host(param, url_.host.c_str(), 0);
      }
      ws_->next_layer().async_handshake(ssl::stream_base::client,
                                        [this](error_code ec) { OnTlsDone(ec); });
    } else {
      Upgrade();
    }
  }

  void OnTlsDone(error_code ec) {
    if constexpr (kTls) {
      if (ec) {
        std::string what = "TLS handshake with " + where_ + " failed";
        long verify = SSL_get_verify_result(ws_->next_layer().native_handle());
        if (verify != X509_V_OK) {
          what += " (certificate not trusted: ";
          what += X509_verify_cert_error_string(verify);
          what += ")";
        }
        return FailConnect(ec, what);
      }
    }
    Upgrade();
  }

  void Upgrade() {
    ws_->set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
      req.set(beast::http::field::user_agent, "jsync-ws-client");
    }));
    ws_->read_message_max(st_.options.max_message_bytes);
    ws_->binary(true);
    ws_->auto_fragment(false);  // one frame per message: the relay counts frames
    ws_->async_handshake(upgrade_response_, url_.HostHeader(), url_.target,
                         [this](error_code ec) { OnUpgraded(ec); });
  }

  void OnUpgraded(error_code ec) {
    if (ec == websocket::error::upgrade_declined && !timed_out_) {
      Status refused = Unavailable("relay refused the upgrade: HTTP " +
                                   std::to_string(upgrade_response_.result_int()));
      return FailConnect(refused);
    }
    if (ec) return FailConnect(ec, "WebSocket upgrade with " + where_ + " failed");
    open_ = true;
    deadline_.cancel();
    websocket::stream_base::timeout t{};
    t.handshake_timeout = Millis(std::max(1, st_.options.close_timeout_ms));  // the close
    t.idle_timeout = st_.options.idle_timeout_ms > 0
                         ? websocket::stream_base::duration(Millis(st_.options.idle_timeout_ms))
                         : websocket::stream_base::none();
    t.keep_alive_pings = true;
    ws_->set_option(t);
    connected_promise_->set_value(Status::Ok());
    connected_promise_ = nullptr;
    Read();
    Pump();
  }

  void FailConnect(error_code ec, const std::string& what) {
    if (timed_out_) {
      return FailConnect(Unavailable("no connection to " + where_ + " within " +
                                     std::to_string(st_.options.connect_timeout_ms) +
                                     " ms (TCP, TLS and upgrade together)"));
    }
    if (ec == asio::error::connection_refused)
      return FailConnect(Unavailable("connection to " + where_ + " refused"));
    FailConnect(Unavailable(what + ": " + ec.message()));
  }

  void FailConnect(const Status& status) {
    Finish(status.message());
    deadline_.cancel();
    beast::get_lowest_layer(*ws_).close();
    if (connected_promise_) connected_promise_->set_value(status);
    connected_promise_ = nullptr;
  }

  void Read() {
    ws_->async_read(buffer_, [this](error_code ec, size_t) { OnRead(ec); });
  }

  void OnRead(error_code ec) {
    if (finished_) return;
    if (ec) {
      Finish(WhyClosed(ec));
      beast::get_lowest_layer(*ws_).close();
      return;
    }
    if (ws_->got_text()) {
      std::lock_guard lock(st_.mu);
      ++st_.text_frames;
    } else {
      auto data = buffer_.data();
      const auto* begin = static_cast<const uint8_t*>(data.data());
      Bytes message(begin, begin + data.size());
      std::lock_guard lock(st_.mu);
      size_t cap = std::max<size_t>(1, st_.options.max_queued_receives);
      while (st_.received.size() >= cap) {
        st_.received.pop_front();
        ++st_.dropped;
      }
      st_.received.push_back(std::move(message));
      st_.UpdateSignalLocked();
      st_.cv.notify_all();
    }
    buffer_.consume(buffer_.size());
    Read();
  }

  std::string WhyClosed(error_code ec) {
    if (close_started_ && (ec == websocket::error::closed || ec == asio::error::operation_aborted))
      return OwnCloseReason();
    if (ec == websocket::error::closed) {
      const websocket::close_reason& r = ws_->reason();
      std::string text = Printable(std::string_view(r.reason.data(), r.reason.size()));
      return "relay closed the connection with code " + std::to_string(static_cast<int>(r.code)) +
             (text.empty() ? "" : " (" + text + ")");
    }
    if (ec == websocket::error::message_too_big)
      return "a message over " + std::to_string(st_.options.max_message_bytes) +
             " bytes arrived: closed with 1009 (message too big)";
    if (ec == beast::error::timeout)
      return "nothing from " + where_ + " for " + std::to_string(st_.options.idle_timeout_ms) +
             " ms, not even a pong: connection dropped";
    return "connection to " + where_ + " lost: " + ec.message();
  }

  std::string OwnCloseReason() const {
    return "closed by this client with code " + std::to_string(own_close_code_);
  }

  void StartClose(uint16_t code) {
    close_started_ = true;
    own_close_code_ = SendableCloseCode(code);
    ws_->async_close(websocket::close_reason(own_close_code_), [this](error_code ec) {
      if (ec && ec != asio::error::operation_aborted && !finished_)
        return Abort("closing handshake with " + where_ + " failed: " + ec.message());
      Finish(OwnCloseReason());
    });
  }

  // The connection is over (first reason wins): wake Receive() and ready_fd, refuse sends.
  void Finish(const std::string& reason) {
    if (finished_) return;
    finished_ = true;
    std::lock_guard lock(st_.mu);
    st_.closed = true;
    st_.close_reason = reason;
    st_.to_send.clear();
    st_.UpdateSignalLocked();
    st_.cv.notify_all();
  }

  SharedState& st_;
  const WsUrl url_;
  std::string where_;  // "host:port" for messages: never the path (room id) or query (hook id)
  std::unique_ptr<ssl::context> tls_;  // outlives ws_ (declared before it)
  tcp::resolver resolver_;
  asio::steady_timer deadline_;
  std::optional<Ws> ws_;
  beast::flat_buffer buffer_;
  websocket::response_type upgrade_response_;
  std::promise<Status>* connected_promise_ = nullptr;
  Bytes out_;  // the message being written (kept alive until the write completes)
  bool open_ = false;
  bool timed_out_ = false;
  bool writing_ = false;
  bool close_started_ = false;
  bool finished_ = false;
  uint16_t own_close_code_ = 1000;
};

}  // namespace

struct WsClient::Impl {
  explicit Impl(const WsClientOptions& options) : st(options) {}
  ~Impl() { Stop(); }

  void RunIo() {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        // A handler threw (bad_alloc...): drop the connection, keep the loop for the close.
        std::string what = std::string("WebSocket client failed: ") + e.what();
        asio::post(ioc, [this, what] { session->Abort(what); });
      } catch (...) {
        asio::post(ioc, [this] { session->Abort("WebSocket client failed"); });
      }
    }
  }

  void Stop() {
    work.reset();
    ioc.stop();
    if (thread.joinable()) thread.join();
  }

  void Post(void (SessionBase::*method)()) {
    asio::post(ioc, [s = session.get(), method] { (s->*method)(); });
  }

  // Destroyed in reverse: the thread is joined before the session, the session before ioc.
  SharedState st;
  std::promise<Status> connected;
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  std::unique_ptr<SessionBase> session;
  std::thread thread;
};

std::string WsUrl::HostHeader() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) h += ":" + std::to_string(port);
  return h;
}

Result<WsUrl> ParseWsUrl(const std::string& url) {
  // The URL itself is left out of the messages: its path carries the room id.
  auto bad = [](const std::string& why) {
    return Status::Invalid("not a ws:// or wss:// URL: " + why);
  };
  for (unsigned char c : url)
    if (c <= 0x20 || c >= 0x7f) return bad("space, control or non-ASCII character");
  WsUrl out;
  std::string lower = url.substr(0, 6);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string rest;
  if (lower.rfind("ws://", 0) == 0) {
    rest = url.substr(5);
  } else if (lower.rfind("wss://", 0) == 0) {
    out.tls = true;
    rest = url.substr(6);
  } else {
    return bad("the scheme must be ws or wss");
  }
  size_t end = rest.find_first_of("/?#");
  std::string authority = rest.substr(0, end);
  std::string tail = end == std::string::npos ? "" : rest.substr(end);
  if (tail.find('#') != std::string::npos) return bad("fragment");
  if (authority.find('@') != std::string::npos) return bad("user info");
  std::string port_text;
  bool has_port = false;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return bad("unclosed [");
    out.host = authority.substr(1, close - 1);
    error_code ec;
    asio::ip::make_address_v6(out.host, ec);
    if (ec) return bad("bad IPv6 address");
    std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("junk after ]");
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.find(':');
    if (colon != std::string::npos && authority.find(':', colon + 1) != std::string::npos)
      return bad("an IPv6 address needs brackets");
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    for (unsigned char c : out.host)
      if (!std::isalnum(c) && c != '-' && c != '.' && c != '_') return bad("bad host name");
  }
  if (out.host.empty()) return bad("no host");
  if (has_port) {
    if (port_text.empty() || port_text.size() > 5) return bad("bad port");
    unsigned long p = 0;
    for (unsigned char c : port_text) {
      if (!std::isdigit(c)) return bad("bad port");
      p = p * 10 + (c - '0');
    }
    if (p == 0 || p > 65535) return bad("port out of range");
    out.port = static_cast<uint16_t>(p);
  } else {
    out.port = out.tls ? 443 : 80;
  }
  out.target = tail.empty() ? "/" : (tail[0] == '?' ? "/" + tail : tail);
  return out;
}

WsClient::WsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<WsClient>> WsClient::Connect(const std::string& url,
                                                    const WsClientOptions& options) {
  try {
    JSYNC_ASSIGN_OR_RETURN(WsUrl parsed, ParseWsUrl(url));
    std::unique_ptr<ssl::context> tls;
    if (parsed.tls) {
      JSYNC_ASSIGN_OR_RETURN(tls, MakeTlsContext(options.ca_file));
    }
    auto impl = std::make_unique<Impl>(options);
    if (impl->st.event_fd < 0) return Status::Fatal("eventfd failed");
    if (parsed.tls)
      impl->session =
          std::make_unique<Session<true>>(impl->ioc, impl->st, std::move(parsed), std::move(tls));
    else
      impl->session =
          std::make_unique<Session<false>>(impl->ioc, impl->st, std::move(parsed), nullptr);
    std::future<Status> connected = impl->connected.get_future();
    asio::post(impl->ioc, [p = impl.get()] { p->session->Start(&p->connected); });
    impl->thread = std::thread([p = impl.get()] { p->RunIo(); });
    // The session's deadline ends every step but a name lookup stuck in getaddrinfo, which
    // cannot be interrupted: give up waiting for it a little after the deadline.
    int wait_ms = std::max(1, options.connect_timeout_ms) + 1000;
    if (connected.wait_for(Millis(wait_ms)) != std::future_status::ready) {
      impl->Stop();
      return Unavailable("no connection within " + std::to_string(options.connect_timeout_ms) +
                         " ms (name resolution did not finish)");
    }
    Status status = connected.get();
    if (!status.ok()) return status;  // ~Impl stops the thread
    return std::unique_ptr<WsClient>(new WsClient(std::move(impl)));
  } catch (const std::exception& e) {
    return Status::Fatal(std::string("WebSocket client: ") + e.what());
  }
}

WsClient::~WsClient() {
  Close(1001);
  impl_->Stop();
}

Status WsClient::Send(Bytes frame) {
  SharedState& st = impl_->st;
  {
    std::lock_guard lock(st.mu);
    if (st.closed) return Unavailable("not connected: " + st.close_reason);
    if (st.close_requested) return Unavailable("the connection is closing");
    if (st.options.max_message_bytes != 0 && frame.size() > st.options.max_message_bytes)
      return Status::Invalid("a message of " + std::to_string(frame.size()) + " bytes is over the " +
                             std::to_string(st.options.max_message_bytes) + "-byte limit");
    if (st.to_send.size() >= st.options.max_queued_sends)
      return Unavailable("send queue full (" + std::to_string(st.to_send.size()) +
                         " messages waiting): the relay is not keeping up");
    st.to_send.push_back(std::move(frame));
  }
  impl_->Post(&SessionBase::Pump);
  return Status::Ok();
}

Result<std::optional<Bytes>> WsClient::Receive(int timeout_ms) {
  SharedState& st = impl_->st;
  std::unique_lock lock(st.mu);
  auto ready = [&st] { return !st.received.empty() || st.closed; };
  if (timeout_ms < 0)
    st.cv.wait(lock, ready);
  else if (timeout_ms > 0)
    st.cv.wait_for(lock, Millis(timeout_ms), ready);
  if (!st.received.empty()) {
    std::optional<Bytes> message(std::move(st.received.front()));
    st.received.pop_front();
    st.UpdateSignalLocked();
    return message;
  }
  if (st.closed) return Unavailable(st.close_reason);
  return std::optional<Bytes>();
}

int WsClient::ready_fd() const { return impl_->st.event_fd; }

bool WsClient::closed() const {
  std::lock_guard lock(impl_->st.mu);
  return impl_->st.closed;
}

void WsClient::Close(uint16_t code) {
  SharedState& st = impl_->st;
  std::unique_lock lock(st.mu);
  if (st.closed) return;
  if (!st.close_requested) {
    st.close_requested = true;
    st.close_code = code;
  }
  lock.unlock();
  impl_->Post(&SessionBase::Pump);
  lock.lock();
  auto done = [&st] { return st.closed; };
  if (st.cv.wait_for(lock, Millis(std::max(1, st.options.close_timeout_ms)), done)) return;
  lock.unlock();
  std::string why = "no close from the relay within " +
                    std::to_string(st.options.close_timeout_ms) + " ms: connection dropped";
  asio::post(impl_->ioc, [s = impl_->session.get(), why] { s->Abort(why); });
  lock.lock();
  st.cv.wait_for(lock, Millis(1000), done);  // the io thread drops it at once
}

uint64_t WsClient::dropped_receives() const {
  std::lock_guard lock(impl_->st.mu);
  return impl_->st.dropped;
}

uint64_t WsClient::ignored_text_frames() const {
  std::lock_guard lock(impl_->st.mu);
  return impl_->st.text_frames;
}

}  // namespace jsync::net

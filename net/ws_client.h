// A WebSocket client (RFC 6455, ws:// and wss://) for the watcher's link to the relay
// (docs: /work/notes/relay-protocol.md, issue 14). Boost.Beast does the protocol; it stays in
// ws_client.cc behind this interface (pimpl) so nothing else includes Beast or Asio
// (decision 0011).
//
// One io thread per client runs an async read loop and a write queue; Send() and Receive() are
// thread-safe and never block on the network. Only binary messages are delivered; text frames
// are ignored and counted. Pings from the relay are answered, and the client pings a quiet
// relay itself, so a dead one is noticed within idle_timeout_ms.
//
// "Unavailable" is Code::kRetryable: status.h has no kUnavailable, and what the caller does
// about a refused, lost or closed connection is reconnect later with backoff. Error messages
// name the host and port but never the path or query (the room and hook ids live there).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/util/bytes.h"
#include "core/util/status.h"

namespace jsync::net {

struct WsClientOptions {
  uint64_t max_message_bytes = 73728;  // a bigger incoming message closes with 1009 (0: none)
  int connect_timeout_ms = 5000;       // TCP + TLS + upgrade together
  std::string ca_file;                 // wss: extra CA/cert to trust (tests' self-signed); empty: system store
  size_t max_queued_sends = 256;       // Send() beyond this fails kRetryable (never unbounded memory)
  size_t max_queued_receives = 1024;   // beyond: oldest dropped, counted
  // Added: no data from the relay for half of this sends a ping, for all of it closes the
  // connection (Beast's keep-alive). The relay pings every 20 s, so 40 s notices a dead relay
  // well within a minute; tests shorten it. 0: no pings, no idle limit.
  int idle_timeout_ms = 40000;
  // Added: Close() and the destructor wait at most this long for the closing handshake (the
  // queued messages go first), then drop the connection: a dead relay cannot hang shutdown.
  int close_timeout_ms = 2000;
};

// The parts of a ws:// or wss:// URL. Added so the watcher can check a configured relay URL
// (`jsync relay set`) without connecting, and so the parser is tested on its own.
struct WsUrl {
  bool tls = false;      // wss
  std::string host;      // without brackets for an IPv6 literal
  uint16_t port = 0;     // 80 / 443 when the URL names none
  std::string target;    // path plus "?query", "/" at least
  std::string HostHeader() const;  // "host" or "host:port" (brackets for IPv6)
};
// kInvalid for anything but ws/wss with a host, an optional port 1..65535 and an optional
// path/query (no user info, no fragment, no spaces or control characters).
Result<WsUrl> ParseWsUrl(const std::string& url);

class WsClient {
 public:
  // ws:// or wss:// URL with path+query. Connects within connect_timeout_ms; kRetryable (message
  // says why: refused, timeout, TLS failure, HTTP status of a refused upgrade, e.g. "relay refused
  // the upgrade: HTTP 404") otherwise; kInvalid for a malformed URL or an unreadable ca_file.
  static Result<std::unique_ptr<WsClient>> Connect(const std::string& url,
                                                   const WsClientOptions& options = {});
  ~WsClient();  // Close(1001) and joins the thread
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Thread-safe, queues one binary message. kRetryable once closed (or Close() was called) and
  // when max_queued_sends are waiting; kInvalid for a message over max_message_bytes (the relay
  // would close the whole connection for it).
  Status Send(Bytes frame);
  // Next received binary message; nullopt on timeout (timeout_ms 0: don't wait; negative: wait
  // without bound). kRetryable once the connection is closed and the queue drained (message
  // names the close code and reason, or the network error).
  Result<std::optional<Bytes>> Receive(int timeout_ms);
  // An eventfd readable while messages are queued or the connection closed, for poll() loops.
  // Level-triggered: Receive() drains it when it takes the last message of an open connection.
  int ready_fd() const;
  bool closed() const;
  // Sends what is queued, then the close frame with `code`; returns when the connection is
  // closed (at most close_timeout_ms plus a little). Messages that arrive after the close frame
  // left are discarded (RFC 6455 §5.5.1); those received before stay queued. Idempotent.
  void Close(uint16_t code = 1000);
  uint64_t dropped_receives() const;
  uint64_t ignored_text_frames() const;  // added: text frames received (and dropped)

  struct Impl;  // public only so ws_client.cc's session classes can name it

 private:
  explicit WsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jsync::net

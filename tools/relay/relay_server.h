// The relay's listener: one port serving HTTP (GET /, GET /v1/stats, POST /v1/hook/<HOOK>) and
// the WebSocket upgrade of /v1/room/<ROOM>, plain or — with a certificate — TLS through
// boost::asio::ssl (OpenSSL). Everything runs on the caller's io_context (Asio async: no thread
// per connection); each connection lives on its own strand.
//
// Thread-safety: Start and Shutdown from any thread; the rest runs on the io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "tools/relay/room_hub.h"

namespace jsync::relay {

struct RelayServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;   // 0: the kernel picks one; url() tells which
  std::string cert;    // PEM chain; with key: TLS on every connection
  std::string key;
  int ping_seconds = 20;  // a ping after this long without a frame; closed after twice as long
};

class RelayServer {
 public:
  // Binds (and loads the certificate); null with *error on failure.
  static std::unique_ptr<RelayServer> Create(boost::asio::io_context& ioc, RoomHub& hub,
                                             const RelayServerOptions& options,
                                             std::string* error);
  ~RelayServer();
  RelayServer(const RelayServer&) = delete;
  RelayServer& operator=(const RelayServer&) = delete;

  std::string url() const;  // "ws://HOST:PORT" or "wss://HOST:PORT"
  void Start();             // accepts connections
  // Stops accepting and closes every WebSocket with 1001 (going away).
  void Shutdown();

  struct Impl;

 private:
  explicit RelayServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace jsync::relay

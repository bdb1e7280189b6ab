// A small blocking WebSocket client for the relay's tests (Boost.Beast, plain or TLS without
// certificate checks). Every call has a deadline; a read that times out stays pending and is
// picked up by the next Read, so nothing is lost between calls. Pings from the server are
// answered while a call runs, and counted.
//
// Thread-safety: one thread per client.
#pragma once

#include <memory>
#include <optional>
#include <string>

namespace jsync::testing {

class WsTestClient {
 public:
  // url: "ws://127.0.0.1:PORT/path" or "wss://...". Null on failure, with *error and, when the
  // server refused the upgrade, its HTTP status in *http_status.
  static std::unique_ptr<WsTestClient> Connect(const std::string& url, std::string* error,
                                               int* http_status = nullptr,
                                               int timeout_ms = 5000);
  ~WsTestClient();
  WsTestClient(const WsTestClient&) = delete;
  WsTestClient& operator=(const WsTestClient&) = delete;

  // False when the connection is closed or the write did not finish in time.
  bool Send(const std::string& bytes, bool binary = true, int timeout_ms = 5000);
  // The next message; nullopt on timeout or when the connection closed (see closed()).
  std::optional<std::string> Read(int timeout_ms);
  // Reads until the connection closes or the deadline passes; true when it closed.
  bool WaitClosed(int timeout_ms);
  bool closed() const;
  int close_code() const;  // the server's close code (0: none seen yet)
  int pings() const;       // pings received from the server
  void Close(int timeout_ms = 2000);  // a normal close handshake (1000)

  struct Impl;

 private:
  explicit WsTestClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A sealed-looking frame the relay forwards: version 1, kind 1, `size` bytes (>= 46), the rest
// derived from `tag` so a test can tell frames apart.
std::string RelayFrame(uint64_t tag, size_t size = 64);
// A 64-character hex id derived from `name` (room and hook ids in tests).
std::string HexId(const std::string& name);

}  // namespace jsync::testing

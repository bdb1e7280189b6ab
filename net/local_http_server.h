// A small HTTP/1.1 server for loopback listeners: the OAuth redirect (RFC 8252), webhook
// receivers and the cloud emulators. Boost.Beast does the parsing; this wraps it behind one
// interface so nothing else includes Beast or Asio (decision 0011).
//
// Bind port 0 and read port() back: the kernel picks a free port and there is no probe race.
// Each connection is served on its own thread, so handlers run concurrently: make them
// thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/util/status.h"

namespace jsync::net {

struct LocalRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path plus "?query"
  std::string path;    // percent-decoded path, without the query
  std::string query;   // raw query string, without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string peer_address;  // "127.0.0.1"

  std::string Header(const std::string& lower_name) const;  // "" when absent
  // Query or form parameters (percent-decoded, '+' as space); "" when absent.
  std::string QueryParam(const std::string& name) const;
  std::string FormParam(const std::string& name) const;  // application/x-www-form-urlencoded
};

struct LocalResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Fault injection for emulators: close the connection without answering (the client sees a
  // reset / empty reply).
  bool drop_connection = false;
  // Fault injection for emulators: when >= 0, send the headers (with the full Content-Length)
  // and only this many body bytes, then close (a download cut off mid-body).
  int64_t truncate_body_at = -1;

  static LocalResponse Json(int status, std::string json_text);
  static LocalResponse Text(int status, std::string text,
                            std::string content_type = "text/plain; charset=utf-8");
};

using LocalHandler = std::function<LocalResponse(const LocalRequest&)>;

struct LocalServerOptions {
  std::string address = "127.0.0.1";  // loopback only by default (RFC 8252 §8.3)
  uint16_t port = 0;                  // 0: the kernel picks a free one
  uint64_t max_body_bytes = 512ull << 20;
};

class LocalHttpServer {
 public:
  // Binds and starts serving before returning; kFatal naming the address when it cannot bind.
  static Result<std::unique_ptr<LocalHttpServer>> Start(LocalHandler handler,
                                                        const LocalServerOptions& options = {});
  ~LocalHttpServer();  // Stop()s
  LocalHttpServer(const LocalHttpServer&) = delete;
  LocalHttpServer& operator=(const LocalHttpServer&) = delete;

  uint16_t port() const;
  std::string base_url() const;  // "http://127.0.0.1:PORT"
  // Stops accepting, closes open connections, joins the workers. Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit LocalHttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The requests a connection that sent `bytes` would be served, parsed exactly as the server
// parses them (Beast, the same limits); stops at the first malformed or incomplete request and
// after one that asks to close. For tests and fuzzing: no socket involved.
std::vector<LocalRequest> ParseRequestStream(std::string_view bytes,
                                             uint64_t max_body_bytes = 512ull << 20);

// Percent-decoding and form/query parsing, shared by the listeners.
std::string PercentDecode(const std::string& s, bool plus_as_space);
std::string PercentEncode(const std::string& s);  // unreserved characters kept (RFC 3986)
std::vector<std::pair<std::string, std::string>> ParseForm(const std::string& s);

}  // namespace jsync::net

// Real WebDAV servers for tests, each a child process on 127.0.0.1 serving a directory:
//   - rclone:        `rclone serve webdav DIR --addr 127.0.0.1:PORT --user U --pass P`
//                    (Debian package rclone);
//   - webdav-server: `node tests/peers/webdav-server.js` (npm package webdav-server 2.6).
// scripts/install-test-peers.sh installs both. Each server requires HTTP Basic credentials.
//
// Thread-safety: a WebDavServer object is used by one thread. The process is stopped (SIGTERM,
// then SIGKILL) and reaped by Stop() or the destructor; it also gets SIGTERM if the test
// process dies first.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace jsync::testing {

class ChildProcess;

enum class WebDavServerKind { kRclone, kNodeWebdavServer };

// "rclone" / "webdav-server".
const char* WebDavServerKindName(WebDavServerKind kind);
// Both kinds, for parameterised tests.
std::vector<WebDavServerKind> AllWebDavServerKinds();

struct WebDavServerOptions {
  std::string user = "jsync";
  std::string password;       // "" picks a random one
  uint64_t quota = 0;         // webdav-server only: bytes the user may store (0: unlimited)
  bool ignore_range = false;  // webdav-server only: answer every GET with the whole file
  // webdav-server only: a path with a segment __status_NNN__ answers NNN with Retry-After: 7
  // (__status_NNN_date__: an HTTP date 30 s ahead).
  bool fault_paths = false;
  int ready_timeout_ms = 20000;
};

class WebDavServer {
 public:
  // Starts a server of `kind` serving `root` (created if missing). Returns null and sets
  // *error (with the server's log tail) when the program is missing or it does not answer.
  static std::unique_ptr<WebDavServer> Start(WebDavServerKind kind,
                                             const std::filesystem::path& root, std::string* error,
                                             const WebDavServerOptions& options = {});
  ~WebDavServer();
  WebDavServer(const WebDavServer&) = delete;
  WebDavServer& operator=(const WebDavServer&) = delete;

  WebDavServerKind kind() const { return kind_; }
  const char* name() const { return WebDavServerKindName(kind_); }
  // "http://127.0.0.1:PORT/" (with the trailing slash).
  const std::string& base_url() const { return base_url_; }
  // base_url() + `path` (no leading '/').
  std::string Url(const std::string& path) const { return base_url_ + path; }
  int port() const { return port_; }
  const std::string& user() const { return user_; }
  const std::string& password() const { return password_; }
  // The value of an Authorization header for these credentials ("Basic ...").
  std::string BasicAuthorization() const;
  // What the server logged so far (its stdout and stderr).
  std::string Log() const;
  bool running() const;

  // Stops the process and waits for it; idempotent.
  void Stop();

 private:
  WebDavServer() = default;
  WebDavServerKind kind_ = WebDavServerKind::kRclone;
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
  std::string base_url_;
  std::string user_;
  std::string password_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
int FreeLoopbackPort();

// "Basic " + base64(user:password).
std::string BasicAuthorizationValue(const std::string& user, const std::string& password);

// The repository's root folder (for tests/peers and the like).
std::filesystem::path SourceRoot();

// The built WebDAV plugin (<build>/plugins/jsync-webdav.so); "" when it is not built.
std::string WebDavPluginPath();

}  // namespace jsync::testing

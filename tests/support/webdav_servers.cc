#include "tests/support/webdav_servers.h"

#include "tests/support/child_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#ifndef JSYNC_SOURCE_DIR
#error "JSYNC_SOURCE_DIR must name the repository root (tests/CMakeLists.txt defines it)"
#endif

namespace fs = std::filesystem;

namespace jsync::testing {
namespace {

std::string RandomHex(size_t bytes) {
  std::random_device rd;
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < bytes; ++i) {
    const unsigned x = rd() & 0xff;
    s.push_back(kDigits[x >> 4]);
    s.push_back(kDigits[x & 15]);
  }
  return s;
}

// The program's full path when it is on PATH, "" otherwise.
// Whether something answers HTTP on 127.0.0.1:port.
bool AnswersHttp(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const char request[] = "OPTIONS / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, request, sizeof request - 1, MSG_NOSIGNAL) ==
        static_cast<ssize_t>(sizeof request - 1)) {
      char buf[16] = {0};
      const ssize_t n = ::recv(fd, buf, 5, MSG_WAITALL);
      ok = n == 5 && std::memcmp(buf, "HTTP/", 5) == 0;
    }
  }
  ::close(fd);
  return ok;
}

std::string Tail(const std::string& text, size_t n = 2000) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

}  // namespace

const char* WebDavServerKindName(WebDavServerKind kind) {
  return kind == WebDavServerKind::kRclone ? "rclone" : "webdav-server";
}

std::vector<WebDavServerKind> AllWebDavServerKinds() {
  return {WebDavServerKind::kRclone, WebDavServerKind::kNodeWebdavServer};
}

fs::path SourceRoot() { return fs::path(JSYNC_SOURCE_DIR); }

std::string WebDavPluginPath() {
#ifdef JSYNC_WEBDAV_PLUGIN
  return JSYNC_WEBDAV_PLUGIN;
#else
  return "";
#endif
}

int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

std::string BasicAuthorizationValue(const std::string& user, const std::string& password) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string in = user + ":" + password;
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint8_t(in[i]) << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return "Basic " + out;
}

std::string WebDavServer::BasicAuthorization() const {
  return BasicAuthorizationValue(user_, password_);
}

std::string WebDavServer::Log() const {
  return process_ ? process_->Stderr() + process_->Stdout() : "";
}

std::unique_ptr<WebDavServer> WebDavServer::Start(WebDavServerKind kind, const fs::path& root,
                                                  std::string* error,
                                                  const WebDavServerOptions& options) {
  std::unique_ptr<WebDavServer> server(new WebDavServer());
  server->kind_ = kind;
  server->user_ = options.user;
  server->password_ = options.password.empty() ? RandomHex(12) : options.password;
  std::error_code ec;
  fs::create_directories(root, ec);

  std::vector<std::string> args;
  const fs::path peers = SourceRoot() / "tests" / "peers";
  if (kind == WebDavServerKind::kRclone) {
    const std::string rclone = FindProgram("rclone");
    if (rclone.empty()) {
      *error = "rclone is not installed (run scripts/install-test-peers.sh)";
      return nullptr;
    }
    server->port_ = FreeLoopbackPort();
    if (server->port_ <= 0) {
      *error = "no free port on 127.0.0.1";
      return nullptr;
    }
    args = {rclone,        "serve",
            "webdav",      root.string(),
            "--addr",      "127.0.0.1:" + std::to_string(server->port_),
            "--user",      server->user_,
            "--pass",      server->password_,
            "--config",    "/dev/null",
            "--log-level", "NOTICE"};
    server->base_url_ = "http://127.0.0.1:" + std::to_string(server->port_) + "/";
  } else {
    const std::string node = FindProgram("node");
    if (node.empty()) {
      *error = "node is not installed";
      return nullptr;
    }
    if (!fs::exists(peers / "node_modules" / "webdav-server" / "package.json")) {
      *error = "the npm package webdav-server is missing from " +
               (peers / "node_modules").string() + " (run scripts/install-test-peers.sh)";
      return nullptr;
    }
    args = {node,     (peers / "webdav-server.js").string(),
            "--port", "0",
            "--user", server->user_,
            "--pass", server->password_,
            "--root", root.string()};
    if (options.quota > 0) {
      args.push_back("--quota");
      args.push_back(std::to_string(options.quota));
    }
    if (options.ignore_range) args.push_back("--ignore-range");
    if (options.fault_paths) args.push_back("--fault-paths");
  }

  server->process_ = ChildProcess::Start(args, {}, error);
  if (!server->process_) return nullptr;

  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options.ready_timeout_ms);
  if (server->port_ == 0) {
    // webdav-server prints its base URL as the first line once it listens.
    const std::string line = server->process_->WaitForFirstLine(options.ready_timeout_ms, error);
    const size_t colon = line.rfind(':');
    if (line.rfind("http://127.0.0.1:", 0) != 0 || colon == std::string::npos) {
      if (!line.empty()) *error = "webdav-server printed an unexpected first line: " + line;
      return nullptr;  // the destructor stops it
    }
    server->port_ = std::atoi(line.c_str() + colon + 1);
    server->base_url_ = line.back() == '/' ? line : line + "/";
  }
  while (!AnswersHttp(server->port_)) {
    if (std::chrono::steady_clock::now() > deadline) {
      *error = std::string(server->name()) + " did not answer within " +
               std::to_string(options.ready_timeout_ms) + " ms: " + Tail(server->Log());
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return server;
}

void WebDavServer::Stop() {
  if (process_) process_->Stop();
}

bool WebDavServer::running() const { return process_ && process_->pid() > 0; }

WebDavServer::~WebDavServer() { Stop(); }

}  // namespace jsync::testing

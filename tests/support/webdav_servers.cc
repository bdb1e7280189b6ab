#include "tests/support/webdav_servers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
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

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The program's full path when it is on PATH, "" otherwise.
std::string FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

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
  return ReadAll(log_path_) + ReadAll(log_path_.string() + ".out");
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
    const std::string rclone = FindOnPath("rclone");
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
    const std::string node = FindOnPath("node");
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

  server->log_path_ = fs::temp_directory_path() /
                      ("jsync-webdav-" + std::to_string(::getpid()) + "-" + RandomHex(6) + ".log");
  const std::string out_path = server->log_path_.string() + ".out";
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("fork failed: ") + std::strerror(errno);
    return nullptr;
  }
  if (pid == 0) {
    // Dies with the test process, whatever way that ends.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);
    ::setpgid(0, 0);
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open(server->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  server->pid_ = pid;

  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options.ready_timeout_ms);
  while (true) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      server->pid_ = -1;
      *error = std::string(server->name()) + " exited before answering (status " +
               std::to_string(status) + "): " + Tail(server->Log());
      return nullptr;
    }
    if (server->port_ == 0) {
      // webdav-server prints its base URL as the first line once it listens.
      const std::string out = ReadAll(out_path);
      const size_t nl = out.find('\n');
      if (nl != std::string::npos) {
        const std::string line = out.substr(0, nl);
        const size_t colon = line.rfind(':');
        if (line.rfind("http://127.0.0.1:", 0) != 0 || colon == std::string::npos) {
          *error = "webdav-server printed an unexpected first line: " + line;
          return nullptr;  // the destructor stops it
        }
        server->port_ = std::atoi(line.c_str() + colon + 1);
        server->base_url_ = line.back() == '/' ? line : line + "/";
      }
    }
    if (server->port_ > 0 && AnswersHttp(server->port_)) return server;
    if (std::chrono::steady_clock::now() > deadline) {
      *error = std::string(server->name()) + " did not answer within " +
               std::to_string(options.ready_timeout_ms) + " ms: " + Tail(server->Log());
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void WebDavServer::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
}

WebDavServer::~WebDavServer() {
  Stop();
  if (!log_path_.empty() && std::getenv("JSYNC_KEEP_TEMP") == nullptr) {
    std::error_code ec;
    fs::remove(log_path_, ec);
    fs::remove(log_path_.string() + ".out", ec);
  }
}

}  // namespace jsync::testing

#include "tests/support/relay_process.h"

#include "tests/support/webdav_servers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "tests/support/child_process.h"

// tests/CMakeLists.txt defines JSYNC_RELAY_BINARY when the jsync-relay target exists.
#ifndef JSYNC_RELAY_BINARY
#define JSYNC_RELAY_BINARY ""
#endif

namespace fs = std::filesystem;

namespace jsync::testing {
namespace {

using Clock = std::chrono::steady_clock;

// True when the process has exited (it stays a zombie for ChildProcess::Stop to reap), with
// its wait status in *status.
bool Exited(pid_t pid, int* status) {
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    return false;
  if (info.si_pid != pid) return false;
  *status = info.si_code == CLD_EXITED ? (info.si_status << 8) : (info.si_status & 0x7f);
  return true;
}

// Connects to 127.0.0.1:port and expects "+PONG" to a PING.
bool RedisAnswers(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6) {
    char buf[16] = {};
    ok = ::recv(fd, buf, sizeof buf - 1, 0) >= 5 && std::string(buf, 5) == "+PONG";
  }
  ::close(fd);
  return ok;
}

std::string RandomSuffix() {
  std::random_device rd;
  return std::to_string(rd());
}

}  // namespace


int RunToExit(const std::vector<std::string>& argv, int timeout_ms, std::string* output) {
  std::string error;
  auto child = ChildProcess::Start(argv, {}, &error);
  if (!child) {
    *output = error;
    return -1;
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  bool done = false;
  while (!(done = Exited(child->pid(), &status)) && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  *output = child->Stdout() + child->Stderr();
  if (!done) {
    ::kill(child->pid(), SIGKILL);
    return -1;  // the destructor reaps it
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool MakeSelfSignedCert(const fs::path& dir, std::string* cert, std::string* key,
                        std::string* error) {
  *cert = (dir / "relay-cert.pem").string();
  *key = (dir / "relay-key.pem").string();
  std::string out;
  const int rc = RunToExit({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", *key, "-out",
                            *cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                            "subjectAltName=IP:127.0.0.1"},
                           20000, &out);
  if (rc != 0) {
    *error = "openssl req failed: " + out;
    return false;
  }
  return true;
}

// ---- RelayProcess ------------------------------------------------------------------------------

std::unique_ptr<RelayProcess> RelayProcess::Start(const RelayOptions& options,
                                                  std::string* error) {
  if (std::string(JSYNC_RELAY_BINARY).empty()) {
    *error = "jsync-relay is not part of this build (tools/relay)";
    return nullptr;
  }
  std::vector<std::string> args = {JSYNC_RELAY_BINARY, "--listen", "127.0.0.1:0"};
  if (!options.redis_url.empty()) args.insert(args.end(), {"--redis", options.redis_url});
  if (!options.cert.empty()) args.insert(args.end(), {"--cert", options.cert, "--key", options.key});
  args.insert(args.end(), options.args.begin(), options.args.end());
  std::unique_ptr<RelayProcess> relay(new RelayProcess());
  relay->process_ = ChildProcess::Start(args, {}, error);
  if (!relay->process_) return nullptr;
  const std::string line = relay->process_->WaitForFirstLine(options.ready_timeout_ms, error);
  const std::string prefix = options.cert.empty() ? "ws://127.0.0.1:" : "wss://127.0.0.1:";
  if (line.rfind(prefix, 0) != 0) {
    if (!line.empty()) *error = "jsync-relay printed an unexpected first line: " + line;
    return nullptr;
  }
  relay->url_ = line;
  relay->port_ = static_cast<uint16_t>(std::stoi(line.substr(prefix.size())));
  return relay;
}

RelayProcess::~RelayProcess() { Stop(); }

std::string RelayProcess::http_url() const {
  return (url_.rfind("wss:", 0) == 0 ? "https" : "http") + url_.substr(url_.find(':'));
}

std::string RelayProcess::RoomUrl(const std::string& room, const std::string& hook) const {
  return url_ + "/v1/room/" + room + (hook.empty() ? "" : "?hook=" + hook);
}

pid_t RelayProcess::pid() const { return process_ ? process_->pid() : -1; }

std::string RelayProcess::Log() const { return process_ ? process_->Stderr() : ""; }

int RelayProcess::SignalAndWait(int sig, int timeout_ms) {
  if (!process_ || process_->pid() <= 0) return -1;
  ::kill(process_->pid(), sig);
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  while (!Exited(process_->pid(), &status)) {
    if (Clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status;
}

void RelayProcess::Stop() {
  if (process_) process_->Stop();
}

// ---- RedisProcess ------------------------------------------------------------------------------

std::unique_ptr<RedisProcess> RedisProcess::Start(std::string* error) {
  if (FindProgram("redis-server").empty()) {
    *error = "redis-server is not installed";
    return nullptr;
  }
  std::unique_ptr<RedisProcess> redis(new RedisProcess());
  redis->dir_ = fs::temp_directory_path() /
                ("jsync-redis-" + std::to_string(::getpid()) + "-" + RandomSuffix());
  std::error_code ec;
  fs::create_directories(redis->dir_, ec);
  if (ec) {
    *error = "cannot create " + redis->dir_.string() + ": " + ec.message();
    return nullptr;
  }
  // A port taken between the probe and the bind: try another.
  for (int attempt = 0; attempt < 3; ++attempt) {
    redis->port_ = static_cast<uint16_t>(FreeLoopbackPort());
    if (redis->Launch(error)) return redis;
  }
  return nullptr;
}

bool RedisProcess::Launch(std::string* error) {
  process_ = ChildProcess::Start({"redis-server", "--port", std::to_string(port_), "--bind",
                                  "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                                  dir_.string(), "--protected-mode", "no"},
                                 {}, error);
  if (!process_) return false;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (!RedisAnswers(port_)) {
    if (Exited(process_->pid(), &status) || Clock::now() > deadline) {
      *error = "redis-server on port " + std::to_string(port_) + " did not answer: " +
               process_->Stdout() + process_->Stderr();
      process_.reset();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void RedisProcess::Kill() {
  if (!process_) return;
  ::kill(process_->pid(), SIGKILL);
  process_.reset();  // Stop() reaps the killed process
}

bool RedisProcess::Restart(std::string* error) {
  Kill();
  // The old listener is gone with the process; the port may linger in TIME_WAIT only for
  // connections, which redis' SO_REUSEADDR allows.
  return Launch(error);
}

std::string RedisProcess::Log() const {
  return process_ ? process_->Stdout() + process_->Stderr() : "";
}

RedisProcess::~RedisProcess() {
  process_.reset();
  if (std::getenv("JSYNC_KEEP_TEMP") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

}  // namespace jsync::testing

// The live-sync relay (`jsync-relay`, tools/relay) and a private Redis as child processes of a
// test. RelayProcess runs `jsync-relay --listen 127.0.0.1:0 [--redis URL] [args]` and reads its
// URL from the first stdout line; RedisProcess runs `redis-server` on a free loopback port with
// persistence off (--save '' --appendonly no) in a temp folder, and can be killed and restarted
// on the same port. Both stop exactly their own pid on destruction.
//
// Thread-safety: each object is used by one thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace jsync::testing {

class ChildProcess;

struct RelayOptions {
  std::string redis_url;  // "redis://127.0.0.1:PORT"; empty: no Redis
  std::string cert;       // PEM files: the relay serves wss:// and https://
  std::string key;
  std::vector<std::string> args;  // e.g. {"--ping-seconds", "1"}
  int ready_timeout_ms = 10000;
};

class RelayProcess {
 public:
  // Null with *error set (and the relay's stderr tail) on failure.
  static std::unique_ptr<RelayProcess> Start(const RelayOptions& options, std::string* error);
  ~RelayProcess();
  RelayProcess(const RelayProcess&) = delete;
  RelayProcess& operator=(const RelayProcess&) = delete;

  const std::string& url() const { return url_; }  // "ws://127.0.0.1:PORT" or "wss://..."
  std::string http_url() const;                      // "http://..." or "https://..."
  uint16_t port() const { return port_; }
  std::string RoomUrl(const std::string& room, const std::string& hook = "") const;
  pid_t pid() const;
  std::string Log() const;  // stderr so far
  // Sends `sig` and waits up to timeout_ms for the exit; the wait status, or -1 when it did not
  // exit (then it is still running). The process is reaped either way by Stop().
  int SignalAndWait(int sig, int timeout_ms);
  void Stop();  // SIGTERM, then SIGKILL after 5 s. Idempotent.

 private:
  RelayProcess() = default;
  std::unique_ptr<ChildProcess> process_;
  std::string url_;
  uint16_t port_ = 0;
};

class RedisProcess {
 public:
  // Null with *error when redis-server is missing or does not answer PING in time.
  static std::unique_ptr<RedisProcess> Start(std::string* error);
  ~RedisProcess();
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  void Kill();                      // SIGKILL, reaped
  bool Restart(std::string* error);  // a new redis-server on the same port
  std::string Log() const;

 private:
  RedisProcess() = default;
  bool Launch(std::string* error);
  std::unique_ptr<ChildProcess> process_;
  std::filesystem::path dir_;
  uint16_t port_ = 0;
};


// Runs argv to the end (at most timeout_ms; then SIGKILL), stdout+stderr into *output; the
// exit code, or -1 when it was killed or could not start.
int RunToExit(const std::vector<std::string>& argv, int timeout_ms, std::string* output);

// Writes a self-signed certificate for 127.0.0.1 and its key (the `openssl` CLI); false and
// *error when openssl is missing or fails.
bool MakeSelfSignedCert(const std::filesystem::path& dir, std::string* cert, std::string* key,
                        std::string* error);

}  // namespace jsync::testing

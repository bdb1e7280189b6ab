// What the cloud emulators' test support shares (GdriveEmulator, OnedriveEmulator):
// EmulatorProcess, one `jsync-emulator SUBCOMMAND` child with a fresh (or reused) state folder,
// its base URL from the first stdout line, its --request-log, stopped (exactly that pid) on
// destruction; RawHttp, one request with libcurl and nothing in between, for tests that check an
// emulator's answers byte by byte; and the authorization-code + PKCE flow done with raw requests.
//
// Thread-safety: an EmulatorProcess is used by one thread; RawHttp is thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace jsync::testing {

class ChildProcess;

// How a test starts an emulator (GdriveEmulatorOptions, OnedriveEmulatorOptions).
struct EmulatorOptions {
  // Extra command-line arguments, e.g. {"--faults", "429@2", "--token-lifetime", "1"}.
  std::vector<std::string> args;
  // Passes --auto-approve (consent is granted without a browser). Default on.
  bool auto_approve = true;
  // Reuse this state folder (to restart an emulator on the same files); empty: a fresh temp
  // folder, removed on destruction unless JSYNC_KEEP_TEMP is set.
  std::filesystem::path state_dir;
  // 0: a free port. A restart after an outage passes the old one (with the old state_dir), so
  // clients find the service where it was.
  uint16_t port = 0;
  int ready_timeout_ms = 10000;
};

class EmulatorProcess {
 public:
  // Null with *error set (and the emulator's stderr tail) on failure.
  // Runs `jsync-emulator SUBCOMMAND --port 0 --state ... --request-log ... [args]`.
  static std::unique_ptr<EmulatorProcess> Start(const std::string& subcommand,
                                                const EmulatorOptions& options, std::string* error);
  ~EmulatorProcess();
  EmulatorProcess(const EmulatorProcess&) = delete;
  EmulatorProcess& operator=(const EmulatorProcess&) = delete;

  const std::string& base_url() const { return base_url_; }  // "http://127.0.0.1:PORT"
  const std::filesystem::path& state_dir() const { return state_dir_; }
  const std::filesystem::path& request_log_path() const { return request_log_path_; }
  pid_t pid() const;
  std::string Log() const;  // stderr so far
  // SIGTERM, then SIGKILL after 5 s; waits for the process. Idempotent.
  void Stop();

 private:
  EmulatorProcess() = default;
  std::unique_ptr<ChildProcess> process_;
  std::string base_url_;
  std::filesystem::path work_dir_;  // logs (and the state when owned)
  std::filesystem::path state_dir_;
  std::filesystem::path request_log_path_;
};

// What GdriveEmulator and OnedriveEmulator expose of the process they own.
class EmulatorHandle {
 public:
  // "http://127.0.0.1:PORT" (no trailing slash).
  const std::string& base_url() const { return process_->base_url(); }
  const std::filesystem::path& state_dir() const { return process_->state_dir(); }
  // The `jsync link PROVIDER --config` file's contents that point the plugin and the auth layer
  // at this emulator (api_base, auth_base, the test client id); add options to it.
  nlohmann::json LinkConfig() const {
    return {
        {"api_base", base_url()}, {"auth_base", base_url()}, {"client_id", "jsync-test-client"}};
  }
  // One JSON line per request the emulator received (--request-log).
  const std::filesystem::path& request_log_path() const { return process_->request_log_path(); }
  pid_t pid() const { return process_->pid(); }
  std::string Log() const { return process_->Log(); }  // what it wrote to stderr so far
  // SIGTERM, then SIGKILL after 5 s; waits for the process. Idempotent. The state folder stays
  // until destruction, so a new emulator can be started on it.
  void Stop() { process_->Stop(); }

 protected:
  EmulatorHandle() = default;
  std::unique_ptr<EmulatorProcess> process_;
};

// The lines of a --request-log file, parsed (a torn last line is skipped).
std::vector<nlohmann::json> ReadRequestLog(const std::filesystem::path& file);

struct HttpReply {
  long status = 0;
  bool transport_error = false;                // no (complete) answer
  std::map<std::string, std::string> headers;  // lower-cased names, the last value of each
  std::string body;
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// One request. A body is sent for PUT, POST and PATCH (even an empty one) and when not empty;
// `Expect:` is suppressed, no proxy, no redirects followed, 15 s timeout.
HttpReply RawHttp(const std::string& method, const std::string& url,
                  const std::vector<std::string>& headers = {}, const std::string& body = "");

// RFC 3986 unreserved characters kept, the rest percent-encoded.
std::string UrlEscape(const std::string& s);

struct PkceTokens {
  std::string access_token;
  std::string refresh_token;
  std::string scope;
};
// GET authorize_url?response_type=code&... (an auto-approving emulator redirects at once), then
// POST token_url with the code and verifier. Empty access_token and *error on failure.
PkceTokens AuthorizeWithPkce(const std::string& authorize_url, const std::string& token_url,
                             const std::string& client_id, const std::string& scope,
                             std::string* error);

}  // namespace jsync::testing

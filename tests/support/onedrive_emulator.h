// The Microsoft Graph (OneDrive) emulator (`jsync-emulator onedrive`, tools/emulators) as a child
// process of a test: a fresh state folder, the base URL read from the emulator's first stdout line,
// and the process (exactly that pid) stopped on destruction. See tools/emulators/README.md for its
// flags.
//
// Thread-safety: a OnedriveEmulator object is used by one thread.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace jsync::testing {

class ChildProcess;

struct OnedriveEmulatorOptions {
  // Extra command-line arguments, e.g. {"--faults", "429@2", "--token-lifetime", "1"}.
  std::vector<std::string> args;
  // Passes --auto-approve (OAuth consent is granted without a browser). Default on.
  bool auto_approve = true;
  // Reuse this state folder (to restart an emulator on the same files); empty: a fresh temp
  // folder, removed on destruction unless JSYNC_KEEP_TEMP is set.
  std::filesystem::path state_dir;
  int ready_timeout_ms = 10000;
};

struct OnedriveTokens {
  std::string access_token;
  std::string refresh_token;
  std::string scope;
};

class OnedriveEmulator {
 public:
  // Starts the emulator; null with *error set (and the emulator's stderr tail) on failure.
  static std::unique_ptr<OnedriveEmulator> Start(const OnedriveEmulatorOptions& options,
                                                 std::string* error);
  static std::unique_ptr<OnedriveEmulator> Start(const std::vector<std::string>& extra_args,
                                                 std::string* error);
  ~OnedriveEmulator();
  OnedriveEmulator(const OnedriveEmulator&) = delete;
  OnedriveEmulator& operator=(const OnedriveEmulator&) = delete;

  // "http://127.0.0.1:PORT" (no trailing slash). Graph at base_url()+"/v1.0", the identity
  // platform at base_url()+"/{tenant}/oauth2/v2.0/authorize", ".../token", ".../devicecode".
  const std::string& base_url() const { return base_url_; }
  const std::filesystem::path& state_dir() const { return state_dir_; }
  // The `jsync link onedrive --config` file's contents that point the plugin and the auth
  // layer at this emulator (api_base, auth_base, the test client id); add options to it.
  nlohmann::json LinkConfig() const {
    return {{"api_base", base_url_}, {"auth_base", base_url_}, {"client_id", "jsync-test-client"}};
  }
  // One JSON line per request the emulator received (--request-log).
  const std::filesystem::path& request_log_path() const { return request_log_path_; }
  pid_t pid() const;
  // What the emulator wrote to stderr so far.
  std::string Log() const;

  // Runs the authorization-code + PKCE flow against the emulator (needs auto_approve) with raw
  // requests and returns the tokens; empty access_token with *error set on failure. For the
  // emulator's own tests (tests/integration/onedrive_emulator_test.cc), which check its endpoints
  // byte by byte. Clients of the emulator link through auth/ instead, as the host does
  // (tests/support/linked_account.h: the device grant, then OAuthCredentialSource).
  OnedriveTokens AuthorizeWithCode(
      std::string* error, const std::string& client_id = "jsync-test-client",
      const std::string& scope = "Files.ReadWrite.AppFolder offline_access") const;

  // SIGTERM, then SIGKILL after 5 s; waits for the process. Idempotent. The state folder stays
  // until destruction, so a new emulator can be started on it.
  void Stop();

 private:
  OnedriveEmulator() = default;
  std::unique_ptr<ChildProcess> process_;
  bool owns_state_dir_ = false;
  std::string base_url_;
  std::filesystem::path work_dir_;  // temp folder holding the logs (and the state when owned)
  std::filesystem::path state_dir_;
  std::filesystem::path request_log_path_;
};

// Test code may also spell it jsync::test::OnedriveEmulator.
}  // namespace jsync::testing

namespace jsync::test {
using OnedriveEmulator = jsync::testing::OnedriveEmulator;
using OnedriveEmulatorOptions = jsync::testing::OnedriveEmulatorOptions;
using OnedriveTokens = jsync::testing::OnedriveTokens;
}  // namespace jsync::test

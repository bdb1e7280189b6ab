// The Microsoft Graph (OneDrive) emulator (`jsync-emulator onedrive`, tools/emulators) as a child
// process of a test: a fresh state folder, the base URL read from the emulator's first stdout
// line, and the process (exactly that pid) stopped on destruction. See tools/emulators/README.md
// for its flags. Graph is at base_url()+"/v1.0", the identity platform at
// base_url()+"/{tenant}/oauth2/v2.0/authorize", ".../token", ".../devicecode".
//
// Thread-safety: an OnedriveEmulator object is used by one thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/emulator_process.h"

namespace jsync::testing {

using OnedriveEmulatorOptions = EmulatorOptions;
using OnedriveTokens = PkceTokens;

class OnedriveEmulator : public EmulatorHandle {
 public:
  // Starts the emulator; null with *error set (and the emulator's stderr tail) on failure.
  static std::unique_ptr<OnedriveEmulator> Start(const OnedriveEmulatorOptions& options,
                                                 std::string* error);
  static std::unique_ptr<OnedriveEmulator> Start(const std::vector<std::string>& extra_args,
                                                 std::string* error);

  // Runs the authorization-code + PKCE flow against the emulator (needs auto_approve) with raw
  // requests and returns the tokens; empty access_token with *error set on failure. For the
  // emulator's own tests (tests/integration/onedrive_emulator_test.cc), which check its endpoints
  // byte by byte. Clients of the emulator link through auth/ instead, as the host does.
  OnedriveTokens AuthorizeWithCode(
      std::string* error, const std::string& client_id = "jsync-test-client",
      const std::string& scope = "Files.ReadWrite.AppFolder offline_access") const;

 private:
  OnedriveEmulator() = default;
};

}  // namespace jsync::testing

namespace jsync::test {
using OnedriveEmulator = jsync::testing::OnedriveEmulator;
using OnedriveEmulatorOptions = jsync::testing::OnedriveEmulatorOptions;
using OnedriveTokens = jsync::testing::OnedriveTokens;
}  // namespace jsync::test

// The Google Drive v3 emulator (`jsync-emulator gdrive`, tools/emulators) as a child process of a
// test: a fresh state folder, the base URL read from the emulator's first stdout line, and the
// process (exactly that pid) stopped on destruction. See tools/emulators/README.md for its flags.
// Drive is at base_url()+"/drive/v3", uploads at base_url()+"/upload/drive/v3", OAuth at
// base_url()+"/o/oauth2/v2/auth", "/token", ...
//
// Thread-safety: a GdriveEmulator object is used by one thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/emulator_process.h"

namespace jsync::testing {

using GdriveEmulatorOptions = EmulatorOptions;
using GdriveTokens = PkceTokens;

class GdriveEmulator : public EmulatorHandle {
 public:
  // Starts the emulator; null with *error set (and the emulator's stderr tail) on failure.
  static std::unique_ptr<GdriveEmulator> Start(const GdriveEmulatorOptions& options,
                                               std::string* error);
  static std::unique_ptr<GdriveEmulator> Start(const std::vector<std::string>& extra_args,
                                               std::string* error);

  // Runs the authorization-code + PKCE flow against the emulator (needs auto_approve) with raw
  // requests and returns the tokens; empty access_token with *error set on failure. For the
  // emulator's own tests (tests/integration/gdrive_emulator_test.cc), which check its endpoints
  // byte by byte. Clients of the emulator link through auth/ instead, as the host does
  // (tests/support/linked_account.h: the device grant, then OAuthCredentialSource).
  GdriveTokens AuthorizeWithCode(
      std::string* error, const std::string& client_id = "jsync-test-client",
      const std::string& scope = "https://www.googleapis.com/auth/drive.appdata") const;

 private:
  GdriveEmulator() = default;
};

// Test code may also spell it jsync::test::GdriveEmulator.
}  // namespace jsync::testing

namespace jsync::test {
using GdriveEmulator = jsync::testing::GdriveEmulator;
using GdriveEmulatorOptions = jsync::testing::GdriveEmulatorOptions;
using GdriveTokens = jsync::testing::GdriveTokens;
}  // namespace jsync::test

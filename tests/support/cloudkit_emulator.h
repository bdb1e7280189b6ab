// The CloudKit Web Services emulator (`jsync-emulator cloudkit`, tools/emulators/cloudkit) as a
// child process of a test: a fresh state folder, the base URL read from the emulator's first
// stdout line, and the process (exactly that pid) stopped on destruction. The API is at
// api_base() + "/{database}/{op}" (tools/emulators/README.md, "CloudKit"); the sign-in page at
// base_url()+"/signin", the test switches at base_url()+"/_admin/...".
//
// Thread-safety: a CloudKitEmulator object is used by one thread.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/emulator_process.h"

namespace jsync::testing {

using CloudKitEmulatorOptions = EmulatorOptions;

class CloudKitEmulator : public EmulatorHandle {
 public:
  static constexpr const char* kContainer = "iCloud.org.journalsync.test";
  static constexpr const char* kApiToken = "jsync-test-api-token";

  // Starts the emulator; null with *error set (and the emulator's stderr tail) on failure.
  static std::unique_ptr<CloudKitEmulator> Start(const CloudKitEmulatorOptions& options,
                                                 std::string* error);
  static std::unique_ptr<CloudKitEmulator> Start(const std::vector<std::string>& extra_args,
                                                 std::string* error);

  // base_url() + "/database/1/iCloud.org.journalsync.test/development": the plugin's and the
  // auth layer's `cloudkit_api_base`.
  std::string api_base() const;
  // The `jsync link icloud --config` keys that point at this emulator.
  nlohmann::json CloudKitConfig(int callback_port) const {
    return {{"cloudkit_api_base", api_base()},
            {"cloudkit_api_token", kApiToken},
            {"cloudkit_callback_port", callback_port}};
  }

  // The sign-in dance with raw requests (needs auto_approve): users/caller without a web token
  // (421), its redirectURL (302 to the callback), the ckWebAuthToken of that Location,
  // percent-decoded. Empty with *error set on failure. For the emulator's own tests; clients
  // sign in through auth/cloudkit_flow.h.
  std::string SignIn(std::string* error) const;
  // POST base_url() + path (e.g. "/_admin/adp?on=1"); the HTTP status.
  long Admin(const std::string& path) const;

 private:
  CloudKitEmulator() = default;
};

}  // namespace jsync::testing

namespace jsync::test {
using CloudKitEmulator = jsync::testing::CloudKitEmulator;
using CloudKitEmulatorOptions = jsync::testing::CloudKitEmulatorOptions;
}  // namespace jsync::test

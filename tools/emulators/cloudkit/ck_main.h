// `jsync-emulator cloudkit`: its command-line flags and the assembly of the emulator from them
// (main.cc serves the result until SIGTERM).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "core/util/status.h"
#include "tools/emulators/cloudkit/ck_api.h"
#include "tools/emulators/cloudkit/ck_web_auth.h"

namespace jsync::emulator::cloudkit {

struct CloudKitFlags {
  int port = 0;
  std::string state_dir;
  std::string faults;
  std::string atomic_errors = "per-record";
  CloudKitOptions api;
  WebAuthOptions auth;
};

void AddCloudKitFlags(CLI::App* app, CloudKitFlags* flags);

struct CloudKitServer {
  std::unique_ptr<WebAuth> auth;
  std::unique_ptr<CloudKitApi> api;
};
// Parses the faults, opens (and locks) the state folder, loads the tokens.
Result<CloudKitServer> MakeCloudKit(CloudKitFlags flags);

}  // namespace jsync::emulator::cloudkit

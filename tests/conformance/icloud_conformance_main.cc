// jsync_conformance_icloud: the conformance suite on the iCloud plugin (mode A) against the
// CloudKit emulator (`jsync-emulator cloudkit`, tests/support/cloudkit_emulator.h), started once
// with --auto-approve and, optionally, server-side faults. Built with the tests only.
//
//   jsync_conformance_icloud [--faults SPEC] [--no-rotation] [--list-files N] [--no-large] [--page-size N]
//                            [--inline-max BYTES] [--asset-max BYTES] [gtest flags]
//
// --faults is the emulator's own schedule (throttle, unavailable, 500, 502, 504, drop,
// drop-after, auth; @N, @N-M, @N+, /OP), counted over every CloudKit, asset upload and asset
// download request, so it lands in whichever test runs at that moment: run it on tests without
// exact retry counts. Faults never spend the rotating web auth token, except drop-after (the
// answer that carried the new token is lost): that breaks the token chain, as it would with
// Apple, so the runs here leave it out. JSYNC_FAULTS adds the host client's transport faults.
// Every test gets a fresh location (its own zone) in the one emulator. The account is linked
// once through auth/ (tests/support/cloudkit_account.h).
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "host/plugin_loader.h"
#include "host/plugin_provider.h"
#include "providers/conformance/conformance_suite.h"
#include "tests/support/cloudkit_account.h"
#include "tests/support/test_support.h"

#ifndef JSYNC_ICLOUD_PLUGIN
#define JSYNC_ICLOUD_PLUGIN ""
#endif

namespace jsync::conformance {
namespace {

struct Emulator {
  std::unique_ptr<testing::CloudKitEmulator> server;
  std::unique_ptr<testing::TempDir> home;
  std::shared_ptr<CountingCredentials> credentials;
  std::string config;
  int count = 0;
  std::string last_location;
};

int Main(int argc, char** argv) {
  std::vector<char*> rest = {argv[0]};
  std::string faults;
  int list_files = 2500;
  bool large = true;
  bool no_rotation = false;
  std::string page_size = "200", inline_max = "716800", asset_max = "15728640";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--faults" && i + 1 < argc) {
      faults = argv[++i];
    } else if (arg == "--list-files" && i + 1 < argc) {
      list_files = std::atoi(argv[++i]);
    } else if (arg == "--page-size" && i + 1 < argc) {
      page_size = argv[++i];
    } else if (arg == "--inline-max" && i + 1 < argc) {
      inline_max = argv[++i];
    } else if (arg == "--asset-max" && i + 1 < argc) {
      asset_max = argv[++i];
    } else if (arg == "--no-rotation") {
      no_rotation = true;
    } else if (arg == "--no-large") {
      large = false;
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (std::string(JSYNC_ICLOUD_PLUGIN).empty()) {
    std::cerr << "jsync_conformance_icloud: the icloud plugin is not part of this build\n";
    return 2;
  }
  auto plugin = provider::LoadPlugin(JSYNC_ICLOUD_PLUGIN);
  if (!plugin.ok()) {
    std::cerr << "jsync_conformance_icloud: " << plugin.status().message() << "\n";
    return 2;
  }
  auto emu = std::make_shared<Emulator>();
  std::vector<std::string> args;
  if (!faults.empty()) args = {"--faults", faults};
  // The host client's transport faults (JSYNC_FAULTS, and the kit's fault tests) lose answers
  // the emulator did carry out: with Apple's one-round-trip tokens each would end the sign-in,
  // as it would with Apple (icloud_plugin_test shows that). --no-rotation keeps one token, so
  // those tests check how the plugin classifies each fault.
  if (no_rotation) args.push_back("--no-rotation");
  uint16_t port = 0;
  std::string error;
  emu->server = cloudkit_testing::StartCloudKitForLink(args, &port, &error);
  if (emu->server == nullptr) {
    std::cerr << "jsync_conformance_icloud: cannot start the CloudKit emulator: " << error << "\n";
    return 2;
  }
  const char* env_faults = std::getenv("JSYNC_FAULTS");
  const std::string transport_faults = env_faults != nullptr ? env_faults : "";
  if (env_faults != nullptr) ::unsetenv("JSYNC_FAULTS");
  emu->home = std::make_unique<testing::TempDir>();
  auto linked = cloudkit_testing::LinkCloudKitEmulatorAccount(*plugin, *emu->server, port,
                                                              emu->home->path().string());
  if (env_faults != nullptr) ::setenv("JSYNC_FAULTS", transport_faults.c_str(), 1);
  if (!linked.ok()) {
    std::cerr << "jsync_conformance_icloud: cannot link the emulator's account: "
              << linked.status().ToString() << "\n";
    return 2;
  }
  emu->credentials = std::make_shared<CountingCredentials>(*linked);
  emu->config = nlohmann::json{{"cloudkit_api_base", emu->server->api_base()},
                               {"page_size", page_size},
                               {"inline_max", inline_max},
                               {"asset_max", asset_max}}
                    .dump();

  ConformanceTarget target;
  target.name = std::string("icloud") + (faults.empty() ? "" : "_emulator_faults");
  target.large = large;
  target.list_files = list_files;
  target.credentials = emu->credentials;
  target.max_concurrency = plugin->max_concurrency;
  target.upload_method = "POST";
  target.open = [info = *plugin, emu]() -> Result<std::unique_ptr<provider::Provider>> {
    const std::string location = "conformance-" + std::to_string(++emu->count);
    emu->last_location = location;
    JSYNC_ASSIGN_OR_RETURN(
        auto p, provider::PluginProvider::Open(info, location, emu->config, emu->credentials));
    return std::unique_ptr<provider::Provider>(std::move(p));
  };
  target.reopen = [info = *plugin, emu]() -> Result<std::unique_ptr<provider::Provider>> {
    JSYNC_ASSIGN_OR_RETURN(auto p, provider::PluginProvider::Open(info, emu->last_location,
                                                                  emu->config, emu->credentials));
    return std::unique_ptr<provider::Provider>(std::move(p));
  };
  RegisterConformanceTarget(std::move(target));

  int gtest_argc = static_cast<int>(rest.size());
  rest.push_back(nullptr);
  ::testing::InitGoogleTest(&gtest_argc, rest.data());
  const int rc = RUN_ALL_TESTS();
  if (!faults.empty()) {
    const std::string log = emu->server->Log();
    size_t n = 0;
    for (size_t at = log.find("fault"); at != std::string::npos; at = log.find("fault", at + 1)) ++n;
    std::cout << "jsync_conformance_icloud: the emulator's stderr names a fault " << n << " times\n";
  }
  emu->server.reset();
  emu->home.reset();
  return rc;
}

}  // namespace
}  // namespace jsync::conformance

int main(int argc, char** argv) { return jsync::conformance::Main(argc, argv); }

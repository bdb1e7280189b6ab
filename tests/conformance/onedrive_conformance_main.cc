// jsync_conformance_onedrive: the conformance suite on the OneDrive plugin against the Microsoft
// Graph emulator (`jsync-emulator onedrive`, tests/support/onedrive_emulator.h), started once
// with --auto-approve and, optionally, server-side faults. Built with the tests only.
//
//   jsync_conformance_onedrive [--business] [--faults SPEC] [--list-files N] [--no-large]
//                              [--simple-upload-max BYTES] [gtest flags]
//
// --business runs the emulator as a work or school drive (delta only on the drive root; the
// account consents to Files.ReadWrite, which root delta needs). --simple-upload-max (default
// 4194304) sends larger objects through upload sessions (fragments of 320 KiB here, so the 50 MiB
// round trip and the 1 MiB objects take many fragments). The kit's PUT-specific fault tests
// (507:PUT, 401:PUT, torn:PUT) aim at simple PUTs of at most 256 KiB, so they hold as long as
// simple_upload_max stays above that.
//
// --faults is the emulator's own schedule (429, 503, 500, 502, 504, 509, drop, drop-upload,
// drop-download, expire-token, 423, resync, quota @N, @N-M, @N+), counted over every Graph,
// upload and download request the emulator receives, so it lands in whichever test runs at that
// moment: run it on tests without exact retry counts (onedrive_tests.cmake does). JSYNC_FAULTS
// (host/http_client.h) adds the host client's transport faults. Every test gets a fresh location
// (journal folder) in the one emulator. The account is linked once through the real OAuth code
// of auth/ (tests/support/linked_account.h); the credentials are the host's
// auth::OAuthCredentialSource, which refreshes at the emulator's /token after a 401.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "host/plugin_loader.h"
#include "host/plugin_provider.h"
#include "providers/conformance/conformance_suite.h"
#include "tests/support/linked_account.h"
#include "tests/support/onedrive_emulator.h"
#include "tests/support/test_support.h"

#ifndef JSYNC_ONEDRIVE_PLUGIN
#define JSYNC_ONEDRIVE_PLUGIN ""
#endif

namespace jsync::conformance {
namespace {

using testing::OnedriveEmulator;

struct Emulator {
  std::unique_ptr<OnedriveEmulator> server;
  std::unique_ptr<testing::TempDir> home;  // the jsync home the account is linked in
  std::shared_ptr<auth::OAuthCredentialSource> oauth;
  std::shared_ptr<CountingCredentials> credentials;
  std::string config;
  std::string error;
  int count = 0;
  std::string last_location;
};

int Main(int argc, char** argv) {
  std::vector<char*> rest = {argv[0]};
  std::string faults;
  int list_files = 2500;
  bool large = true;
  bool business = false;
  uint64_t simple_max = 4194304;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--faults" && i + 1 < argc) {
      faults = argv[++i];
    } else if (arg == "--list-files" && i + 1 < argc) {
      list_files = std::atoi(argv[++i]);
    } else if (arg == "--simple-upload-max" && i + 1 < argc) {
      simple_max = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--no-large") {
      large = false;
    } else if (arg == "--business") {
      business = true;
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (std::string(JSYNC_ONEDRIVE_PLUGIN).empty()) {
    std::cerr << "jsync_conformance_onedrive: the onedrive plugin is not part of this build\n";
    return 2;
  }
  auto plugin = provider::LoadPlugin(JSYNC_ONEDRIVE_PLUGIN);
  if (!plugin.ok()) {
    std::cerr << "jsync_conformance_onedrive: " << plugin.status().message() << "\n";
    return 2;
  }
  auto emu = std::make_shared<Emulator>();
  std::vector<std::string> args = {"--device-interval", "0"};  // the device flow's polls
  if (business) args.push_back("--business");
  if (!faults.empty()) args.insert(args.end(), {"--faults", faults});
  emu->server = OnedriveEmulator::Start(args, &emu->error);
  if (emu->server == nullptr) {
    std::cerr << "jsync_conformance_onedrive: cannot start the Graph emulator: " << emu->error
              << "\n";
    return 2;
  }
  // Linking is not under test here: JSYNC_FAULTS is for the provider's clients only.
  const char* env_faults = std::getenv("JSYNC_FAULTS");
  const std::string transport_faults = env_faults != nullptr ? env_faults : "";
  if (env_faults != nullptr) ::unsetenv("JSYNC_FAULTS");
  emu->home = std::make_unique<testing::TempDir>();
  nlohmann::json link_extra = nlohmann::json::object();
  if (business) link_extra["scopes"] = "Files.ReadWrite offline_access";
  auto linked = gdrive_testing::LinkEmulatorAccount(*plugin, emu->server->base_url(),
                                                    emu->home->path().string(), link_extra);
  if (env_faults != nullptr) ::setenv("JSYNC_FAULTS", transport_faults.c_str(), 1);
  if (!linked.ok()) {
    std::cerr << "jsync_conformance_onedrive: cannot link the emulator's account: "
              << linked.status().ToString() << "\n";
    return 2;
  }
  emu->oauth = *linked;
  emu->credentials = std::make_shared<CountingCredentials>(emu->oauth);
  emu->config = nlohmann::json{
      {"api_base", emu->server->base_url()},
      {"simple_upload_max", std::to_string(simple_max)},
      {"fragment_size",
       "327680"}}.dump();

  ConformanceTarget target;
  target.name = std::string(business ? "onedrive_business" : "onedrive_personal") +
                (faults.empty() ? "" : "_emulator_faults");
  target.large = large;
  target.list_files = list_files;
  target.credentials = emu->credentials;
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
  int rc = RUN_ALL_TESTS();
  if (!faults.empty()) {
    // The emulator names each fault on stderr: "...: fault KIND" when it answers with it at
    // once, "fault KIND armed" and later "fault KIND spent" for those that wait for a request
    // they fit (an expired token among them).
    const std::string log = emu->server->Log();
    auto count = [&log](const std::string& needle) {
      size_t n = 0;
      for (size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1))
        ++n;
      return n;
    };
    const size_t injected = count(": fault ") - count(" armed\n");
    const size_t expired = count("fault expire-token spent");
    std::cout << "jsync_conformance_onedrive: the emulator injected " << injected << " faults ("
              << expired << " expired tokens); the OAuth credentials refreshed "
              << emu->oauth->refreshes() << " times\n";
    if (emu->oauth->refreshes() < expired) {
      std::cerr << "jsync_conformance_onedrive: fewer refreshes than expired tokens\n";
      rc = 1;
    }
  }
  emu->server.reset();
  emu->home.reset();
  return rc;
}

}  // namespace
}  // namespace jsync::conformance

int main(int argc, char** argv) { return jsync::conformance::Main(argc, argv); }

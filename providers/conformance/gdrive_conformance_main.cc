// jsync_conformance_gdrive: the conformance suite on the Google Drive plugin against the Drive
// emulator (`jsync-emulator gdrive`, tests/support/gdrive_emulator.h), started once with
// --auto-approve and, optionally, server-side faults. Built with the tests only.
//
//   jsync_conformance_gdrive [--faults SPEC] [--list-files N] [--no-large]
//                            [--resumable-threshold BYTES] [gtest flags]
//
// --resumable-threshold 0 (the default) sends every non-empty object through a resumable
// session (POST, then the bytes in a PUT); a larger value sends objects up to it as one
// multipart POST. The kit's PUT-specific fault tests (507:PUT, 401:PUT) assume uploads are
// PUTs, so they only apply with threshold 0 (tests/CMakeLists.txt filters them otherwise).
//
// --faults is the emulator's own schedule (rate, 429, 500, 502, 503, drop, drop-upload,
// expire-token, quota @N, @N-M, @N+), counted over every Drive request the emulator receives,
// so it lands in whichever test runs at that moment: run it on tests without exact retry
// counts (tests/CMakeLists.txt does). JSYNC_FAULTS (core/provider/http_client.h) adds the host
// client's transport faults, as for WebDAV. Every test gets a fresh location (journal
// namespace) in the one emulator; the token comes from the emulator's OAuth endpoints
// (authorization code + PKCE) and is refreshed there after a 401.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/provider/plugin_loader.h"
#include "core/provider/plugin_provider.h"
#include "providers/conformance/conformance_suite.h"
#include "providers/gdrive/testing/direct_instance.h"
#include "providers/gdrive/testing/emulator_credentials.h"
#include "tests/support/gdrive_emulator.h"

#ifndef JSYNC_GDRIVE_PLUGIN
#define JSYNC_GDRIVE_PLUGIN ""
#endif

namespace jsync::conformance {
namespace {

using gdrive_testing::DirectInstance;
using gdrive_testing::EmulatorCredentials;
using testing::GdriveEmulator;

constexpr const char* kClientId = "jsync-test-client";  // what the emulator accepts by default

struct Emulator {
  std::unique_ptr<GdriveEmulator> server;
  std::shared_ptr<CountingCredentials> credentials;
  std::string config;
  std::string error;
  int count = 0;
  std::string last_location;
  std::map<std::string, std::unique_ptr<DirectInstance>> feeds;  // by location
};

int Main(int argc, char** argv) {
  std::vector<char*> rest = {argv[0]};
  std::string faults;
  int list_files = 2500;
  bool large = true;
  // 0: every non-empty object takes the resumable path (a POST starts the session, the bytes go
  // in a PUT), which the kit's PUT-specific faults (507:PUT, 401:PUT, torn:PUT) expect;
  // larger values send smaller objects as one multipart POST.
  uint64_t threshold = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--faults" && i + 1 < argc) {
      faults = argv[++i];
    } else if (arg == "--list-files" && i + 1 < argc) {
      list_files = std::atoi(argv[++i]);
    } else if (arg == "--resumable-threshold" && i + 1 < argc) {
      threshold = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--no-large") {
      large = false;
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (std::string(JSYNC_GDRIVE_PLUGIN).empty()) {
    std::cerr << "jsync_conformance_gdrive: the gdrive plugin is not part of this build\n";
    return 2;
  }
  auto plugin = provider::LoadPlugin(JSYNC_GDRIVE_PLUGIN);
  if (!plugin.ok()) {
    std::cerr << "jsync_conformance_gdrive: " << plugin.status().message() << "\n";
    return 2;
  }
  auto emu = std::make_shared<Emulator>();
  std::vector<std::string> args;
  if (!faults.empty()) args = {"--faults", faults};
  emu->server = GdriveEmulator::Start(args, &emu->error);
  if (emu->server == nullptr) {
    std::cerr << "jsync_conformance_gdrive: cannot start the Drive emulator: " << emu->error
              << "\n";
    return 2;
  }
  std::string why;
  auto tokens = emu->server->AuthorizeWithCode(&why, kClientId);
  if (tokens.access_token.empty()) {
    std::cerr << "jsync_conformance_gdrive: no token from the emulator: " << why << "\n";
    return 2;
  }
  emu->credentials = std::make_shared<CountingCredentials>(std::make_shared<EmulatorCredentials>(
      emu->server->base_url(), kClientId, tokens.access_token, tokens.refresh_token));
  emu->config = nlohmann::json{{"api_base", emu->server->base_url()},
                               {"resumable_threshold", std::to_string(threshold)}}
                    .dump();

  ConformanceTarget target;
  target.name = !faults.empty()  ? "gdrive_emulator_faults"
                : threshold == 0 ? "gdrive_resumable"
                                 : "gdrive_multipart";
  target.large = large;
  target.list_files = list_files;
  target.credentials = emu->credentials;
  target.open = [info = *plugin, emu]() -> Result<std::unique_ptr<provider::Provider>> {
    emu->last_location = "conformance-" + std::to_string(++emu->count);
    JSYNC_ASSIGN_OR_RETURN(auto p, provider::PluginProvider::Open(info, emu->last_location,
                                                                  emu->config, emu->credentials));
    return std::unique_ptr<provider::Provider>(std::move(p));
  };
  // The C++ Provider has no change-feed call: a second instance of the plugin at the same
  // location reads it through the C table. Its transport stays quiet (JSYNC_FAULTS is for the
  // provider under test); emulator faults are ridden out here, as the host policy would.
  target.changes = [info = *plugin, emu](const std::string& cursor) -> Result<ChangePage> {
    auto& feed = emu->feeds[emu->last_location];
    if (feed == nullptr) {
      JSYNC_ASSIGN_OR_RETURN(
          feed, DirectInstance::Open(info, emu->last_location, emu->config, emu->credentials));
      feed->http().set_fault_plan(std::nullopt);
    }
    jsync_error err{-1, {0}};
    DirectInstance::Page page;
    int rc = JSYNC_OK;
    for (int attempt = 0; attempt < 5; ++attempt) {
      rc = feed->Changes(cursor, &page, &err);
      if (JSYNC_PRIMARY(rc) != JSYNC_RETRYABLE) break;
    }
    if (rc != JSYNC_OK) return provider::StatusFromPlugin(rc, err, "changes");
    return ChangePage{page.objects, page.next};
  };
  RegisterConformanceTarget(std::move(target));

  int gtest_argc = static_cast<int>(rest.size());
  rest.push_back(nullptr);
  ::testing::InitGoogleTest(&gtest_argc, rest.data());
  const int rc = RUN_ALL_TESTS();
  if (!faults.empty()) {
    // The emulator names each fault it injects on stderr ("...: fault KIND").
    const std::string log = emu->server->Log();
    size_t injected = 0;
    for (size_t at = log.find(": fault "); at != std::string::npos;
         at = log.find(": fault ", at + 1)) {
      ++injected;
    }
    std::cout << "jsync_conformance_gdrive: the emulator injected " << injected << " faults\n";
  }
  emu->feeds.clear();
  emu->server.reset();
  return rc;
}

}  // namespace
}  // namespace jsync::conformance

int main(int argc, char** argv) { return jsync::conformance::Main(argc, argv); }

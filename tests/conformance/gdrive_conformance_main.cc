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
// counts (tests/CMakeLists.txt does). JSYNC_FAULTS (host/http_client.h) adds the host
// client's transport faults, as for WebDAV. Every test gets a fresh location (journal
// namespace) in the one emulator. The account is linked once, through the real OAuth code of
// auth/ (the device grant against the emulator's Google endpoints, tokens in the file store of a
// temporary home: tests/support/linked_account.h), and the credentials are the
// host's auth::OAuthCredentialSource, which refreshes at the emulator's /token after a 401.
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
#include "tests/support/gdrive_emulator.h"
#include "tests/support/test_support.h"

#ifndef JSYNC_GDRIVE_PLUGIN
#define JSYNC_GDRIVE_PLUGIN ""
#endif

namespace jsync::conformance {
namespace {

using testing::GdriveEmulator;

struct Emulator {
  std::unique_ptr<GdriveEmulator> server;
  std::unique_ptr<testing::TempDir> home;  // the jsync home the account is linked in
  std::shared_ptr<auth::OAuthCredentialSource> oauth;  // what `credentials` counts calls to
  std::shared_ptr<CountingCredentials> credentials;
  std::string config;
  std::string error;
  int count = 0;
  std::string last_location;  // what `open` made last: `reopen` opens it again
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
  std::vector<std::string> args = {"--device-interval", "0"};  // the device flow's polls
  if (!faults.empty()) args.insert(args.end(), {"--faults", faults});
  emu->server = GdriveEmulator::Start(args, &emu->error);
  if (emu->server == nullptr) {
    std::cerr << "jsync_conformance_gdrive: cannot start the Drive emulator: " << emu->error
              << "\n";
    return 2;
  }
  // Linking is not under test here: JSYNC_FAULTS (read by every HttpClient made while it is
  // set) is for the provider's clients, so the flow's own clients run without it.
  const char* env_faults = std::getenv("JSYNC_FAULTS");
  const std::string transport_faults = env_faults != nullptr ? env_faults : "";
  if (env_faults != nullptr) ::unsetenv("JSYNC_FAULTS");
  emu->home = std::make_unique<testing::TempDir>();
  auto linked = gdrive_testing::LinkEmulatorAccount(*plugin, emu->server->base_url(),
                                                    emu->home->path().string());
  if (env_faults != nullptr) ::setenv("JSYNC_FAULTS", transport_faults.c_str(), 1);
  if (!linked.ok()) {
    std::cerr << "jsync_conformance_gdrive: cannot link the emulator's account: "
              << linked.status().ToString() << "\n";
    return 2;
  }
  emu->oauth = *linked;
  emu->credentials = std::make_shared<CountingCredentials>(emu->oauth);
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
    const std::string location = "conformance-" + std::to_string(++emu->count);
    emu->last_location = location;
    JSYNC_ASSIGN_OR_RETURN(auto p, provider::PluginProvider::Open(info, location, emu->config,
                                                                  emu->credentials));
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
    // The emulator names each fault it injects on stderr ("...: fault KIND").
    const std::string log = emu->server->Log();
    auto count = [&log](const std::string& needle) {
      size_t n = 0;
      for (size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1))
        ++n;
      return n;
    };
    const size_t injected = count(": fault ");
    const size_t expired = count(": fault expire-token");
    std::cout << "jsync_conformance_gdrive: the emulator injected " << injected << " faults ("
              << expired << " expired tokens); the OAuth credentials refreshed "
              << emu->oauth->refreshes() << " times\n";
    // Each expired token is a 401 the host answers with one refresh through the account's
    // OAuthCredentialSource (a real refresh_token grant at the emulator's /token).
    if (emu->oauth->refreshes() < expired) {
      std::cerr << "jsync_conformance_gdrive: fewer refreshes than expired tokens\n";
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

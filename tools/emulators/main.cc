// jsync-emulator: local servers that speak a cloud's real REST API, with fault injection.
//   jsync-emulator gdrive --port N --state DIR [--faults SPEC] [--latency MS] ...
//   jsync-emulator onedrive --port N --state DIR [--faults SPEC] [--latency MS] [--business] ...
//   jsync-emulator cloudkit --port N --state DIR [--faults SPEC] [--auto-approve] ...
//   jsync-emulator icloud-drive --state DIR --roots R1,R2[,...] [--delay-ms N] ... (a simulator)
// The first stdout line is the base URL ("http://127.0.0.1:PORT"); it runs until SIGTERM or
// SIGINT. Flags, routes and faults: README.md.
#include <curl/curl.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>

#include "net/local_http_server.h"
#include "tools/emulators/gdrive/drive_api.h"
#include "tools/emulators/gdrive/oauth_endpoints.h"
#include "tools/emulators/onedrive/graph_api.h"
#include "tools/emulators/onedrive/identity_endpoints.h"
#include "tools/emulators/onedrive/subscriptions.h"
#include "tools/emulators/cloudkit/ck_main.h"
#include "tools/emulators/icloud_drive/command.h"

namespace {

using namespace jsync::emulator::gdrive;

int Fail(const std::string& message) {
  std::fprintf(stderr, "jsync-emulator: %s\n", message.c_str());
  return 1;
}

// Blocks SIGTERM/SIGINT in every thread (call before starting any); returns the set to wait on.
sigset_t BlockStopSignals() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return stop;
}

// Creates the state folder; "" or why not.
std::string MakeStateDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  return ec ? "cannot create the state folder " + dir + ": " + ec.message() : "";
}

// Serves `handler` on 127.0.0.1:port until SIGTERM/SIGINT (blocked with BlockStopSignals before
// any thread started); `started` learns the base URL before it becomes the first stdout line.
int ServeUntilStopped(const sigset_t& stop, int port, jsync::net::LocalHandler handler,
                      const std::function<void(const std::string&)>& started,
                      const std::string& what, const std::string& state_dir) {
  jsync::net::LocalServerOptions server_options;
  server_options.port = static_cast<uint16_t>(port);
  auto server = jsync::net::LocalHttpServer::Start(std::move(handler), server_options);
  if (!server.ok()) return Fail(server.status().message());
  const std::string base = (*server)->base_url();
  started(base);
  std::printf("%s\n", base.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "jsync-emulator: %s at %s, state in %s\n", what.c_str(), base.c_str(),
               state_dir.c_str());
  int sig = 0;
  sigwait(&stop, &sig);
  std::fprintf(stderr, "jsync-emulator: stopping (signal %d)\n", sig);
  (*server)->Stop();
  return 0;
}

int RunGdrive(int port, const std::string& state_dir, const std::string& faults_spec,
              int64_t latency_ms, const DriveOptions& base_options, const OAuthOptions& oauth_in) {
  auto faults = FaultSpec::Parse(faults_spec);
  if (!faults.ok()) return Fail(faults.status().message());
  if (auto why = MakeStateDir(state_dir); !why.empty()) return Fail(why);
  auto state = DriveState::Open(state_dir);
  if (!state.ok()) return Fail(state.status().message());

  OAuthOptions oauth_options = oauth_in;
  oauth_options.state_dir = state_dir;
  OAuthServer oauth(oauth_options);
  if (auto st = oauth.Load(); !st.ok()) return Fail(st.message());
  Webhooks webhooks;
  DriveOptions options = base_options;
  options.faults = *faults;
  options.latency_ms = latency_ms;
  DriveApi api(options, std::move(state).value(), &oauth, &webhooks);

  // Block the stop signals in every thread; the main thread waits for them with sigwait.
  const sigset_t stop = BlockStopSignals();
  return ServeUntilStopped(
      stop, port, [&api](const jsync::net::LocalRequest& req) { return api.Handle(req); },
      [&](const std::string& base) {
        oauth.set_base_url(base);
        api.set_base_url(base);
      },
      "Google Drive v3", state_dir);
}

struct OnedriveFlags {
  int port = 0;
  std::string state_dir;
  std::string faults;
  std::string app_name = "jsync";
  jsync::emulator::onedrive::GraphOptions graph;
  jsync::emulator::onedrive::IdentityOptions identity;
};

int RunOnedrive(OnedriveFlags flags) {
  namespace od = jsync::emulator::onedrive;
  auto faults = od::FaultSpec::Parse(flags.faults);
  if (!faults.ok()) return Fail(faults.status().message());
  if (auto why = MakeStateDir(flags.state_dir); !why.empty()) return Fail(why);
  auto state = od::GraphState::Open(flags.state_dir, flags.graph.business, flags.app_name);
  if (!state.ok()) return Fail(state.status().message());

  const sigset_t stop = BlockStopSignals();
  flags.identity.state_dir = flags.state_dir;
  od::IdentityServer identity(flags.identity);
  if (auto st = identity.Load(); !st.ok()) return Fail(st.message());
  // Microsoft's consumer tenant for personal accounts; a fixed organisation for business.
  od::Subscriptions subscriptions(flags.graph.business ? "5f1e1c9e-7a1d-4c3e-9b1a-00000000e001"
                                                       : "9188040d-6c67-4c5b-b112-36a304b66dad");
  flags.graph.faults = *faults;
  od::GraphApi api(flags.graph, std::move(state).value(), &identity, &subscriptions);

  return ServeUntilStopped(
      stop, flags.port, [&api](const jsync::net::LocalRequest& req) { return api.Handle(req); },
      [&](const std::string& base) {
        identity.set_base_url(base);
        api.set_base_url(base);
      },
      std::string("Microsoft Graph v1.0 (") + (flags.graph.business ? "business" : "personal") +
          " OneDrive)",
      flags.state_dir);
}

void AddOnedriveFlags(CLI::App* od, OnedriveFlags* f) {
  od->add_option("--port", f->port, "TCP port on 127.0.0.1 (0: pick a free one)")
      ->check(CLI::Range(0, 65535));
  od->add_option("--state", f->state_dir, "Folder for items, blobs, change log and tokens")
      ->required();
  od->add_option("--faults", f->faults, "Fault plan: KIND[:ARGS][@N|@N-M|@N+],... (README.md)");
  od->add_option("--latency", f->graph.latency_ms, "Delay every answer by MS milliseconds")
      ->check(CLI::Range(int64_t{0}, int64_t{600000}));
  od->add_option("--quota", f->graph.quota,
                 "Storage total in bytes (0: 5 GiB personal, 1 TiB business)")
      ->check(CLI::NonNegativeNumber);
  od->add_flag("--business", f->graph.business,
               "OneDrive for Business: delta and subscriptions on the root only, no sha256Hash");
  od->add_option("--app-name", f->app_name, "The app folder's name under /Apps");
  od->add_flag("--approot-denied", f->graph.approot_denied,
               "Answer 403 accessDenied to every app-folder request (AppFolder-only consent)");
  od->add_option("--upload-session-ttl", f->graph.upload_session_ttl_s,
                 "Seconds an upload session lives after its last fragment (then 404)")
      ->check(CLI::PositiveNumber);
  od->add_option("--download-url-ttl", f->graph.download_url_ttl_s,
                 "Seconds a pre-authenticated download URL works (then 401)")
      ->check(CLI::PositiveNumber);
  od->add_option("--page-size", f->graph.page_size, "Default page size of children and delta")
      ->check(CLI::Range(int64_t{1}, int64_t{1000}));
  od->add_option("--delta-token-ttl", f->graph.delta_token_ttl_s,
                 "Seconds a delta token stays valid (then 410 resyncRequired)")
      ->check(CLI::PositiveNumber);
  od->add_option("--request-log", f->graph.request_log,
                 "Append one JSON line per request answered to FILE");
  od->add_option("--client-id", f->identity.client_id, "The OAuth client id to accept");
  od->add_option("--client-secret", f->identity.client_secret,
                 "Require this client secret at /token (default: not checked)");
  od->add_flag("--auto-approve", f->identity.auto_approve,
               "Consent without a browser (code flow redirects at once; device flow approves on "
               "the second poll)");
  od->add_option("--token-lifetime", f->identity.token_lifetime_s,
                 "Access-token lifetime, s (default: random 3600..5399 like Microsoft)")
      ->check(CLI::PositiveNumber);
  od->add_option("--device-code-lifetime", f->identity.device_code_lifetime_s,
                 "Device-code lifetime, s")
      ->check(CLI::PositiveNumber);
  od->add_option("--device-interval", f->identity.device_interval_s,
                 "Device-flow polling interval, s (0 disables slow_down)")
      ->check(CLI::NonNegativeNumber);
}

// `jsync-emulator cloudkit`: CloudKit Web Services (mode A of iCloud), tools/emulators/cloudkit.
int RunCloudkit(const jsync::emulator::cloudkit::CloudKitFlags& flags) {
  namespace ck = jsync::emulator::cloudkit;
  auto server = ck::MakeCloudKit(flags);
  if (!server.ok()) return Fail(server.status().message());
  const sigset_t stop = BlockStopSignals();
  ck::CloudKitApi* api = server->api.get();
  return ServeUntilStopped(
      stop, flags.port, [api](const jsync::net::LocalRequest& req) { return api->Handle(req); },
      [api](const std::string& base) { api->set_base_url(base); },
      "CloudKit Web Services (" + flags.api.container + ")", flags.state_dir);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CLI::App app{"jsync-emulator: local cloud-storage emulators for tests and demos"};
    app.require_subcommand(1);
    CLI::App* gdrive = app.add_subcommand("gdrive", "Google Drive v3 + Google OAuth 2.0");
    int port = 0;
    std::string state_dir;
    std::string faults;
    int64_t latency_ms = 0;
    DriveOptions drive;
    OAuthOptions oauth;
    gdrive->add_option("--port", port, "TCP port on 127.0.0.1 (0: pick a free one)")
        ->check(CLI::Range(0, 65535));
    gdrive->add_option("--state", state_dir, "Folder for files, blobs, change log and tokens")
        ->required();
    gdrive->add_option("--faults", faults, "Fault plan: KIND[@N|@N-M|@N+],... (README.md)");
    gdrive->add_option("--latency", latency_ms, "Delay every answer by MS milliseconds")
        ->check(CLI::Range(int64_t{0}, int64_t{600000}));
    gdrive
        ->add_option("--quota", drive.quota_limit,
                     "Storage limit in bytes (0: unlimited, storageQuota.limit absent)")
        ->check(CLI::NonNegativeNumber);
    gdrive
        ->add_option("--upload-session-ttl", drive.upload_session_ttl_s,
                     "Seconds before a resumable upload session expires (404)")
        ->check(CLI::PositiveNumber);
    gdrive->add_option("--request-log", drive.request_log,
                       "Append one JSON line per request received to FILE");
    gdrive->add_option("--client-id", oauth.client_id, "The OAuth client id to accept");
    gdrive->add_option("--client-secret", oauth.client_secret,
                       "Require this client secret at /token (default: not checked)");
    gdrive->add_flag("--auto-approve", oauth.auto_approve,
                     "Grant consent without a browser (code flow redirects at once; device flow "
                     "approves on the second poll)");
    gdrive->add_option("--token-lifetime", oauth.token_lifetime_s, "Access-token lifetime, s")
        ->check(CLI::PositiveNumber);
    gdrive
        ->add_option("--device-code-lifetime", oauth.device_code_lifetime_s,
                     "Device-code lifetime, s")
        ->check(CLI::PositiveNumber);
    gdrive
        ->add_option("--device-interval", oauth.device_interval_s,
                     "Device-flow polling interval, s (0 disables slow_down)")
        ->check(CLI::NonNegativeNumber);
    CLI::App* onedrive = app.add_subcommand(
        "onedrive", "Microsoft Graph v1.0 (OneDrive) + Microsoft identity platform");
    OnedriveFlags onedrive_flags;
    AddOnedriveFlags(onedrive, &onedrive_flags);
    CLI::App* cloudkit =
        app.add_subcommand("cloudkit", "Apple CloudKit Web Services (iCloud mode A)");
    jsync::emulator::cloudkit::CloudKitFlags cloudkit_flags;
    jsync::emulator::cloudkit::AddCloudKitFlags(cloudkit, &cloudkit_flags);
    auto icloud_drive = jsync::emulator::icloud_drive::AddCommand(&app);
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return app.exit(e);
    }
    if (onedrive->parsed()) return RunOnedrive(onedrive_flags);
    if (cloudkit->parsed()) return RunCloudkit(cloudkit_flags);
    if (icloud_drive->app->parsed()) return jsync::emulator::icloud_drive::Run(*icloud_drive);
    return RunGdrive(port, state_dir, faults, latency_ms, drive, oauth);
  } catch (const std::exception& e) {
    return Fail(e.what());
  } catch (...) {
    return Fail("unexpected error");
  }
}

// jsync-emulator: local servers that speak a cloud's real REST API, with fault injection.
//   jsync-emulator gdrive --port N --state DIR [--faults SPEC] [--latency MS] ...
// The first stdout line is the base URL ("http://127.0.0.1:PORT"); it runs until SIGTERM or
// SIGINT. Flags, routes and faults: README.md.
#include <signal.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>

#include <CLI/CLI.hpp>
#include <curl/curl.h>

#include "net/local_http_server.h"
#include "tools/emulators/gdrive/drive_api.h"
#include "tools/emulators/gdrive/oauth_endpoints.h"

namespace {

using namespace jsync::emulator::gdrive;

int Fail(const std::string& message) {
  std::fprintf(stderr, "jsync-emulator: %s\n", message.c_str());
  return 1;
}

int RunGdrive(int port, const std::string& state_dir, const std::string& faults_spec,
              int64_t latency_ms, const DriveOptions& base_options, const OAuthOptions& oauth_in) {
  auto faults = FaultSpec::Parse(faults_spec);
  if (!faults.ok()) return Fail(faults.status().message());
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return Fail("cannot create the state folder " + state_dir + ": " + ec.message());
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
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  jsync::net::LocalServerOptions server_options;
  server_options.port = static_cast<uint16_t>(port);
  auto server = jsync::net::LocalHttpServer::Start(
      [&api](const jsync::net::LocalRequest& req) { return api.Handle(req); }, server_options);
  if (!server.ok()) return Fail(server.status().message());
  const std::string base = (*server)->base_url();
  oauth.set_base_url(base);
  api.set_base_url(base);
  std::printf("%s\n", base.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "jsync-emulator: Google Drive v3 at %s, state in %s\n", base.c_str(),
               state_dir.c_str());

  int sig = 0;
  sigwait(&stop, &sig);
  std::fprintf(stderr, "jsync-emulator: stopping (signal %d)\n", sig);
  (*server)->Stop();
  return 0;
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
    gdrive->add_option("--quota", drive.quota_limit,
                       "Storage limit in bytes (0: unlimited, storageQuota.limit absent)")
        ->check(CLI::NonNegativeNumber);
    gdrive->add_option("--upload-session-ttl", drive.upload_session_ttl_s,
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
    gdrive->add_option("--device-code-lifetime", oauth.device_code_lifetime_s,
                       "Device-code lifetime, s")
        ->check(CLI::PositiveNumber);
    gdrive->add_option("--device-interval", oauth.device_interval_s,
                       "Device-flow polling interval, s (0 disables slow_down)")
        ->check(CLI::NonNegativeNumber);
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return app.exit(e);
    }
    return RunGdrive(port, state_dir, faults, latency_ms, drive, oauth);
  } catch (const std::exception& e) {
    return Fail(e.what());
  } catch (...) {
    return Fail("unexpected error");
  }
}

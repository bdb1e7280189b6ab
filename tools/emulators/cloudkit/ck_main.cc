#include "tools/emulators/cloudkit/ck_main.h"

#include <filesystem>

namespace jsync::emulator::cloudkit {

void AddCloudKitFlags(CLI::App* ck, CloudKitFlags* f) {
  ck->add_option("--port", f->port, "TCP port on 127.0.0.1 (0: pick a free one)")
      ->check(CLI::Range(0, 65535));
  ck->add_option("--state", f->state_dir, "Folder for zones, records, assets and tokens")
      ->required();
  ck->add_option("--faults", f->faults, "Fault plan: KIND[:S][/OP][@N|@N-M|@N+],... (README.md)");
  ck->add_option("--latency", f->api.latency_ms, "Delay every answer by MS milliseconds")
      ->check(CLI::Range(int64_t{0}, int64_t{600000}));
  ck->add_option("--quota", f->api.quota,
                 "Byte budget for record fields + assets (0: unlimited)")
      ->check(CLI::NonNegativeNumber);
  ck->add_flag("--auto-approve", f->auth.auto_approve,
               "The sign-in page redirects to the callback at once (no form to post)");
  ck->add_option("--page-size", f->api.page_size, "Largest changes/* page (records or zones)")
      ->check(CLI::Range(int64_t{1}, int64_t{200}));
  ck->add_option("--api-token", f->api.api_token, "The ckAPIToken to accept");
  ck->add_option("--container", f->api.container, "The container identifier in the URL");
  ck->add_option("--callback-url", f->auth.callback_url,
                 "The API token's Sign-In Callback (URL-redirect delivery)");
  ck->add_option("--token-lifetime", f->auth.token_lifetime_s,
                 "Web auth token lifetime from creation, s")
      ->check(CLI::PositiveNumber);
  ck->add_option("--asset-url-lifetime", f->api.asset_url_lifetime_s,
                 "Seconds an upload or download URL works (and an unused upload is kept)")
      ->check(CLI::PositiveNumber);
  ck->add_option("--asset-max-bytes", f->api.asset_max_bytes, "Largest asset upload (else 413)")
      ->check(CLI::PositiveNumber);
  ck->add_option("--record-max-bytes", f->api.record_max_bytes,
                 "Largest record (its fields' JSON, assets excluded)")
      ->check(CLI::PositiveNumber);
  ck->add_option("--courier-timeout", f->api.courier_timeout_s,
                 "Seconds a courier GET waits for a notification")
      ->check(CLI::PositiveNumber);
  ck->add_flag("--no-rotation", f->api.no_rotation,
               "Answers carry the same web auth token, which stays valid (icloud.md: inferred)");
  ck->add_option("--atomic-errors", f->atomic_errors,
                 "A failed atomic batch: per-record (ATOMIC_ERROR entries in a 200) or request "
                 "(HTTP 400 ATOMIC_ERROR)")
      ->check(CLI::IsMember({"per-record", "request"}));
  ck->add_flag("--zone-create-exists", f->api.zone_create_exists,
               "Creating an existing zone answers a per-zone EXISTS instead of the zone");
  ck->add_option("--request-log", f->api.request_log,
                 "Append one JSON line per request answered to FILE");
}

Result<CloudKitServer> MakeCloudKit(CloudKitFlags flags) {
  auto faults = FaultSpec::Parse(flags.faults);
  if (!faults.ok()) return faults.status();
  std::error_code ec;
  std::filesystem::create_directories(flags.state_dir, ec);
  if (ec) return Status::Fatal("cannot create the state folder " + flags.state_dir + ": " + ec.message());
  auto state = CkState::Open(flags.state_dir);
  if (!state.ok()) return state.status();
  CloudKitServer out;
  flags.auth.state_file = flags.state_dir + "/auth.json";
  out.auth = std::make_unique<WebAuth>(flags.auth);
  JSYNC_RETURN_IF_ERROR(out.auth->Load());
  flags.api.faults = *faults;
  flags.api.atomic_request_error = flags.atomic_errors == "request";
  out.api = std::make_unique<CloudKitApi>(flags.api, std::move(state).value(), out.auth.get());
  return out;
}

}  // namespace jsync::emulator::cloudkit

// The OneDrive provider: the journal's objects as files under the app's folder in the user's
// OneDrive (Apps/<app name>/<location>/...), through Microsoft Graph v1.0, with the scope
// Files.ReadWrite.AppFolder. The C table, the options and open(); the operations live in
// store.cc (put/get/list/remove), upload.cc, feed.cc (changes/watch/quota), items.cc and
// graph_client.cc. See README.md.
//
// The host injects `Authorization: Bearer ...` into every Graph request and refreshes the
// token once on a 401; upload sessions and download links, which carry their own
// authorization, go through http_without_credentials (decision 0027). The plugin never sees a
// token and never sleeps; it retries nothing but the resumption of an upload session.
#include <cstddef>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "feed.h"
#include "graph_client.h"
#include "onedrive_instance.h"
#include "onedrive_names.h"
#include "store.h"

using jsync_onedrive::Fail;

namespace {

using nlohmann::json;

constexpr const char* kDefaultApiBase = "https://graph.microsoft.com";

const jsync_option kOptions[] = {
    {"api_base",
     "Base URL of Microsoft Graph: the API at {api_base}/v1.0 (point it at `jsync-emulator "
     "onedrive` for tests)",
     kDefaultApiBase, 0},
    {"auth_base",
     "Base URL of the Microsoft identity platform ({auth_base}/{tenant}/oauth2/v2.0/...), used by "
     "the host's auth layer",
     "https://login.microsoftonline.com", 0},
    {"tenant",
     "Which accounts may sign in: common (personal and work or school), organizations, "
     "consumers, or a tenant id or domain; fills {tenant} in the identity endpoints",
     "common", 0},
    {"client_id",
     "Application (client) id of an app registration for personal and work accounts, public "
     "client flows on; used by the host",
     "", 0},
    {"simple_upload_max",
     "Objects up to this many bytes go up in one PUT; larger ones through an upload session",
     "4194304", 0},
    {"fragment_size",
     "Bytes per upload-session fragment: a multiple of 327680 (320 KiB), at most 60 MiB", "3276800",
     0},
    {"page_size", "Items per listing page asked of Graph ($top, 1 to 999)", "200", 0},
    {"webhook_url",
     "HTTPS address Graph should notify of changes (a subscription); empty: polling only", "", 0},
    {"drive_type",
     "auto (read /me/drive's driveType), personal, or business (delta on the drive root, "
     "filtered to the app folder)",
     "auto", 0},
};

const jsync_auth_descriptor kAuth = {
    "oauth2",
    "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
    "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
    "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode",
    nullptr,  // Microsoft offers no token revocation endpoint for these clients
    "Files.ReadWrite.AppFolder offline_access",
    nullptr,
    0,
    nullptr,  // the loopback redirect on 127.0.0.1 (RFC 8252; Microsoft ignores its port)
};

bool ParseBase(const std::string& value, std::string* out) {
  std::string v = value;
  while (!v.empty() && v.back() == '/') v.pop_back();
  if (jsync_onedrive::OriginOf(v).empty() || v.find_first_of("?#") != std::string::npos) {
    return false;
  }
  *out = v;
  return true;
}

bool ParseNumber(const json& value, uint64_t* out) {
  if (value.is_number_unsigned()) {
    *out = value.get<uint64_t>();
    return true;
  }
  if (!value.is_string()) return false;
  const std::string s = value;
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  *out = std::stoull(s);
  return true;
}

int Invalid(jsync_error* err, const std::string& message) {
  return Fail(err, JSYNC_INVALID, "OneDrive: " + message);
}

// Reads the config JSON into `inst`; INVALID with a sentence naming the option.
int ApplyConfig(jsync_instance* inst, const char* config_c, jsync_error* err) {
  std::string api_base = kDefaultApiBase;
  const std::string text = config_c != nullptr && *config_c != '\0' ? config_c : "{}";
  const json config = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object()) return Invalid(err, "the configuration is not a JSON object");
  for (const auto& [key, value] : config.items()) {
    if (key == "simple_upload_max" || key == "fragment_size" || key == "page_size") {
      uint64_t v = 0;
      if (!ParseNumber(value, &v)) return Invalid(err, key + " must be a number");
      if (key == "simple_upload_max") {
        inst->simple_upload_max = v;
      } else if (key == "fragment_size") {
        if (!jsync_onedrive::ValidFragmentSize(v)) {
          return Invalid(err,
                         "fragment_size must be a multiple of 327680 (320 KiB), at most "
                         "62914560 (60 MiB)");
        }
        inst->fragment_size = v;
      } else {
        if (v < 1 || v > 999) return Invalid(err, "page_size must be 1 to 999");
        inst->page_size = static_cast<int>(v);
      }
      continue;
    }
    if (!value.is_string()) return Invalid(err, "option " + key + " must be a string");
    const std::string s = value;
    if (key == "api_base") {
      if (!ParseBase(s, &api_base)) {
        return Invalid(err, "api_base must be an http(s) URL without user, query or fragment");
      }
    } else if (key == "webhook_url") {
      if (!s.empty() && jsync_onedrive::OriginOf(s).empty()) {
        return Invalid(err, "webhook_url must be an https URL");
      }
      inst->webhook_url = s;
    } else if (key == "drive_type") {
      if (s == "auto" || s.empty()) {
        inst->drive_kind = jsync_onedrive::DriveKind::kAuto;
      } else if (s == "personal") {
        inst->drive_kind = jsync_onedrive::DriveKind::kPersonal;
      } else if (s == "business") {
        inst->drive_kind = jsync_onedrive::DriveKind::kBusiness;
      } else {
        return Invalid(err, "drive_type must be auto, personal or business");
      }
    } else if (key == "auth_base" || key == "client_id" || key == "tenant") {
      // The host's auth layer uses these; the plugin only declares them.
    } else if (inst->host->log != nullptr) {
      inst->host->log(inst->host->host, 2,
                      ("OneDrive: ignoring the unknown option " + key).c_str());
    }
  }
  inst->api_base = api_base;
  inst->graph = api_base + "/v1.0";
  inst->origin = jsync_onedrive::OriginOf(api_base);
  return JSYNC_OK;
}

int OnedriveOpen(const jsync_host_services* host, const char* location, const char* config,
                 jsync_instance** out, jsync_error* err) {
  try {
    if (out == nullptr) return Fail(err, JSYNC_INVALID, "OneDrive open: no place for the instance");
    *out = nullptr;
    if (host == nullptr || host->http == nullptr ||
        host->struct_size < offsetof(jsync_host_services, http) + sizeof host->http) {
      return Invalid(err, "the host offers no HTTP service to the OneDrive plugin");
    }
    if (!jsync_onedrive::HasPreauthenticatedHttp(host)) {
      return Invalid(err,
                     "the host cannot send requests without the account's credentials "
                     "(http_without_credentials, plugin ABI 3), which OneDrive's upload and "
                     "download links need; update journal-sync");
    }
    auto inst = std::make_unique<jsync_instance>();
    inst->host = host;
    inst->location = jsync_onedrive::NormalizeLocation(location ? location : "");
    if (inst->location.empty()) {
      return Invalid(err,
                     "the provider needs a location: the journal's folder in the app folder "
                     "('/'-separated, no empty, '.' or '..' parts), e.g. \"journal\"");
    }
    const int rc = ApplyConfig(inst.get(), config, err);
    if (rc != JSYNC_OK) return rc;
    inst->links = jsync_onedrive::LinkCache::For(inst->graph, inst->location);
    *out = inst.release();  // no request: the host may open offline
    return JSYNC_OK;
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_FATAL, std::string("OneDrive open: ") + e.what());
  } catch (...) {
    return Fail(err, JSYNC_FATAL, "OneDrive open: unexpected failure");
  }
}

template <typename Fn>
int Guard(const char* op, jsync_error* err, Fn fn) {
  return jsync_plugin::CatchAll(err, std::string("OneDrive ") + op, fn);
}

int OnedrivePut(jsync_instance* inst, const char* path, const uint8_t* data, size_t len,
                int if_absent, jsync_error* err) {
  return Guard("put", err,
               [&] { return jsync_onedrive::DoPut(inst, path, data, len, if_absent, err); });
}

int OnedriveGet(jsync_instance* inst, const char* path, uint64_t offset, uint64_t length,
                jsync_sink* out, jsync_error* err) {
  return Guard("get", err,
               [&] { return jsync_onedrive::DoGet(inst, path, offset, length, out, err); });
}

int OnedriveList(jsync_instance* inst, const char* prefix, const char* token, jsync_list_sink* out,
                 jsync_error* err) {
  return Guard("list", err, [&] { return jsync_onedrive::DoList(inst, prefix, token, out, err); });
}

int OnedriveRemove(jsync_instance* inst, const char* path, jsync_error* err) {
  return Guard("remove", err, [&] { return jsync_onedrive::DoRemove(inst, path, err); });
}

int OnedriveChanges(jsync_instance* inst, const char* cursor, jsync_list_sink* out,
                    jsync_error* err) {
  return Guard("changes", err, [&] { return jsync_onedrive::DoChanges(inst, cursor, out, err); });
}

int OnedriveWatch(jsync_instance* inst, const char* webhook_url, jsync_error* err) {
  return Guard("watch", err, [&] { return jsync_onedrive::DoWatch(inst, webhook_url, err); });
}

int OnedriveQuota(jsync_instance* inst, uint64_t* used, uint64_t* total, jsync_error* err) {
  return Guard("quota", err, [&] {
    if (used == nullptr || total == nullptr) return Fail(err, JSYNC_INVALID, "quota: no output");
    return jsync_onedrive::DoQuota(inst, used, total, err);
  });
}

void OnedriveClose(jsync_instance* inst) { delete inst; }

jsync_provider MakeTable() {
  jsync_provider t{};
  t.abi_version = JSYNC_PROVIDER_ABI_VERSION;
  t.struct_size = sizeof(jsync_provider);
  t.name = "onedrive";
  t.version = "1.0.0";
  t.capabilities = JSYNC_CAP_CHANGE_FEED | JSYNC_CAP_PUSH | JSYNC_CAP_QUOTA | JSYNC_CAP_RANGE_READ |
                   JSYNC_CAP_OAUTH | JSYNC_CAP_CASE_INSENSITIVE;
  t.auth = &kAuth;
  t.options = kOptions;
  t.option_count = sizeof kOptions / sizeof kOptions[0];
  t.open = OnedriveOpen;
  t.put = OnedrivePut;
  t.get = OnedriveGet;
  t.list = OnedriveList;
  t.remove = OnedriveRemove;
  t.changes = OnedriveChanges;
  t.watch = OnedriveWatch;
  t.quota = OnedriveQuota;
  t.close = OnedriveClose;
  t.open_ex = nullptr;             // the app folder always exists; folders are made on upload
  t.canonical_location = nullptr;  // a folder name in the app folder, kept as given
  t.default_location = "journal";
  t.location_help = "a name for the journal's folder inside the app's OneDrive folder";
  // Graph publishes no per-user rate; rclone paces OneDrive at 10 ms between calls at least.
  // A burst of 100 lets a catch-up start fast; 429s are the host's to absorb (decision 0028).
  t.pacer_min_interval_ms = 10;
  t.pacer_burst = 100;
  t.max_concurrency = 0;  // the host's default
  return t;
}

const jsync_provider* OnedriveTable(const jsync_host_info* host) {
  static const jsync_provider table = MakeTable();
  return host != nullptr && host->abi_version >= 1 ? &table : nullptr;
}

}  // namespace

JSYNC_DEFINE_PROVIDER("onedrive", "1.0.0", OnedriveTable)

// The Google Drive provider: the journal's objects as files in the app's hidden appDataFolder
// (scope drive.appdata), through Drive API v3. The C table, the options and open(); the
// operations live in store.cc (put/get/list/remove), feed.cc (changes/watch/quota),
// upload.cc, drive_files.cc and drive_client.cc. See README.md and
// docs/decisions/0012-gdrive-object-mapping.md.
//
// The host injects `Authorization: Bearer ...` into every request and refreshes the token once
// on a 401; the plugin never sees a token and never retries or sleeps.
#include <cstddef>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "drive_client.h"
#include "drive_paths.h"
#include "feed.h"
#include "gdrive_instance.h"
#include "jsync_provider.h"
#include "store.h"

using jsync_gdrive::Fail;

namespace {

using nlohmann::json;

constexpr const char* kDefaultApiBase = "https://www.googleapis.com";

const jsync_option kOptions[] = {
    {"api_base",
     "Base URL of the Google APIs: Drive at {api_base}/drive/v3, uploads at "
     "{api_base}/upload/drive/v3 (point it at `jsync-emulator gdrive` for tests)",
     kDefaultApiBase, 0},
    {"auth_base",
     "Base URL of Google's OAuth endpoints ({auth_base}/token, /device/code, /revoke), used by "
     "the host's auth layer",
     "https://oauth2.googleapis.com", 0},
    {"client_id", "OAuth client id (a Google Cloud \"Desktop app\" client); used by the host", "",
     0},
    {"client_secret", "OAuth client secret of that client; used by the host", "", 1},
    {"resumable_threshold",
     "Objects larger than this many bytes use a resumable upload (others one multipart request)",
     "5242880", 0},
    {"page_size", "Files per listing or change-feed page asked of Drive (1 to 1000)", "1000", 0},
    {"webhook_url",
     "HTTPS address Drive should notify of changes (changes.watch); empty: polling only", "", 0},
};

// A refresh token comes only with offline access, and only on a fresh consent.
const jsync_param kAuthorizeParams[] = {{"access_type", "offline"}, {"prompt", "consent"}};

const jsync_auth_descriptor kAuth = {
    "oauth2",
    "https://accounts.google.com/o/oauth2/v2/auth",
    "https://oauth2.googleapis.com/token",
    "https://oauth2.googleapis.com/device/code",
    "https://oauth2.googleapis.com/revoke",
    "https://www.googleapis.com/auth/drive.appdata",
    kAuthorizeParams,
    sizeof kAuthorizeParams / sizeof kAuthorizeParams[0],
    nullptr,  // the loopback redirect on 127.0.0.1
};

bool ParseBase(const std::string& value, std::string* out) {
  if (!value.starts_with("https://") && !value.starts_with("http://")) return false;
  std::string v = value;
  while (!v.empty() && v.back() == '/') v.pop_back();
  if (v.find_first_of("?#") != std::string::npos || v.find('@') != std::string::npos) return false;
  *out = v;
  return true;
}

// Reads the config JSON into `inst`; INVALID with a sentence naming the option.
int ApplyConfig(jsync_instance* inst, const char* config_c, jsync_error* err) {
  std::string api_base = kDefaultApiBase;
  const std::string text = config_c != nullptr && *config_c != '\0' ? config_c : "{}";
  const json config = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object()) {
    return Fail(err, JSYNC_INVALID, "Google Drive: the configuration is not a JSON object");
  }
  for (const auto& [key, value] : config.items()) {
    if (key == "resumable_threshold" || key == "page_size") {
      uint64_t v = 0;
      bool ok = false;
      if (value.is_number_unsigned()) {
        v = value.get<uint64_t>();
        ok = true;
      } else if (value.is_string()) {
        const std::string s = value;
        ok = !s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() < 19;
        if (ok) v = std::stoull(s);
      }
      if (key == "page_size") {
        if (!ok || v < 1 || v > 1000) {
          return Fail(err, JSYNC_INVALID, "Google Drive: page_size must be 1 to 1000");
        }
        inst->page_size = static_cast<int>(v);
        continue;
      }
      if (!ok) {
        return Fail(err, JSYNC_INVALID,
                    "Google Drive: resumable_threshold must be a number of bytes");
      }
      inst->resumable_threshold = v;
      continue;
    }
    if (!value.is_string()) {
      return Fail(err, JSYNC_INVALID, "Google Drive: option " + key + " must be a string");
    }
    const std::string s = value;
    if (key == "api_base") {
      if (!ParseBase(s, &api_base)) {
        return Fail(
            err, JSYNC_INVALID,
            "Google Drive: api_base must be an http(s) URL without user, query or fragment");
      }
    } else if (key == "webhook_url") {
      if (!s.empty() && !s.starts_with("https://") && !s.starts_with("http://")) {
        return Fail(err, JSYNC_INVALID, "Google Drive: webhook_url must be an https URL");
      }
      inst->webhook_url = s;
    } else if (key == "auth_base" || key == "client_id" || key == "client_secret") {
      // The host's auth layer uses these; the plugin only declares them.
    } else if (inst->host->log != nullptr) {
      inst->host->log(inst->host->host, 2,
                      ("Google Drive: ignoring the unknown option " + key).c_str());
    }
  }
  inst->ep.api = api_base + "/drive/v3";
  inst->ep.upload = api_base + "/upload/drive/v3";
  return JSYNC_OK;
}

int GdriveOpen(const jsync_host_services* host, const char* location, const char* config,
               jsync_instance** out, jsync_error* err) {
  try {
    if (out == nullptr) return Fail(err, JSYNC_INVALID, "open: no place for the instance");
    *out = nullptr;
    if (host == nullptr || host->http == nullptr ||
        host->struct_size < offsetof(jsync_host_services, http) + sizeof host->http) {
      return Fail(err, JSYNC_INVALID, "the host offers no HTTP service to the Google Drive plugin");
    }
    auto inst = std::make_unique<jsync_instance>();
    inst->host = host;
    inst->location = jsync_gdrive::NormalizeLocation(location ? location : "");
    if (inst->location.empty()) {
      return Fail(err, JSYNC_INVALID,
                  "the Google Drive provider needs a location: the journal's name in the app "
                  "folder ('/'-separated, no empty, '.' or '..' parts), e.g. \"my-journal\"");
    }
    const int rc = ApplyConfig(inst.get(), config, err);
    if (rc != JSYNC_OK) return rc;
    inst->winners = jsync_gdrive::WinnerCache::For(inst->ep.api, inst->location);
    *out = inst.release();  // no request: the host may open offline
    return JSYNC_OK;
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_FATAL, std::string("Google Drive open: ") + e.what());
  } catch (...) {
    return Fail(err, JSYNC_FATAL, "Google Drive open: unexpected failure");
  }
}

// Runs fn, turning any exception into JSYNC_FATAL (none may cross the C ABI).
template <typename Fn>
int Guard(const char* op, jsync_error* err, Fn fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_FATAL, std::string("Google Drive ") + op + ": " + e.what());
  } catch (...) {
    return Fail(err, JSYNC_FATAL, std::string("Google Drive ") + op + ": unexpected failure");
  }
}

int GdrivePut(jsync_instance* inst, const char* path, const uint8_t* data, size_t len,
              int if_absent, jsync_error* err) {
  return Guard("put", err,
               [&] { return jsync_gdrive::DoPut(inst, path, data, len, if_absent, err); });
}

int GdriveGet(jsync_instance* inst, const char* path, uint64_t offset, uint64_t length,
              jsync_sink* out, jsync_error* err) {
  return Guard("get", err,
               [&] { return jsync_gdrive::DoGet(inst, path, offset, length, out, err); });
}

int GdriveList(jsync_instance* inst, const char* prefix, const char* token, jsync_list_sink* out,
               jsync_error* err) {
  return Guard("list", err, [&] { return jsync_gdrive::DoList(inst, prefix, token, out, err); });
}

int GdriveRemove(jsync_instance* inst, const char* path, jsync_error* err) {
  return Guard("remove", err, [&] { return jsync_gdrive::DoRemove(inst, path, err); });
}

int GdriveChanges(jsync_instance* inst, const char* cursor, jsync_list_sink* out,
                  jsync_error* err) {
  return Guard("changes", err, [&] { return jsync_gdrive::DoChanges(inst, cursor, out, err); });
}

int GdriveWatch(jsync_instance* inst, const char* webhook_url, jsync_error* err) {
  return Guard("watch", err, [&] { return jsync_gdrive::DoWatch(inst, webhook_url, err); });
}

int GdriveQuota(jsync_instance* inst, uint64_t* used, uint64_t* total, jsync_error* err) {
  return Guard("quota", err, [&] {
    if (used == nullptr || total == nullptr) return Fail(err, JSYNC_INVALID, "quota: no output");
    return jsync_gdrive::DoQuota(inst, used, total, err);
  });
}

void GdriveClose(jsync_instance* inst) { delete inst; }

const jsync_provider kGdrive = {
    JSYNC_PROVIDER_ABI_VERSION,
    sizeof(jsync_provider),
    "gdrive",
    "1.0.0",
    JSYNC_CAP_CHANGE_FEED | JSYNC_CAP_PUSH | JSYNC_CAP_QUOTA | JSYNC_CAP_RANGE_READ |
        JSYNC_CAP_OAUTH,
    &kAuth,
    kOptions,
    sizeof kOptions / sizeof kOptions[0],
    GdriveOpen,
    GdrivePut,
    GdriveGet,
    GdriveList,
    GdriveRemove,
    GdriveChanges,
    GdriveWatch,
    GdriveQuota,
    GdriveClose,
    nullptr,  // open_ex: the app folder always exists; the journal folder is made on upload
    nullptr,  // canonical_location: a name in the app folder, kept as given
    "journal",
    "a name for the journal inside the app's hidden Drive folder",
    // Drive allows 12,000 queries a minute per user and project (200/s): the pace of that
    // quota, after a burst of 200. A device catching up at K = 4 over 20 ms round trips runs
    // at about this rate; several devices of one user catching up at once meet 429s, which
    // the host's retries absorb.
    5,
    200,
    0,  // max_concurrency: the host's default
};

const jsync_provider* GdriveTable(const jsync_host_info* host) {
  return host != nullptr && host->abi_version >= 1 ? &kGdrive : nullptr;
}

}  // namespace

JSYNC_DEFINE_PROVIDER("gdrive", "1.0.0", GdriveTable)

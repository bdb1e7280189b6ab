// The iCloud provider (mode A, CloudKit Web Services): the journal's objects as records in a
// custom zone of the user's private database in our CloudKit container. The C table, the
// options and open(); the operations live in store.cc (put/get/list/remove), feed.cc
// (changes), assets.cc, zone.cc and ck_client.cc. See README.md.
//
// The host adds ckAPIToken and the user's ckWebAuthToken to every request's query string and
// keeps the token CloudKit rotates with each answer (auth/cloudkit_credentials.h); because each
// token is good for one round trip, the host runs one request at a time (max_concurrency 1).
// The plugin never sees a token and never sleeps or retries.
#include <cstddef>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "ck_client.h"
#include "ck_names.h"
#include "feed.h"
#include "icloud_instance.h"
#include "records.h"
#include "store.h"

using jsync_icloud::Fail;

namespace {

using nlohmann::json;

constexpr const char* kDefaultDatabaseUrl =
    "https://api.apple-cloudkit.com/database/1/{container}/{environment}";

const jsync_option kOptions[] = {
    {"container",
     "The CloudKit container (iCloud.<reverse-dns>) of a paid Apple Developer team, with the "
     "JFile and JFilePart record types deployed",
     "iCloud.org.journalsync", 0},
    {"environment", "development or production", "production", 0},
    {"cloudkit_api_base",
     "Base URL of the container's database API, {base}/{database}/{operation} (point it at "
     "`jsync-emulator cloudkit` for tests); empty: Apple's, from container and environment",
     "", 0},
    {"cloudkit_api_token",
     "The container's API token (CloudKit Console, Tokens & Keys), with a URL-redirect sign-in "
     "callback to http://127.0.0.1:<cloudkit_callback_port>/; used by the host",
     "", 0},
    {"cloudkit_callback_port", "The port of that sign-in callback; used by the host", "8765", 0},
    {"database", "private (the user's own) or shared", "private", 0},
    {"inline_max", "Objects up to this many bytes are stored inside their record (BYTES)",
     "716800", 0},
    {"asset_max",
     "Bytes per asset: larger objects are split into part records (CloudKit's upload limit is "
     "15 MB)",
     "15728640", 0},
    {"page_size", "Records per change-feed page asked of CloudKit (1 to 200)", "200", 0},
};

const jsync_auth_descriptor kAuth = {
    "cloudkit",
    // The host reads the database base here (CloudKit has no authorization endpoint) and
    // overrides it with the option cloudkit_api_base when given.
    kDefaultDatabaseUrl,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    0,
    nullptr,
};

int Invalid(jsync_error* err, const std::string& message) {
  return Fail(err, JSYNC_INVALID, "iCloud: " + message);
}

bool HttpUrl(const std::string& s) {
  return (s.starts_with("https://") || s.starts_with("http://")) &&
         s.find_first_of("?# ") == std::string::npos;
}

// A container or environment goes into the URL path: plain characters only.
bool PathSafe(const std::string& s) {
  return !s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789.-_") == std::string::npos;
}

int ApplyConfig(jsync_instance* inst, const char* config_c, jsync_error* err) {
  const std::string text = config_c != nullptr && *config_c != '\0' ? config_c : "{}";
  const json config = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object()) return Invalid(err, "the configuration is not a JSON object");
  std::string container = "iCloud.org.journalsync";
  std::string environment = "production";
  std::string base;
  for (const auto& [key, value] : config.items()) {
    if (key == "inline_max" || key == "asset_max" || key == "page_size") {
      uint64_t v = 0;
      if (!jsync_icloud::ReadCount(&value, &v)) return Invalid(err, key + " must be a number");
      if (key == "inline_max") {
        if (v > (700u << 10)) {
          return Invalid(err, "inline_max must be at most 716800: a record holds 1 MB and BYTES "
                              "travel as base64");
        }
        inst->inline_max = v;
      } else if (key == "asset_max") {
        if (v < 1024 || v > (15u << 20)) return Invalid(err, "asset_max must be 1024 to 15728640");
        inst->asset_max = v;
      } else {
        if (v < 1 || v > 200) return Invalid(err, "page_size must be 1 to 200");
        inst->page_size = static_cast<int>(v);
      }
      continue;
    }
    if (key == "cloudkit_callback_port") continue;  // the host's sign-in uses it
    if (!value.is_string()) return Invalid(err, "option " + key + " must be a string");
    const std::string s = value;
    if (key == "container") {
      if (!PathSafe(s)) return Invalid(err, "container must look like iCloud.com.example.app");
      container = s;
    } else if (key == "environment") {
      if (s != "development" && s != "production") {
        return Invalid(err, "environment must be development or production");
      }
      environment = s;
    } else if (key == "cloudkit_api_base") {
      if (!s.empty() && !HttpUrl(s)) {
        return Invalid(err, "cloudkit_api_base must be an http(s) URL without query or fragment");
      }
      base = s;
    } else if (key == "database") {
      if (s != "private" && s != "shared") return Invalid(err, "database must be private or shared");
      inst->database = s;
    } else if (key == "cloudkit_api_token") {
      // The host's; never in a URL the plugin builds.
    } else if (inst->host->log != nullptr) {
      inst->host->log(inst->host->host, 2, ("iCloud: ignoring the unknown option " + key).c_str());
    }
  }
  if (base.empty()) {
    base = "https://api.apple-cloudkit.com/database/1/" + container + "/" + environment;
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  inst->api_base = base;
  inst->db = base + "/" + inst->database;
  return JSYNC_OK;
}

int IcloudOpen(const jsync_host_services* host, const char* location, const char* config,
               jsync_instance** out, jsync_error* err) {
  try {
    if (out == nullptr) return Fail(err, JSYNC_INVALID, "iCloud open: no place for the instance");
    *out = nullptr;
    if (host == nullptr || host->http == nullptr) {
      return Invalid(err, "the host offers no HTTP service to the iCloud plugin");
    }
    auto inst = std::make_unique<jsync_instance>();
    inst->host = host;
    inst->database = "private";
    inst->location = location != nullptr && *location != '\0' ? location : "journal";
    if (inst->location.size() > 64 || inst->location.find('/') != std::string::npos) {
      return Invalid(err, "the location is the journal's name (its CloudKit zone), e.g. "
                          "\"journal\": at most 64 characters, no '/'");
    }
    inst->zone = jsync_icloud::ZoneNameOf(inst->location);
    const int rc = ApplyConfig(inst.get(), config, err);
    if (rc != JSYNC_OK) return rc;
    *out = inst.release();  // no request: the host may open offline
    return JSYNC_OK;
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_FATAL, std::string("iCloud open: ") + e.what());
  } catch (...) {
    return Fail(err, JSYNC_FATAL, "iCloud open: unexpected failure");
  }
}

template <typename Fn>
int Guard(const char* op, jsync_error* err, Fn fn) {
  return jsync_plugin::CatchAll(err, std::string("iCloud ") + op, fn);
}

int IcloudPut(jsync_instance* inst, const char* path, const uint8_t* data, size_t len,
              int if_absent, jsync_error* err) {
  return Guard("put", err, [&] { return jsync_icloud::DoPut(inst, path, data, len, if_absent, err); });
}

int IcloudGet(jsync_instance* inst, const char* path, uint64_t offset, uint64_t length,
              jsync_sink* out, jsync_error* err) {
  return Guard("get", err, [&] { return jsync_icloud::DoGet(inst, path, offset, length, out, err); });
}

int IcloudList(jsync_instance* inst, const char* prefix, const char* token, jsync_list_sink* out,
               jsync_error* err) {
  return Guard("list", err, [&] { return jsync_icloud::DoList(inst, prefix, token, out, err); });
}

int IcloudRemove(jsync_instance* inst, const char* path, jsync_error* err) {
  return Guard("remove", err, [&] { return jsync_icloud::DoRemove(inst, path, err); });
}

int IcloudChanges(jsync_instance* inst, const char* cursor, jsync_list_sink* out, jsync_error* err) {
  return Guard("changes", err, [&] { return jsync_icloud::DoChanges(inst, cursor, out, err); });
}

void IcloudClose(jsync_instance* inst) { delete inst; }

jsync_provider MakeTable() {
  jsync_provider t{};
  t.abi_version = JSYNC_PROVIDER_ABI_VERSION;
  t.struct_size = sizeof(jsync_provider);
  t.name = "icloud";
  t.version = "1.0.0";
  // No quota (CloudKit has no quota endpoint: only QUOTA_EXCEEDED says the storage is full),
  // no push (no documented channel for non-browser clients: polling is one cheap request).
  t.capabilities = JSYNC_CAP_CHANGE_FEED | JSYNC_CAP_RANGE_READ | JSYNC_CAP_OAUTH;
  t.auth = &kAuth;
  t.options = kOptions;
  t.option_count = sizeof kOptions / sizeof kOptions[0];
  t.open = IcloudOpen;
  t.put = IcloudPut;
  t.get = IcloudGet;
  t.list = IcloudList;
  t.remove = IcloudRemove;
  t.changes = IcloudChanges;
  t.close = IcloudClose;
  t.default_location = "journal";
  t.location_help = "the journal's name, which names its CloudKit zone (\"journal\")";
  // Apple publishes no rate; THROTTLED with retryAfter is the host's to absorb (decision 0028).
  // 50 calls a second after a burst of 40 keeps a catch-up (one lookup per change) going.
  t.pacer_min_interval_ms = 20;
  t.pacer_burst = 40;
  // One token chain: each web auth token is good for one round trip.
  t.max_concurrency = 1;
  return t;
}

const jsync_provider* IcloudTable(const jsync_host_info* host) {
  static const jsync_provider table = MakeTable();
  return host != nullptr && host->abi_version >= 1 ? &table : nullptr;
}

}  // namespace

JSYNC_DEFINE_PROVIDER("icloud", "1.0.0", IcloudTable)

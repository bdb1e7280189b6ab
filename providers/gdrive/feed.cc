#include "feed.h"

#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "drive_files.h"
#include "drive_paths.h"
#include "md5.h"

namespace jsync_gdrive {
namespace {

using nlohmann::json;

constexpr int64_t kChannelLifetimeMs = 7LL * 24 * 3600 * 1000 - 60'000;  // Drive's max: 1 week

int StartPageToken(jsync_instance* inst, const std::string& what, std::string* token,
                   jsync_error* err) {
  Request req;
  req.url = WithQuery(inst->ep.api + "/changes/startPageToken", {{"fields", "startPageToken"}});
  Response resp;
  const int rc = DriveExchange(inst->host, req, &resp, what + " (startPageToken)", err);
  if (rc != JSYNC_OK) return rc;
  if (resp.status != 200) {
    return FailFrom(inst, what + " (startPageToken)", resp, err);
  }
  const json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("startPageToken") || !j["startPageToken"].is_string() ||
      j["startPageToken"].get<std::string>().empty()) {
    return Fail(err, JSYNC_RETRYABLE_UNAVAILABLE,
                "Google Drive " + what + ": no startPageToken in the answer");
  }
  *token = j["startPageToken"];
  return JSYNC_OK;
}

// Whether an answer to changes.list means "this page token is no good" (Drive: 400 invalid
// pageToken; an emulator or proxy may say 404 or 410).
bool InvalidToken(const Response& resp) {
  if (resp.status == 404 || resp.status == 410) return true;
  if (resp.status != 400) return false;
  const DriveError e = ParseDriveError(resp.body);
  return e.location == "pageToken" || e.reason == "invalid" || e.reason == "badRequest" ||
         e.reason == "invalidPageToken" || e.reason.empty();
}

// Every object under the location (all pages), into `found`.
int ListAll(jsync_instance* inst, const std::string& what, std::map<std::string, uint64_t>* found,
            jsync_error* err) {
  std::string token;
  std::map<std::string, std::vector<DriveFile>> by_name;
  for (int page = 0; page < 100000; ++page) {
    FilePage p;
    const int rc = ListPage(inst, inst->location + "/", token, inst->page_size, what, &p, err);
    if (rc != JSYNC_OK) return rc;
    for (DriveFile& f : p.files) by_name[f.name].push_back(std::move(f));
    if (p.next_page_token.empty() || p.next_page_token == token) break;
    token = p.next_page_token;
  }
  for (const auto& [name, files] : by_name) {
    std::string path;
    if (ObjectPathOf(inst->location, name, &path)) {
      (*found)[path] = files[static_cast<size_t>(WinnerIndex(files))].size;
    }
  }
  return JSYNC_OK;
}

void Emit(jsync_list_sink* out, const std::map<std::string, uint64_t>& found,
          const std::string& cursor, bool removals = false) {
  for (const auto& [path, size] : found) out->emit(out->ctx, path.c_str(), size);
  if (removals && out->entry != nullptr) {
    const jsync_list_entry unnamed{nullptr, 0, -1, JSYNC_KIND_FILE, JSYNC_ENTRY_REMOVED};
    out->entry(out->ctx, &unnamed);
  }
  if (out->set_next != nullptr) out->set_next(out->ctx, cursor.c_str());
}

}  // namespace

bool ParseChangesPage(const std::string& body, const std::string& location,
                      std::map<std::string, uint64_t>* found, std::string* next_page_token,
                      std::string* new_start_page_token, bool* removals,
                      std::map<std::string, std::vector<DriveFile>>* by_name) {
  next_page_token->clear();
  new_start_page_token->clear();
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  if (j.contains("changes") && j["changes"].is_array()) {
    for (const json& c : j["changes"]) {
      if (!c.is_object()) continue;
      // A removed change names only the file id, and a trashed name may still be held by a
      // duplicate: either way the host relists rather than trust a guess.
      if ((c.contains("removed") && c["removed"] == true) || !c.contains("file")) {
        if (removals != nullptr) *removals = true;
        continue;
      }
      DriveFile f;
      std::string path;
      if (!ParseFile(&c["file"], &f)) continue;
      if (f.trashed) {
        if (removals != nullptr && ObjectPathOf(location, f.name, &path)) *removals = true;
        continue;
      }
      if (ObjectPathOf(location, f.name, &path)) {
        (*found)[path] = f.size;
        if (by_name != nullptr) (*by_name)[f.name].push_back(f);
      }
    }
  }
  if (j.contains("newStartPageToken") && j["newStartPageToken"].is_string()) {
    *new_start_page_token = j["newStartPageToken"];
  }
  if (j.contains("nextPageToken") && j["nextPageToken"].is_string()) {
    *next_page_token = j["nextPageToken"];
  }
  return true;
}

bool ParseStorageQuota(const std::string& body, uint64_t* used, uint64_t* total) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("storageQuota") || !j["storageQuota"].is_object()) {
    return false;
  }
  const json& q = j["storageQuota"];
  uint64_t usage = 0, limit = 0;
  if (q.contains("usage")) ParseInt64Value(&q["usage"], &usage);
  if (q.contains("limit")) ParseInt64Value(&q["limit"], &limit);  // absent: unlimited
  *used = usage;
  *total = limit;
  return true;
}

int DoChanges(jsync_instance* inst, const char* cursor_c, jsync_list_sink* out, jsync_error* err) {
  if (out == nullptr || out->emit == nullptr) return Fail(err, JSYNC_INVALID, "changes: no sink");
  const std::string what = "changes";
  const std::string cursor = cursor_c ? cursor_c : "";
  if (cursor.empty()) {
    std::string start;
    const int rc = StartPageToken(inst, what, &start, err);
    if (rc != JSYNC_OK) return rc;
    Emit(out, {}, start);
    return JSYNC_OK;
  }
  // A version-3 host hears of removals and of a refused cursor, and lists again itself.
  const bool v3 = inst->host->abi_version >= 3;
  bool removals = false;
  // The files the feed names, so a get that follows needs no lookup by name.
  std::map<std::string, std::vector<DriveFile>> seen;
  // Collect every page first: the host gets all changes or an error, never half.
  std::map<std::string, uint64_t> found;
  std::string token = cursor;
  for (int page = 0; page < 100000; ++page) {
    Request req;
    req.url = WithQuery(
        inst->ep.api + "/changes",
        {{"pageToken", token},
         {"spaces", "appDataFolder"},
         {"pageSize", std::to_string(inst->page_size)},
         {"includeRemoved", v3 ? "true" : "false"},
         {"fields", std::string("nextPageToken,newStartPageToken,changes(fileId,removed,file(") +
                        kFileFields + "))"}});
    Response resp;
    int rc = DriveExchange(inst->host, req, &resp, what, err);
    if (rc != JSYNC_OK) return rc;
    if (resp.status != 200) {
      if (!InvalidToken(resp)) return FailFrom(inst, what, resp, err);
      const DriveError e = ParseDriveError(resp.body);
      if (v3) {
        return Fail(err, JSYNC_NOT_FOUND_CURSOR_EXPIRED,
                    "Google Drive refused the change token (HTTP " +
                        std::to_string(resp.status) + ")");
      }
      // An older host: start over from a listing (fetch the new start token first, so
      // nothing created during the listing is missed).
      Log(inst, 2,
          "Google Drive refused the change token (HTTP " + std::to_string(resp.status) +
              (e.message.empty() ? std::string() : ": " + e.message) +
              "); reporting a full listing instead");
      std::string fresh;
      rc = StartPageToken(inst, what, &fresh, err);
      if (rc != JSYNC_OK) return rc;
      found.clear();
      rc = ListAll(inst, what + " (listing after a refused token)", &found, err);
      if (rc != JSYNC_OK) return rc;
      Emit(out, found, fresh);
      return JSYNC_OK;
    }
    std::string next, new_start;
    if (!ParseChangesPage(resp.body, inst->location, &found, &next, &new_start,
                          v3 ? &removals : nullptr, &seen)) {
      return Fail(err, JSYNC_RETRYABLE_UNAVAILABLE, "Google Drive changes: the answer is not JSON");
    }
    if (!new_start.empty()) {
      // A name this instance has not resolved yet takes the feed's file as its winner (the
      // same rule as a listing among the files the feed shows); a known one is looked up
      // again on the next get, in case the feed shows a duplicate.
      for (auto& [name, files] : seen) {
        if (auto known = inst->winners.Find(name)) {
          const bool same = files.size() == 1 && files[0].id == known->id;
          if (!same) inst->winners.Erase(name);
        } else {
          inst->winners.Set(name, files[static_cast<size_t>(WinnerIndex(files))]);
        }
      }
      Emit(out, found, new_start, removals);
      return JSYNC_OK;
    }
    if (next.empty() || next == token) {
      return Fail(err, JSYNC_RETRYABLE_UNAVAILABLE,
                  "Google Drive changes: the answer has neither a next page nor a new start token");
    }
    token = next;
  }
  return Fail(err, JSYNC_FATAL, "Google Drive changes: too many pages");
}

int DoWatch(jsync_instance* inst, const char* webhook_url, jsync_error* err) {
  const std::string address =
      webhook_url != nullptr && *webhook_url != '\0' ? webhook_url : inst->webhook_url;
  if (address.empty()) {
    return Fail(err, JSYNC_INVALID,
                "Google Drive watch: no webhook address (pass one, or set the webhook_url option)");
  }
  if (!address.starts_with("https://") && !address.starts_with("http://")) {
    return Fail(err, JSYNC_INVALID, "Google Drive watch: the webhook address must be an https URL");
  }
  const std::string what = "watch";
  std::string token;
  int rc = StartPageToken(inst, what, &token, err);
  if (rc != JSYNC_OK) return rc;
  json channel = {
      {"id", "jsync-" + jsync_plugin::RandomHex(inst->host, 16)},
      {"type", "web_hook"},
      {"address", address},
      // Echoed as X-Goog-Channel-Token: tells the receiver which journal changed,
      // without naming it.
      {"token", "jsync-" + Md5Hex(reinterpret_cast<const uint8_t*>(inst->location.data()),
                                  inst->location.size())}};
  if (inst->host->now_ms != nullptr) {
    channel["expiration"] =
        std::to_string(inst->host->now_ms(inst->host->host) + kChannelLifetimeMs);
  }
  const std::string body = channel.dump();
  Request req;
  req.method = "POST";
  req.url = WithQuery(inst->ep.api + "/changes/watch", {{"pageToken", token},
                                                        {"spaces", "appDataFolder"},
                                                        {"includeRemoved", "false"},
                                                        {"fields", "id,resourceId,expiration"}});
  req.headers = {{"Content-Type", "application/json; charset=UTF-8"}};
  req.body = reinterpret_cast<const uint8_t*>(body.data());
  req.body_len = body.size();
  Response resp;
  rc = DriveExchange(inst->host, req, &resp, what, err);
  if (rc != JSYNC_OK) return rc;
  if (resp.status != 200) return FailFrom(inst, what, resp, err);
  const json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  const std::string resource_id =
      j.is_object() && j.contains("resourceId") && j["resourceId"].is_string()
          ? j["resourceId"].get<std::string>()
          : std::string();
  // The new channel is up: stop the previous one (best effort; channels also expire).
  if (!inst->channel_id.empty() && !inst->channel_resource_id.empty()) {
    const std::string stop =
        json{{"id", inst->channel_id}, {"resourceId", inst->channel_resource_id}}.dump();
    Request sreq;
    sreq.method = "POST";
    sreq.url = inst->ep.api + "/channels/stop";
    sreq.headers = {{"Content-Type", "application/json; charset=UTF-8"}};
    sreq.body = reinterpret_cast<const uint8_t*>(stop.data());
    sreq.body_len = stop.size();
    Response sresp;
    jsync_error ignored{-1, {0}};
    if (DriveExchange(inst->host, sreq, &sresp, "watch (stopping the previous channel)",
                      &ignored) != JSYNC_OK ||
        sresp.status >= 300) {
      Log(inst, 1,
          "Google Drive watch: the previous channel was not stopped; it expires by itself");
    }
  }
  inst->channel_id = channel["id"];
  inst->channel_resource_id = resource_id;
  return JSYNC_OK;
}

int DoQuota(jsync_instance* inst, uint64_t* used, uint64_t* total, jsync_error* err) {
  Request req;
  req.url = WithQuery(inst->ep.api + "/about", {{"fields", "storageQuota"}});
  Response resp;
  const int rc = DriveExchange(inst->host, req, &resp, "quota", err);
  if (rc != JSYNC_OK) return rc;
  if (resp.status != 200) return FailFrom(inst, "quota", resp, err);
  if (!ParseStorageQuota(resp.body, used, total)) {
    return Fail(err, JSYNC_RETRYABLE_UNAVAILABLE,
                "Google Drive quota: the answer has no storageQuota");
  }
  return JSYNC_OK;
}

}  // namespace jsync_gdrive

#include "feed.h"

#include <string>
#include <vector>

#include "ck_client.h"
#include "records.h"
#include "zone.h"

namespace jsync_icloud {
namespace {

// A walk stops after this many pages (200 records each): a server that keeps saying "more"
// with new tokens is not followed for ever.
constexpr int kMaxPages = 10000;

struct Change {
  std::string path;
  uint64_t size = 0;
  int64_t mtime_ms = -1;
  bool removed = false;
};

enum class Walk { kDone, kTokenRefused, kZoneGone };

// changes/database from `token` to its end. *changed: the journal's zone is among the zones
// that changed (or the token was refused, so nobody knows).
int WalkDatabase(jsync_instance* inst, const std::string& token, std::string* next, bool* changed,
                 Walk* how, jsync_error* err) {
  *changed = false;
  *how = Walk::kDone;
  std::string at = token;
  for (int page = 0; page < kMaxPages; ++page) {
    json body = json::object();
    if (!at.empty()) body["syncToken"] = at;
    json answer;
    CkError refused;
    const int rc = Call(inst, "changes/database", &body, &answer, "changes", err, &refused);
    if (rc != JSYNC_OK) {
      if (!at.empty() && refused.code == "BAD_REQUEST") {
        *how = Walk::kTokenRefused;
        *changed = true;
        return JSYNC_OK;
      }
      return rc;
    }
    if (!answer.contains("zones") || !answer["zones"].is_array() || !answer.contains("syncToken") ||
        !answer["syncToken"].is_string()) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, "changes",
                      "CloudKit's database changes have no zone list or sync token");
    }
    for (const json& z : answer["zones"]) {
      if (ZoneNameIn(z) == inst->zone) {
        *changed = true;
      }
    }
    const std::string t = answer["syncToken"];
    const bool more = BoolOr(answer, "moreComing");
    if (more && t == at) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, "changes",
                      "CloudKit says more is coming but gives no new sync token");
    }
    at = t;
    if (!more) {
      *next = at;
      return JSYNC_OK;
    }
  }
  return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, "changes", "the database changes never end");
}

// changes/zone from `token` to its end; *changes gets what the pages held (when `collect`).
int WalkZone(jsync_instance* inst, const std::string& token, bool collect, std::string* next,
             std::vector<Change>* changes, Walk* how, jsync_error* err) {
  *how = Walk::kDone;
  std::string at = token;
  for (int page = 0; page < kMaxPages; ++page) {
    json zone = {{"zoneID", ZoneId(inst)}, {"resultsLimit", inst->page_size}};
    zone["desiredKeys"] = collect ? json::array({"path", "size"}) : json::array();
    if (!at.empty()) zone["syncToken"] = at;
    const json body = {{"zones", json::array({zone})}};
    json answer;
    CkError refused;
    const int rc = Call(inst, "changes/zone", &body, &answer, "changes", err, &refused);
    if (rc != JSYNC_OK) {
      if (refused.code == "ZONE_NOT_FOUND") {
        *how = Walk::kZoneGone;
        return JSYNC_OK;
      }
      if (!at.empty() && refused.code == "BAD_REQUEST") {
        *how = Walk::kTokenRefused;
        return JSYNC_OK;
      }
      return rc;
    }
    if (!answer.contains("zones") || !answer["zones"].is_array() || answer["zones"].size() != 1) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, "changes", "CloudKit's answer names no zone");
    }
    const json& z = answer["zones"][0];
    CkError e;
    if (ReadCkError(z, &e)) {
      if (e.code == "ZONE_NOT_FOUND") {
        *how = Walk::kZoneGone;
        return JSYNC_OK;
      }
      if (!at.empty() && e.code == "BAD_REQUEST") {
        *how = Walk::kTokenRefused;
        return JSYNC_OK;
      }
      return FailFromCkError(err, "changes", e, 200);
    }
    if (!z.is_object() || !z.contains("records") || !z["records"].is_array() ||
        !z.contains("syncToken") || !z["syncToken"].is_string() || ZoneNameIn(z) != inst->zone) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, "changes",
                      "a change page has no records or sync token");
    }
    if (collect) {
      for (const json& rec : z["records"]) {
        FileRecord r;
        if (!ReadFileRecord(rec, &r)) continue;  // a part record, or not ours: the list reports it
        changes->push_back({r.path, r.size, r.modified_ms, r.deleted});
      }
    }
    const std::string t = z["syncToken"];
    const bool more = BoolOr(z, "moreComing");
    if (more && t == at) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, "changes",
                      "CloudKit says more is coming but gives no new sync token");
    }
    at = t;
    if (!more) {
      *next = at;
      return JSYNC_OK;
    }
  }
  return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, "changes", "the zone's changes never end");
}

std::string Cursor(const std::string& db, const std::string& zone) {
  return json{{"db", db}, {"z", zone}}.dump();
}

int Expired(jsync_error* err, const std::string& why) {
  return FailWith(err, JSYNC_NOT_FOUND_CURSOR_EXPIRED, "changes", why + "; listing everything again");
}

}  // namespace

int DoChanges(jsync_instance* inst, const char* cursor_c, jsync_list_sink* out, jsync_error* err) {
  if (out == nullptr) return Fail(err, JSYNC_INVALID, "iCloud changes: no sink");
  const std::string cursor = cursor_c ? cursor_c : "";
  std::string db;
  std::string zone_token;
  bool changed = false;
  Walk how = Walk::kDone;
  if (cursor.empty()) {
    int rc = EnsureZone(inst, "changes", err);
    if (rc != JSYNC_OK) return rc;
    rc = WalkDatabase(inst, "", &db, &changed, &how, err);
    if (rc != JSYNC_OK) return rc;
    std::vector<Change> none;
    rc = WalkZone(inst, "", /*collect=*/false, &zone_token, &none, &how, err);
    if (rc != JSYNC_OK) return rc;
    if (how == Walk::kZoneGone) {
      ForgetZone(inst);
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, "changes", "the journal's zone vanished while it was made");
    }
    if (out->set_next != nullptr) out->set_next(out->ctx, Cursor(db, zone_token).c_str());
    return JSYNC_OK;
  }
  const json c = json::parse(cursor, nullptr, false);
  if (!c.is_object() || !c.contains("db") || !c["db"].is_string() || !c.contains("z") ||
      !c["z"].is_string() || c["z"].get<std::string>().empty()) {
    return Expired(err, "the cursor is not one of this plugin's");
  }
  const std::string old_zone = c["z"];
  int rc = WalkDatabase(inst, c["db"], &db, &changed, &how, err);
  if (rc != JSYNC_OK) return rc;
  if (how == Walk::kTokenRefused) {
    rc = WalkDatabase(inst, "", &db, &changed, &how, err);
    if (rc != JSYNC_OK) return rc;
    changed = true;
  }
  if (!changed) {
    // The quiet poll: one request, nothing new.
    if (out->set_next != nullptr) out->set_next(out->ctx, Cursor(db, old_zone).c_str());
    return JSYNC_OK;
  }
  std::vector<Change> changes;
  rc = WalkZone(inst, old_zone, /*collect=*/true, &zone_token, &changes, &how, err);
  if (rc != JSYNC_OK) return rc;
  if (how == Walk::kZoneGone) {
    ForgetZone(inst);
    Log(inst, 1, "iCloud changes: the journal's zone is gone (its iCloud data was erased?)");
    return Expired(err, "the journal's zone is gone from iCloud");
  }
  if (how == Walk::kTokenRefused) return Expired(err, "CloudKit no longer accepts the zone's sync token");
  const bool v3 = inst->host->abi_version >= 3 && out->entry != nullptr;
  for (const Change& ch : changes) {
    if (ch.removed) {
      if (!v3) continue;
      // "" for a record with a hashed name: something went that the host lists to learn.
      const jsync_list_entry e{ch.path.c_str(), 0, -1, JSYNC_KIND_FILE, JSYNC_ENTRY_REMOVED};
      out->entry(out->ctx, &e);
    } else if (inst->host->abi_version >= 2 && out->entry != nullptr) {
      const jsync_list_entry e{ch.path.c_str(), ch.size, ch.mtime_ms, JSYNC_KIND_FILE, 0u};
      out->entry(out->ctx, &e);
    } else if (out->emit != nullptr) {
      out->emit(out->ctx, ch.path.c_str(), ch.size);
    }
  }
  if (out->set_next != nullptr) out->set_next(out->ctx, Cursor(db, zone_token).c_str());
  return JSYNC_OK;
}

}  // namespace jsync_icloud

#include "feed.h"

#include <time.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "graph_client.h"
#include "items.h"
#include "onedrive_names.h"
#include "store.h"

namespace jsync_onedrive {
namespace {

using nlohmann::json;

// Graph's limit for driveItem subscriptions is 42,300 minutes; a minute less leaves room for
// the clocks of the two ends to disagree.
constexpr int64_t kSubscriptionLifetimeMs = (42300LL - 1) * 60 * 1000;
// Ids the feed may look up in one call (an item whose parent it has not seen).
constexpr int kMaxLookups = 64;
constexpr int kMaxPages = 100000;

std::string DeltaStart(const jsync_instance* inst) {
  return (inst->business ? inst->graph + "/me/drive/root/delta"
                         : inst->graph + "/me/drive/special/approot/delta");
}

// The start cursor's request: changes from now on, with the fields (and download links) the
// feed reads; Graph keeps $select in the links it hands back.
std::string StartLink(const jsync_instance* inst) {
  return WithQuery(DeltaStart(inst), {{"token", "latest"}, {"$select", kDeltaSelect}});
}

// A delta link with the feed's $select: Graph keeps it in the links it hands back, but a cursor
// stored by an older version, or an emulator, may lack it (then no download links come).
std::string WithSelect(const std::string& link) {
  if (link.find("$select=") != std::string::npos || link.find("%24select=") != std::string::npos) {
    return link;
  }
  return WithQuery(link, {{"$select", kDeltaSelect}});
}

// Whether an answer to a delta link means "this cursor is no good any more".
bool CursorRefused(const Response& resp) {
  if (resp.status == 410) return true;
  const GraphError e = ParseGraphError(resp.body);
  return (resp.status == 400 || resp.status == 404) &&
         (e.Has("resyncRequired") || e.Has("syncStateNotFound") ||
          e.Has("resyncChangesApplyDifferences") || e.Has("resyncChangesUploadDifferences"));
}

// Resolves item ids to item paths under the app folder.
class PathResolver {
 public:
  PathResolver(jsync_instance* inst, const std::string& what) : inst_(inst), what_(what) {}

  enum class Where { kInside, kOutside, kUnknown };

  // The item path (under the app folder) of `id`; kOutside for items elsewhere in the drive.
  Where PathOf(const std::string& id, std::string* path) {
    std::vector<std::string> names;
    std::string cur = id;
    for (int depth = 0; depth < 256; ++depth) {
      if (cur == inst_->approot_id) {
        std::string out;
        for (auto it = names.rbegin(); it != names.rend(); ++it) {
          if (!out.empty()) out.push_back('/');
          out += *it;
        }
        *path = out;
        return Where::kInside;
      }
      if (cur.empty()) return Where::kOutside;  // above the drive's root
      auto node = inst_->nodes.find(cur);
      if (node == inst_->nodes.end()) {
        if (!Lookup(cur)) return Where::kUnknown;
        node = inst_->nodes.find(cur);
        if (node == inst_->nodes.end()) return Where::kUnknown;
      }
      if (node->second.parent_id.empty()) return Where::kOutside;  // the root, not ours
      names.push_back(node->second.name);
      cur = node->second.parent_id;
    }
    return Where::kUnknown;
  }

 private:
  // Asks Graph for an item the feed has not seen.
  bool Lookup(const std::string& id) {
    if (lookups_ >= kMaxLookups) return false;
    ++lookups_;
    Request req;
    req.url = WithQuery(inst_->graph + "/me/drive/items/" + UrlEscape(id),
                        {{"$select", "id,name,file,folder,root,parentReference"}});
    Response resp;
    jsync_error ignored{-1, {0}};
    if (GraphExchange(inst_->host, req, &resp, what_, &ignored) != JSYNC_OK || resp.status != 200) {
      return false;
    }
    const json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
    Item item;
    if (!ParseItem(&j, &item)) return false;
    inst_->nodes[item.id] = {item.name, item.root ? std::string() : item.parent_id, item.folder,
                             item.file};
    return true;
  }

  jsync_instance* inst_;
  std::string what_;
  int lookups_ = 0;
};

// Every object under the location (a version-1/2 host's answer to a refused cursor).
int ListAll(jsync_instance* inst, std::map<std::string, uint64_t>* found, jsync_error* err) {
  struct Collect {
    std::map<std::string, uint64_t>* found;
    std::string next;
  } c{found, ""};
  jsync_list_sink sink{
      &c,
      [](void* ctx, const char* path, uint64_t size) {
        (*static_cast<Collect*>(ctx)->found)[path] = size;
      },
      [](void* ctx, const char* token) { static_cast<Collect*>(ctx)->next = token ? token : ""; },
      nullptr};
  std::string token;
  for (int page = 0; page < kMaxPages; ++page) {
    c.next.clear();
    const int rc = DoList(inst, "", token.c_str(), &sink, err);
    if (rc != JSYNC_OK) return rc;
    if (c.next.empty() || c.next == token) return JSYNC_OK;
    token = c.next;
  }
  return JSYNC_OK;
}

// Reads delta pages from `url` until the deltaLink; every item in order into *items.
int ReadRound(jsync_instance* inst, std::string url, const std::string& what,
              std::vector<Item>* items, std::string* delta_link, bool* refused, jsync_error* err) {
  *refused = false;
  std::set<std::string> seen;  // links of this round: a cycle is an error, not a long loop
  for (int page = 0; page < kMaxPages; ++page) {
    if (!seen.insert(url).second) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                      "the delta pages' links go round in a circle");
    }
    Request req;
    req.url = WithSelect(url);
    Response resp;
    const int rc = GraphExchange(inst->host, req, &resp, what, err);
    if (rc != JSYNC_OK) return rc;
    if (resp.status != 200) {
      if (CursorRefused(resp)) {
        *refused = true;
        const GraphError e = ParseGraphError(resp.body);
        return FailWith(err, JSYNC_NOT_FOUND_CURSOR_EXPIRED, what,
                        "OneDrive no longer accepts the change cursor (" +
                            jsync_plugin::HttpStatusText(resp.status) +
                            (e.code.empty() ? std::string() : " " + e.code) + ")");
      }
      if (resp.status == 403 && inst->business) {
        return FailWith(err, JSYNC_AUTH_EXPIRED, what,
                        "HTTP 403: a work or school drive allows delta only on the drive root, "
                        "which needs the Files.ReadWrite scope; link the account again with "
                        "\"scopes\": \"Files.ReadWrite offline_access\" in the --config file");
      }
      return FailFromResponse(inst->host, what, resp, err);
    }
    const json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object())
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what, "the answer is not JSON");
    // A page without its list of changes must not move the cursor past them.
    if (!j.contains("value") || !j["value"].is_array()) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                      "a delta page has no list of changes");
    }
    for (const json& v : j["value"]) {
      Item item;
      if (ParseItem(&v, &item)) items->push_back(std::move(item));
    }
    auto link = [&](const char* key) {
      return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
    };
    const std::string delta = link("@odata.deltaLink");
    const std::string next = link("@odata.nextLink");
    if (!delta.empty()) {
      if (!SameOrigin(delta, inst->origin)) {
        return FailWith(err, JSYNC_FATAL, what,
                        "the deltaLink points to another host than api_base");
      }
      *delta_link = delta;
      return JSYNC_OK;
    }
    if (next.empty() || next == url) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                      "the answer has neither a next page nor a deltaLink");
    }
    if (!SameOrigin(next, inst->origin)) {
      return FailWith(err, JSYNC_FATAL, what, "the nextLink points to another host than api_base");
    }
    url = next;
  }
  return FailWith(err, JSYNC_FATAL, what, "too many pages");
}

}  // namespace

std::string FormatGraphTime(int64_t unix_ms) {
  const time_t seconds = static_cast<time_t>(unix_ms / 1000);
  struct tm parts;
  gmtime_r(&seconds, &parts);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", text, static_cast<int>(unix_ms % 1000));
  return out;
}

int DoChanges(jsync_instance* inst, const char* cursor_c, jsync_list_sink* out, jsync_error* err) {
  if (out == nullptr || out->emit == nullptr)
    return Fail(err, JSYNC_INVALID, "OneDrive changes: no sink");
  const std::string what = "changes";
  const std::string cursor = cursor_c ? cursor_c : "";
  const bool v3 = inst->host->abi_version >= 3;
  int rc = LearnDriveType(inst, what, err);
  if (rc != JSYNC_OK) return rc;
  std::vector<Item> items;
  std::string delta_link;
  bool refused = false;
  if (cursor.empty()) {
    rc = ReadRound(inst, StartLink(inst), what + " (start)", &items, &delta_link, &refused, err);
    if (rc != JSYNC_OK) return rc;
    if (out->set_next != nullptr) out->set_next(out->ctx, delta_link.c_str());
    return JSYNC_OK;
  }
  if (!SameOrigin(cursor, inst->origin)) {
    refused = true;
    rc = FailWith(err, JSYNC_NOT_FOUND_CURSOR_EXPIRED, what,
                  "the change cursor is not a delta link of this api_base");
  } else {
    rc = ReadRound(inst, cursor, what, &items, &delta_link, &refused, err);
  }
  if (refused && !v3) {
    // An older host knows no expired cursor: a fresh start cursor, then everything.
    Log(inst, 2, "OneDrive changes: the cursor was refused; reporting a full listing instead");
    items.clear();
    rc = ReadRound(inst, StartLink(inst), what + " (start)", &items, &delta_link, &refused, err);
    if (rc != JSYNC_OK) return rc;
    std::map<std::string, uint64_t> found;
    rc = ListAll(inst, &found, err);
    if (rc != JSYNC_OK) return rc;
    for (const auto& [path, size] : found) out->emit(out->ctx, path.c_str(), size);
    if (out->set_next != nullptr) out->set_next(out->ctx, delta_link.c_str());
    return JSYNC_OK;
  }
  if (rc != JSYNC_OK) return rc;

  if (items.empty()) {  // a quiet poll: one request
    if (out->set_next != nullptr) out->set_next(out->ctx, delta_link.c_str());
    return JSYNC_OK;
  }
  // The app folder is among the ancestors delta reports; asked for only when it is not.
  for (const Item& item : items) {
    if (item.approot && inst->approot_id.empty()) inst->approot_id = item.id;
  }
  rc = LearnAppFolder(inst, what, err);
  if (rc != JSYNC_OK) return rc;
  // What each id was before this round (a deleted item keeps no name in business drives).
  const std::map<std::string, ItemNode> before = inst->nodes;
  for (const Item& item : items) {
    if (item.deleted) continue;
    inst->nodes[item.id] = {item.name, item.root ? std::string() : item.parent_id, item.folder,
                            item.file};
  }
  // The last state of each id wins.
  std::map<std::string, const Item*> last;
  for (const Item& item : items) last[item.id] = &item;

  PathResolver resolver(inst, what + " (naming an item)");
  const std::string location_root = ItemPath(inst->location, "");
  // Whether something at `item_path` is, holds or lies in the location's folder.
  auto overlaps = [&](const std::string& item_path) {
    return item_path.empty() || item_path == location_root ||
           item_path.starts_with(location_root + "/") || location_root.starts_with(item_path + "/");
  };
  std::map<std::string, uint64_t> present;
  std::set<std::string> removed;
  bool unnamed = false;
  for (const auto& [id, item_ptr] : last) {
    const Item& item = *item_ptr;
    if (id == inst->approot_id) continue;
    if (!item.deleted) {
      if (!item.file) continue;  // folders hold objects; they are none themselves
      std::string item_path, path;
      const auto where = resolver.PathOf(id, &item_path);
      if (where == PathResolver::Where::kUnknown) {
        unnamed = true;  // somewhere we cannot tell: the host lists again
        continue;
      }
      if (where == PathResolver::Where::kOutside) continue;
      if (ObjectPathOf(inst->location, item_path, &path) && !IsTemporary(path)) {
        present[path] = item.size;
        if (!item.download_url.empty()) {
          inst->links.Set(path, item.download_url, jsync_plugin::NowMs(inst->host));
        }
      }
      continue;
    }
    // A deleted item: name it from what was known of it, else judge by its parent.
    auto known = before.find(id);
    ItemNode node;
    bool have_node = false;
    if (known != before.end()) {
      node = known->second;
      have_node = true;
    } else if (!item.name.empty() && !item.parent_id.empty()) {
      node = {item.name, item.parent_id, item.folder, item.file || !item.folder};
      have_node = true;
    }
    inst->nodes.erase(id);
    std::string parent_path;
    const std::string parent = have_node ? node.parent_id : item.parent_id;
    const auto where =
        parent.empty() ? PathResolver::Where::kUnknown : resolver.PathOf(parent, &parent_path);
    if (where == PathResolver::Where::kOutside) continue;
    if (where == PathResolver::Where::kUnknown) {
      unnamed = true;
      continue;
    }
    if (!have_node) {
      // Nameless (business drives keep no name on deletions): ours if its folder could be.
      if (overlaps(parent_path)) unnamed = true;
      continue;
    }
    const std::string item_path = parent_path.empty() ? node.name : parent_path + "/" + node.name;
    if (node.folder) {
      if (overlaps(item_path)) unnamed = true;  // a folder went, and everything in it
      continue;
    }
    std::string path;
    if (ObjectPathOf(inst->location, item_path, &path) && !IsTemporary(path)) {
      removed.insert(path);
      inst->links.Erase(path);
    }
  }
  for (const auto& [path, size] : present) {
    removed.erase(path);  // another id holds the name now
    out->emit(out->ctx, path.c_str(), size);
  }
  if (v3 && out->entry != nullptr) {
    for (const std::string& path : removed) {
      const jsync_list_entry e{path.c_str(), 0, -1, JSYNC_KIND_FILE, JSYNC_ENTRY_REMOVED};
      out->entry(out->ctx, &e);
    }
    if (unnamed) {
      const jsync_list_entry e{nullptr, 0, -1, JSYNC_KIND_FILE, JSYNC_ENTRY_REMOVED};
      out->entry(out->ctx, &e);
    }
  }
  if (out->set_next != nullptr) out->set_next(out->ctx, delta_link.c_str());
  return JSYNC_OK;
}

int DoWatch(jsync_instance* inst, const char* webhook_url, jsync_error* err) {
  const std::string address =
      webhook_url != nullptr && *webhook_url != '\0' ? webhook_url : inst->webhook_url;
  const std::string what = "watch";
  if (address.empty()) {
    return FailWith(err, JSYNC_INVALID, what,
                    "no webhook address (pass one, or set the webhook_url option)");
  }
  if (OriginOf(address).empty()) {
    return FailWith(err, JSYNC_INVALID, what, "the webhook address must be an https URL");
  }
  int rc = LearnDriveType(inst, what, err);
  if (rc != JSYNC_OK) return rc;
  // Business drives can only subscribe their root.
  const std::string resource = inst->business ? "/me/drive/root" : "/me/drive/special/approot";
  const std::string expiry =
      FormatGraphTime(jsync_plugin::NowMs(inst->host) + kSubscriptionLifetimeMs);

  auto renew = [&](const std::string& id, bool* gone) -> int {
    *gone = false;
    const std::string body = json{{"expirationDateTime", expiry}}.dump();
    Request req;
    req.method = "PATCH";
    req.url = inst->graph + "/subscriptions/" + UrlEscape(id);
    req.headers = {{"Content-Type", "application/json"}};
    req.body = reinterpret_cast<const uint8_t*>(body.data());
    req.body_len = body.size();
    Response resp;
    const int r = GraphExchange(inst->host, req, &resp, what + " (renewing)", err);
    if (r != JSYNC_OK) return r;
    if (resp.status == 404) {
      *gone = true;
      return JSYNC_OK;
    }
    if (resp.status != 200) return FailFromResponse(inst->host, what + " (renewing)", resp, err);
    inst->subscription_id = id;
    inst->subscription_url = address;
    return JSYNC_OK;
  };

  // 1. The subscription this instance made: renew it.
  if (!inst->subscription_id.empty() && inst->subscription_url == address) {
    bool gone = false;
    rc = renew(inst->subscription_id, &gone);
    if (rc != JSYNC_OK || !gone) return rc;
    inst->subscription_id.clear();
  }
  // 2. One an earlier run made for the same address and resource: renew that one.
  {
    Request req;
    req.url = inst->graph + "/subscriptions";
    Response resp;
    jsync_error ignored{-1, {0}};
    if (GraphExchange(inst->host, req, &resp, what, &ignored) == JSYNC_OK && resp.status == 200) {
      const json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && j.contains("value") && j["value"].is_array()) {
        for (const json& s : j["value"]) {
          if (!s.is_object() || !s.contains("id") || !s["id"].is_string()) continue;
          if (s.value("notificationUrl", "") != address || s.value("resource", "") != resource) {
            continue;
          }
          bool gone = false;
          rc = renew(s["id"].get<std::string>(), &gone);
          if (rc != JSYNC_OK || !gone) return rc;
        }
      }
    }
  }
  // 3. A new one (Graph validates the address before it answers).
  const std::string body = json{{"changeType", "updated"},
                                {"notificationUrl", address},
                                {"resource", resource},
                                {"expirationDateTime", expiry},
                                {"clientState", jsync_plugin::RandomHex(inst->host, 16)}}
                               .dump();
  Request req;
  req.method = "POST";
  req.url = inst->graph + "/subscriptions";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = reinterpret_cast<const uint8_t*>(body.data());
  req.body_len = body.size();
  Response resp;
  rc = GraphExchange(inst->host, req, &resp, what, err);
  if (rc != JSYNC_OK) return rc;
  if (resp.status != 201 && resp.status != 200)
    return FailFromResponse(inst->host, what, resp, err);
  const json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what, "the subscription answer has no id");
  }
  inst->subscription_id = j["id"];
  inst->subscription_url = address;
  return JSYNC_OK;
}

int DoQuota(jsync_instance* inst, uint64_t* used, uint64_t* total, jsync_error* err) {
  Request req;
  req.url = WithQuery(inst->graph + "/me/drive", {{"$select", "id,driveType,quota"}});
  Response resp;
  const int rc = GraphExchange(inst->host, req, &resp, "quota", err);
  if (rc != JSYNC_OK) return rc;
  if (resp.status != 200) return FailFromResponse(inst->host, "quota", resp, err);
  const json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("quota") || !j["quota"].is_object()) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, "quota", "the drive has no quota");
  }
  const json& q = j["quota"];
  auto number = [&](const char* key) -> uint64_t {
    return q.contains(key) && q[key].is_number_integer() && q[key].get<int64_t>() > 0
               ? q[key].get<uint64_t>()
               : 0;
  };
  *used = number("used");
  *total = number("total");  // 0: unknown (business tenants may hide it)
  if (!inst->business_known && inst->drive_kind == DriveKind::kAuto && j.contains("driveType") &&
      j["driveType"].is_string()) {
    const std::string type = j["driveType"];
    inst->business = type == "business" || type == "documentLibrary";
    inst->business_known = true;
  }
  return JSYNC_OK;
}

}  // namespace jsync_onedrive

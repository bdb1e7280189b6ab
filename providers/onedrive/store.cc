// put(if_absent) is one atomic create: a simple PUT or an upload session, both with
// conflictBehavior fail, so OneDrive itself refuses a taken name (409 nameAlreadyExists, or 412
// for If-None-Match: *). A taken name is then compared with the bytes being put (size and
// QuickXorHash): the same bytes are an earlier attempt whose answer was lost (success), other
// bytes are JSYNC_EXISTS. OneDrive commits a file only when all of it arrived, so no reader
// ever sees part of one and no temporary name is needed.
//
// list walks the folder tree below the deepest folder the prefix names, one Graph page per
// call; the page token carries the folders still to visit and Graph's @odata.nextLink.
#include "store.h"

#include <deque>
#include <nlohmann/json.hpp>
#include <string>

#include "graph_client.h"
#include "items.h"
#include "onedrive_names.h"
#include "quickxorhash.h"
#include "upload.h"

namespace jsync_onedrive {
namespace {

using nlohmann::json;

int InvalidPath(jsync_error* err, const char* path) {
  return Fail(err, JSYNC_INVALID,
              std::string("OneDrive: invalid object path \"") + (path ? path : "(null)") +
                  "\": it must be relative, '/'-separated, without empty, '.' or '..' parts");
}

// The deepest folder `prefix` names completely ("changes/dev" -> "changes", "x" -> "").
std::string StartFolder(const std::string& prefix) {
  const size_t slash = prefix.rfind('/');
  return slash == std::string::npos ? std::string() : prefix.substr(0, slash);
}

// Whether a folder can hold names with `prefix` (or is on the way to them).
bool Descend(const std::string& folder, const std::string& prefix) {
  const std::string f = folder + "/";
  return f.starts_with(prefix) || prefix.starts_with(f);
}

struct ListState {
  std::string folder;  // the folder the link belongs to
  std::string link;    // Graph's @odata.nextLink for it, "" to start the next folder
  std::deque<std::string> pending;
  // Brent's cycle detection over the folder's links, in constant token space: a link that
  // comes back is caught within twice the cycle's length, however long the folder is.
  std::string mark;
  uint64_t steps = 0;
  uint64_t power = 1;
};

bool OptionalNumber(const json& t, const char* key, uint64_t* out) {
  if (!t.contains(key)) return true;
  if (!t[key].is_number_unsigned()) return false;
  *out = t[key].get<uint64_t>();
  return true;
}

bool ParseToken(const std::string& token, ListState* s) {
  const json t = json::parse(token, nullptr, /*allow_exceptions=*/false);
  if (!t.is_object() || !t.contains("f") || !t["f"].is_string() || !t.contains("n") ||
      !t["n"].is_string() || !t.contains("q") || !t["q"].is_array()) {
    return false;
  }
  s->folder = t["f"];
  s->link = t["n"];
  if (t.contains("m")) {
    if (!t["m"].is_string()) return false;
    s->mark = t["m"];
  }
  if (!OptionalNumber(t, "c", &s->steps) || !OptionalNumber(t, "p", &s->power) || s->power == 0) {
    return false;
  }
  for (const json& q : t["q"]) {
    if (!q.is_string()) return false;
    s->pending.push_back(q);
  }
  return true;
}

std::string Token(const ListState& s) {
  json q = json::array();
  for (const std::string& p : s.pending) q.push_back(p);
  json t = {{"f", s.folder}, {"n", s.link}, {"q", q}};
  if (!s.link.empty()) {
    t["m"] = s.mark;
    t["c"] = s.steps;
    t["p"] = s.power;
  }
  return t.dump();
}

}  // namespace

int DoPut(jsync_instance* inst, const char* path_c, const uint8_t* data, size_t len, int if_absent,
          jsync_error* err) {
  if (path_c == nullptr || !ValidObjectPath(path_c)) return InvalidPath(err, path_c);
  if (data == nullptr && len > 0) return Fail(err, JSYNC_INVALID, "OneDrive put: no bytes given");
  static const uint8_t kEmpty = 0;
  if (data == nullptr) data = &kEmpty;
  const std::string path = path_c;
  const std::string what = "put " + path;
  const std::string item = ItemPath(inst->location, path);
  const std::string hash = QuickXorHashBase64(data, len);
  bool taken = false;
  int rc = Upload(inst, item, data, len, if_absent != 0, hash, what, &taken, err);
  if (rc != JSYNC_OK || !taken) return rc;
  bool same = false;
  rc = SameContent(inst, item, data, len, hash, what, &same, err);
  if (JSYNC_PRIMARY(rc) == JSYNC_NOT_FOUND) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                    "the name was taken, then the item vanished; trying again");
  }
  if (rc != JSYNC_OK) return rc;
  if (same) return JSYNC_OK;  // an earlier attempt landed; its answer was lost
  return FailWith(err, JSYNC_EXISTS, what, "the object already exists with other content");
}

int DoGet(jsync_instance* inst, const char* path_c, uint64_t offset, uint64_t length,
          jsync_sink* out, jsync_error* err) {
  if (path_c == nullptr || !ValidObjectPath(path_c)) return InvalidPath(err, path_c);
  if (out == nullptr || out->write == nullptr)
    return Fail(err, JSYNC_INVALID, "OneDrive get: no sink");
  const std::string path = path_c;
  const std::string what = "get " + path;
  const jsync_get_sink* ext = JSYNC_GET_SINK(inst->host->abi_version, out);
  bool used = false;
  int rc = DownloadCached(inst, path, offset, length, out, ext, what, &used, err);
  if (rc != JSYNC_OK || used) return rc;
  rc = Download(inst, ItemPath(inst->location, path), offset, length, out, ext, what, err);
  if (JSYNC_PRIMARY(rc) == JSYNC_NOT_FOUND) {
    return FailWith(err, JSYNC_NOT_FOUND, what, "no such object");
  }
  return rc;
}

int DoList(jsync_instance* inst, const char* prefix_c, const char* page_token, jsync_list_sink* out,
           jsync_error* err) {
  if (out == nullptr || out->emit == nullptr)
    return Fail(err, JSYNC_INVALID, "OneDrive list: no sink");
  const std::string prefix = prefix_c ? prefix_c : "";
  const std::string what = "list " + (prefix.empty() ? std::string("(all)") : prefix);
  ListState s;
  if (page_token != nullptr && *page_token != '\0') {
    if (!ParseToken(page_token, &s)) {
      return FailWith(err, JSYNC_INVALID, what, "not a page token of this plugin");
    }
  } else {
    const std::string start = StartFolder(prefix);
    if (!start.empty() && !ValidObjectPath(start)) return JSYNC_OK;  // no object can match
    s.pending.push_back(start);
  }
  std::string url;
  if (!s.link.empty()) {
    if (!SameOrigin(s.link, inst->origin)) {
      return FailWith(err, JSYNC_INVALID, what, "the page token points away from api_base");
    }
    url = s.link;
  } else {
    if (s.pending.empty()) return JSYNC_OK;
    s.folder = s.pending.front();
    s.pending.pop_front();
    s.mark.clear();
    s.steps = 0;
    s.power = 1;
    url = WithQuery(ItemAddress(inst->graph, ItemPath(inst->location, s.folder)) + "/children",
                    {{"$top", std::to_string(inst->page_size)}, {"$select", kListSelect}});
  }
  Request req;
  req.url = url;
  Response resp;
  int rc = GraphExchange(inst->host, req, &resp, what, err);
  if (rc != JSYNC_OK) return rc;
  s.link.clear();
  const bool v2 = inst->host->abi_version >= 2 && out->entry != nullptr;
  if (resp.status == 200) {
    const json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what, "the listing is not JSON");
    }
    if (!j.contains("value") || !j["value"].is_array()) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                      "a listing page has no list of items");
    }
    {
      for (const json& v : j["value"]) {
        Item item;
        if (!ParseItem(&v, &item) || item.name.empty()) continue;
        if (item.file && !(v.contains("size") && v["size"].is_number_integer())) {
          return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                          "a file in the listing has no readable size");
        }
        const std::string name = DecodeName(item.name);
        const std::string child = s.folder.empty() ? name : s.folder + "/" + name;
        if (item.folder) {
          if (Descend(child, prefix)) s.pending.push_back(child);
          continue;
        }
        if (!child.starts_with(prefix) || !ValidObjectPath(child)) continue;
        const bool temporary = IsTemporary(child);
        if (item.file && !item.download_url.empty()) {
          inst->links.Set(child, item.download_url, jsync_plugin::NowMs(inst->host));
        }
        if (!v2) {
          if (item.file && !temporary) out->emit(out->ctx, child.c_str(), item.size);
          continue;
        }
        const jsync_list_entry e{child.c_str(), item.size, item.mtime_ms,
                                 item.file ? JSYNC_KIND_FILE : JSYNC_KIND_SPECIAL,
                                 temporary ? JSYNC_ENTRY_TEMPORARY : 0u};
        out->entry(out->ctx, &e);
      }
    }
    if (j.contains("@odata.nextLink") && j["@odata.nextLink"].is_string()) {
      s.link = j["@odata.nextLink"];
      if (!SameOrigin(s.link, inst->origin)) {
        return FailWith(err, JSYNC_FATAL, what,
                        "Graph's next page link points to another host than api_base; refused");
      }
      if (s.link == url || s.link == s.mark) {
        return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                        "the next page links go round in a circle");
      }
      if (++s.steps == s.power) {
        s.mark = s.link;
        s.steps = 0;
        s.power *= 2;
      }
    }
  } else if (resp.status != 404) {  // 404: the folder is not there, so nothing is below it
    return FailFromResponse(inst->host, what, resp, err);
  }
  if ((!s.link.empty() || !s.pending.empty()) && out->set_next != nullptr) {
    const std::string next = Token(s);
    out->set_next(out->ctx, next.c_str());
  }
  return JSYNC_OK;
}

int DoRemove(jsync_instance* inst, const char* path_c, jsync_error* err) {
  if (path_c == nullptr || !ValidObjectPath(path_c)) return InvalidPath(err, path_c);
  const std::string path = path_c;
  const std::string what = "remove " + path;
  inst->links.Erase(path);
  Request req;
  req.method = "DELETE";
  req.url = ItemAddress(inst->graph, ItemPath(inst->location, path));
  Response resp;
  const int rc = GraphExchange(inst->host, req, &resp, what, err);
  if (rc != JSYNC_OK) return rc;
  if (resp.status == 204 || resp.status == 200 || resp.status == 404) return JSYNC_OK;
  return FailFromResponse(inst->host, what, resp, err);
}

}  // namespace jsync_onedrive

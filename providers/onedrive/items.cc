#include "items.h"

#include <time.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "onedrive_names.h"

namespace jsync_onedrive {
namespace {

using nlohmann::json;

// Stops a body at once: a check that only needs the status.
class StopTarget final : public jsync_plugin::BodyTarget {
 public:
  bool Write(int, const Response&, const uint8_t*, size_t) override { return false; }
};

// Collects a download into memory (the same-bytes check), stopping past `limit` bytes.
class CollectSink {
 public:
  explicit CollectSink(size_t limit) : limit_(limit) {}
  jsync_sink sink() { return {this, &CollectSink::Write}; }
  const std::string& bytes() const { return bytes_; }

 private:
  static int Write(void* ctx, const uint8_t* data, size_t len) {
    auto* self = static_cast<CollectSink*>(ctx);
    self->bytes_.append(reinterpret_cast<const char*>(data), len);
    return self->bytes_.size() > self->limit_ ? 1 : 0;
  }
  size_t limit_;
  std::string bytes_;
};

std::string Absolute(const jsync_instance* inst, const std::string& location) {
  if (!location.empty() && location[0] == '/') return inst->origin + location;
  return location;
}

}  // namespace

int64_t ParseGraphTime(const std::string& text) {
  struct tm parts;
  std::memset(&parts, 0, sizeof parts);
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &parts);
  if (end == nullptr) return -1;
  int64_t ms = 0;
  if (*end == '.') {
    int digits = 0;
    for (++end; *end >= '0' && *end <= '9'; ++end) {
      if (digits < 3) ms = ms * 10 + (*end - '0');
      ++digits;
    }
    for (; digits < 3; ++digits) ms *= 10;
  }
  if (*end != 'Z' && *end != '\0') return -1;
  parts.tm_isdst = 0;
  return static_cast<int64_t>(timegm(&parts)) * 1000 + ms;
}

bool ParseItem(const void* json_object, Item* out) {
  const json& j = *static_cast<const json*>(json_object);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) return false;
  Item item;
  item.id = j["id"];
  if (j.contains("name") && j["name"].is_string()) item.name = j["name"];
  if (j.contains("size") && j["size"].is_number_integer() && j["size"].get<int64_t>() >= 0) {
    item.size = j["size"].get<uint64_t>();
  }
  if (j.contains("file") && j["file"].is_object()) {
    item.file = true;
    const json& f = j["file"];
    if (f.contains("hashes") && f["hashes"].is_object() && f["hashes"].contains("quickXorHash") &&
        f["hashes"]["quickXorHash"].is_string()) {
      item.quick_xor = f["hashes"]["quickXorHash"];
    }
  }
  if (j.contains("folder") && j["folder"].is_object()) {
    item.folder = true;
    const json& f = j["folder"];
    if (f.contains("childCount") && f["childCount"].is_number_integer() &&
        f["childCount"].get<int64_t>() >= 0) {
      item.child_count = f["childCount"].get<uint64_t>();
    }
  }
  item.deleted = j.contains("deleted") && !j["deleted"].is_null();
  item.root = j.contains("root") && !j["root"].is_null();
  if (j.contains("parentReference") && j["parentReference"].is_object()) {
    const json& p = j["parentReference"];
    if (p.contains("id") && p["id"].is_string()) item.parent_id = p["id"];
    if (p.contains("path") && p["path"].is_string()) item.parent_path = p["path"];
  }
  if (j.contains("specialFolder") && j["specialFolder"].is_object()) {
    item.approot = j["specialFolder"].value("name", "") == "approot";
  }
  if (j.contains("@microsoft.graph.downloadUrl") && j["@microsoft.graph.downloadUrl"].is_string()) {
    item.download_url = j["@microsoft.graph.downloadUrl"];
  }
  if (j.contains("lastModifiedDateTime") && j["lastModifiedDateTime"].is_string()) {
    item.mtime_ms = ParseGraphTime(j["lastModifiedDateTime"]);
  }
  *out = std::move(item);
  return true;
}

int GetItem(jsync_instance* inst, const std::string& item_path, const std::string& what, Item* item,
            jsync_error* err) {
  Request req;
  req.url = WithQuery(ItemAddress(inst->graph, item_path),
                      {{"$select", "id,name,size,file,folder,parentReference"}});
  Response resp;
  const int rc = GraphExchange(inst->host, req, &resp, what, err);
  if (rc != JSYNC_OK) return rc;
  if (resp.status != 200) return FailFromResponse(inst->host, what, resp, err);
  const json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (!ParseItem(&j, item)) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what, "the item's answer is not a driveItem");
  }
  return JSYNC_OK;
}

int EnsureFolders(jsync_instance* inst, const std::string& folder_path, const std::string& what,
                  jsync_error* err) {
  std::string parent;
  for (const std::string& name : SplitPath(folder_path)) {
    const std::string path = parent.empty() ? name : parent + "/" + name;
    if (inst->folders.count(path) == 0) {
      const std::string body = json{
          {"name", name},
          {"folder", json::object()},
          {"@microsoft.graph.conflictBehavior",
           "fail"}}.dump();
      Request req;
      req.method = "POST";
      req.url = ItemAddress(inst->graph, parent) + "/children";
      req.headers = {{"Content-Type", "application/json"}};
      req.body = reinterpret_cast<const uint8_t*>(body.data());
      req.body_len = body.size();
      Response resp;
      const std::string step = what + " (creating the folder " + DecodeName(name) + ")";
      const int rc = GraphExchange(inst->host, req, &resp, step, err);
      if (rc != JSYNC_OK) return rc;
      // 409: it exists (made by another device, or by an earlier attempt of ours).
      if (resp.status != 200 && resp.status != 201 && resp.status != 409) {
        return FailFromResponse(inst->host, step, resp, err);
      }
      inst->folders.insert(path);
    }
    parent = path;
  }
  return JSYNC_OK;
}

namespace {
int EndedEarly(jsync_error* err, const std::string& what, const jsync_plugin::RangeTarget& t) {
  return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                  "the download ended before the bytes it announced (" +
                      std::to_string(t.delivered()) + " arrived)");
}
}  // namespace

int Download(jsync_instance* inst, const std::string& item_path, uint64_t offset, uint64_t length,
             jsync_sink* out, const jsync_get_sink* ext, const std::string& what,
             jsync_error* err) {
  const std::string content = ItemAddress(inst->graph, item_path) + "/content";
  for (int attempt = 0; attempt < 2; ++attempt) {
    // Graph answers 302 with the link; a server that sends the bytes at once is read too.
    jsync_plugin::RangeTarget direct(out, offset, length, ext);
    StopTarget stop;
    Request req;
    req.url = content;
    req.target = length == 0 ? static_cast<jsync_plugin::BodyTarget*>(&stop) : &direct;
    req.body_limit =
        length == 0 ? size_t{64} << 10 : jsync_plugin::DownloadBodyLimit(offset, length);
    Response resp;
    int rc = GraphExchange(inst->host, req, &resp, what, err);
    if (rc != JSYNC_OK) return rc;
    if (resp.status == 200 || resp.status == 206) {
      if (direct.bad_range()) {
        return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                        "the answer starts after the byte asked for");
      }
      if (direct.EndedEarly(resp)) return EndedEarly(err, what, direct);
      return JSYNC_OK;
    }
    if (resp.status == 416) return JSYNC_OK;  // past the end: an empty read
    if (resp.status < 300 || resp.status >= 400)
      return FailFromResponse(inst->host, what, resp, err);
    const std::string link = Absolute(inst, resp.Header("location"));
    if (OriginOf(link).empty()) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                      "the content answer has no usable download link");
    }
    if (length == 0) return JSYNC_OK;  // it exists; nothing to read
    jsync_plugin::RangeTarget target(out, offset, length, ext);
    Request dl;
    dl.url = link;
    if (offset != 0 || length != UINT64_MAX) {
      dl.headers = {{"Range", jsync_plugin::RangeHeaderValue(offset, length)}};
    }
    dl.target = &target;
    dl.body_limit = jsync_plugin::DownloadBodyLimit(offset, length);
    Response got;
    const std::string step = what + " (download link)";
    rc = PreauthenticatedExchange(inst->host, dl, &got, step, err);
    if (rc != JSYNC_OK) return rc;
    if (got.status == 200 || got.status == 206) {
      if (target.bad_range()) {
        return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                        "the download starts after the byte asked for");
      }
      if (target.EndedEarly(got)) return EndedEarly(err, what, target);
      return JSYNC_OK;
    }
    if (got.status == 416) return JSYNC_OK;
    const bool expired =
        got.status == 401 || got.status == 403 || got.status == 404 || got.status == 410;
    if (!expired) return FailFromResponse(inst->host, step, got, err);
    if (attempt == 0) {
      Log(inst, 0,
          "OneDrive " + what + ": the download link was refused (" +
              jsync_plugin::HttpStatusText(got.status) + "); asking for a fresh one");
    }
  }
  return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                  "the download link was refused twice, a fresh one too");
}

int DownloadCached(jsync_instance* inst, const std::string& path, uint64_t offset, uint64_t length,
                   jsync_sink* out, const jsync_get_sink* ext, const std::string& what, bool* used,
                   jsync_error* err) {
  *used = false;
  if (length == 0) return JSYNC_OK;  // only whether it exists: :/content says
  const auto link = inst->links.Find(path, jsync_plugin::NowMs(inst->host));
  if (!link) return JSYNC_OK;
  jsync_plugin::RangeTarget target(out, offset, length, ext);
  Request dl;
  dl.url = *link;
  if (offset != 0 || length != UINT64_MAX) {
    dl.headers = {{"Range", jsync_plugin::RangeHeaderValue(offset, length)}};
  }
  dl.target = &target;
  dl.body_limit = jsync_plugin::DownloadBodyLimit(offset, length);
  Response got;
  const std::string step = what + " (download link)";
  const int rc = PreauthenticatedExchange(inst->host, dl, &got, step, err);
  if (rc != JSYNC_OK) return rc;
  if (got.status == 401 || got.status == 403 || got.status == 404 || got.status == 410) {
    inst->links.Erase(path);  // stale: read through :/content
    return JSYNC_OK;
  }
  *used = true;
  if (got.status == 200 || got.status == 206) {
    if (target.bad_range()) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                      "the download starts after the byte asked for");
    }
    if (target.EndedEarly(got)) return EndedEarly(err, what, target);
    return JSYNC_OK;
  }
  if (got.status == 416) return JSYNC_OK;
  return FailFromResponse(inst->host, step, got, err);
}

int SameContent(jsync_instance* inst, const std::string& item_path, const uint8_t* data, size_t len,
                const std::string& quick_xor, const std::string& what, bool* same,
                jsync_error* err) {
  *same = false;
  Item item;
  int rc = GetItem(inst, item_path, what + " (comparing with what is there)", &item, err);
  if (rc != JSYNC_OK) return rc;
  // An answer about another item (OneDrive's names are case-insensitive) says nothing of ours.
  const size_t slash = item_path.rfind('/');
  const std::string name = slash == std::string::npos ? item_path : item_path.substr(slash + 1);
  if (!jsync_plugin::EqualsIgnoreCase(item.name, name)) {
    return FailWith(err, JSYNC_FATAL, what,
                    "asked for the item in the way, OneDrive answered with another one");
  }
  if (!item.file || item.size != len) return JSYNC_OK;
  if (!item.quick_xor.empty()) {
    *same = item.quick_xor == quick_xor;
    return JSYNC_OK;
  }
  // No hash yet (Graph fills them in later): compare the bytes themselves.
  CollectSink collect(len);
  jsync_sink sink = collect.sink();
  rc = Download(inst, item_path, 0, static_cast<uint64_t>(len) + 1, &sink, nullptr,
                what + " (comparing with what is there)", err);
  if (rc != JSYNC_OK) return rc;
  *same = collect.bytes().size() == len &&
          (len == 0 || std::memcmp(collect.bytes().data(), data, len) == 0);
  return JSYNC_OK;
}

int LearnDriveType(jsync_instance* inst, const std::string& what, jsync_error* err) {
  if (inst->business_known) return JSYNC_OK;
  if (inst->drive_kind != DriveKind::kAuto) {
    inst->business = inst->drive_kind == DriveKind::kBusiness;
    inst->business_known = true;
    return JSYNC_OK;
  }
  Request req;
  req.url = WithQuery(inst->graph + "/me/drive", {{"$select", "id,driveType"}});
  Response resp;
  const std::string step = what + " (reading the drive's type)";
  const int rc = GraphExchange(inst->host, req, &resp, step, err);
  if (rc != JSYNC_OK) return rc;
  if (resp.status != 200) return FailFromResponse(inst->host, step, resp, err);
  const json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  const std::string type = j.is_object() && j.contains("driveType") && j["driveType"].is_string()
                               ? j["driveType"].get<std::string>()
                               : std::string();
  inst->business = type == "business" || type == "documentLibrary";
  inst->business_known = true;
  return JSYNC_OK;
}

int LearnAppFolder(jsync_instance* inst, const std::string& what, jsync_error* err) {
  if (!inst->approot_id.empty()) return JSYNC_OK;
  Request req;
  req.url = WithQuery(inst->graph + "/me/drive/special/approot",
                      {{"$select", "id,name,parentReference"}});
  Response resp;
  const std::string step = what + " (finding the app folder)";
  const int rc = GraphExchange(inst->host, req, &resp, step, err);
  if (rc != JSYNC_OK) return rc;
  if (resp.status != 200) return FailFromResponse(inst->host, step, resp, err);
  const json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  Item item;
  if (!ParseItem(&j, &item)) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, step, "the answer is not a driveItem");
  }
  inst->approot_id = item.id;
  inst->approot_path =
      item.parent_path.empty() ? std::string() : item.parent_path + "/" + item.name;
  return JSYNC_OK;
}

}  // namespace jsync_onedrive

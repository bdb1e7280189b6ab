// The drive, item metadata, children, folder creation, simple upload, download redirects and
// pre-authenticated downloads, delete.
#include <algorithm>
#include <sstream>

#include "tools/emulators/common/numbers.h"
#include "tools/emulators/common/util.h"
#include "tools/emulators/onedrive/graph_api.h"
#include "tools/emulators/onedrive/graph_errors.h"

namespace jsync::emulator::onedrive {

using net::LocalRequest;
using net::LocalResponse;

namespace {

constexpr int64_t kSimpleUploadMax = 250ll * 1000 * 1000;
constexpr const char* kDownloadUrlKey = "@microsoft.graph.downloadUrl";

// driveItem's structural properties (baseItem and entity included), from the Graph metadata.
const std::set<std::string>& DriveItemProperties() {
  static const std::set<std::string> k = {"id",
                                          "createdBy",
                                          "createdDateTime",
                                          "description",
                                          "eTag",
                                          "lastModifiedBy",
                                          "lastModifiedDateTime",
                                          "name",
                                          "parentReference",
                                          "webUrl",
                                          "audio",
                                          "bundle",
                                          "cTag",
                                          "content",
                                          "deleted",
                                          "file",
                                          "fileSystemInfo",
                                          "folder",
                                          "image",
                                          "location",
                                          "malware",
                                          "package",
                                          "pendingOperations",
                                          "photo",
                                          "publication",
                                          "remoteItem",
                                          "root",
                                          "searchResult",
                                          "shared",
                                          "sharepointIds",
                                          "size",
                                          "specialFolder",
                                          "video",
                                          "webDavUrl",
                                          "children",
                                          "permissions",
                                          "thumbnails",
                                          "versions",
                                          "listItem",
                                          "analytics",
                                          kDownloadUrlKey};
  return k;
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  for (char c : name)
    if (std::string("\"*:<>?/\\|").find(c) != std::string::npos) return false;
  return name.back() != ' ' && name.back() != '.';
}

std::string MimeFor(const std::string& name) {
  const size_t dot = name.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : name.substr(dot + 1);
  if (ext == "txt") return "text/plain";
  if (ext == "json") return "application/json";
  return "application/octet-stream";
}

// A folder's size is the total of the files below it.
int64_t FolderSize(const GraphState& state, const std::string& id) {
  int64_t total = 0;
  for (const GraphItem* child : state.Children(id))
    total += child->folder ? FolderSize(state, child->id) : child->size;
  return total;
}

LocalResponse Locked() {
  return GraphError(423, "accessDenied", "The resource you are attempting to access is locked",
                    "resourceLocked");
}

}  // namespace

std::optional<LocalResponse> GraphApi::ParseSelect(const LocalRequest& req,
                                                   std::set<std::string>* out) const {
  out->clear();
  const std::string select = req.QueryParam("$select");
  std::stringstream in(select);
  for (std::string p; std::getline(in, p, ',');) {
    p.erase(0, p.find_first_not_of(' '));
    p.erase(p.find_last_not_of(' ') + 1);
    if (p.empty()) continue;
    if (!DriveItemProperties().count(p))
      return GraphError(400, "invalidRequest",
                        "Parsing OData Select and Expand failed: Could not find a property named "
                        "'" +
                            p + "' on type 'microsoft.graph.driveItem'.");
    out->insert(p);
  }
  return std::nullopt;
}

int64_t GraphApi::QuotaTotal() const {
  if (options_.quota > 0) return options_.quota;
  return options_.business ? int64_t{1} << 40 : int64_t{5} << 30;
}

nlohmann::json GraphApi::QuotaJson() const {
  const int64_t total = QuotaTotal();
  const int64_t used = state_->used_bytes();
  const int64_t remaining = std::max<int64_t>(0, total - used);
  std::string state = "normal";
  if (used >= total) {
    state = "exceeded";
  } else if (remaining * 100 < total) {
    state = "critical";
  } else if (remaining * 10 < total) {
    state = "nearing";
  }
  return {{"total", total},
          {"used", used},
          {"remaining", remaining},
          {"deleted", state_->deleted_bytes()},
          {"state", state}};
}

std::optional<LocalResponse> GraphApi::CheckQuota(int64_t delta_bytes) const {
  if (state_->used_bytes() + std::max<int64_t>(delta_bytes, 0) > QuotaTotal() ||
      (delta_bytes == 0 && state_->used_bytes() >= QuotaTotal()))
    return GraphError(507, options_.business ? "insufficientStorage" : "quotaLimitReached",
                      "Insufficient Space Available");
  return std::nullopt;
}

std::optional<LocalResponse> GraphApi::WriteFaults() {
  if (TakeArmed(FaultKind::k423)) return Locked();
  if (TakeArmed(FaultKind::kQuota))
    return GraphError(507, options_.business ? "insufficientStorage" : "quotaLimitReached",
                      "Insufficient Space Available");
  return std::nullopt;
}

std::string GraphApi::DownloadUrl(const GraphItem& item) const {
  const int64_t expires = NowMs() + options_.download_url_ttl_s * 1000;
  return base_url_ + "/download/" +
         Sign(item.id + "|" + std::to_string(item.ctag_version) + "|" + std::to_string(expires));
}

nlohmann::json GraphApi::ItemJson(const GraphItem& item, const std::set<std::string>& select,
                                  bool in_delta, bool with_download_url) {
  const std::string drive_type = options_.business ? "business" : "personal";
  nlohmann::json parent = {{"driveId", state_->drive_id()}, {"driveType", drive_type}};
  const bool is_root = item.id == state_->root_id();
  if (!is_root) {
    parent["id"] = item.parent_id;
    if (!in_delta) parent["path"] = state_->ParentPath(item);
  }
  nlohmann::json j;
  if (item.deleted) {
    j = {{"id", item.id},
         {"createdDateTime", Rfc3339(item.created_ms)},
         {"lastModifiedDateTime", Rfc3339(item.deleted_ms)},
         {"parentReference", parent},
         {"deleted", {{"state", "deleted"}}}};
    if (!options_.business) j["name"] = item.name;
    j[item.folder ? "folder" : "file"] = nlohmann::json::object();
  } else {
    int64_t size = item.size;
    if (item.folder) size = FolderSize(*state_, item.id);
    j = {{"id", item.id},
         {"name", item.name},
         {"eTag", item.ETag()},
         {"createdDateTime", Rfc3339(item.created_ms)},
         {"lastModifiedDateTime", Rfc3339(item.modified_ms)},
         {"size", size},
         {"parentReference", parent},
         {"fileSystemInfo",
          {{"createdDateTime", Rfc3339(item.created_ms)},
           {"lastModifiedDateTime", Rfc3339(item.modified_ms)}}},
         {"createdBy", {{"user", {{"displayName", "Emulated User"}}}}},
         {"lastModifiedBy", {{"user", {{"displayName", "Emulated User"}}}}}};
    if (!(options_.business && (item.folder || in_delta))) j["cTag"] = item.CTag();
    if (item.folder) {
      j["folder"] = {{"childCount", state_->ChildCount(item.id)}};
    } else {
      nlohmann::json hashes = {{"quickXorHash", item.quick_xor}};
      if (!options_.business) hashes["sha256Hash"] = item.sha256;
      j["file"] = {{"mimeType", item.mime_type}, {"hashes", hashes}};
    }
    if (is_root) j["root"] = nlohmann::json::object();
    if (item.special == "approot") j["specialFolder"] = {{"name", "approot"}};
    if (!item.folder && (with_download_url || select.count(kDownloadUrlKey)))
      j[kDownloadUrlKey] = DownloadUrl(item);
  }
  if (select.empty()) return j;
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : j.items())
    if (select.count(k)) out[k] = v;
  return out;
}

LocalResponse GraphApi::GetDrive(const Call& c) {
  (void)c;
  std::lock_guard lock(mu_);
  nlohmann::json d = {{"id", state_->drive_id()},
                      {"driveType", options_.business ? "business" : "personal"},
                      {"name", "OneDrive"},
                      {"createdDateTime", Rfc3339(state_->created_ms())},
                      {"lastModifiedDateTime", Rfc3339(NowMs())},
                      {"owner", {{"user", {{"displayName", "Emulated User"}, {"id", "e001"}}}}},
                      {"quota", QuotaJson()}};
  const std::string select = c.req->QueryParam("$select");
  if (select.empty()) return GraphJson(200, d);
  nlohmann::json out = nlohmann::json::object();
  std::stringstream in(select);
  for (std::string p; std::getline(in, p, ',');) {
    static const std::set<std::string> kDrive = {
        "id",    "driveType",       "name",      "createdDateTime", "lastModifiedDateTime",
        "owner", "quota",           "createdBy", "lastModifiedBy",  "description",
        "eTag",  "parentReference", "webUrl",    "sharePointIds",   "system"};
    if (!kDrive.count(p))
      return GraphError(400, "invalidRequest",
                        "Parsing OData Select and Expand failed: Could not find a property named "
                        "'" +
                            p + "' on type 'microsoft.graph.drive'.");
    if (d.contains(p)) out[p] = d[p];
  }
  return GraphJson(200, out);
}

LocalResponse GraphApi::GetItem(const Call& c, const Address& a) {
  std::set<std::string> select;
  if (auto e = ParseSelect(*c.req, &select)) return *e;
  std::lock_guard lock(mu_);
  Resolved r;
  if (auto e = Resolve(c, a, &r)) return *e;
  if (r.item == nullptr) return GraphError(404, "itemNotFound", "Item not found");
  const std::string inm = c.req->Header("if-none-match");
  if (!inm.empty() && (inm == r.item->ETag() || inm == "*")) {
    LocalResponse nm;
    nm.status = 304;
    return nm;
  }
  return GraphJson(200, ItemJson(*r.item, select, false, true));
}

LocalResponse GraphApi::ListChildren(const Call& c, const Address& a) {
  const LocalRequest& req = *c.req;
  std::set<std::string> select;
  if (auto e = ParseSelect(req, &select)) return *e;
  int64_t top = options_.page_size;
  const std::string top_text = req.QueryParam("$top");
  if (!top_text.empty() && (!ParseDecimal(top_text, &top) || top < 1 || top > 1000))
    return GraphError(400, "invalidRequest", "Invalid $top value: " + top_text);
  std::lock_guard lock(mu_);
  Resolved r;
  if (auto e = Resolve(c, a, &r)) return *e;
  if (r.item == nullptr) return GraphError(404, "itemNotFound", "Item not found");
  if (!r.item->folder) return GraphError(400, "invalidRequest", "The item is not a folder.");
  int64_t offset = 0;
  const std::string skip = req.QueryParam("$skiptoken");
  if (!skip.empty()) {
    std::string payload;
    const std::string prefix = "children|" + r.item->id + "|";
    if (!Verify(skip, &payload) || payload.rfind(prefix, 0) != 0 ||
        !ParseDecimal(payload.substr(prefix.size()), &offset))
      return GraphError(400, "invalidRequest", "Invalid $skiptoken.");
  }
  const auto children = state_->Children(r.item->id);
  nlohmann::json value = nlohmann::json::array();
  for (int64_t i = offset; i < static_cast<int64_t>(children.size()) && i < offset + top; ++i)
    value.push_back(ItemJson(*children[static_cast<size_t>(i)], select, false, false));
  nlohmann::json body = {{"value", value}};
  if (offset + top < static_cast<int64_t>(children.size())) {
    std::string link =
        base_url_ + req.target.substr(0, req.target.find('?')) + "?$top=" + std::to_string(top);
    if (!req.QueryParam("$select").empty())
      link += "&$select=" + net::PercentEncode(req.QueryParam("$select"));
    link += "&$skiptoken=" + Sign("children|" + r.item->id + "|" + std::to_string(offset + top));
    body["@odata.nextLink"] = link;
  }
  return GraphJson(200, body);
}

std::string GraphApi::FreeName(const std::string& parent_id, const std::string& name) const {
  if (state_->Child(parent_id, name) == nullptr) return name;
  const size_t dot = name.rfind('.');
  const std::string stem = dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
  const std::string ext = dot == std::string::npos || dot == 0 ? "" : name.substr(dot);
  for (int i = 1;; ++i) {
    const std::string candidate = stem + " " + std::to_string(i) + ext;
    if (state_->Child(parent_id, candidate) == nullptr) return candidate;
  }
}

std::optional<LocalResponse> GraphApi::MakeFolders(const std::string& parent_id,
                                                   const std::vector<std::string>& rel, size_t from,
                                                   size_t to, std::string* id) {
  std::string at = parent_id;
  for (size_t i = from; i < to; ++i) {
    if (!ValidName(rel[i]))
      return GraphError(400, "invalidRequest", "Invalid name: " + rel[i], "invalidPath");
    if (const GraphItem* existing = state_->Child(at, rel[i])) {
      if (!existing->folder)
        return GraphError(409, "nameAlreadyExists", "A file is in the way: " + rel[i]);
      at = existing->id;
      continue;
    }
    GraphItem f;
    f.id = state_->NewId();
    f.name = rel[i];
    f.parent_id = at;
    f.folder = true;
    f.created_ms = f.modified_ms = NowMs();
    if (!state_->Put(f, nullptr).ok())
      return GraphError(500, "generalException", "Cannot store the folder.");
    at = f.id;
  }
  *id = at;
  return std::nullopt;
}

std::optional<LocalResponse> GraphApi::CommitFile(const std::string& parent_id,
                                                  const std::string& name,
                                                  const GraphItem* existing,
                                                  const std::string& content, std::string* id) {
  const int64_t size = static_cast<int64_t>(content.size());
  if (auto e = CheckQuota(size)) return e;
  GraphItem f;
  if (existing != nullptr) {
    f = *existing;
  } else {
    if (!ValidName(name))
      return GraphError(400, "invalidRequest", "Invalid name: " + name, "invalidPath");
    f.id = state_->NewId();
    f.name = name;
    f.parent_id = parent_id;
    f.created_ms = NowMs();
    f.mime_type = MimeFor(name);
  }
  f.modified_ms = NowMs();
  if (!state_->Put(f, &content).ok())
    return GraphError(500, "generalException", "Cannot store the file.");
  *id = f.id;
  return std::nullopt;
}

LocalResponse GraphApi::CreateChild(const Call& c, const Address& a) {
  const auto body = nlohmann::json::parse(c.req->body, nullptr, false);
  if (!body.is_object() || !body.contains("name") || !body["name"].is_string())
    return GraphError(400, "invalidRequest", "A name is required.");
  const bool folder = body.contains("folder");
  if (!folder && !body.contains("file"))
    return GraphError(400, "invalidRequest", "Either a folder or a file facet is required.");
  const std::string name = body["name"];
  std::string conflict = body.value("@microsoft.graph.conflictBehavior", "fail");
  if (conflict != "fail" && conflict != "replace" && conflict != "rename")
    return GraphError(400, "invalidRequest", "Invalid conflictBehavior: " + conflict);
  std::lock_guard lock(mu_);
  if (auto e = WriteFaults()) return *e;
  Resolved r;
  if (auto e = Resolve(c, a, &r)) return *e;
  if (r.item == nullptr) return GraphError(404, "itemNotFound", "Item not found");
  if (!r.item->folder) return GraphError(400, "invalidRequest", "The parent is not a folder.");
  if (!ValidName(name))
    return GraphError(400, "invalidRequest", "Invalid name: " + name, "invalidPath");
  const std::string parent = r.item->id;
  std::string final_name = name;
  if (const GraphItem* existing = state_->Child(parent, name)) {
    if (conflict == "fail")
      return GraphError(409, "nameAlreadyExists",
                        "An item with the same name already exists under the parent");
    if (conflict == "rename") {
      final_name = FreeName(parent, name);
    } else if (existing->folder && folder) {
      return GraphJson(200, ItemJson(*existing, {}, false, false));
    } else if (!state_->Recycle(existing->id).ok()) {
      return GraphError(500, "generalException", "Cannot replace the item.");
    }
  }
  if (auto e = CheckQuota(0)) return *e;
  std::string id;
  if (folder) {
    if (auto e = MakeFolders(parent, {final_name}, 0, 1, &id)) return *e;
  } else if (auto e = CommitFile(parent, final_name, nullptr, "", &id)) {
    return *e;
  }
  return GraphJson(201, ItemJson(*state_->Find(id), {}, false, false));
}

LocalResponse GraphApi::PutContent(const Call& c, const Address& a) {
  const LocalRequest& req = *c.req;
  const std::string conflict_param = req.QueryParam("@microsoft.graph.conflictBehavior");
  const std::string conflict = conflict_param.empty() ? "replace" : conflict_param;
  if (conflict != "fail" && conflict != "replace" && conflict != "rename")
    return GraphError(400, "invalidRequest", "Invalid conflictBehavior: " + conflict);
  if (static_cast<int64_t>(req.body.size()) > kSimpleUploadMax)
    return GraphError(413, "maxFileSizeExceeded",
                      "The simple upload API supports files up to 250 MB; use an upload session.");
  std::lock_guard lock(mu_);
  if (auto e = WriteFaults()) return *e;
  Resolved r;
  if (auto e = Resolve(c, a, &r)) return *e;
  const std::string if_match = req.Header("if-match");
  const std::string if_none_match = req.Header("if-none-match");
  std::string id;
  if (r.item != nullptr) {
    if (r.item->folder)
      return conflict == "fail"
                 ? GraphError(409, "nameAlreadyExists",
                              "An item with the same name already exists under the parent")
                 : GraphError(400, "invalidRequest", "Cannot upload content over a folder.");
    if (if_none_match == "*")
      return GraphError(412, "preconditionFailed", "The item already exists.");
    if (!if_match.empty() && if_match != r.item->ETag() && if_match != r.item->CTag() &&
        if_match != "*")
      return GraphError(412, "resourceModified", "ETag does not match current item's value",
                        "entityTagDoesNotMatch");
    if (conflict == "fail" && !a.rel.empty())
      return GraphError(409, "nameAlreadyExists",
                        "An item with the same name already exists under the parent");
    if (conflict == "rename" && !a.rel.empty()) {
      const std::string parent = r.item->parent_id;
      if (auto e = CommitFile(parent, FreeName(parent, r.item->name), nullptr, req.body, &id))
        return *e;
      return GraphJson(201, ItemJson(*state_->Find(id), {}, false, false));
    }
    if (!Allowed(c, r.item->id)) return GraphError(403, "accessDenied", "Access denied");
    if (auto e = CommitFile(r.item->parent_id, r.item->name, r.item, req.body, &id)) return *e;
    return GraphJson(200, ItemJson(*state_->Find(id), {}, false, false));
  }
  if (!if_match.empty())
    return GraphError(412, "resourceModified", "ETag does not match current item's value",
                      "entityTagDoesNotMatch");
  // A path PUT creates the missing parent folders.
  std::string parent;
  if (auto e = MakeFolders(r.parent->id, a.rel, r.missing_from, a.rel.size() - 1, &parent))
    return *e;
  if (auto e = CommitFile(parent, a.rel.back(), nullptr, req.body, &id)) return *e;
  return GraphJson(201, ItemJson(*state_->Find(id), {}, false, false));
}

LocalResponse GraphApi::GetContent(const Call& c, const Address& a) {
  std::lock_guard lock(mu_);
  Resolved r;
  if (auto e = Resolve(c, a, &r)) return *e;
  if (r.item == nullptr) return GraphError(404, "itemNotFound", "Item not found");
  if (r.item->folder)
    return GraphError(400, "invalidRequest", "A folder has no content to download.");
  const std::string inm = c.req->Header("if-none-match");
  if (!inm.empty() && (inm == r.item->ETag() || inm == r.item->CTag())) {
    LocalResponse nm;
    nm.status = 304;
    return nm;
  }
  LocalResponse redirect;
  redirect.status = 302;
  redirect.headers.emplace_back("Location", DownloadUrl(*r.item));
  return redirect;
}

LocalResponse GraphApi::DeleteItem(const Call& c, const Address& a, bool permanent) {
  std::lock_guard lock(mu_);
  if (auto e = WriteFaults()) return *e;
  Resolved r;
  if (auto e = Resolve(c, a, &r)) return *e;
  if (r.item == nullptr) return GraphError(404, "itemNotFound", "Item not found");
  if (r.item->id == state_->root_id())
    return GraphError(403, "accessDenied", "The root cannot be deleted.");
  const std::string if_match = c.req->Header("if-match");
  if (!if_match.empty() && if_match != r.item->ETag() && if_match != r.item->CTag() &&
      if_match != "*")
    return GraphError(412, "resourceModified", "ETag does not match current item's value",
                      "entityTagDoesNotMatch");
  const std::string id = r.item->id;
  if (!state_->Recycle(id).ok()) return GraphError(500, "generalException", "Cannot delete.");
  if (permanent) {
    std::vector<std::string> gone;
    for (const auto& ch : state_->changes())
      if (state_->IsWithin(ch.item_id, id)) gone.push_back(ch.item_id);
    for (const auto& g : gone) (void)state_->Purge(g);
  }
  return NoContent();
}

LocalResponse GraphApi::Download(const LocalRequest& req, const std::string& token) {
  if (req.method != "GET" && req.method != "HEAD")
    return GraphError(405, "invalidRequest", "Method not allowed");
  std::string payload;
  if (!Verify(token, &payload))
    return GraphError(401, "unauthenticated", "The download URL is not valid.");
  std::stringstream in(payload);
  std::string id, version, expires;
  std::getline(in, id, '|');
  std::getline(in, version, '|');
  std::getline(in, expires, '|');
  int64_t expires_ms = 0;
  if (!ParseDecimal(expires, &expires_ms) || expires_ms <= NowMs() ||
      TakeArmed(FaultKind::kExpireDownload))
    return GraphError(401, "unauthenticated", "The download URL has expired.");
  std::string content, etag;
  {
    std::lock_guard lock(mu_);
    const GraphItem* item = state_->Find(id);
    if (item == nullptr || std::to_string(item->ctag_version) != version)
      return GraphError(404, "itemNotFound", "Item not found");
    if (!state_->ReadContent(id, &content).ok())
      return GraphError(500, "generalException", "Cannot read the content.");
    etag = item->ETag();
  }
  const int64_t size = static_cast<int64_t>(content.size());
  LocalResponse r;
  r.status = 200;
  r.headers.emplace_back("Content-Type", "application/octet-stream");
  r.headers.emplace_back("Accept-Ranges", "bytes");
  r.headers.emplace_back("ETag", etag);
  const std::string range = req.Header("range");
  if (range.rfind("bytes=", 0) == 0 && range.find(',') == std::string::npos) {
    const std::string spec = range.substr(6);
    const size_t dash = spec.find('-');
    int64_t first = 0, last = size - 1;
    bool ok = dash != std::string::npos;
    if (ok && dash == 0) {
      int64_t n = 0;
      ok = ParseDecimal(spec.substr(1), &n) && n > 0;
      first = std::max<int64_t>(0, size - n);
    } else if (ok) {
      ok = ParseDecimal(spec.substr(0, dash), &first);
      if (ok && dash + 1 < spec.size()) ok = ParseDecimal(spec.substr(dash + 1), &last);
      last = std::min(last, size - 1);
    }
    if (ok && (first >= size || first > last)) {
      LocalResponse bad = GraphError(416, "invalidRange", "The requested range is not valid.");
      bad.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
      return bad;
    }
    if (ok) {
      r.status = 206;
      r.headers.emplace_back("Content-Range", "bytes " + std::to_string(first) + "-" +
                                                  std::to_string(last) + "/" +
                                                  std::to_string(size));
      content = content.substr(static_cast<size_t>(first), static_cast<size_t>(last - first + 1));
    }
  }
  r.body = std::move(content);
  if (TakeArmed(FaultKind::kDropDownload))
    r.truncate_body_at = static_cast<int64_t>(r.body.size() / 2);
  return r;
}

}  // namespace jsync::emulator::onedrive

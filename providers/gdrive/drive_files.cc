#include "drive_files.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "drive_paths.h"
#include "md5.h"

namespace jsync_gdrive {

using nlohmann::json;

void Log(const jsync_instance* inst, int level, const std::string& message) {
  if (inst->host->log != nullptr) inst->host->log(inst->host->host, level, message.c_str());
}

int FailFrom(jsync_instance* inst, const std::string& what, const Response& response,
             jsync_error* err, uint64_t upload_bytes) {
  if (response.status != 403 || !ParseDriveError(response.body).reason.empty()) {
    return FailFromResponse(inst->host, what, response, err);
  }
  Request req;
  req.url = WithQuery(inst->ep.api + "/about", {{"fields", "storageQuota"}});
  Response about;
  jsync_error ignored{-1, {0}};
  bool full = false;
  if (DriveExchange(inst->host, req, &about, what, &ignored) == JSYNC_OK && about.status == 200) {
    full = StorageFullFromAbout(about.body, upload_bytes);
  }
  const std::string head = "Google Drive " + what + ": HTTP 403 Forbidden";
  if (full) {
    return Fail(err, JSYNC_QUOTA_EXCEEDED, head + " — the Google Drive storage is full");
  }
  return jsync_plugin::FailHttp(inst->host, JSYNC_RETRYABLE_THROTTLED,
                                head + " (no reason readable; taken for a rate limit)", response,
                                err);
}

bool StorageFullFromAbout(const std::string& about_body, uint64_t upload_bytes) {
  const json j = json::parse(about_body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("storageQuota") || !j["storageQuota"].is_object()) {
    return false;
  }
  const json& q = j["storageQuota"];
  if (!q.contains("limit") || !q.contains("usage")) return false;
  uint64_t usage = 0, limit = 0;
  // Unreadable numbers count as 0 (not full): the caller then takes the 403 for a rate limit.
  if (!ParseInt64Value(&q["usage"], &usage) || !ParseInt64Value(&q["limit"], &limit)) return false;
  return upload_bytes > 0 ? usage > limit || upload_bytes > limit - usage : usage >= limit;
}

int ParseFileList(const std::string& body, const std::string& what, FilePage* page,
                  jsync_error* err) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return Fail(err, JSYNC_RETRYABLE_UNAVAILABLE,
                "Google Drive " + what + ": the file list is not JSON");
  }
  page->files.clear();
  page->next_page_token.clear();
  if (j.contains("files") && j["files"].is_array()) {
    for (const json& f : j["files"]) {
      DriveFile file;
      if (ParseFile(&f, &file) && !file.trashed) page->files.push_back(std::move(file));
    }
  }
  if (j.contains("nextPageToken") && j["nextPageToken"].is_string()) {
    page->next_page_token = j["nextPageToken"];
  }
  return JSYNC_OK;
}

namespace {

constexpr int kIdBatch = 10;

// One files.list page in appDataFolder for query `q` (orderBy "" leaves Drive's order).
int QueryPage(jsync_instance* inst, const std::string& q, const std::string& order_by,
              int page_size, const std::string& page_token, const std::string& what,
              FilePage* page, jsync_error* err) {
  Params params = {{"spaces", "appDataFolder"}, {"q", q}};
  if (!order_by.empty()) params.emplace_back("orderBy", order_by);
  params.emplace_back("pageSize", std::to_string(page_size));
  params.emplace_back("fields", std::string("nextPageToken,files(") + kFileFields + ")");
  if (!page_token.empty()) params.emplace_back("pageToken", page_token);
  Request req;
  req.url = WithQuery(inst->ep.api + "/files", params);
  Response resp;
  int rc = DriveExchange(inst->host, req, &resp, what, err);
  if (rc != JSYNC_OK) return rc;
  if (resp.status != 200) return FailFrom(inst, what, resp, err);
  return ParseFileList(resp.body, what, page, err);
}

}  // namespace

int ListPage(jsync_instance* inst, const std::string& name_prefix, const std::string& page_token,
             int page_size, const std::string& what, FilePage* page, jsync_error* err) {
  return QueryPage(inst, NamePrefixQuery(name_prefix), "name,createdTime", page_size, page_token,
                   what, page, err);
}

int FindByName(jsync_instance* inst, const std::string& name, const std::string& what,
               std::vector<DriveFile>* files, jsync_error* err) {
  files->clear();
  std::string token;
  for (int page = 0; page < 1000; ++page) {
    FilePage p;
    int rc = QueryPage(inst, ExactNameQuery(name), "", 100, token, what, &p, err);
    if (rc != JSYNC_OK) return rc;
    for (auto& f : p.files) {
      if (f.name == name) files->push_back(std::move(f));  // defensive: exact names only
    }
    if (p.next_page_token.empty() || p.next_page_token == token) break;
    token = p.next_page_token;
  }
  return JSYNC_OK;
}

int FindWinner(jsync_instance* inst, const std::string& name, const std::string& what,
               DriveFile* winner, jsync_error* err) {
  if (auto cached = inst->winners.Find(name)) {
    *winner = *cached;
    return JSYNC_OK;
  }
  std::vector<DriveFile> files;
  const int rc = FindByName(inst, name, what, &files, err);
  if (rc != JSYNC_OK) return rc;
  const int w = WinnerIndex(files);
  if (w < 0) {
    return Fail(err, JSYNC_NOT_FOUND,
                "Google Drive " + what + ": no such object in the app data folder");
  }
  *winner = files[static_cast<size_t>(w)];
  inst->winners.Set(name, *winner);
  return JSYNC_OK;
}

int NextFileId(jsync_instance* inst, const std::string& what, std::string* id, jsync_error* err) {
  if (inst->id_pool.empty()) {
    Request req;
    req.url = WithQuery(inst->ep.api + "/files/generateIds", {{"count", std::to_string(kIdBatch)},
                                                              {"space", "appDataFolder"},
                                                              {"type", "files"},
                                                              {"fields", "ids"}});
    Response resp;
    const int rc = DriveExchange(inst->host, req, &resp, what + " (generateIds)", err);
    if (rc != JSYNC_OK) return rc;
    if (resp.status != 200) {
      return FailFrom(inst, what + " (generateIds)", resp, err);
    }
    const json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("ids") && j["ids"].is_array()) {
      for (const json& x : j["ids"]) {
        if (x.is_string()) inst->id_pool.push_back(x);
      }
    }
    if (inst->id_pool.empty()) {
      return Fail(err, JSYNC_RETRYABLE_UNAVAILABLE,
                  "Google Drive " + what + ": generateIds answered no ids");
    }
    std::reverse(inst->id_pool.begin(), inst->id_pool.end());  // hand them out in order
  }
  *id = inst->id_pool.back();
  inst->id_pool.pop_back();
  return JSYNC_OK;
}

int GetFile(jsync_instance* inst, const std::string& id, const std::string& what, DriveFile* file,
            jsync_error* err) {
  Request req;
  req.url = WithQuery(inst->ep.api + "/files/" + QueryEscape(id), {{"fields", kFileFields}});
  Response resp;
  const int rc = DriveExchange(inst->host, req, &resp, what, err);
  if (rc != JSYNC_OK) return rc;
  if (resp.status != 200) return FailFrom(inst, what, resp, err);
  if (!ParseFileText(resp.body, file)) {
    return Fail(err, JSYNC_RETRYABLE_UNAVAILABLE,
                "Google Drive " + what + ": the file's metadata is not JSON");
  }
  return JSYNC_OK;
}

int Download(jsync_instance* inst, const DriveFile& file, uint64_t offset, uint64_t length,
             jsync_sink* out, const std::string& what, jsync_error* err) {
  // The size from Drive's metadata goes to the host first: an object over its limit is
  // refused without a download.
  const jsync_get_sink* ext = JSYNC_GET_SINK(inst->host->abi_version, out);
  if (offset == 0 && ext != nullptr && ext->size != nullptr &&
      ext->size(out->ctx, file.size) != 0) {
    return JSYNC_OK;
  }
  if (offset >= file.size || length == 0) return JSYNC_OK;  // nothing to read: no request
  const uint64_t n = std::min<uint64_t>(length, file.size - offset);
  Request req;
  req.url = WithQuery(inst->ep.api + "/files/" + QueryEscape(file.id), {{"alt", "media"}});
  if (offset != 0 || n != file.size) {
    req.headers.emplace_back("Range", jsync_plugin::RangeHeaderValue(offset, n));
  }
  // The size went to the host above (from the metadata): the target does not tell it again.
  jsync_plugin::RangeTarget target(out, offset, n, nullptr);
  req.target = &target;
  // Bounded by what was asked, not by the metadata: a server that ignores the Range (or lies
  // about the size) cannot make us hold more than the range and a little slack.
  req.body_limit = jsync_plugin::DownloadBodyLimit(offset, n);
  Response resp;
  const int rc = DriveExchange(inst->host, req, &resp, what, err);
  if (rc != JSYNC_OK) return rc;
  if (resp.status == 200 || resp.status == 206) {
    if (target.sink_stopped()) return JSYNC_OK;
    if (target.bad_range()) {
      return Fail(err, JSYNC_FATAL,
                  "Google Drive " + what + ": Drive sent another range (" +
                      resp.Header("content-range") + ") than the one asked for");
    }
    const uint64_t got = target.delivered();
    if (got < n) {
      return Fail(err, JSYNC_RETRYABLE_NETWORK,
                  "Google Drive " + what + ": the download ended early (" + std::to_string(got) +
                      " of " + std::to_string(n) + " bytes)");
    }
    return JSYNC_OK;
  }
  if (resp.status == 404) inst->winners.Erase(file.name);
  return FailFrom(inst, what, resp, err);
}

namespace {
struct CompareSink {
  const uint8_t* data;
  size_t len;
  size_t pos = 0;
  bool differ = false;
  static int Write(void* ctx, const uint8_t* d, size_t n) {
    auto* s = static_cast<CompareSink*>(ctx);
    if (s->pos + n > s->len || (n > 0 && std::memcmp(s->data + s->pos, d, n) != 0)) {
      s->differ = true;
      return 1;
    }
    s->pos += n;
    return 0;
  }
};
}  // namespace

int SameBytes(jsync_instance* inst, const DriveFile& file, const uint8_t* data, size_t len,
              const std::string& md5, const std::string& what, bool* same, jsync_error* err) {
  if (file.size != len) {
    *same = false;
    return JSYNC_OK;
  }
  if (!file.md5.empty()) {
    *same = file.md5 == md5;
    return JSYNC_OK;
  }
  CompareSink cmp{data, len};
  jsync_sink sink{&cmp, CompareSink::Write};
  const int rc = Download(inst, file, 0, UINT64_MAX, &sink, what, err);
  if (rc != JSYNC_OK) return rc;
  *same = !cmp.differ && cmp.pos == len;
  return JSYNC_OK;
}

int DeleteFile(jsync_instance* inst, const std::string& id, const std::string& what,
               jsync_error* err) {
  Request req;
  req.method = "DELETE";
  req.url = inst->ep.api + "/files/" + QueryEscape(id);
  Response resp;
  const int rc = DriveExchange(inst->host, req, &resp, what, err);
  if (rc != JSYNC_OK) return rc;
  if ((resp.status >= 200 && resp.status < 300) || resp.status == 404) return JSYNC_OK;
  return FailFrom(inst, what, resp, err);
}

}  // namespace jsync_gdrive

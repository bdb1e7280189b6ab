#include "upload.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "graph_client.h"
#include "items.h"
#include "onedrive_names.h"

namespace jsync_onedrive {
namespace {

using nlohmann::json;

std::string ParentOf(const std::string& item_path) {
  const size_t slash = item_path.rfind('/');
  return slash == std::string::npos ? std::string() : item_path.substr(0, slash);
}

// Forgets the folders of `item_path`'s parent chain (one was removed behind our back).
void ForgetFolders(jsync_instance* inst, const std::string& item_path) {
  for (std::string p = ParentOf(item_path); !p.empty(); p = ParentOf(p)) inst->folders.erase(p);
}

// Whether a create's answer is the driveItem of the object just written: its name (OneDrive's
// names are case-insensitive), its size and, when Graph gave one, its QuickXorHash. An answer
// about another item, or one holding other bytes, proves nothing was stored as sent.
int CheckCreated(const Response& resp, const std::string& item_path, size_t len,
                 const std::string& quick_xor, const std::string& what, jsync_error* err) {
  const json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  Item item;
  if (!j.is_object() || !ParseItem(&j, &item) || !item.file) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                    "the create's answer is not the file's driveItem");
  }
  const size_t slash = item_path.rfind('/');
  const std::string name = slash == std::string::npos ? item_path : item_path.substr(slash + 1);
  if (!jsync_plugin::EqualsIgnoreCase(item.name, name)) {
    return FailWith(err, JSYNC_FATAL, what, "the create was answered with another item");
  }
  if (item.size != len || (!item.quick_xor.empty() && item.quick_xor != quick_xor)) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                    "OneDrive reports other bytes stored than were sent");
  }
  return JSYNC_OK;
}

std::vector<std::string> ExpectedRanges(const json& j) {
  std::vector<std::string> out;
  if (j.is_object() && j.contains("nextExpectedRanges") && j["nextExpectedRanges"].is_array()) {
    for (const json& r : j["nextExpectedRanges"]) {
      if (r.is_string()) out.push_back(r);
    }
  }
  return out;
}

int Simple(jsync_instance* inst, const std::string& item_path, const uint8_t* data, size_t len,
           bool if_absent, const std::string& quick_xor, const std::string& what, bool* taken,
           jsync_error* err) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    Request req;
    req.method = "PUT";
    req.url = WithQuery(ItemAddress(inst->graph, item_path) + "/content",
                        {{"@microsoft.graph.conflictBehavior", if_absent ? "fail" : "replace"}});
    req.headers = {{"Content-Type", "application/octet-stream"}};
    if (if_absent) req.headers.emplace_back("If-None-Match", "*");
    req.body = data;
    req.body_len = len;
    Response resp;
    const int rc = GraphExchange(inst->host, req, &resp, what, err);
    if (rc != JSYNC_OK) return rc;
    if (resp.status == 200 || resp.status == 201) {
      return CheckCreated(resp, item_path, len, quick_xor, what, err);
    }
    if (if_absent && (resp.status == 409 || resp.status == 412)) {
      *taken = true;
      return JSYNC_OK;
    }
    // Path PUTs make missing folders; one that vanishes meanwhile is made explicitly.
    if (resp.status == 404 && attempt == 0) {
      ForgetFolders(inst, item_path);
      const int made = EnsureFolders(inst, ParentOf(item_path), what, err);
      if (made != JSYNC_OK) return made;
      continue;
    }
    return FailFromResponse(inst->host, what, resp, err);
  }
  return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what, "its folder vanished twice");
}

// Starts a session; *url gets its uploadUrl, *offset the first byte it expects.
int StartSession(jsync_instance* inst, const std::string& item_path, size_t len, bool if_absent,
                 const std::string& what, std::string* url, uint64_t* offset, bool* taken,
                 jsync_error* err) {
  const std::string step = what + " (starting an upload session)";
  for (int attempt = 0; attempt < 2; ++attempt) {
    int rc = EnsureFolders(inst, ParentOf(item_path), what, err);
    if (rc != JSYNC_OK) return rc;
    const std::string body =
        json{{"item",
              {{"@microsoft.graph.conflictBehavior", if_absent ? "fail" : "replace"},
               {"fileSize", static_cast<uint64_t>(len)}}}}
            .dump();
    Request req;
    req.method = "POST";
    req.url = ItemAddress(inst->graph, item_path) + "/createUploadSession";
    req.headers = {{"Content-Type", "application/json"}};
    if (if_absent) req.headers.emplace_back("If-None-Match", "*");
    req.body = reinterpret_cast<const uint8_t*>(body.data());
    req.body_len = body.size();
    Response resp;
    rc = GraphExchange(inst->host, req, &resp, step, err);
    if (rc != JSYNC_OK) return rc;
    if (if_absent && (resp.status == 409 || resp.status == 412)) {
      *taken = true;
      return JSYNC_OK;
    }
    if (resp.status == 404 && attempt == 0) {
      ForgetFolders(inst, item_path);
      continue;
    }
    if (resp.status != 200 && resp.status != 201)
      return FailFromResponse(inst->host, step, resp, err);
    const json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("uploadUrl") || !j["uploadUrl"].is_string() ||
        OriginOf(j["uploadUrl"].get<std::string>()).empty()) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, step, "the answer has no usable uploadUrl");
    }
    *url = j["uploadUrl"];
    *offset = 0;
    uint64_t start = 0;
    if (NextExpectedStart(ExpectedRanges(j), len, &start)) *offset = start;
    return JSYNC_OK;
  }
  return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, step, "its folder vanished twice");
}

enum class Status { kResume, kRestart };

// Asks the session which bytes it still expects: kResume with *offset, or kRestart when the
// session is gone (404, or a refused URL) or expects nothing more though it never completed.
int QuerySession(jsync_instance* inst, const std::string& url, size_t len, const std::string& what,
                 Status* status, uint64_t* offset, jsync_error* err) {
  Request req;
  req.url = url;
  Response resp;
  const std::string step = what + " (asking the upload session what it holds)";
  const int rc = PreauthenticatedExchange(inst->host, req, &resp, step, err);
  if (rc != JSYNC_OK) return rc;
  if (resp.status == 404 || resp.status == 401 || resp.status == 403 || resp.status == 410) {
    *status = Status::kRestart;
    return JSYNC_OK;
  }
  if (resp.status != 200) return FailFromResponse(inst->host, step, resp, err);
  const json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  uint64_t start = 0;
  if (!NextExpectedStart(ExpectedRanges(j), len, &start)) {
    *status = Status::kRestart;
    return JSYNC_OK;
  }
  *status = Status::kResume;
  *offset = start;
  return JSYNC_OK;
}

int Session(jsync_instance* inst, const std::string& item_path, const uint8_t* data, size_t len,
            bool if_absent, const std::string& quick_xor, const std::string& what, bool* taken,
            jsync_error* err) {
  const std::string key = item_path + '\n' + quick_xor + (if_absent ? "\nif_absent" : "");
  int resumes = 0;
  for (int start = 0; start < 2; ++start) {
    uint64_t offset = 0;
    auto it = inst->sessions.find(key);
    if (it == inst->sessions.end()) {
      std::string url;
      int rc = StartSession(inst, item_path, len, if_absent, what, &url, &offset, taken, err);
      if (rc != JSYNC_OK || *taken) return rc;
      it = inst->sessions.emplace(key, UploadSession{url}).first;
    } else {
      // A session from an earlier attempt of this put: send only what it lacks.
      Status status = Status::kResume;
      const int rc = QuerySession(inst, it->second.url, len, what, &status, &offset, err);
      if (rc != JSYNC_OK) return rc;
      if (status == Status::kRestart) {
        inst->sessions.erase(it);
        continue;
      }
      Log(inst, 0,
          "OneDrive " + what + ": resuming the upload at byte " + std::to_string(offset) + " of " +
              std::to_string(len));
    }
    const std::string url = it->second.url;
    bool restart = false;
    int stalls = 0;
    while (!restart) {
      const uint64_t end = FragmentEnd(offset, len, inst->fragment_size);
      Request put;
      put.method = "PUT";
      put.url = url;
      put.headers = {{"Content-Type", "application/octet-stream"},
                     {"Content-Range", FragmentRange(offset, end, len)}};
      put.body = data + offset;
      put.body_len = static_cast<size_t>(end - offset);
      Response resp;
      const std::string step = what + " (bytes " + std::to_string(offset) + "-" +
                               std::to_string(end - 1) + " of " + std::to_string(len) + ")";
      int rc = PreauthenticatedExchange(inst->host, put, &resp, step, err);
      const bool dropped = rc != JSYNC_OK;
      if (dropped && JSYNC_PRIMARY(rc) != JSYNC_RETRYABLE) return rc;
      if (!dropped) {
        if (resp.status == 200 || resp.status == 201) {
          inst->sessions.erase(key);
          return CheckCreated(resp, item_path, len, quick_xor, what, err);
        }
        if (resp.status == 202) {
          const json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
          uint64_t next = end;
          NextExpectedStart(ExpectedRanges(j), len, &next);
          if (next >= len) {
            // Every byte was taken yet no file made: a fragment with nothing in it is no way on.
            inst->sessions.erase(key);
            return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                            "the upload session took every byte but made no file");
          }
          if (next <= offset && ++stalls > kMaxResumes) {
            return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what, "the upload makes no progress");
          }
          offset = next;
          continue;
        }
        if (if_absent && (resp.status == 409 || resp.status == 412)) {
          // The name was taken while we uploaded (reported on the last fragment).
          inst->sessions.erase(key);
          *taken = true;
          return JSYNC_OK;
        }
        if (resp.status == 404) {
          inst->sessions.erase(key);
          restart = true;
          continue;
        }
        // A fragment the upload host failed without asking for a wait is resumed here, like a
        // cut one; a wait it asked for (Retry-After, 429, 423, 509) is the host's to keep.
        const bool transient =
            resp.status == 500 || resp.status == 502 || resp.status == 503 || resp.status == 504;
        const bool asked_to_wait = !resp.Header("retry-after").empty();
        const bool keep = resp.status == 429 || resp.status == 423 || resp.status == 509 ||
                          (resp.status >= 500 && resp.status != 507 &&
                           (!transient || asked_to_wait || resumes >= kMaxResumes));
        if (keep)
          return FailFromResponse(inst->host, step, resp, err);  // the host waits, we resume
        if (!transient && resp.status != 416 && resp.status != 401 && resp.status != 403) {
          inst->sessions.erase(key);
          return FailFromResponse(inst->host, step, resp, err);
        }
      }
      // Cut, overlapping or refused: ask the session where it stands, then go on from there.
      if (++resumes > kMaxResumes) {
        if (dropped) return rc;  // the session stays: the host's retry resumes
        return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                        "the upload session kept refusing fragments");
      }
      Status status = Status::kResume;
      rc = QuerySession(inst, url, len, what, &status, &offset, err);
      if (rc != JSYNC_OK) return rc;
      if (status == Status::kRestart) {
        inst->sessions.erase(key);
        restart = true;
      }
    }
  }
  return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what, "the upload session vanished twice");
}

}  // namespace

int Upload(jsync_instance* inst, const std::string& item_path, const uint8_t* data, size_t len,
           bool if_absent, const std::string& quick_xor, const std::string& what, bool* taken,
           jsync_error* err) {
  *taken = false;
  if (len == 0 || len <= inst->simple_upload_max) {
    return Simple(inst, item_path, data, len, if_absent, quick_xor, what, taken, err);
  }
  return Session(inst, item_path, data, len, if_absent, quick_xor, what, taken, err);
}

}  // namespace jsync_onedrive

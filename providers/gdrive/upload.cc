#include "upload.h"

#include <nlohmann/json.hpp>

#include "drive_files.h"

namespace jsync_gdrive {
namespace {

using nlohmann::json;

std::string Metadata(const std::string& id, const std::string& name) {
  json meta = {{"id", id},
               {"name", name},
               {"parents", json::array({"appDataFolder"})},
               {"mimeType", "application/octet-stream"},
               {"appProperties", {{"jsync", "1"}}}};
  return meta.dump();
}

// A completed upload's answer (200/201 + File JSON).
int Completed(const Response& resp, const std::string& what, UploadResult* result,
              jsync_error* err) {
  if (!ParseFileText(resp.body, &result->file)) {
    return Fail(err, JSYNC_RETRYABLE_UNAVAILABLE,
                "Google Drive " + what + ": the upload's answer is not a file");
  }
  return JSYNC_OK;
}

int Multipart(jsync_instance* inst, const std::string& id, const std::string& name,
              const uint8_t* data, size_t len, const std::string& what, UploadResult* result,
              jsync_error* err) {
  const std::string boundary = "jsync-" + jsync_plugin::RandomHex(inst->host, 16);
  std::string body = "--" + boundary + "\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n" +
                     Metadata(id, name) + "\r\n--" + boundary +
                     "\r\nContent-Type: application/octet-stream\r\n\r\n";
  body.append(reinterpret_cast<const char*>(data), len);
  body += "\r\n--" + boundary + "--\r\n";
  Request req;
  req.method = "POST";
  req.url =
      WithQuery(inst->ep.upload + "/files", {{"uploadType", "multipart"}, {"fields", kFileFields}});
  req.headers = {{"Content-Type", "multipart/related; boundary=" + boundary}};
  req.body = reinterpret_cast<const uint8_t*>(body.data());
  req.body_len = body.size();
  Response resp;
  const int rc = DriveExchange(inst->host, req, &resp, what, err);
  if (rc != JSYNC_OK) return rc;
  if (resp.status == 200 || resp.status == 201) return Completed(resp, what, result, err);
  if (resp.status == 409) {
    result->id_in_use = true;
    return JSYNC_OK;
  }
  return FailFrom(inst, what, resp, err, len);
}

// Turns a Location value into an absolute URL (Drive sends absolute ones).
std::string Absolute(const jsync_instance* inst, const std::string& location) {
  if (location.empty() || location[0] != '/') return location;
  const std::string& base = inst->ep.upload;
  const size_t scheme = base.find("://");
  const size_t path = scheme == std::string::npos ? std::string::npos : base.find('/', scheme + 3);
  return (path == std::string::npos ? base : base.substr(0, path)) + location;
}

// Starts a session; *session gets its URI.
int StartSession(jsync_instance* inst, const std::string& id, const std::string& name, size_t len,
                 const std::string& what, std::string* session, UploadResult* result,
                 jsync_error* err) {
  const std::string meta = Metadata(id, name);
  Request req;
  req.method = "POST";
  req.url =
      WithQuery(inst->ep.upload + "/files", {{"uploadType", "resumable"}, {"fields", kFileFields}});
  req.headers = {{"Content-Type", "application/json; charset=UTF-8"},
                 {"X-Upload-Content-Type", "application/octet-stream"},
                 {"X-Upload-Content-Length", std::to_string(len)}};
  req.body = reinterpret_cast<const uint8_t*>(meta.data());
  req.body_len = meta.size();
  Response resp;
  const int rc =
      DriveExchange(inst->host, req, &resp, what + " (starting a resumable upload)", err);
  if (rc != JSYNC_OK) return rc;
  if (resp.status == 409) {
    result->id_in_use = true;
    return JSYNC_OK;
  }
  if (resp.status != 200 && resp.status != 201) {
    return FailFrom(inst, what + " (starting a resumable upload)", resp, err, len);
  }
  *session = Absolute(inst, resp.Header("location"));
  if (session->empty()) {
    return Fail(err, JSYNC_RETRYABLE_UNAVAILABLE,
                "Google Drive " + what + ": the resumable upload session has no Location");
  }
  return JSYNC_OK;
}

// The offset after "Range: bytes=0-N" (N + 1), 0 without a Range header.
uint64_t NextOffset(const Response& resp) {
  const std::string range = resp.Header("range");
  const size_t dash = range.rfind('-');
  if (dash == std::string::npos) return 0;
  uint64_t last = 0;
  bool any = false;
  for (size_t i = dash + 1; i < range.size() && range[i] >= '0' && range[i] <= '9'; ++i) {
    last = last * 10 + static_cast<uint64_t>(range[i] - '0');
    any = true;
  }
  return any ? last + 1 : 0;
}

enum class Step { kDone, kContinue, kRestart };

// Interprets an answer to a PUT on the session (a chunk or a status query).
int OnSessionAnswer(jsync_instance* inst, const std::string& key, const Response& resp, size_t len,
                    const std::string& what, uint64_t* offset, Step* step, UploadResult* result,
                    jsync_error* err) {
  if (resp.status == 200 || resp.status == 201) {
    inst->sessions.erase(key);
    *step = Step::kDone;
    return Completed(resp, what, result, err);
  }
  if (resp.status == 308) {
    *offset = NextOffset(resp);
    if (*offset > len) {
      inst->sessions.erase(key);
      return Fail(err, JSYNC_FATAL,
                  "Google Drive " + what + ": the upload session holds more bytes than the object");
    }
    *step = Step::kContinue;
    return JSYNC_OK;
  }
  if (resp.status == 409) {
    inst->sessions.erase(key);
    result->id_in_use = true;
    *step = Step::kDone;
    return JSYNC_OK;
  }
  if (resp.status == 404 || resp.status == 410) {  // the session expired: start a new one
    inst->sessions.erase(key);
    *step = Step::kRestart;
    return JSYNC_OK;
  }
  const bool transient = resp.status >= 500 || resp.status == 429 || resp.status == 408 ||
                         resp.status == 403;  // 403 rate limits keep the session too
  const int rc = FailFrom(inst, what, resp, err, len);
  if (!transient || JSYNC_PRIMARY(rc) != JSYNC_RETRYABLE) inst->sessions.erase(key);
  return rc;
}

int Resumable(jsync_instance* inst, const std::string& key, const std::string& id,
              const std::string& name, const uint8_t* data, size_t len, const std::string& what,
              UploadResult* result, jsync_error* err) {
  for (int restart = 0; restart < 2; ++restart) {
    uint64_t offset = 0;
    auto it = inst->sessions.find(key);
    if (it == inst->sessions.end()) {
      std::string session;
      int rc = StartSession(inst, id, name, len, what, &session, result, err);
      if (rc != JSYNC_OK || result->id_in_use) return rc;
      it = inst->sessions.emplace(key, session).first;
    } else {
      // A session from an earlier attempt: ask how much Drive holds.
      Request status;
      status.method = "PUT";
      status.url = it->second;
      status.headers = {{"Content-Range", jsync_plugin::FormatContentRange(len)}};
      Response resp;
      int rc = DriveExchange(inst->host, status, &resp, what + " (resuming)", err);
      if (rc != JSYNC_OK) return rc;
      Step step = Step::kDone;
      rc = OnSessionAnswer(inst, key, resp, len, what + " (resuming)", &offset, &step, result, err);
      if (rc != JSYNC_OK || step == Step::kDone) return rc;
      if (step == Step::kRestart) continue;
      Log(inst, 0,
          "Google Drive " + what + ": resuming the upload at byte " + std::to_string(offset) +
              " of " + std::to_string(len));
    }
    // Send the rest; a server that keeps fewer bytes than sent answers 308 with its Range.
    for (int round = 0; round < 1000; ++round) {
      Request put;
      put.method = "PUT";
      put.url = it->second;
      // Everything held but not finished: a status query asks Drive to complete it.
      const std::string range = offset == len
                                    ? jsync_plugin::FormatContentRange(len)
                                    : jsync_plugin::FormatContentRange(offset, len - 1, len);
      put.headers = {{"Content-Type", "application/octet-stream"}, {"Content-Range", range}};
      put.body = data + offset;
      put.body_len = len - offset;
      Response resp;
      int rc = DriveExchange(inst->host, put, &resp, what, err);
      if (rc != JSYNC_OK) return rc;  // the session stays: the host's retry resumes
      const uint64_t before = offset;
      Step step = Step::kDone;
      rc = OnSessionAnswer(inst, key, resp, len, what, &offset, &step, result, err);
      if (rc != JSYNC_OK || step == Step::kDone) return rc;
      if (step == Step::kRestart) break;
      if (offset <= before && !(offset == len && before != len)) {
        return Fail(err, JSYNC_RETRYABLE_UNAVAILABLE,
                    "Google Drive " + what + ": the upload made no progress");
      }
    }
    if (inst->sessions.count(key)) {
      return Fail(err, JSYNC_RETRYABLE_UNAVAILABLE,
                  "Google Drive " + what + ": the upload did not complete");
    }
  }
  return Fail(err, JSYNC_RETRYABLE_UNAVAILABLE,
              "Google Drive " + what + ": the upload session expired twice");
}

}  // namespace

int CreateFile(jsync_instance* inst, const std::string& key, const std::string& id,
               const std::string& name, const uint8_t* data, size_t len, const std::string& what,
               UploadResult* result, jsync_error* err) {
  *result = UploadResult{};
  if (len == 0 || len <= inst->resumable_threshold) {
    return Multipart(inst, id, name, data, len, what, result, err);
  }
  return Resumable(inst, key, id, name, data, len, what, result, err);
}

}  // namespace jsync_gdrive

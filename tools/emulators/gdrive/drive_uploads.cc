// Uploads: uploadType=media, multipart and resumable (sessions, 308 + Range, status queries,
// expiry), for creates (POST /upload/drive/v3/files) and content updates (PATCH .../{fileId}).
#include <algorithm>

#include "tools/emulators/gdrive/drive_api.h"
#include "tools/emulators/gdrive/util.h"

namespace jsync::emulator::gdrive {

using net::LocalRequest;
using net::LocalResponse;

namespace {

constexpr int64_t kChunkGranularity = 256 * 1024;

LocalResponse Dropped() {
  LocalResponse r;
  r.drop_connection = true;
  return r;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// multipart/related with exactly two parts: JSON metadata, then the media.
bool ParseMultipart(const LocalRequest& req, nlohmann::json* meta, std::string* media,
                    std::string* media_type) {
  const std::string type = req.Header("content-type");
  const size_t b = Lower(type).find("boundary=");
  if (b == std::string::npos) return false;
  std::string boundary = type.substr(b + 9);
  const size_t semi = boundary.find(';');
  if (semi != std::string::npos) boundary = boundary.substr(0, semi);
  if (boundary.size() >= 2 && boundary.front() == '"') boundary = boundary.substr(1, boundary.size() - 2);
  const std::string delim = "--" + boundary;
  const std::string& body = req.body;
  std::vector<std::pair<std::string, std::string>> parts;  // headers, content
  size_t pos = body.find(delim);
  if (pos == std::string::npos) return false;
  while (true) {
    pos += delim.size();
    if (body.compare(pos, 2, "--") == 0) break;  // closing delimiter
    if (body.compare(pos, 2, "\r\n") == 0) pos += 2;
    else if (pos < body.size() && body[pos] == '\n') pos += 1;
    else return false;
    size_t header_end = body.find("\r\n\r\n", pos);
    size_t content_start = header_end + 4;
    if (header_end == std::string::npos) {
      header_end = body.find("\n\n", pos);
      if (header_end == std::string::npos) return false;
      content_start = header_end + 2;
    }
    size_t next = body.find("\r\n" + delim, content_start);
    size_t content_end = next;
    if (next == std::string::npos) {
      next = body.find("\n" + delim, content_start);
      if (next == std::string::npos) return false;
      content_end = next;
      next += 1;
    } else {
      next += 2;
    }
    parts.emplace_back(Lower(body.substr(pos, header_end - pos)),
                       body.substr(content_start, content_end - content_start));
    pos = next;
    if (parts.size() > 2) return false;
  }
  if (parts.size() != 2) return false;
  *meta = parts[0].second.empty() ? nlohmann::json::object()
                                  : nlohmann::json::parse(parts[0].second, nullptr, false);
  if (!meta->is_object()) return false;
  *media = parts[1].second;
  media_type->clear();
  const size_t ct = parts[1].first.find("content-type:");
  if (ct != std::string::npos) {
    size_t start = ct + 13;
    while (start < parts[1].first.size() && parts[1].first[start] == ' ') ++start;
    size_t end = parts[1].first.find_first_of("\r\n", start);
    *media_type = parts[1].first.substr(start, end == std::string::npos ? end : end - start);
  }
  return true;
}

LocalResponse ResumeIncomplete(int64_t persisted) {
  LocalResponse r;
  r.status = 308;
  if (persisted > 0) r.headers.emplace_back("Range", "bytes=0-" + std::to_string(persisted - 1));
  return r;
}

}  // namespace

LocalResponse DriveApi::Upload(const Call& c, const std::string& file_id, bool* notify) {
  const LocalRequest& req = *c.req;
  const std::string upload_type = req.QueryParam("uploadType");
  const bool drop = c.fault != nullptr && c.fault->kind == FaultKind::kDropUpload;
  const std::string fields = req.QueryParam("fields");
  std::string content_type = req.Header("content-type");
  if (content_type.empty()) content_type = "application/octet-stream";

  if (upload_type == "media" || upload_type == "multipart") {
    if (drop) return Dropped();  // nothing stored
    nlohmann::json meta = nlohmann::json::object();
    std::string media = req.body;
    std::string media_type = content_type;
    if (upload_type == "multipart") {
      if (!ParseMultipart(req, &meta, &media, &media_type))
        return GoogleError(400, "badContent", "Malformed multipart body.");
      if (media_type.empty()) media_type = "application/octet-stream";
    }
    std::lock_guard lock(mu_);
    DriveFile f;
    if (file_id.empty()) {
      if (auto e = PrepareCreate(c, meta, media_type, static_cast<int64_t>(media.size()), &f))
        return *e;
    } else {
      const DriveFile* existing = state_->Find(file_id);
      if (existing == nullptr || !ScopeAllows(c.scope, existing->space) || existing->is_folder())
        return GoogleError(404, "notFound", "File not found: " + file_id + ".", "global",
                           "fileId", "parameter");
      f = *existing;
      if (auto e = ApplyUpdate(meta, static_cast<int64_t>(media.size()), &f)) return *e;
      if (!meta.contains("modifiedTime")) f.modified_ms = NowMs();
      ++f.version;
    }
    if (!state_->Put(f, &media).ok()) return GoogleError(500, "backendError", "Internal Error");
    *notify = true;
    return FileResponse(*state_->Find(f.id), fields);
  }

  if (upload_type != "resumable")
    return GoogleError(400, "invalid", "Invalid Value", "global", "uploadType", "parameter");

  nlohmann::json meta = nlohmann::json::object();
  if (!req.body.empty()) {
    meta = nlohmann::json::parse(req.body, nullptr, false);
    if (!meta.is_object()) return GoogleError(400, "parseError", "Parse Error");
  }
  UploadSession s;
  s.is_update = !file_id.empty();
  s.metadata = meta;
  s.fields = fields;
  s.content_type = req.Header("x-upload-content-type");
  if (s.content_type.empty()) s.content_type = "application/octet-stream";
  const std::string length = req.Header("x-upload-content-length");
  if (!length.empty()) {
    try {
      s.total = std::stoll(length);
    } catch (...) {
      return GoogleError(400, "badRequest", "Invalid X-Upload-Content-Length");
    }
  }
  s.created_ms = NowMs();
  std::lock_guard lock(mu_);
  if (s.is_update) {
    const DriveFile* existing = state_->Find(file_id);
    if (existing == nullptr || !ScopeAllows(c.scope, existing->space) || existing->is_folder())
      return GoogleError(404, "notFound", "File not found: " + file_id + ".", "global", "fileId",
                         "parameter");
    s.file_id = existing->id;
    if (s.total >= 0) {
      if (auto e = CheckQuota(existing->size, s.total)) return *e;
    }
  } else {
    DriveFile probe;
    // Validates parents, scope, a given id (409 when taken) and, when known, the quota.
    if (auto e = PrepareCreate(c, meta, s.content_type, s.total, &probe)) return *e;
  }
  s.id = "AEnB2U" + RandomString(40);
  const std::string path = s.is_update ? "/upload/drive/v3/files/" + s.file_id
                                       : std::string("/upload/drive/v3/files");
  sessions_[s.id] = s;
  LocalResponse r;
  r.status = 200;
  r.headers.emplace_back("Location",
                         base_url_ + path + "?uploadType=resumable&upload_id=" + s.id);
  r.headers.emplace_back("X-GUploader-UploadID", s.id);
  return r;
}

LocalResponse DriveApi::UploadSessionPut(const Call& c, const std::string& upload_id,
                                         bool* notify) {
  const LocalRequest& req = *c.req;
  const bool drop = c.fault != nullptr && c.fault->kind == FaultKind::kDropUpload;
  std::lock_guard lock(mu_);
  auto it = sessions_.find(upload_id);
  const int64_t now = NowMs();
  if (it != sessions_.end() && now - it->second.created_ms > options_.upload_session_ttl_s * 1000)
    sessions_.erase(it), it = sessions_.end();
  if (it == sessions_.end())
    return GoogleError(404, "notFound", "Upload session not found or expired: " + upload_id);
  UploadSession& s = it->second;
  const std::string fields = s.fields.empty() ? req.QueryParam("fields") : s.fields;
  if (!s.done_file_id.empty()) {
    if (const DriveFile* f = state_->Find(s.done_file_id)) return FileResponse(*f, fields);
    return GoogleError(404, "notFound", "File not found: " + s.done_file_id + ".");
  }

  // Content-Range: "bytes a-b/T", "bytes a-b/*", "bytes */T", "bytes */*"; absent: the whole file.
  const std::string range = req.Header("content-range");
  int64_t first = 0;
  int64_t total = -1;
  bool status_query = false;
  if (range.empty()) {
    total = static_cast<int64_t>(req.body.size());
  } else {
    if (range.rfind("bytes ", 0) != 0)
      return GoogleError(400, "badRequest", "Failed to parse Content-Range header.");
    const std::string spec = range.substr(6);
    const size_t slash = spec.find('/');
    if (slash == std::string::npos)
      return GoogleError(400, "badRequest", "Failed to parse Content-Range header.");
    const std::string span = spec.substr(0, slash), tot = spec.substr(slash + 1);
    try {
      if (tot != "*") total = std::stoll(tot);
      if (span == "*") {
        status_query = true;
      } else {
        const size_t dash = span.find('-');
        if (dash == std::string::npos) throw std::invalid_argument("range");
        first = std::stoll(span.substr(0, dash));
        const int64_t last = std::stoll(span.substr(dash + 1));
        if (last - first + 1 != static_cast<int64_t>(req.body.size()) || first < 0)
          return GoogleError(400, "badRequest",
                             "The Content-Range does not match the number of bytes sent.");
      }
    } catch (...) {
      return GoogleError(400, "badRequest", "Failed to parse Content-Range header.");
    }
  }
  if (total >= 0) {
    if (s.total >= 0 && s.total != total)
      return GoogleError(400, "badRequest", "The total size does not match the upload session.");
    s.total = total;
  }
  const int64_t persisted = static_cast<int64_t>(s.data.size());
  if (!status_query) {
    if (first > persisted) {
      return GoogleError(400, "badRequest",
                         "Invalid request. According to the Content-Range header, the upload "
                         "offset is " + std::to_string(first) +
                             " byte(s), which exceeds already uploaded size of " +
                             std::to_string(persisted) + " byte(s).");
    }
    // Overlap with what is already persisted is skipped.
    const std::string fresh = req.body.substr(static_cast<size_t>(persisted - first));
    if (drop) {
      s.data += fresh.substr(0, fresh.size() / 2);
      return Dropped();
    }
    s.data += fresh;
    if (s.total >= 0 && static_cast<int64_t>(s.data.size()) > s.total)
      return GoogleError(400, "badRequest", "More bytes than the declared total.");
    if (s.total < 0 || static_cast<int64_t>(s.data.size()) < s.total) {
      // A non-final chunk: Drive persists whole 256 KiB units only.
      const int64_t floored = static_cast<int64_t>(s.data.size()) / kChunkGranularity *
                              kChunkGranularity;
      s.data.resize(static_cast<size_t>(std::max(persisted, floored)));
      return ResumeIncomplete(static_cast<int64_t>(s.data.size()));
    }
  } else if (drop) {
    return Dropped();
  } else if (s.total < 0 || persisted < s.total) {
    return ResumeIncomplete(persisted);
  }

  // Complete: commit the file.
  DriveFile f;
  const int64_t size = static_cast<int64_t>(s.data.size());
  if (s.is_update) {
    const DriveFile* existing = state_->Find(s.file_id);
    if (existing == nullptr) return GoogleError(404, "notFound", "File not found: " + s.file_id + ".");
    f = *existing;
    if (auto e = ApplyUpdate(s.metadata, size, &f)) return *e;
    if (!s.metadata.contains("modifiedTime")) f.modified_ms = NowMs();
    ++f.version;
  } else {
    if (auto e = PrepareCreate(c, s.metadata, s.content_type, size, &f)) return *e;
  }
  if (!state_->Put(f, &s.data).ok()) return GoogleError(500, "backendError", "Internal Error");
  s.done_file_id = f.id;
  s.data.clear();
  s.data.shrink_to_fit();
  *notify = true;
  return FileResponse(*state_->Find(f.id), fields);
}

}  // namespace jsync::emulator::gdrive

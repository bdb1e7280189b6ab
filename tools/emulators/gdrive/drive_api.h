// The Drive v3 HTTP surface: routing, auth, faults, latency, the request log, and the handlers
// for files, uploads (drive_uploads.cc), changes, channels and about. Thread-safe: every handler
// takes mu_ around DriveState; webhooks are queued after mu_ is released.
#pragma once

#include <atomic>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "net/local_http_server.h"
#include "tools/emulators/gdrive/drive_state.h"
#include "tools/emulators/gdrive/fault_spec.h"
#include "tools/emulators/gdrive/field_mask.h"
#include "tools/emulators/gdrive/oauth_endpoints.h"
#include "tools/emulators/gdrive/webhooks.h"

namespace jsync::emulator::gdrive {

struct DriveOptions {
  FaultSpec faults;
  int64_t latency_ms = 0;
  int64_t quota_limit = 0;  // bytes; 0: unlimited (storageQuota.limit absent)
  int64_t upload_session_ttl_s = 7 * 24 * 3600;
  std::string request_log;  // "" for none
};

class DriveApi {
 public:
  DriveApi(DriveOptions options, std::unique_ptr<DriveState> state, OAuthServer* oauth,
           Webhooks* webhooks);
  void set_base_url(std::string url) { base_url_ = std::move(url); }
  net::LocalResponse Handle(const net::LocalRequest& req);

 private:
  struct UploadSession {
    std::string id;
    bool is_update = false;
    std::string file_id;  // the file to update, or the id given in the metadata
    nlohmann::json metadata;
    std::string fields;
    std::string content_type;
    int64_t total = -1;  // -1: not known yet
    std::string data;    // persisted bytes
    int64_t created_ms = 0;
    std::string done_file_id;
  };
  // Parsed common request facts.
  struct Call {
    const net::LocalRequest* req;
    std::string scope;
    std::string token;
    const Fault* fault = nullptr;
  };

  net::LocalResponse Route(Call& call);
  void LogRequest(const net::LocalRequest& req);

  // Handlers (each takes mu_ itself; `notify` set when a change was recorded).
  net::LocalResponse About(const Call& c);
  net::LocalResponse ListFiles(const Call& c);
  net::LocalResponse GetFile(const Call& c, const std::string& id);
  net::LocalResponse CreateMetadataOnly(const Call& c, bool* notify);
  net::LocalResponse UpdateMetadata(const Call& c, const std::string& id, bool* notify);
  net::LocalResponse DeleteFile(const Call& c, const std::string& id, bool* notify);
  net::LocalResponse EmptyTrash(const Call& c, bool* notify);
  net::LocalResponse GenerateIds(const Call& c);
  net::LocalResponse StartPageToken(const Call& c);
  net::LocalResponse ListChanges(const Call& c);
  net::LocalResponse Watch(const Call& c);
  net::LocalResponse StopChannel(const Call& c);
  // drive_uploads.cc
  net::LocalResponse Upload(const Call& c, const std::string& file_id, bool* notify);
  net::LocalResponse UploadSessionPut(const Call& c, const std::string& upload_id, bool* notify);

  // Under mu_: validates metadata for a new file (or an update of `existing`) and fills *out;
  // an error response when it is refused. `content_size` -1 for no content.
  std::optional<net::LocalResponse> PrepareCreate(const Call& c, const nlohmann::json& meta,
                                                  const std::string& default_mime,
                                                  int64_t content_size, DriveFile* out);
  std::optional<net::LocalResponse> ApplyUpdate(const nlohmann::json& meta, int64_t content_size,
                                                DriveFile* file);
  std::optional<net::LocalResponse> CheckQuota(int64_t old_size, int64_t new_size) const;
  // The committed file as JSON shaped by `fields` (default: kind,id,name,mimeType).
  net::LocalResponse FileResponse(const DriveFile& f, const std::string& fields, int status = 200);
  bool ScopeAllows(const std::string& scope, const std::string& space) const;

  DriveOptions options_;
  OAuthServer* oauth_;
  Webhooks* webhooks_;
  std::string base_url_;
  std::atomic<uint64_t> drive_requests_{0};
  std::mutex mu_;  // guards state_ and sessions_
  std::unique_ptr<DriveState> state_;
  std::map<std::string, UploadSession> sessions_;
  std::mutex log_mu_;
  std::ofstream request_log_;
};

// Shapes `value` with a `fields` mask (validated against `schema`); nullopt and *error (a 400)
// when the mask is invalid.
std::optional<nlohmann::json> ShapeFields(const nlohmann::json& value, const std::string& fields,
                                          const std::string& default_fields, const Schema& schema,
                                          net::LocalResponse* error);

}  // namespace jsync::emulator::gdrive

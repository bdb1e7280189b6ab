#include "tools/emulators/gdrive/drive_api.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <sstream>
#include <thread>

#include "tools/emulators/gdrive/query_parser.h"
#include "tools/emulators/gdrive/util.h"

namespace jsync::emulator::gdrive {

using net::LocalRequest;
using net::LocalResponse;

namespace {

const char* kFileDefault = "kind,id,name,mimeType";
const char* kListDefault = "kind,incompleteSearch,nextPageToken,files(kind,id,name,mimeType)";
const char* kChangesDefault =
    "kind,nextPageToken,newStartPageToken,changes(kind,type,changeType,time,removed,fileId,"
    "file(kind,id,name,mimeType))";

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) {
    const size_t b = part.find_first_not_of(' ');
    const size_t e = part.find_last_not_of(' ');
    if (b != std::string::npos) out.push_back(part.substr(b, e - b + 1));
  }
  return out;
}

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i])) && !(i == 0 && s[i] == '-')) return false;
  *out = std::stoll(s);
  return true;
}

// pageSize per the discovery document: 1..1000, default 100.
std::optional<LocalResponse> PageSize(const LocalRequest& req, int64_t* size) {
  const std::string v = req.QueryParam("pageSize");
  *size = 100;
  if (v.empty()) return std::nullopt;
  if (!ParseInt(v, size) || *size < 1 || *size > 1000)
    return InvalidParam("pageSize", "Invalid value '" + v +
                                        "'. Values must be within the range: [1, 1000]");
  return std::nullopt;
}

LocalResponse NotFound(const std::string& id) {
  return GoogleError(404, "notFound", "File not found: " + id + ".", "global", "fileId",
                     "parameter");
}

std::string Redact(const std::string& name, const std::string& value) {
  static const char* kSecret[] = {"token",         "code",        "refresh_token", "access_token",
                                  "code_verifier", "device_code", "client_secret", "upload_id"};
  for (const char* s : kSecret)
    if (name == s) return "REDACTED";
  return value;
}

}  // namespace

std::optional<nlohmann::json> ShapeFields(const nlohmann::json& value, const std::string& fields,
                                          const std::string& default_fields, const Schema& schema,
                                          LocalResponse* error) {
  FieldMask mask;
  std::string bad;
  const std::string text = fields.empty() ? default_fields : fields;
  std::string unknown;
  if (!FieldMask::Parse(text, &mask, &bad)) {
    unknown = bad;
  } else {
    unknown = UnknownField(mask, schema);
  }
  if (!unknown.empty()) {
    *error = GoogleError(400, "invalidParameter", "Invalid field selection " + unknown, "global",
                         "fields", "parameter");
    return std::nullopt;
  }
  return mask.Apply(value);
}

DriveApi::DriveApi(DriveOptions options, std::unique_ptr<DriveState> state, OAuthServer* oauth,
                   Webhooks* webhooks)
    : options_(std::move(options)), oauth_(oauth), webhooks_(webhooks), state_(std::move(state)) {
  if (!options_.request_log.empty())
    request_log_.open(options_.request_log, std::ios::app | std::ios::binary);
}

void DriveApi::LogRequest(const LocalRequest& req) {
  if (!request_log_.is_open()) return;
  nlohmann::json query = nlohmann::json::object();
  for (const auto& [k, v] : net::ParseForm(req.query)) query[k] = Redact(k, v);
  const std::string type = req.Header("content-type");
  nlohmann::json line = {{"method", req.method},
                         {"path", req.path},
                         {"query", query},
                         {"content_type", type}};
  // JSON bodies only (metadata), never media; multipart: the metadata part.
  if (type.rfind("application/json", 0) == 0) {
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    if (!j.is_discarded()) line["body_json"] = j;
  } else if (type.rfind("multipart/related", 0) == 0) {
    const size_t open = req.body.find('{');
    const size_t boundary = req.body.find("\r\n--", open == std::string::npos ? 0 : open);
    if (open != std::string::npos && boundary != std::string::npos) {
      auto j = nlohmann::json::parse(req.body.substr(open, boundary - open), nullptr, false);
      if (!j.is_discarded()) line["body_json"] = j;
    }
  }
  std::lock_guard lock(log_mu_);
  request_log_ << line.dump() << "\n";
  request_log_.flush();
}

bool DriveApi::ScopeAllows(const std::string& scope, const std::string& space) const {
  std::stringstream in(scope);
  std::string s;
  while (in >> s) {
    if (s == kScopeDrive) return true;
    if (space == kAppDataSpace && s == kScopeAppData) return true;
    if (space == kDriveSpace && s == kScopeFile) return true;
  }
  return false;
}

LocalResponse DriveApi::Handle(const LocalRequest& req) {
  LogRequest(req);
  if (options_.latency_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.latency_ms));
  if (auto oauth = oauth_->Handle(req)) return *oauth;

  const bool drive = req.path.rfind("/drive/v3/", 0) == 0 ||
                     req.path.rfind("/upload/drive/v3/", 0) == 0 ||
                     req.path.rfind("/resumable/upload/drive/v3/", 0) == 0;
  if (!drive) {
    return GoogleError(404, "notFound", "Not Found: " + req.path);
  }
  Call call;
  call.req = &req;
  const uint64_t nth = ++drive_requests_;
  call.fault = options_.faults.Match(nth);
  const std::string auth = req.Header("authorization");
  if (auth.rfind("Bearer ", 0) == 0) call.token = auth.substr(7);

  auto unauthorized = [] {
    LocalResponse r = GoogleError(401, "authError", "Invalid Credentials", "global",
                                  "Authorization", "header");
    r.headers.emplace_back("WWW-Authenticate",
                           "Bearer realm=\"https://accounts.google.com/\", "
                           "error=\"invalid_token\"");
    return r;
  };
  if (call.fault != nullptr) {
    std::fprintf(stderr, "jsync-emulator: request %llu %s %s: fault %s\n",
                 static_cast<unsigned long long>(nth), req.method.c_str(), req.path.c_str(),
                 FaultKindName(call.fault->kind));
    switch (call.fault->kind) {
      case FaultKind::kRate:
        return GoogleError(403, "userRateLimitExceeded", "User Rate Limit Exceeded",
                           "usageLimits");
      case FaultKind::k429: {
        LocalResponse r =
            GoogleError(429, "rateLimitExceeded", "Rate Limit Exceeded", "usageLimits");
        r.headers.emplace_back("Retry-After", "1");
        return r;
      }
      case FaultKind::k429Date: {
        // Retry-After as an HTTP-date (RFC 9110 §10.2.3), 30 s ahead: what proxies and some
        // Google front ends send instead of delta-seconds.
        LocalResponse r =
            GoogleError(429, "rateLimitExceeded", "Rate Limit Exceeded", "usageLimits");
        const std::time_t at = std::time(nullptr) + 30;
        std::tm parts{};
        gmtime_r(&at, &parts);
        char date[64];
        std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &parts);
        r.headers.emplace_back("Retry-After", date);
        return r;
      }
      case FaultKind::k500:
        return GoogleError(500, "backendError", "Internal Error");
      case FaultKind::k502:
        return LocalResponse::Text(
            502, "<!DOCTYPE html><html><title>Error 502 (Server Error)!!1</title><p><b>502.</b> "
                 "That's an error.<p>The server encountered a temporary error and could not "
                 "complete your request.<p>Please try again in 30 seconds.</html>",
            "text/html; charset=UTF-8");
      case FaultKind::k503:
        return GoogleError(503, "backendError", "Service Unavailable");
      case FaultKind::kDrop: {
        LocalResponse r;
        r.drop_connection = true;
        return r;
      }
      case FaultKind::kExpireToken:
        if (!call.token.empty()) oauth_->ExpireAccessToken(call.token);
        return unauthorized();
      case FaultKind::kQuota:
        return GoogleError(403, "storageQuotaExceeded",
                           "The user's Drive storage quota has been exceeded.");
      case FaultKind::kDropUpload:
      case FaultKind::kDropAfter:
        break;  // handled where the request is processed
    }
  }
  if (call.token.empty() || oauth_->CheckAccessToken(call.token, &call.scope) !=
                                OAuthServer::Check::kOk) {
    return unauthorized();
  }
  LocalResponse r = Route(call);
  if (call.fault != nullptr && call.fault->kind == FaultKind::kDropAfter) {
    r = LocalResponse();
    r.drop_connection = true;
  }
  return r;
}

LocalResponse DriveApi::Route(Call& c) {
  const LocalRequest& req = *c.req;
  const std::string& m = req.method;
  std::string path = req.path;
  bool notify = false;
  LocalResponse r;
  auto done = [&](LocalResponse resp) {
    if (notify) webhooks_->NotifyChange();
    return resp;
  };
  if (path.rfind("/resumable", 0) == 0) path = path.substr(10);
  if (path.rfind("/upload/drive/v3/files", 0) == 0) {
    std::string id = path.substr(std::string("/upload/drive/v3/files").size());
    if (!id.empty() && id[0] == '/') id = id.substr(1);
    const std::string upload_id = req.QueryParam("upload_id");
    if (!upload_id.empty() && (m == "PUT" || m == "POST" || m == "PATCH"))
      return done(UploadSessionPut(c, upload_id, &notify));
    if ((m == "POST" && id.empty()) || (m == "PATCH" && !id.empty()))
      return done(Upload(c, id, &notify));
    return GoogleError(405, "methodNotAllowed", "Method not allowed: " + m + " " + path);
  }
  const std::string base = "/drive/v3/";
  const std::string rest = path.substr(base.size());
  if (rest == "about" && m == "GET") return About(c);
  if (rest == "files" && m == "GET") return ListFiles(c);
  if (rest == "files" && m == "POST") return done(CreateMetadataOnly(c, &notify));
  if (rest == "files/generateIds" && m == "GET") return GenerateIds(c);
  if (rest == "files/trash" && m == "DELETE") return done(EmptyTrash(c, &notify));
  if (rest.rfind("files/", 0) == 0 && rest.find('/', 6) == std::string::npos) {
    const std::string id = rest.substr(6);
    if (m == "GET") return GetFile(c, id);
    if (m == "PATCH") return done(UpdateMetadata(c, id, &notify));
    if (m == "DELETE") return done(DeleteFile(c, id, &notify));
  }
  if (rest == "changes/startPageToken" && m == "GET") return StartPageToken(c);
  if (rest == "changes" && m == "GET") return ListChanges(c);
  if (rest == "changes/watch" && m == "POST") return Watch(c);
  if (rest == "channels/stop" && m == "POST") return StopChannel(c);
  return GoogleError(404, "notFound", "Method not found: " + m + " " + path);
}

LocalResponse DriveApi::About(const Call& c) {
  const std::string fields = c.req->QueryParam("fields");
  if (fields.empty()) {
    return GoogleError(400, "required", "The 'fields' parameter is required for this method.",
                       "global", "fields", "parameter");
  }
  nlohmann::json quota;
  {
    std::lock_guard lock(mu_);
    const int64_t usage = state_->usage();
    quota = {{"usage", std::to_string(usage)},
             {"usageInDrive", std::to_string(usage)},
             {"usageInDriveTrash", std::to_string(state_->trash_usage())}};
  }
  if (options_.quota_limit > 0) quota["limit"] = std::to_string(options_.quota_limit);
  const nlohmann::json about = {
      {"kind", "drive#about"},
      {"user",
       {{"kind", "drive#user"},
        {"displayName", "Emulated User"},
        {"emailAddress", "user@example.com"},
        {"permissionId", "00000000000000000001"},
        {"me", true}}},
      {"storageQuota", quota},
      {"maxUploadSize", "5497558138880"},
      {"appInstalled", true}};
  LocalResponse err;
  auto shaped = ShapeFields(about, fields, "", AboutSchema(), &err);
  if (!shaped) return err;
  return LocalResponse::Json(200, shaped->dump(1));
}

LocalResponse DriveApi::FileResponse(const DriveFile& f, const std::string& fields, int status) {
  LocalResponse err;
  auto shaped = ShapeFields(f.ToJson(), fields, kFileDefault, FileSchema(), &err);
  if (!shaped) return err;
  return LocalResponse::Json(status, shaped->dump(1));
}

LocalResponse DriveApi::ListFiles(const Call& c) {
  const LocalRequest& req = *c.req;
  std::string spaces_param = req.QueryParam("spaces");
  if (spaces_param.empty()) spaces_param = kDriveSpace;
  const auto spaces = SplitComma(spaces_param);
  for (const auto& s : spaces) {
    if (s != kDriveSpace && s != kAppDataSpace && s != "photos")
      return InvalidParam("spaces", "Invalid Value");
    if (!ScopeAllows(c.scope, s)) {
      return GoogleError(403, "insufficientScopes",
                         "The granted scopes do not give access to all of the requested spaces.");
    }
  }
  int64_t page_size = 0;
  if (auto e = PageSize(req, &page_size)) return *e;
  std::shared_ptr<const Query> query;
  const std::string q = req.QueryParam("q");
  if (!q.empty()) {
    auto parsed = Query::Parse(q);
    if (!parsed.ok()) return InvalidParam("q");
    query = *parsed;
  }
  struct Key {
    std::string name;
    bool desc;
  };
  std::vector<Key> order;
  for (const auto& item : SplitComma(req.QueryParam("orderBy"))) {
    std::stringstream in(item);
    std::string key, dir, extra;
    in >> key >> dir >> extra;
    static const std::vector<std::string> kKeys = {
        "createdTime", "folder",  "modifiedByMeTime", "modifiedTime", "name", "name_natural",
        "quotaBytesUsed", "recency", "sharedWithMeTime", "starred", "viewedByMeTime"};
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end() ||
        (!dir.empty() && dir != "desc" && dir != "asc") || !extra.empty()) {
      return InvalidParam("orderBy", "Invalid Value");
    }
    order.push_back({key, dir == "desc"});
  }
  const std::string fields = req.QueryParam("fields");
  const std::string token = req.QueryParam("pageToken");
  const std::string fingerprint = HexSha256(q + "|" + spaces_param + "|" +
                                            req.QueryParam("orderBy")).substr(0, 8);
  size_t offset = 0;
  if (!token.empty()) {
    const size_t tilde = token.find('~');
    int64_t v = 0;
    if (tilde == std::string::npos || token.substr(tilde + 1) != fingerprint ||
        !ParseInt(token.substr(0, tilde), &v) || v < 0) {
      return InvalidParam("pageToken");
    }
    offset = static_cast<size_t>(v);
  }

  nlohmann::json files = nlohmann::json::array();
  bool more = false;
  {
    std::lock_guard lock(mu_);
    const std::string appdata = state_->appdata_folder_id();
    std::vector<const DriveFile*> hits;
    for (const auto& [id, f] : state_->files()) {
      if (std::find(spaces.begin(), spaces.end(), f.space) == spaces.end()) continue;
      if (query) {
        QueryFile qf;
        qf.name = f.name;
        qf.mime_type = f.mime_type;
        qf.parents = f.parents;
        for (const auto& p : f.parents)
          if (p == appdata) qf.parents.push_back(kAppDataSpace);
        qf.trashed = f.trashed;
        qf.starred = f.starred;
        qf.created_ms = f.created_ms;
        qf.modified_ms = f.modified_ms;
        qf.app_properties = &f.app_properties;
        qf.properties = &f.properties;
        if (!query->Matches(qf)) continue;
      }
      hits.push_back(&f);
    }
    auto cmp_key = [](const Key& k, const DriveFile* a, const DriveFile* b) -> int {
      auto three = [](const auto& x, const auto& y) { return x < y ? -1 : (y < x ? 1 : 0); };
      if (k.name == "name" || k.name == "name_natural") return three(a->name, b->name);
      if (k.name == "createdTime") return three(a->created_ms, b->created_ms);
      if (k.name == "modifiedTime" || k.name == "recency" || k.name == "modifiedByMeTime")
        return three(a->modified_ms, b->modified_ms);
      if (k.name == "folder") return three(!a->is_folder(), !b->is_folder());
      if (k.name == "quotaBytesUsed") return three(a->size, b->size);
      if (k.name == "starred") return three(!a->starred, !b->starred);
      return 0;
    };
    std::stable_sort(hits.begin(), hits.end(), [&](const DriveFile* a, const DriveFile* b) {
      for (const auto& k : order) {
        const int r = cmp_key(k, a, b);
        if (r != 0) return k.desc ? r > 0 : r < 0;
      }
      if (a->created_ms != b->created_ms) return a->created_ms < b->created_ms;
      return a->id < b->id;
    });
    for (size_t i = offset; i < hits.size() && files.size() < static_cast<size_t>(page_size); ++i)
      files.push_back(hits[i]->ToJson());
    more = offset + files.size() < hits.size();
  }
  nlohmann::json list = {{"kind", "drive#fileList"}, {"incompleteSearch", false},
                         {"files", files}};
  if (more) list["nextPageToken"] = std::to_string(offset + files.size()) + "~" + fingerprint;
  LocalResponse err;
  auto shaped = ShapeFields(list, fields, kListDefault, FileListSchema(), &err);
  if (!shaped) return err;
  return LocalResponse::Json(200, shaped->dump(1));
}

LocalResponse DriveApi::GetFile(const Call& c, const std::string& id) {
  const LocalRequest& req = *c.req;
  DriveFile file;
  std::string content;
  const bool media = req.QueryParam("alt") == "media";
  {
    std::lock_guard lock(mu_);
    const DriveFile* f = state_->Find(id);
    if (f == nullptr || !ScopeAllows(c.scope, f->space)) return NotFound(id);
    file = *f;
    if (media) {
      if (!f->has_content) {
        return GoogleError(403, "fileNotDownloadable",
                           "Only files with binary content can be downloaded. Use Export with "
                           "Docs Editors files.",
                           "global", "alt", "parameter");
      }
      if (!state_->ReadContent(f->id, &content).ok()) return NotFound(id);
    }
  }
  if (!media) return FileResponse(file, req.QueryParam("fields"));
  const std::string range = req.Header("range");
  const int64_t size = static_cast<int64_t>(content.size());
  auto whole = [&] {
    LocalResponse r = LocalResponse::Text(200, content, file.mime_type);
    r.headers.emplace_back("Accept-Ranges", "bytes");
    return r;
  };
  if (range.empty()) return whole();
  int64_t first = -1, last = -1;
  if (range.rfind("bytes=", 0) != 0 || range.find(',') != std::string::npos) return whole();
  const std::string spec = range.substr(6);
  const size_t dash = spec.find('-');
  if (dash == std::string::npos) return whole();
  const std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
  if (a.empty()) {  // suffix: the last N bytes
    int64_t n = 0;
    if (!ParseInt(b, &n) || n < 0) return whole();
    if (n == 0 || size == 0) first = size;  // unsatisfiable
    else {
      first = std::max<int64_t>(0, size - n);
      last = size - 1;
    }
  } else {
    if (!ParseInt(a, &first) || first < 0) return whole();
    last = size - 1;
    if (!b.empty() && (!ParseInt(b, &last) || last < first)) return whole();
    last = std::min(last, size - 1);
  }
  if (first >= size) {
    LocalResponse r = GoogleError(416, "requestedRangeNotSatisfiable",
                                  "Request range not satisfiable");
    r.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
    return r;
  }
  LocalResponse r = LocalResponse::Text(
      206, content.substr(static_cast<size_t>(first), static_cast<size_t>(last - first + 1)),
      file.mime_type);
  r.headers.emplace_back("Content-Range", "bytes " + std::to_string(first) + "-" +
                                              std::to_string(last) + "/" + std::to_string(size));
  r.headers.emplace_back("Accept-Ranges", "bytes");
  return r;
}

std::optional<LocalResponse> DriveApi::CheckQuota(int64_t old_size, int64_t new_size) const {
  if (options_.quota_limit <= 0) return std::nullopt;
  if (state_->usage() - old_size + new_size > options_.quota_limit) {
    return GoogleError(403, "storageQuotaExceeded",
                       "The user's Drive storage quota has been exceeded.");
  }
  return std::nullopt;
}

std::optional<LocalResponse> DriveApi::PrepareCreate(const Call& c, const nlohmann::json& meta,
                                                     const std::string& default_mime,
                                                     int64_t content_size, DriveFile* out) {
  if (!meta.is_object()) return GoogleError(400, "badRequest", "Bad Request");
  DriveFile f;
  f.name = meta.value("name", nlohmann::json("Untitled")).is_string()
               ? meta.value("name", "Untitled")
               : "Untitled";
  f.mime_type = meta.contains("mimeType") && meta["mimeType"].is_string()
                    ? meta["mimeType"].get<std::string>()
                    : default_mime;
  if (f.is_folder() && content_size >= 0)
    return GoogleError(400, "badRequest", "Folders cannot have content.");
  std::vector<std::string> parents;
  if (meta.contains("parents")) {
    if (!meta["parents"].is_array()) return InvalidParam("parents");
    for (const auto& p : meta["parents"]) {
      if (!p.is_string()) return InvalidParam("parents");
      parents.push_back(p.get<std::string>());
    }
  }
  if (parents.size() > 1) {
    return GoogleError(403, "cannotAddParent",
                       "Increasing the number of parents is not allowed.");
  }
  if (parents.empty() || parents[0] == "root") {
    f.space = kDriveSpace;
    f.parents = {"root"};
  } else {
    const DriveFile* parent = state_->Find(parents[0]);
    if (parent == nullptr || !ScopeAllows(c.scope, parent->space))
      return GoogleError(404, "notFound", "File not found: " + parents[0] + ".", "global",
                         "fileId", "parameter");
    if (!parent->is_folder())
      return GoogleError(400, "invalidParent", "The specified parent is not a folder.");
    f.space = parent->space;
    f.parents = {parent->id};
  }
  if (!ScopeAllows(c.scope, f.space)) {
    return GoogleError(403, "insufficientScopes",
                       "Request had insufficient authentication scopes.");
  }
  if (meta.contains("id") && meta["id"].is_string()) {
    f.id = meta["id"].get<std::string>();
    if (!state_->IdGenerated(f.id, f.space))
      return GoogleError(400, "invalid", "The provided file ID is not usable.", "global", "id",
                         "other");
    if (state_->Find(f.id) != nullptr)
      return GoogleError(409, "fileIdInUse", "A file already exists with the provided ID.");
  } else {
    f.id = state_->NewId(f.space);
  }
  f.created_ms = f.modified_ms = NowMs();
  for (const char* key : {"createdTime", "modifiedTime"}) {
    if (meta.contains(key)) {
      int64_t ms = 0;
      if (!meta[key].is_string() || !ParseRfc3339(meta[key].get<std::string>(), &ms))
        return InvalidParam(key);
      (std::string(key) == "createdTime" ? f.created_ms : f.modified_ms) = ms;
    }
  }
  if (auto e = ApplyUpdate(
          [&] {
            nlohmann::json m = meta;
            for (const char* k : {"name", "mimeType", "createdTime", "modifiedTime"}) m.erase(k);
            return m;
          }(),
          -1, &f)) {
    return e;
  }
  f.version = 1;
  if (content_size >= 0) {
    if (auto e = CheckQuota(0, content_size)) return e;
  }
  *out = std::move(f);
  return std::nullopt;
}

std::optional<LocalResponse> DriveApi::ApplyUpdate(const nlohmann::json& meta,
                                                   int64_t content_size, DriveFile* f) {
  if (!meta.is_object()) return GoogleError(400, "badRequest", "Bad Request");
  for (const char* key : {"appProperties", "properties"}) {
    if (!meta.contains(key)) continue;
    const auto& props = meta[key];
    if (!props.is_object()) return InvalidParam(key);
    auto& target = std::string(key) == "appProperties" ? f->app_properties : f->properties;
    for (const auto& [k, v] : props.items()) {
      if (v.is_null()) {
        target.erase(k);
      } else if (v.is_string()) {
        if (k.size() + v.get<std::string>().size() > 124)
          return GoogleError(400, "invalidProperty",
                             "The property key and value must not exceed 124 bytes.");
        target[k] = v.get<std::string>();
      } else {
        return InvalidParam(key);
      }
    }
  }
  if (meta.contains("name") && meta["name"].is_string()) f->name = meta["name"];
  if (meta.contains("mimeType") && meta["mimeType"].is_string()) f->mime_type = meta["mimeType"];
  if (meta.contains("description") && meta["description"].is_string())
    f->description = meta["description"];
  if (meta.contains("originalFilename") && meta["originalFilename"].is_string())
    f->original_filename = meta["originalFilename"];
  if (meta.contains("trashed") && meta["trashed"].is_boolean()) f->trashed = meta["trashed"];
  if (meta.contains("starred") && meta["starred"].is_boolean()) f->starred = meta["starred"];
  if (meta.contains("modifiedTime")) {
    int64_t ms = 0;
    if (!meta["modifiedTime"].is_string() || !ParseRfc3339(meta["modifiedTime"], &ms))
      return InvalidParam("modifiedTime");
    f->modified_ms = ms;
  }
  if (content_size >= 0) {
    if (auto e = CheckQuota(state_->ContentSize(f->id), content_size)) return e;
  }
  return std::nullopt;
}

LocalResponse DriveApi::CreateMetadataOnly(const Call& c, bool* notify) {
  const auto meta = c.req->body.empty() ? nlohmann::json::object()
                                        : nlohmann::json::parse(c.req->body, nullptr, false);
  std::lock_guard lock(mu_);
  DriveFile f;
  if (auto e = PrepareCreate(c, meta, "application/octet-stream", -1, &f)) return *e;
  // A metadata-only blob file is an empty file.
  const std::string empty;
  const Status st = state_->Put(f, f.is_folder() ? nullptr : &empty);
  if (!st.ok()) return GoogleError(500, "backendError", "Internal Error");
  *notify = true;
  return FileResponse(*state_->Find(f.id), c.req->QueryParam("fields"));
}

LocalResponse DriveApi::UpdateMetadata(const Call& c, const std::string& id, bool* notify) {
  const auto meta = c.req->body.empty() ? nlohmann::json::object()
                                        : nlohmann::json::parse(c.req->body, nullptr, false);
  std::lock_guard lock(mu_);
  const DriveFile* existing = state_->Find(id);
  if (existing == nullptr || existing->id == state_->appdata_folder_id() ||
      !ScopeAllows(c.scope, existing->space))
    return NotFound(id);
  DriveFile f = *existing;
  if (auto e = ApplyUpdate(meta, -1, &f)) return *e;
  if (!meta.contains("modifiedTime")) f.modified_ms = NowMs();
  ++f.version;
  if (!state_->Put(f, nullptr).ok()) return GoogleError(500, "backendError", "Internal Error");
  *notify = true;
  return FileResponse(*state_->Find(id), c.req->QueryParam("fields"));
}

LocalResponse DriveApi::DeleteFile(const Call& c, const std::string& id, bool* notify) {
  std::lock_guard lock(mu_);
  const DriveFile* f = state_->Find(id);
  if (f == nullptr || !ScopeAllows(c.scope, f->space)) return NotFound(id);
  if (f->id == state_->appdata_folder_id())
    return GoogleError(403, "insufficientFilePermissions",
                       "The user does not have sufficient permissions for this file.");
  if (!state_->Delete(f->id).ok()) return GoogleError(500, "backendError", "Internal Error");
  *notify = true;
  LocalResponse r;
  r.status = 204;
  return r;
}

LocalResponse DriveApi::EmptyTrash(const Call& c, bool* notify) {
  std::lock_guard lock(mu_);
  std::vector<std::string> trashed;
  for (const auto& [id, f] : state_->files())
    if (f.trashed && ScopeAllows(c.scope, f.space)) trashed.push_back(id);
  for (const auto& id : trashed) {
    if (state_->Find(id) != nullptr && !state_->Delete(id).ok())
      return GoogleError(500, "backendError", "Internal Error");
  }
  *notify = !trashed.empty();
  LocalResponse r;
  r.status = 204;
  return r;
}

LocalResponse DriveApi::GenerateIds(const Call& c) {
  const LocalRequest& req = *c.req;
  int64_t count = 10;
  if (!req.QueryParam("count").empty() &&
      (!ParseInt(req.QueryParam("count"), &count) || count < 1 || count > 1000))
    return InvalidParam("count", "Invalid value '" + req.QueryParam("count") +
                                     "'. Values must be within the range: [1, 1000]");
  std::string space = req.QueryParam("space");
  if (space.empty()) space = kDriveSpace;
  if (space != kDriveSpace && space != kAppDataSpace) return InvalidParam("space");
  const std::string type = req.QueryParam("type");
  if (!type.empty() && type != "files" && type != "shortcuts") return InvalidParam("type");
  if (!ScopeAllows(c.scope, space))
    return GoogleError(403, "insufficientScopes",
                       "The granted scopes do not give access to all of the requested spaces.");
  nlohmann::json ids = nlohmann::json::array();
  {
    std::lock_guard lock(mu_);
    for (int64_t i = 0; i < count; ++i) ids.push_back(state_->NewId(space));
  }
  const nlohmann::json body = {{"kind", "drive#generatedIds"}, {"space", space}, {"ids", ids}};
  LocalResponse err;
  auto shaped = ShapeFields(body, req.QueryParam("fields"), "kind,space,ids",
                            GeneratedIdsSchema(), &err);
  if (!shaped) return err;
  return LocalResponse::Json(200, shaped->dump(1));
}

LocalResponse DriveApi::StartPageToken(const Call& c) {
  int64_t next;
  {
    std::lock_guard lock(mu_);
    next = state_->next_change_seq();
  }
  const nlohmann::json body = {{"kind", "drive#startPageToken"},
                               {"startPageToken", std::to_string(next)}};
  LocalResponse err;
  auto shaped = ShapeFields(body, c.req->QueryParam("fields"), "kind,startPageToken",
                            StartPageTokenSchema(), &err);
  if (!shaped) return err;
  return LocalResponse::Json(200, shaped->dump(1));
}

LocalResponse DriveApi::ListChanges(const Call& c) {
  const LocalRequest& req = *c.req;
  const std::string token = req.QueryParam("pageToken");
  if (token.empty()) {
    return GoogleError(400, "required", "Required parameter: pageToken", "global", "pageToken",
                       "parameter");
  }
  std::string spaces_param = req.QueryParam("spaces");
  if (spaces_param.empty()) spaces_param = kDriveSpace;
  auto spaces = SplitComma(spaces_param);
  for (const auto& s : spaces) {
    if (s != kDriveSpace && s != kAppDataSpace && s != "photos") return InvalidParam("spaces");
    if (!ScopeAllows(c.scope, s))
      return GoogleError(403, "insufficientScopes",
                         "The granted scopes do not give access to all of the requested spaces.");
  }
  if (req.QueryParam("restrictToMyDrive") == "true")
    spaces.erase(std::remove(spaces.begin(), spaces.end(), kAppDataSpace), spaces.end());
  const bool include_removed = req.QueryParam("includeRemoved") != "false";
  int64_t page_size = 0;
  if (auto e = PageSize(req, &page_size)) return *e;
  int64_t from = 0;
  nlohmann::json changes = nlohmann::json::array();
  nlohmann::json list = {{"kind", "drive#changeList"}};
  {
    std::lock_guard lock(mu_);
    const int64_t next = state_->next_change_seq();
    if (!ParseInt(token, &from) || from < 1 || from > next) return InvalidParam("pageToken");
    const auto& log = state_->changes();
    // The latest change of each file: earlier ones collapse into it (entries show current state).
    std::map<std::string, int64_t> latest;
    for (const auto& ch : log) latest[ch.file_id] = ch.seq;
    auto eligible = [&](const Change& ch) {
      if (ch.seq < from || latest[ch.file_id] != ch.seq) return false;
      if (std::find(spaces.begin(), spaces.end(), ch.space) == spaces.end()) return false;
      return include_removed || !ch.removed;
    };
    auto it = std::lower_bound(log.begin(), log.end(), from,
                               [](const Change& ch, int64_t seq) { return ch.seq < seq; });
    int64_t resume = next;
    for (; it != log.end(); ++it) {
      if (!eligible(*it)) continue;
      if (static_cast<int64_t>(changes.size()) == page_size) {
        resume = it->seq;
        break;
      }
      nlohmann::json entry = {{"kind", "drive#change"},   {"type", "file"},
                              {"changeType", "file"},     {"time", Rfc3339(it->time_ms)},
                              {"removed", it->removed},   {"fileId", it->file_id}};
      if (!it->removed) {
        if (const DriveFile* f = state_->Find(it->file_id)) entry["file"] = f->ToJson();
      }
      changes.push_back(entry);
    }
    if (resume != next) list["nextPageToken"] = std::to_string(resume);
    else list["newStartPageToken"] = std::to_string(next);
  }
  list["changes"] = changes;
  LocalResponse err;
  auto shaped =
      ShapeFields(list, req.QueryParam("fields"), kChangesDefault, ChangeListSchema(), &err);
  if (!shaped) return err;
  return LocalResponse::Json(200, shaped->dump(1));
}

LocalResponse DriveApi::Watch(const Call& c) {
  const LocalRequest& req = *c.req;
  const std::string token = req.QueryParam("pageToken");
  if (token.empty())
    return GoogleError(400, "required", "Required parameter: pageToken", "global", "pageToken",
                       "parameter");
  const auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (!body.is_object()) return GoogleError(400, "parseError", "Parse Error");
  const std::string id = body.value("id", "");
  const std::string type = body.value("type", "");
  const std::string address = body.value("address", "");
  if (id.empty() || id.size() > 64)
    return GoogleError(400, "required", "Required: channel id", "global", "id", "parameter");
  if (type != "web_hook" && type != "webhook")
    return GoogleError(400, "channelTypeNotSupported", "Unsupported channel type: " + type);
  if (address.rfind("http://", 0) != 0 && address.rfind("https://", 0) != 0)
    return GoogleError(400, "push.webhookUrlUnauthorized",
                       "Unauthorized WebHook callback channel: " + address);
  const int64_t now = NowMs();
  int64_t expiration = now + 3600 * 1000;
  if (body.contains("expiration")) {
    int64_t v = 0;
    const auto& e = body["expiration"];
    if (e.is_string() ? !ParseInt(e.get<std::string>(), &v) : !e.is_number_integer())
      return InvalidParam("expiration");
    if (e.is_number_integer()) v = e.get<int64_t>();
    expiration = std::min<int64_t>(v, now + int64_t{604800} * 1000);
  }
  Channel ch;
  ch.id = id;
  ch.token = body.value("token", "");
  ch.address = address;
  ch.expiration_ms = expiration;
  ch.resource_id = RandomString(27);
  std::string spaces = req.QueryParam("spaces");
  ch.resource_uri = base_url_ + "/drive/v3/changes?alt=json&pageToken=" + token +
                    (spaces.empty() ? "" : "&spaces=" + net::PercentEncode(spaces));
  if (!webhooks_->Add(ch))
    return GoogleError(400, "channelIdNotUnique", "Channel id not unique: " + id);
  nlohmann::json out = {{"kind", "api#channel"},         {"id", id},
                        {"resourceId", ch.resource_id},   {"resourceUri", ch.resource_uri},
                        {"expiration", std::to_string(expiration)}};
  if (!ch.token.empty()) out["token"] = ch.token;
  return LocalResponse::Json(200, out.dump(1));
}

LocalResponse DriveApi::StopChannel(const Call& c) {
  const auto body = nlohmann::json::parse(c.req->body, nullptr, false);
  if (!body.is_object()) return GoogleError(400, "parseError", "Parse Error");
  const std::string id = body.value("id", "");
  if (!webhooks_->Stop(id, body.value("resourceId", "")))
    return GoogleError(404, "notFound", "Channel '" + id + "' not found for project");
  LocalResponse r;
  r.status = 204;
  return r;
}

}  // namespace jsync::emulator::gdrive

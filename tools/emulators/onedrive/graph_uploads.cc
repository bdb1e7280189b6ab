// Upload sessions: createUploadSession, then fragments PUT to the pre-authenticated uploadUrl
// (BASE/upload/session/<secret>), status GET, cancel DELETE. Sessions are persisted under
// STATE/sessions/<sha256 of the secret>.{json,part} so they survive a restart; the secret itself
// is never stored.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "tools/emulators/common/numbers.h"
#include "tools/emulators/common/util.h"
#include "tools/emulators/onedrive/graph_api.h"
#include "tools/emulators/onedrive/graph_errors.h"

namespace fs = std::filesystem;

namespace jsync::emulator::onedrive {

using net::LocalRequest;
using net::LocalResponse;

namespace {

constexpr int64_t kFragmentUnit = 320 * 1024;
constexpr int64_t kMaxFragment = 60ll * 1024 * 1024;

LocalResponse SessionGone() {
  return GraphError(404, "itemNotFound", "The upload session was not found or has expired.",
                    "uploadSessionNotFound");
}

}  // namespace

nlohmann::json GraphApi::UploadSession::ToStored() const {
  return {{"hash", hash},          {"parentId", parent_id},  {"name", name},
          {"targetId", target_id}, {"conflict", conflict},   {"total", total},
          {"received", received},  {"expiresMs", expires_ms}};
}

GraphApi::UploadSession GraphApi::UploadSession::FromStored(const nlohmann::json& j) {
  UploadSession s;
  s.hash = j.value("hash", "");
  s.parent_id = j.value("parentId", "");
  s.name = j.value("name", "");
  s.target_id = j.value("targetId", "");
  s.conflict = j.value("conflict", "fail");
  s.total = j.value("total", int64_t{-1});
  s.received = j.value("received", int64_t{0});
  s.expires_ms = j.value("expiresMs", int64_t{0});
  return s;
}

void GraphApi::LoadSessions() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(state_->dir()) / "sessions", ec)) {
    if (entry.path().extension() != ".json") continue;
    std::string text;
    if (!ReadFile(entry.path().string(), &text)) continue;
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) continue;
    UploadSession s = UploadSession::FromStored(j);
    // The part file is the truth about what arrived (a crash may have left the JSON behind).
    const auto part = fs::path(state_->dir()) / "sessions" / (s.hash + ".part");
    s.received = fs::exists(part, ec) ? static_cast<int64_t>(fs::file_size(part, ec)) : 0;
    sessions_[s.hash] = s;
  }
}

void GraphApi::SaveSession(const UploadSession& s) {
  (void)WriteFileAtomic(state_->dir() + "/sessions/" + s.hash + ".json", s.ToStored().dump());
}

void GraphApi::DropSession(const std::string& hash) {
  std::error_code ec;
  fs::remove(state_->dir() + "/sessions/" + hash + ".json", ec);
  fs::remove(state_->dir() + "/sessions/" + hash + ".part", ec);
  sessions_.erase(hash);
}

LocalResponse GraphApi::CreateUploadSession(const Call& c, const Address& a) {
  const LocalRequest& req = *c.req;
  nlohmann::json body = nlohmann::json::object();
  if (!req.body.empty()) {
    body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object()) return GraphError(400, "invalidRequest", "Invalid JSON body.");
  }
  const nlohmann::json item =
      body.contains("item") && body["item"].is_object() ? body["item"] : nlohmann::json::object();
  const std::string conflict = item.value("@microsoft.graph.conflictBehavior", "fail");
  if (conflict != "fail" && conflict != "replace" && conflict != "rename")
    return GraphError(400, "invalidRequest", "Invalid conflictBehavior: " + conflict);
  int64_t file_size = -1;
  if (item.contains("fileSize")) {
    if (!item["fileSize"].is_number_integer() || item["fileSize"].get<int64_t>() < 0)
      return GraphError(400, "invalidRequest", "Invalid fileSize.");
    file_size = item["fileSize"].get<int64_t>();
  }
  std::lock_guard lock(mu_);
  if (auto e = WriteFaults()) return *e;
  Resolved r;
  if (auto e = Resolve(c, a, &r)) return *e;
  UploadSession s;
  s.conflict = conflict;
  s.total = file_size;
  const std::string if_match = req.Header("if-match");
  if (r.item != nullptr) {
    if (r.item->folder)
      return GraphError(409, "nameAlreadyExists",
                        "An item with the same name already exists under the parent");
    if (req.Header("if-none-match") == "*")
      return GraphError(412, "preconditionFailed", "The item already exists.");
    if (!if_match.empty() && if_match != r.item->ETag() && if_match != r.item->CTag())
      return GraphError(412, "resourceModified", "ETag does not match current item's value",
                        "entityTagDoesNotMatch");
    if (a.rel.empty()) {
      s.target_id = r.item->id;  // an update by id
      s.conflict = "replace";
    } else if (conflict == "fail") {
      return GraphError(409, "nameAlreadyExists",
                        "An item with the same name already exists under the parent");
    }
    s.parent_id = r.item->parent_id;
    s.name = r.item->name;
  } else {
    if (!if_match.empty())
      return GraphError(412, "resourceModified", "ETag does not match current item's value",
                        "entityTagDoesNotMatch");
    // Unlike a path PUT, an upload session needs its parent folder.
    if (r.missing_from + 1 != a.rel.size())
      return GraphError(404, "itemNotFound", "The parent folder does not exist.");
    s.parent_id = r.parent->id;
    s.name = a.rel.back();
  }
  if (item.contains("name") && item["name"].is_string() && item["name"] != s.name)
    return GraphError(400, "invalidRequest", "The name in the path and item.name differ.");
  if (file_size >= 0) {
    if (auto e = CheckQuota(file_size)) return *e;
  }
  const std::string secret = RandomString(48);
  s.hash = HexSha256(secret);
  s.expires_ms = NowMs() + options_.upload_session_ttl_s * 1000;
  sessions_[s.hash] = s;
  SaveSession(s);
  WriteFileAtomic(state_->dir() + "/sessions/" + s.hash + ".part", "");
  return GraphJson(200, {{"uploadUrl", base_url_ + "/upload/session/" + secret},
                         {"expirationDateTime", Rfc3339(s.expires_ms)},
                         {"nextExpectedRanges", {"0-"}}});
}

LocalResponse GraphApi::UploadSessionRequest(const LocalRequest& req, const std::string& secret) {
  // The URL is pre-authenticated; the service documents a 401 for requests carrying a token.
  if (!req.Header("authorization").empty())
    return GraphError(401, "unauthenticated",
                      "The upload URL is pre-authenticated: do not send an Authorization header.");
  std::lock_guard lock(mu_);
  auto it = sessions_.find(HexSha256(secret));
  if (it != sessions_.end() && it->second.expires_ms <= NowMs()) {
    DropSession(it->first);
    it = sessions_.end();
  }
  if (it == sessions_.end()) return SessionGone();
  UploadSession& s = it->second;
  auto status_body = [&] {
    return nlohmann::json{{"expirationDateTime", Rfc3339(s.expires_ms)},
                          {"nextExpectedRanges", {std::to_string(s.received) + "-"}}};
  };
  if (req.method == "GET") return GraphJson(200, status_body());
  if (req.method == "DELETE") {
    DropSession(s.hash);
    return NoContent();
  }
  if (req.method != "PUT") return GraphError(405, "invalidRequest", "Method not allowed");
  if (auto e = WriteFaults()) return *e;

  // Content-Range: bytes a-b/T
  const std::string range = req.Header("content-range");
  int64_t first = 0, last = 0, total = 0;
  {
    const size_t dash = range.find('-');
    const size_t slash = range.find('/');
    if (range.rfind("bytes ", 0) != 0 || dash == std::string::npos || slash == std::string::npos ||
        slash < dash || !ParseDecimal(range.substr(6, dash - 6), &first) ||
        !ParseDecimal(range.substr(dash + 1, slash - dash - 1), &last) ||
        !ParseDecimal(range.substr(slash + 1), &total) || last < first || last >= total)
      return GraphError(400, "invalidRequest",
                        "The Content-Range header is missing or malformed: 'bytes a-b/T'.");
  }
  const int64_t length = last - first + 1;
  if (length > kMaxFragment)
    return GraphError(413, "requestTooLarge", "A fragment must be smaller than 60 MiB.");
  const std::string content_length = req.Header("content-length");
  if (content_length.empty() || static_cast<int64_t>(req.body.size()) != length)
    return GraphError(400, "invalidRequest",
                      "The Content-Length does not match the Content-Range.");
  if (s.total >= 0 && total != s.total)
    return GraphError(416, "invalidRange", "The total size differs from the session's.",
                      "fragmentLengthMismatch");
  if (first < s.received)
    return GraphError(416, "invalidRange", "The fragment overlaps bytes already received.",
                      "fragmentOverlap");
  if (first > s.received)
    return GraphError(
        416, "invalidRange",
        "Fragments must be sequential: expected a fragment at " + std::to_string(s.received) + ".",
        "fragmentOutOfOrder");
  const bool final_fragment = last + 1 == total;
  if (!final_fragment && length % kFragmentUnit != 0)
    return GraphError(400, "invalidRequest",
                      "Every fragment but the last must be a multiple of 320 KiB (327680 bytes).");
  if (auto e = CheckQuota(total)) return *e;
  // A name taken during the upload is reported on the last fragment, before it is stored, so
  // the client can resolve it and send the fragment again (the session stays).
  const GraphItem* parent = state_->Find(s.parent_id);
  if (final_fragment && parent == nullptr)
    return GraphError(404, "itemNotFound", "The parent folder is gone.");
  const GraphItem* existing =
      s.target_id.empty() ? state_->Child(s.parent_id, s.name) : state_->Find(s.target_id);
  if (final_fragment && !s.target_id.empty() && existing == nullptr)
    return GraphError(404, "itemNotFound", "The item to replace is gone.");
  if (final_fragment && existing != nullptr && s.target_id.empty() &&
      (s.conflict == "fail" || existing->folder))
    return GraphError(409, "nameAlreadyExists",
                      "An item with the same name already exists under the parent");
  const std::string part = state_->dir() + "/sessions/" + s.hash + ".part";
  const bool drop = TakeArmed(FaultKind::kDropUpload);
  const std::string bytes = drop ? req.body.substr(0, req.body.size() / 2) : req.body;
  {
    const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0 || ::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) {
      if (fd >= 0) ::close(fd);
      return GraphError(500, "generalException", "Cannot store the fragment.");
    }
    ::close(fd);
  }
  s.total = total;
  s.received += static_cast<int64_t>(bytes.size());
  s.expires_ms = NowMs() + options_.upload_session_ttl_s * 1000;  // each fragment extends it
  SaveSession(s);
  if (drop) {
    LocalResponse r;
    r.drop_connection = true;
    return r;
  }
  if (!final_fragment) return GraphJson(202, status_body());

  // The last byte arrived: commit atomically.
  std::string content;
  if (!ReadFile(part, &content) || static_cast<int64_t>(content.size()) != total)
    return GraphError(500, "generalException", "The session's bytes are incomplete.");
  std::string name = s.name;
  if (existing != nullptr && s.target_id.empty()) {
    if (s.conflict == "rename") {
      name = FreeName(s.parent_id, s.name);
      existing = nullptr;
    }
  }
  std::string id;
  const bool created = existing == nullptr;
  if (auto e = CommitFile(s.parent_id, name, existing, content, &id)) return *e;
  DropSession(s.hash);
  return GraphJson(created ? 201 : 200, ItemJson(*state_->Find(id), {}, false, false));
}

}  // namespace jsync::emulator::onedrive

#include "assets.h"

#include "ck_client.h"
#include "zone.h"

namespace jsync_icloud {

int UploadAsset(jsync_instance* inst, const std::string& record_name, const char* record_type,
                const char* field, const uint8_t* data, size_t len, std::string_view what,
                json* receipt, jsync_error* err) {
  const json body = {{"zoneID", ZoneId(inst)},
                     {"tokens", json::array({{{"recordType", record_type},
                                              {"fieldName", field},
                                              {"recordName", record_name}}})}};
  json answer;
  const std::string step = std::string(what) + " (asking for an asset upload URL)";
  CkError refused;
  int rc = Call(inst, "assets/upload", &body, &answer, step, err, &refused);
  if (rc != JSYNC_OK) {
    if (refused.code != "ZONE_NOT_FOUND") return rc;
    ForgetZone(inst);  // erased meanwhile: the host's retry makes it again
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, step,
                    "the journal's zone is gone (its iCloud data was erased?); making it again");
  }
  const json* token = nullptr;
  if (answer.contains("tokens") && answer["tokens"].is_array() && answer["tokens"].size() == 1) {
    token = &answer["tokens"][0];
  }
  CkError e;
  if (token != nullptr && ReadCkError(*token, &e)) return FailFromCkError(err, step, e, 200);
  if (token == nullptr || !token->is_object() || StrOr(*token, "recordName") != record_name ||
      !token->contains("url") || !(*token)["url"].is_string()) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, step, "CloudKit's answer has no upload URL for the record");
  }
  const std::string url = (*token)["url"];
  if (!url.starts_with("https://") && !url.starts_with("http://")) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, step, "the upload URL is not an http(s) URL");
  }
  Request post;
  post.method = "POST";
  post.url = url;
  post.headers = {{"Content-Type", "application/octet-stream"}};
  post.body = data;
  post.body_len = len;
  post.body_limit = size_t{64} << 10;
  Response resp;
  const std::string up = std::string(what) + " (asset upload)";
  rc = Preauthenticated(inst->host, post, &resp, up, err);
  if (rc != JSYNC_OK) return rc;
  const json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (resp.status != 200) {
    if (!ReadCkError(j, &e)) e = CkError{};
    if (resp.status == 401 || resp.status == 403 || resp.status == 404 || resp.status == 410) {
      // The URL lapsed (15 minutes): the host's retry asks for a new one.
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, up, "the upload URL was refused (expired?)");
    }
    if (e.code.empty() && resp.status == 413) e.code = "QUOTA_EXCEEDED";
    return FailFromCkError(err, up, e, resp.status);
  }
  if (!j.is_object() || !j.contains("singleFile") || !j["singleFile"].is_object() ||
      !j["singleFile"].contains("receipt")) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, up, "the upload answer holds no receipt");
  }
  const json& f = j["singleFile"];
  if (f.contains("size") && f["size"].is_number_unsigned() && f["size"].get<uint64_t>() != len) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, up, "CloudKit stored another size than was sent");
  }
  *receipt = f;
  return JSYNC_OK;
}

int DownloadAsset(jsync_instance* inst, const json& asset, uint64_t size, uint64_t offset,
                  uint64_t length, jsync_sink* out, std::string_view what, uint64_t* delivered,
                  jsync_error* err) {
  *delivered = 0;
  if (offset >= size || length == 0) return JSYNC_OK;
  if (!asset.is_object() || !asset.contains("downloadURL") || !asset["downloadURL"].is_string()) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what, "the record's asset has no download URL");
  }
  std::string url = asset["downloadURL"];
  const size_t at = url.find("${f}");
  if (at != std::string::npos) url.replace(at, 4, "blob");
  if (!url.starts_with("https://") && !url.starts_with("http://")) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what, "the asset's download URL is not an http(s) URL");
  }
  const uint64_t n = std::min<uint64_t>(length, size - offset);
  jsync_plugin::RangeTarget target(out, offset, n, nullptr);
  Request req;
  req.url = url;
  if (offset != 0 || n != size) req.headers = {{"Range", jsync_plugin::RangeHeaderValue(offset, n)}};
  req.target = &target;
  req.body_limit = jsync_plugin::DownloadBodyLimit(offset, n);
  Response resp;
  const std::string step = std::string(what) + " (asset download)";
  const int rc = Preauthenticated(inst->host, req, &resp, step, err);
  if (rc != JSYNC_OK) return rc;
  *delivered = target.delivered();
  if (resp.status == 200 || resp.status == 206) {
    if (target.sink_stopped()) return JSYNC_OK;
    if (target.bad_range()) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what, "the asset download starts after the byte asked for");
    }
    if (target.EndedEarly(resp) || target.delivered() < n) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                      "the asset download ended early (" + std::to_string(target.delivered()) +
                          " of " + std::to_string(n) + " bytes)");
    }
    return JSYNC_OK;
  }
  if (resp.status == 401 || resp.status == 403 || resp.status == 404 || resp.status == 410) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                    "the asset's download URL was refused (" + jsync_plugin::HttpStatusText(resp.status) +
                        "); a new lookup gives a fresh one");
  }
  CkError e;
  if (!ReadCkError(json::parse(resp.body, nullptr, false), &e)) e = CkError{};
  return FailFromCkError(err, step, e, resp.status);
}

}  // namespace jsync_icloud

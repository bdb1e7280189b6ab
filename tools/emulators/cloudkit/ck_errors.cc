#include "tools/emulators/cloudkit/ck_errors.h"

#include "tools/emulators/common/util.h"

namespace jsync::emulator::cloudkit {

net::LocalResponse CkError(int status, const std::string& code, const std::string& reason,
                           int64_t retry_after_s) {
  nlohmann::json body = {{"uuid", RandomUuid()}, {"serverErrorCode", code}, {"reason", reason}};
  if (retry_after_s >= 0) body["retryAfter"] = retry_after_s;
  net::LocalResponse r = CkJson(status, body);
  if (retry_after_s >= 0) r.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  return r;
}

net::LocalResponse CkJson(int status, const nlohmann::json& body) {
  net::LocalResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", kCkJsonType);
  r.body = body.dump();
  return r;
}

nlohmann::json ItemError(const std::string& key, const nlohmann::json& id,
                         const std::string& code, const std::string& reason) {
  return {{key, id}, {"reason", reason}, {"serverErrorCode", code}, {"uuid", RandomUuid()}};
}

void StampCloudKitHeaders(net::LocalResponse* r, const std::string& partition) {
  r->headers.emplace_back("X-Apple-Request-UUID", RandomUuid());
  r->headers.emplace_back("X-Apple-CloudKit-Version", "1.0");
  r->headers.emplace_back("X-Apple-User-Partition", partition);
  r->headers.emplace_back("X-Responding-Instance", "ckdatabasews:" + partition + ":jsync-emu:1");
  r->headers.emplace_back("Access-Control-Expose-Headers", "X-Apple-CloudKit-Web-Auth-Token");
  for (const auto& [k, v] : r->headers)
    if (k == "Content-Type") return;
  r->headers.emplace_back("Content-Type", kCkJsonType);
}

}  // namespace jsync::emulator::cloudkit

#include "tools/emulators/onedrive/graph_errors.h"

#include <ctime>

#include "tools/emulators/common/util.h"

namespace jsync::emulator::onedrive {
namespace {

// Graph's innerError.date: "2020-08-18T12:51:51" (UTC, no fraction, no zone).
std::string InnerDate() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

}  // namespace

net::LocalResponse GraphError(int status, const std::string& code, const std::string& message,
                              const std::string& inner_code) {
  nlohmann::json inner = {{"date", InnerDate()}};
  if (!inner_code.empty()) inner["code"] = inner_code;
  const nlohmann::json body = {
      {"error", {{"code", code}, {"message", message}, {"innerError", inner}}}};
  return GraphJson(status, body);
}

net::LocalResponse GraphJson(int status, const nlohmann::json& body) {
  net::LocalResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", kGraphJsonType);
  r.body = body.dump();
  return r;
}

net::LocalResponse NoContent() {
  net::LocalResponse r;
  r.status = 204;
  return r;
}

void StampRequestIds(net::LocalResponse* r, const std::string& request_id,
                     const std::string& client_request_id) {
  r->headers.emplace_back("request-id", request_id);
  r->headers.emplace_back("client-request-id", client_request_id);
  if (r->status < 400 || r->body.empty() || r->body[0] != '{') return;
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object() ||
      !j["error"].contains("innerError"))
    return;
  j["error"]["innerError"]["request-id"] = request_id;
  j["error"]["innerError"]["client-request-id"] = client_request_id;
  r->body = j.dump();
}

}  // namespace jsync::emulator::onedrive

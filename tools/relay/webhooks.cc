#include "tools/relay/webhooks.h"

#include <nlohmann/json.hpp>

#include "tools/relay/routes.h"

namespace jsync::relay {

WebhookReply HandleWebhook(const std::string& method, const std::string& query,
                           const std::string& goog_channel_id, const std::string& body) {
  WebhookReply r;
  if (method != "POST") {
    r.status = 405;
    r.body = "POST only\n";
    return r;
  }
  if (const auto token = QueryParam(query, "validationToken")) {
    r.body = *token;  // Graph compares it byte for byte
    r.content_type = "text/plain";
    return r;
  }
  r.nudge = true;
  if (!goog_channel_id.empty()) return r;  // Drive: 200, empty body
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("value") && json["value"].is_array()) r.status = 202;
  return r;
}

}  // namespace jsync::relay

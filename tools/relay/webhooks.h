// The provider webhook endpoint, POST /v1/hook/<HOOK>: what to answer and whether the hook's
// registrants get a nudge. Microsoft Graph validates a subscription by POSTing
// ?validationToken=X and expects X back as text/plain; its notifications ({"value":[...]}) want
// 202. Google Drive's channel messages (X-Goog-* headers, empty body) want 200. The relay cannot
// check either (it has no keys), so anything else with a well-formed hook id nudges too: the
// worst a forged webhook costs is one poll.
#pragma once

#include <string>

namespace jsync::relay {

struct WebhookReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  bool nudge = false;
};

inline constexpr size_t kMaxWebhookBody = 64 * 1024;

// `query` is the raw query string; `goog_channel_id` the X-Goog-Channel-ID header ("" absent).
WebhookReply HandleWebhook(const std::string& method, const std::string& query,
                           const std::string& goog_channel_id, const std::string& body);

}  // namespace jsync::relay

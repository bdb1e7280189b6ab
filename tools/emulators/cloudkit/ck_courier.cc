// Push for web clients (icloud.md §5.2): zone subscriptions (subscriptions/list|modify),
// tokens/create|register, and the web courier: GET <webcourierURL> stays open up to
// --courier-timeout seconds and answers one notification JSON when a subscribed zone changed
// ({"ck":{"nid","cid","fet":{"zid","sid"}}}), or an empty 200 on timeout (poll again).
#include <chrono>

#include "tools/emulators/cloudkit/ck_api.h"
#include "tools/emulators/cloudkit/ck_errors.h"
#include "tools/emulators/cloudkit/ck_ids.h"
#include "tools/emulators/common/util.h"

namespace jsync::emulator::cloudkit {

using net::LocalResponse;
using nlohmann::json;

LocalResponse CloudKitApi::SubscriptionsList(Call& c) {
  std::lock_guard lock(mu_);
  json out = json::array();
  for (const auto& [id, sub] : state_->subscriptions(c.db)) out.push_back(sub);
  return CkJson(200, {{"subscriptions", out}});
}

LocalResponse CloudKitApi::SubscriptionsModify(Call& c) {
  const json& ops = c.body.contains("operations") ? c.body["operations"] : json();
  if (!ops.is_array() || ops.empty()) return CkError(400, "BAD_REQUEST", "operations is required");
  if (ops.size() > 200) return CkError(400, "BAD_REQUEST", "at most 200 operations per request");
  std::lock_guard lock(mu_);
  auto& subs = state_->subscriptions(c.db);
  json out = json::array();
  for (const auto& op : ops) {
    const std::string type = op.is_object() ? op.value("operationType", "") : "";
    json sub = op.is_object() && op.contains("subscription") && op["subscription"].is_object()
                   ? op["subscription"]
                   : json::object();
    std::string id = sub.value("subscriptionID", "");
    if (type == "delete") {
      if (subs.erase(id) == 0) {
        out.push_back(ItemError("subscriptionID", id, "NOT_FOUND", "subscription not found"));
      } else {
        out.push_back({{"subscriptionID", id}, {"deleted", true}});
      }
      continue;
    }
    if (type != "create" && type != "update") {
      out.push_back(ItemError("subscriptionID", id, "BAD_REQUEST",
                              "operationType must be create, update or delete"));
      continue;
    }
    if (sub.value("subscriptionType", "") != "zone") {
      out.push_back(ItemError("subscriptionID", id, "BAD_REQUEST",
                              "only zone subscriptions are emulated"));
      continue;
    }
    const std::string zone = sub.contains("zoneID") ? ZoneNameOf(sub["zoneID"]) : "";
    if (!state_->LiveZone(c.db, zone)) {
      out.push_back(ItemError("subscriptionID", id, "ZONE_NOT_FOUND",
                              "Zone '" + zone + "' does not exist"));
      continue;
    }
    if (id.empty()) id = RandomUuid();
    sub["subscriptionID"] = id;
    sub["zoneID"] = ZoneIdJson(zone, state_->user_record_name());
    subs[id] = sub;
    out.push_back(sub);
  }
  if (auto st = state_->SaveSubscriptions(); !st.ok())
    return CkError(500, "INTERNAL_ERROR", st.message());
  return CkJson(200, {{"subscriptions", out}});
}

LocalResponse CloudKitApi::TokensCreate(Call& c) {
  const std::string env = c.body.value("apnsEnvironment", "production");
  const std::string id = RandomString(64, "0123456789abcdef");
  std::lock_guard lock(mu_);
  couriers_[id];
  return CkJson(200, {{"apnsEnvironment", env},
                      {"apnsToken", id},
                      {"webcourierURL", base_url_ + "/_courier/" + id}});
}

LocalResponse CloudKitApi::TokensRegister(Call& c) {
  const std::string token = c.body.value("apnsToken", "");
  std::lock_guard lock(mu_);
  auto it = couriers_.find(token);
  if (it == couriers_.end()) return CkError(400, "BAD_REQUEST", "unknown apnsToken");
  it->second.registered = true;
  return CkJson(200, {{"apnsEnvironment", c.body.value("apnsEnvironment", "production")},
                      {"apnsToken", token}});
}

void CloudKitApi::NotifyZoneChanged(const std::string& db, const std::string& zone) {
  std::string sid;
  for (const auto& [id, sub] : state_->subscriptions(db))
    if (ZoneNameOf(sub.value("zoneID", json::object())) == zone) sid = id;
  if (sid.empty()) return;
  for (auto& [id, q] : couriers_) {
    q.pending.push_back({{"aps", {{"content-available", 1}}},
                         {"ck",
                          {{"nid", RandomUuid()},
                           {"cid", options_.container},
                           {"fet", {{"zid", zone}, {"sid", sid}}}}}});
  }
  courier_cv_.notify_all();
}

LocalResponse CloudKitApi::Courier(const std::string& id) {
  std::unique_lock lock(mu_);
  if (!couriers_.count(id)) return CkError(404, "NOT_FOUND", "unknown courier");
  courier_cv_.wait_for(lock, std::chrono::seconds(options_.courier_timeout_s),
                       [&] { return !couriers_[id].pending.empty(); });
  auto& q = couriers_[id].pending;
  if (q.empty()) {
    LocalResponse r;
    r.status = 200;
    return r;  // keep-alive timeout: poll again
  }
  json msg = q.front();
  q.pop_front();
  return CkJson(200, msg);
}

}  // namespace jsync::emulator::cloudkit

#include "zone.h"

#include "ck_client.h"

namespace jsync_icloud {

json ZoneId(const jsync_instance* inst) { return json{{"zoneName", inst->zone}}; }

int EnsureZone(jsync_instance* inst, std::string_view what, jsync_error* err) {
  if (inst->zone_ready) return JSYNC_OK;
  const json body = {
      {"operations",
       json::array({{{"operationType", "create"}, {"zone", {{"zoneID", ZoneId(inst)}}}}})}};
  json answer;
  const std::string step = std::string(what) + " (making the journal's zone)";
  int rc = Call(inst, "zones/modify", &body, &answer, step, err);
  if (rc != JSYNC_OK) return rc;
  if (!answer.contains("zones") || !answer["zones"].is_array() || answer["zones"].size() != 1) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, step, "CloudKit's answer names no zone");
  }
  const json& z = answer["zones"][0];
  CkError e;
  if (ReadCkError(z, &e) && e.code != "EXISTS") return FailFromCkError(err, step, e, 200);
  if (e.code.empty()) {
    const bool ours = ZoneNameIn(z) == inst->zone;
    if (!ours) return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, step, "CloudKit answered about another zone");
  }
  inst->zone_ready = true;
  return JSYNC_OK;
}

}  // namespace jsync_icloud

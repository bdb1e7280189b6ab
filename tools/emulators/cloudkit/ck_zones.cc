// zones/list, zones/lookup and zones/modify (icloud.md §1 "Zones"): custom zones are created
// and deleted one operation per zone; creating an existing zone succeeds (the native save is an
// upsert); per-zone errors come inside the HTTP 200.
#include "tools/emulators/cloudkit/ck_api.h"
#include "tools/emulators/cloudkit/ck_errors.h"
#include "tools/emulators/cloudkit/ck_ids.h"

namespace jsync::emulator::cloudkit {

using net::LocalResponse;

nlohmann::json CloudKitApi::ZoneJson(const CkZone& z) const {
  const bool custom = z.name != kDefaultZone;
  return {{"zoneID", ZoneIdJson(z.name, state_->user_record_name())},
          {"syncToken", ZoneToken(z, state_->last_seq())},
          {"atomic", custom},
          {"zoneType", custom ? "REGULAR_CUSTOM_ZONE" : "DEFAULT_ZONE"}};
}

LocalResponse CloudKitApi::ZonesList(Call& c) {
  std::lock_guard lock(mu_);
  nlohmann::json zones = nlohmann::json::array();
  for (const CkZone* z : state_->Zones(c.db))
    if (!z->deleted) zones.push_back(ZoneJson(*z));
  return CkJson(200, {{"zones", zones}});
}

LocalResponse CloudKitApi::ZonesLookup(Call& c) {
  const auto& list = c.body.contains("zones") ? c.body["zones"] : nlohmann::json();
  if (!list.is_array()) return CkError(400, "BAD_REQUEST", "zones is required");
  if (list.size() > 200) return CkError(400, "BAD_REQUEST", "at most 200 zones per request");
  std::lock_guard lock(mu_);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& id : list) {
    const std::string name = ZoneNameOf(id);
    const CkZone* z = state_->LiveZone(c.db, name);
    if (z) {
      out.push_back(ZoneJson(*z));
    } else {
      out.push_back(ItemError("zoneID", ZoneIdJson(name, state_->user_record_name()),
                              "ZONE_NOT_FOUND", "Zone '" + name + "' does not exist"));
    }
  }
  return CkJson(200, {{"zones", out}});
}

LocalResponse CloudKitApi::ZonesModify(Call& c) {
  const auto& ops = c.body.contains("operations") ? c.body["operations"] : nlohmann::json();
  if (!ops.is_array()) return CkError(400, "BAD_REQUEST", "operations is required");
  if (ops.size() > 200) return CkError(400, "BAD_REQUEST", "at most 200 operations per request");
  std::lock_guard lock(mu_);
  nlohmann::json out = nlohmann::json::array();
  const std::string owner = state_->user_record_name();
  for (const auto& op : ops) {
    const std::string type = op.is_object() ? op.value("operationType", "") : "";
    const std::string name = op.is_object() && op.contains("zone") ? ZoneNameOf(op["zone"]) : "";
    const auto id = ZoneIdJson(name, owner);
    if (name.empty() || (type != "create" && type != "delete")) {
      out.push_back(ItemError("zoneID", id, "BAD_REQUEST",
                              "each operation needs operationType create|delete and a zone"));
      continue;
    }
    if (type == "create") {
      if (const CkZone* z = state_->LiveZone(c.db, name)) {
        out.push_back(options_.zone_create_exists
                          ? ItemError("zoneID", id, "EXISTS", "Zone '" + name + "' already exists")
                          : ZoneJson(*z));
        continue;
      }
      if (c.db != "private") {
        out.push_back(ItemError("zoneID", id, "BAD_REQUEST",
                                "zones can only be created in the private database"));
        continue;
      }
      CkZone z;
      z.db = c.db;
      z.name = name;
      z.gen = state_->NextZoneGen();
      z.changed_seq = state_->NextSeq();
      if (auto st = state_->PutZone(z); !st.ok())
        return CkError(500, "INTERNAL_ERROR", st.message());
      out.push_back(ZoneJson(z));
      continue;
    }
    if (name == kDefaultZone) {
      out.push_back(ItemError("zoneID", id, "BAD_REQUEST", "the default zone cannot be deleted"));
      continue;
    }
    if (!state_->LiveZone(c.db, name)) {
      out.push_back(
          ItemError("zoneID", id, "ZONE_NOT_FOUND", "Zone '" + name + "' does not exist"));
      continue;
    }
    if (auto st = state_->DeleteZone(c.db, name, state_->NextSeq()); !st.ok())
      return CkError(500, "INTERNAL_ERROR", st.message());
    NotifyZoneChanged(c.db, name);
    out.push_back({{"zoneID", id}, {"deleted", true}});
  }
  if (auto st = state_->SaveMeta(); !st.ok()) return CkError(500, "INTERNAL_ERROR", st.message());
  return CkJson(200, {{"zones", out}});
}

}  // namespace jsync::emulator::cloudkit

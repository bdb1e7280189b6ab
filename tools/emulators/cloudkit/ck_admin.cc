// Test switches on loopback, without auth (README.md "CloudKit"): drop a zone as if the user
// erased the app's iCloud data, turn Advanced Data Protection on/off, expire every web auth
// token, expire every earlier sync token, and counts.
#include "tools/emulators/cloudkit/ck_api.h"
#include "tools/emulators/cloudkit/ck_errors.h"

namespace jsync::emulator::cloudkit {

using net::LocalRequest;
using net::LocalResponse;

LocalResponse CloudKitApi::Admin(const LocalRequest& req) {
  if (req.peer_address != "127.0.0.1" && req.peer_address != "::1")
    return CkError(403, "ACCESS_DENIED", "admin routes answer loopback only");
  const std::string& p = req.path;
  if (req.method == "GET" && p == "/_admin/stats") {
    std::lock_guard lock(mu_);
    size_t zones = 0;
    for (const char* db : {"private", "shared"})
      for (const CkZone* z : state_->Zones(db)) zones += z->deleted ? 0 : 1;
    uint64_t requests = 0;
    {
      std::lock_guard flock(fault_mu_);
      requests = requests_;
    }
    return CkJson(200, {{"zones", zones},
                        {"records", state_->live_records()},
                        {"assets", state_->asset_count()},
                        {"usedBytes", state_->UsedBytes()},
                        {"requests", requests},
                        {"liveTokens", auth_->live_tokens()},
                        {"adp", auth_->adp()},
                        {"seq", state_->last_seq()}});
  }
  if (req.method != "POST") return CkError(400, "BAD_REQUEST", "admin switches take POST");
  const std::string zprefix = "/_admin/zones/";
  if (p.rfind(zprefix, 0) == 0 && p.size() > zprefix.size() + 7 &&
      p.compare(p.size() - 7, 7, "/delete") == 0) {
    const std::string zone = p.substr(zprefix.size(), p.size() - zprefix.size() - 7);
    const std::string db = req.QueryParam("db").empty() ? "private" : req.QueryParam("db");
    std::lock_guard lock(mu_);
    if (zone == kDefaultZone || !state_->LiveZone(db, zone))
      return CkError(404, "ZONE_NOT_FOUND", "Zone '" + zone + "' does not exist");
    if (auto st = state_->DeleteZone(db, zone, state_->NextSeq()); !st.ok())
      return CkError(500, "INTERNAL_ERROR", st.message());
    if (auto st = state_->SaveMeta(); !st.ok()) return CkError(500, "INTERNAL_ERROR", st.message());
    NotifyZoneChanged(db, zone);
    return CkJson(200, {{"deleted", zone}});
  }
  if (p == "/_admin/adp") {
    const std::string on = req.QueryParam("on");
    if (on != "1" && on != "0") return CkError(400, "BAD_REQUEST", "use ?on=1 or ?on=0");
    auth_->SetAdp(on == "1");
    return CkJson(200, {{"adp", on == "1"}});
  }
  if (p == "/_admin/tokens/expire") {
    auth_->ExpireAll();
    return CkJson(200, {{"expired", "web auth tokens"}});
  }
  if (p == "/_admin/sync-tokens/expire") {
    std::lock_guard lock(mu_);
    state_->BumpEpoch();
    if (auto st = state_->SaveMeta(); !st.ok()) return CkError(500, "INTERNAL_ERROR", st.message());
    return CkJson(200, {{"expired", "sync tokens"}});
  }
  return CkError(404, "NOT_FOUND", "unknown admin route");
}

}  // namespace jsync::emulator::cloudkit

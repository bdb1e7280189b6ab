// changes/database and changes/zone (icloud.md §4). Sync tokens are signed, opaque strings of
// (database, zone generation, change sequence, epoch): a token from before the zone was
// recreated or from before /_admin/sync-tokens/expire (a new epoch) is no longer valid. A zone
// feed lists each changed record once, in its latest state, oldest change first; tombstones are
// {recordName, deleted:true}; a page holds min(resultsLimit, --page-size) records.
#include <sstream>

#include "tools/emulators/cloudkit/ck_api.h"
#include "tools/emulators/cloudkit/ck_errors.h"
#include "tools/emulators/cloudkit/ck_ids.h"
#include "tools/emulators/common/numbers.h"

namespace jsync::emulator::cloudkit {

using net::LocalResponse;
using nlohmann::json;

namespace {

std::vector<std::string> SplitBars(const std::string& s, size_t max_parts) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (out.size() + 1 < max_parts) {
    const size_t bar = s.find('|', pos);
    if (bar == std::string::npos) break;
    out.push_back(s.substr(pos, bar - pos));
    pos = bar + 1;
  }
  out.push_back(s.substr(pos));
  return out;
}

int64_t PageLimit(const json& entry, const json& top, int64_t page_size) {
  int64_t limit = page_size;
  for (const json* j : {&entry, &top}) {
    if (j->is_object() && j->contains("resultsLimit") && (*j)["resultsLimit"].is_number_integer()) {
      limit = (*j)["resultsLimit"].get<int64_t>();
      break;
    }
  }
  if (limit < 1 || limit > page_size) limit = page_size;
  return limit;
}

constexpr const char* kStaleToken =
    "the sync token is no longer valid (expired, or the zone was reset); fetch again without a "
    "syncToken";

}  // namespace

std::string CloudKitApi::ZoneToken(const CkZone& z, int64_t seq) const {
  return Sign("z|" + z.db + "|" + std::to_string(z.gen) + "|" + std::to_string(seq) + "|" +
              std::to_string(state_->epoch()) + "|" + z.name);
}

LocalResponse CloudKitApi::ChangesDatabase(Call& c) {
  std::lock_guard lock(mu_);
  int64_t after = 0;
  const bool has_token = c.body.contains("syncToken") && c.body["syncToken"].is_string();
  if (has_token) {
    std::string payload;
    int64_t epoch = 0;
    const auto parts = Verify(c.body["syncToken"].get<std::string>(), &payload)
                           ? SplitBars(payload, 4)
                           : std::vector<std::string>();
    if (parts.size() != 4 || parts[0] != "d" || parts[1] != c.db ||
        !ParseDecimal(parts[2], &after) || !ParseDecimal(parts[3], &epoch) ||
        epoch != state_->epoch())
      return CkError(400, "BAD_REQUEST", kStaleToken);
  }
  const int64_t limit = PageLimit(c.body, json(), options_.page_size);
  std::vector<CkZone*> changed;
  for (CkZone* z : state_->Zones(c.db))
    if (z->changed_seq > after && (has_token || !z->deleted)) changed.push_back(z);
  std::sort(changed.begin(), changed.end(),
            [](const CkZone* a, const CkZone* b) { return a->changed_seq < b->changed_seq; });
  const bool more = static_cast<int64_t>(changed.size()) > limit;
  if (more) changed.resize(static_cast<size_t>(limit));
  const int64_t seq = more ? changed.back()->changed_seq : state_->last_seq();
  json zones = json::array();
  for (const CkZone* z : changed) {
    if (z->deleted) {
      zones.push_back({{"zoneID", ZoneIdJson(z->name, state_->user_record_name())}, {"deleted", true}});
    } else {
      zones.push_back(ZoneJson(*z));
    }
  }
  const std::string token =
      Sign("d|" + c.db + "|" + std::to_string(seq) + "|" + std::to_string(state_->epoch()));
  return CkJson(200, {{"zones", zones}, {"syncToken", token}, {"moreComing", more}});
}

LocalResponse CloudKitApi::ChangesZone(Call& c) {
  const json& list = c.body.contains("zones") ? c.body["zones"] : json();
  if (!list.is_array() || list.empty()) return CkError(400, "BAD_REQUEST", "zones is required");
  std::lock_guard lock(mu_);
  json out = json::array();
  const std::string owner = state_->user_record_name();
  for (const auto& entry : list) {
    const std::string name = ZoneNameOf(entry);
    const json id = ZoneIdJson(name, owner);
    const CkZone* zone = state_->LiveZone(c.db, name);
    if (!zone) {
      out.push_back(ItemError("zoneID", id, "ZONE_NOT_FOUND", "Zone '" + name + "' does not exist"));
      continue;
    }
    if (name == kDefaultZone) {
      out.push_back(ItemError("zoneID", id, "BAD_REQUEST",
                              "fetching record changes is supported only for custom zones"));
      continue;
    }
    int64_t after = 0;
    if (entry.is_object() && entry.contains("syncToken") && entry["syncToken"].is_string()) {
      std::string payload;
      int64_t gen = 0, epoch = 0;
      const auto parts = Verify(entry["syncToken"].get<std::string>(), &payload)
                             ? SplitBars(payload, 6)
                             : std::vector<std::string>();
      if (parts.size() != 6 || parts[0] != "z" || parts[1] != c.db || parts[5] != name ||
          !ParseDecimal(parts[2], &gen) || !ParseDecimal(parts[3], &after) ||
          !ParseDecimal(parts[4], &epoch) || gen != zone->gen || epoch != state_->epoch()) {
        out.push_back(ItemError("zoneID", id, "BAD_REQUEST", kStaleToken));
        continue;
      }
    }
    const int64_t limit = PageLimit(entry, c.body, options_.page_size);
    const json* desired = entry.is_object() && entry.contains("desiredKeys") ? &entry["desiredKeys"]
                          : c.body.contains("desiredKeys")                  ? &c.body["desiredKeys"]
                                                                            : nullptr;
    const json* types = entry.is_object() && entry.contains("desiredRecordTypes")
                            ? &entry["desiredRecordTypes"]
                            : nullptr;
    auto changes = state_->ChangesAfter(c.db, name, after);
    const bool more = static_cast<int64_t>(changes.size()) > limit;
    if (more) changes.resize(static_cast<size_t>(limit));
    json records = json::array();
    for (const CkRecord* r : changes) {
      if (types && types->is_array() && !r->deleted) {
        bool wanted = false;
        for (const auto& t : *types) wanted = wanted || (t.is_string() && t == r->type);
        if (!wanted) continue;
      }
      records.push_back(RecordJson(*r, desired));
    }
    const int64_t seq = more ? changes.back()->seq : state_->last_seq();
    out.push_back({{"zoneID", id},
                   {"syncToken", ZoneToken(*zone, seq)},
                   {"moreComing", more},
                   {"records", records}});
  }
  return CkJson(200, {{"zones", out}});
}

}  // namespace jsync::emulator::cloudkit

// records/modify and records/lookup (icloud.md §3): the seven operation types with their
// recordChangeTag rules, atomic batches in custom zones (the failing operation keeps its code,
// the others get ATOMIC_ERROR, nothing is applied), per-record errors inside the HTTP 200, the
// record size limit, the quota, and asset receipts turned into stored assets.
#include <set>

#include "tools/emulators/cloudkit/ck_api.h"
#include "tools/emulators/cloudkit/ck_errors.h"
#include "tools/emulators/cloudkit/ck_ids.h"
#include "tools/emulators/common/util.h"

namespace jsync::emulator::cloudkit {

using net::LocalResponse;
using nlohmann::json;

namespace {

constexpr size_t kMaxOperations = 200;

// A type-tagged value that does not fit its tag; "" when it fits (or the tag is unknown).
std::string BadValue(const json& field) {
  const std::string type = field.value("type", "");
  const json& v = field["value"];
  if (type == "STRING" && !v.is_string()) return "a STRING value must be a string";
  if (type == "INT64" && !v.is_number_integer()) return "an INT64 value must be an integer";
  if (type == "DOUBLE" && !v.is_number()) return "a DOUBLE value must be a number";
  if (type == "TIMESTAMP" && !v.is_number()) return "a TIMESTAMP value must be a number (ms)";
  if (type == "BYTES") {
    if (!v.is_string()) return "a BYTES value must be a base64 string";
    for (char ch : v.get<std::string>())
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '+' && ch != '/' && ch != '=')
        return "a BYTES value must be a base64 string";
  }
  return "";
}

std::string NewChangeTag() { return RandomString(10, "abcdefghijklmnopqrstuvwxyz0123456789"); }

}  // namespace

json CloudKitApi::RecordJson(const CkRecord& r, const json* desired) const {
  if (r.deleted) return {{"recordName", r.name}, {"deleted", true}};
  json fields = json::object();
  for (const auto& [k, v] : r.fields.items()) {
    if (desired && desired->is_array()) {
      bool wanted = false;
      for (const auto& d : *desired) wanted = wanted || (d.is_string() && d == k);
      if (!wanted) continue;
    }
    if (v.is_object() && v.value("type", "") == "ASSET" && v["value"].is_object()) {
      const auto& a = v["value"];
      json value = {{"fileChecksum", a.value("fileChecksum", "")},
                    {"size", a.value("size", int64_t{0})},
                    {"wrappingKey", a.value("wrappingKey", "")},
                    {"referenceChecksum", a.value("referenceChecksum", "")}};
      if (const CkAsset* asset = state_->FindAsset(a.value("assetId", "")))
        value["downloadURL"] = DownloadUrl(*asset);
      fields[k] = {{"value", value}, {"type", "ASSETID"}};
    } else {
      fields[k] = v;
    }
  }
  const std::string user = state_->user_record_name();
  return {{"recordName", r.name},
          {"recordType", r.type},
          {"recordChangeTag", r.tag},
          {"fields", fields},
          {"created", {{"timestamp", r.created_ms}, {"userRecordName", user}, {"deviceID", "jsync-emulator"}}},
          {"modified", {{"timestamp", r.modified_ms}, {"userRecordName", user}, {"deviceID", "jsync-emulator"}}},
          {"deleted", false}};
}

LocalResponse CloudKitApi::RecordsModify(Call& c) {
  const json& ops = c.body.contains("operations") ? c.body["operations"] : json();
  if (!ops.is_array() || ops.empty())
    return CkError(400, "BAD_REQUEST", "operations is required (1 to 200 of them)");
  if (ops.size() > kMaxOperations)
    return CkError(400, "BAD_REQUEST",
                   "too many operations (" + std::to_string(ops.size()) + "), at most 200");
  const std::string zone_name =
      c.body.contains("zoneID") ? ZoneNameOf(c.body["zoneID"]) : std::string(kDefaultZone);
  const bool atomic_asked = c.body.value("atomic", true);
  const json* top_desired = c.body.contains("desiredKeys") ? &c.body["desiredKeys"] : nullptr;

  std::lock_guard lock(mu_);
  CkZone* zone = state_->LiveZone(c.db, zone_name);
  if (!zone) return CkError(404, "ZONE_NOT_FOUND", "Zone '" + zone_name + "' does not exist");
  const bool atomic = atomic_asked && zone_name != kDefaultZone;  // custom zones only
  state_->CollectOrphans(options_.asset_url_lifetime_s * 1000);
  int64_t used = options_.quota > 0 ? state_->UsedBytes() : 0;

  struct Planned {
    std::string name;
    json error;  // null: ok
    CkRecord next;
    std::vector<std::string> assets;  // asset ids to mark attached
    const json* desired = nullptr;
  };
  std::vector<Planned> plan;
  std::set<std::string> names, receipts;
  const int64_t now = NowMs();
  for (const auto& op : ops) {
    Planned p;
    const std::string type = op.is_object() ? op.value("operationType", "") : "";
    const json record = op.is_object() && op.contains("record") && op["record"].is_object()
                            ? op["record"]
                            : json::object();
    p.name = record.value("recordName", "");
    p.desired = op.is_object() && op.contains("desiredKeys") ? &op["desiredKeys"] : top_desired;
    auto fail = [&](const std::string& code, const std::string& reason) {
      p.error = ItemError("recordName", p.name, code, reason);
    };
    const bool creates = type == "create" || type == "forceUpdate" || type == "forceReplace";
    if (p.name.empty() && creates) p.name = RandomUuid();
    if (!names.insert(p.name).second)
      return CkError(400, "BAD_REQUEST", "one operation per record per request: " + p.name);
    static const std::set<std::string> kTypes = {"create",       "update", "forceUpdate",
                                                 "replace",      "forceReplace", "delete",
                                                 "forceDelete"};
    const CkRecord* existing = state_->FindRecord(c.db, zone_name, p.name);
    const bool live = existing && !existing->deleted;
    const bool needs_tag = type == "update" || type == "replace" || type == "delete";
    const std::string tag = record.value("recordChangeTag", "");
    const std::string record_type = record.value("recordType", "");
    if (!kTypes.count(type)) {
      fail("BAD_REQUEST", "unknown operationType '" + type + "'");
    } else if (p.name.empty()) {
      fail("BAD_REQUEST", "recordName is required");
    } else if (type == "create" && live) {
      fail("EXISTS", "record to insert already exists");
    } else if (!live && !creates) {
      fail("NOT_FOUND", "record not found");
    } else if (needs_tag && tag.empty()) {
      fail("BAD_REQUEST", "recordChangeTag is required for " + type);
    } else if (needs_tag && tag != existing->tag) {
      fail("CONFLICT", "record was changed since that recordChangeTag (oplock error)");
    } else if (!live && record_type.empty()) {
      fail("BAD_REQUEST", "recordType is required to create a record");
    }
    if (p.error.is_null()) {
      if (live) {
        p.next = *existing;
      } else {
        p.next = CkRecord();
        p.next.db = c.db;
        p.next.zone = zone_name;
        p.next.name = p.name;
        p.next.created_ms = now;
      }
      if (!record_type.empty()) p.next.type = record_type;
      p.next.deleted = false;
      if (type == "delete" || type == "forceDelete") {
        p.next.deleted = true;
        p.next.fields = json::object();
      } else {
        const bool merge = live && (type == "update" || type == "forceUpdate");
        if (!merge) p.next.fields = json::object();
        const json given =
            record.contains("fields") && record["fields"].is_object() ? record["fields"] : json::object();
        for (const auto& [k, v] : given.items()) {
          if (!v.is_object() || !v.contains("value")) {
            fail("BAD_REQUEST", "field '" + k + "' must be {\"value\": …}");
            break;
          }
          if (v["value"].is_null()) {
            p.next.fields.erase(k);
            continue;
          }
          if (v["value"].is_object() && v["value"].contains("receipt")) {
            const std::string receipt = v["value"].value("receipt", "");
            CkAsset* a = state_->FindAssetByReceipt(receipt);
            if (a == nullptr || a->attached || !receipts.insert(receipt).second) {
              fail("BAD_REQUEST", "asset field '" + k + "': the receipt is not valid or was used");
              break;
            }
            p.assets.push_back(a->id);
            p.next.fields[k] = {{"value",
                                 {{"assetId", a->id},
                                  {"fileChecksum", a->checksum},
                                  {"size", a->size},
                                  {"wrappingKey", a->wrapping_key},
                                  {"referenceChecksum", a->reference_checksum}}},
                                {"type", "ASSET"}};
            continue;
          }
          if (const std::string why = BadValue(v); !why.empty()) {
            fail("BAD_REQUEST", "field '" + k + "': " + why);
            break;
          }
          p.next.fields[k] = v;
        }
      }
    }
    if (p.error.is_null()) {
      const int64_t bytes = p.next.deleted ? 0 : FieldBytes(p.next.fields);
      const int64_t before = live ? FieldBytes(existing->fields) : 0;
      if (bytes > options_.record_max_bytes) {
        fail("BAD_REQUEST", "record too large: " + std::to_string(bytes) +
                                " bytes of fields, at most " +
                                std::to_string(options_.record_max_bytes) + " (assets excluded)");
      } else if (options_.quota > 0 && bytes > before && used + bytes - before > options_.quota) {
        fail("QUOTA_EXCEEDED", "iCloud storage is full");
      } else {
        used += bytes - before;
      }
    }
    plan.push_back(std::move(p));
  }

  bool failed = false;
  for (const auto& p : plan) failed = failed || !p.error.is_null();
  json out = json::array();
  if (atomic && failed && options_.atomic_request_error) {
    for (const auto& p : plan)
      if (!p.error.is_null())
        return CkError(400, "ATOMIC_ERROR",
                       "atomic batch failed: " + p.name + ": " + p.error.value("serverErrorCode", ""));
  }
  if (atomic && failed) {
    for (const auto& p : plan)
      out.push_back(p.error.is_null()
                        ? ItemError("recordName", p.name, "ATOMIC_ERROR",
                                    "atomic batch failed: another operation in it failed")
                        : p.error);
    return CkJson(200, {{"records", out}});
  }
  bool changed = false;
  for (auto& p : plan) {
    if (!p.error.is_null()) {
      out.push_back(p.error);
      continue;
    }
    p.next.seq = state_->NextSeq();
    p.next.tag = NewChangeTag();
    p.next.modified_ms = now;
    for (const auto& id : p.assets) {
      CkAsset a = *state_->FindAsset(id);
      a.attached = true;
      a.receipt_hash.clear();
      if (auto st = state_->PutAsset(a, nullptr); !st.ok())
        return CkError(500, "INTERNAL_ERROR", st.message());
    }
    if (auto st = state_->PutRecord(p.next); !st.ok())
      return CkError(500, "INTERNAL_ERROR", st.message());
    zone->changed_seq = p.next.seq;
    changed = true;
    out.push_back(RecordJson(p.next, p.desired));
  }
  if (changed) {
    if (auto st = state_->PutZone(*zone); !st.ok()) return CkError(500, "INTERNAL_ERROR", st.message());
    if (auto st = state_->SaveMeta(); !st.ok()) return CkError(500, "INTERNAL_ERROR", st.message());
    NotifyZoneChanged(c.db, zone_name);
  }
  return CkJson(200, {{"records", out}});
}

LocalResponse CloudKitApi::RecordsLookup(Call& c) {
  const json& list = c.body.contains("records") ? c.body["records"] : json();
  if (!list.is_array()) return CkError(400, "BAD_REQUEST", "records is required");
  if (list.size() > kMaxOperations)
    return CkError(400, "BAD_REQUEST", "at most 200 records per lookup");
  const std::string zone_name =
      c.body.contains("zoneID") ? ZoneNameOf(c.body["zoneID"]) : std::string(kDefaultZone);
  const json* top_desired = c.body.contains("desiredKeys") ? &c.body["desiredKeys"] : nullptr;
  std::lock_guard lock(mu_);
  if (!state_->LiveZone(c.db, zone_name))
    return CkError(404, "ZONE_NOT_FOUND", "Zone '" + zone_name + "' does not exist");
  json out = json::array();
  for (const auto& item : list) {
    const std::string name = item.is_object() ? item.value("recordName", "") : "";
    const json* desired =
        item.is_object() && item.contains("desiredKeys") ? &item["desiredKeys"] : top_desired;
    const CkRecord* r = state_->FindRecord(c.db, zone_name, name);
    if (r && !r->deleted) {
      out.push_back(RecordJson(*r, desired));
    } else {
      out.push_back(ItemError("recordName", name, "NOT_FOUND", "Record not found"));
    }
  }
  return CkJson(200, {{"records", out}});
}

}  // namespace jsync::emulator::cloudkit

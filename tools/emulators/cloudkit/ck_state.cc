#include "tools/emulators/cloudkit/ck_state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "tools/emulators/common/json_store.h"
#include "tools/emulators/common/util.h"

namespace fs = std::filesystem;

namespace jsync::emulator::cloudkit {
namespace {

nlohmann::json ZoneToStored(const CkZone& z) {
  return {{"db", z.db},   {"name", z.name}, {"gen", z.gen}, {"changedSeq", z.changed_seq},
          {"deleted", z.deleted}};
}

CkZone ZoneFromStored(const nlohmann::json& j) {
  CkZone z;
  z.db = j.value("db", "");
  z.name = j.value("name", "");
  z.gen = j.value("gen", int64_t{0});
  z.changed_seq = j.value("changedSeq", int64_t{0});
  z.deleted = j.value("deleted", false);
  return z;
}

nlohmann::json RecordToStored(const CkRecord& r) {
  return {{"db", r.db},           {"zone", r.zone},       {"name", r.name},
          {"type", r.type},       {"tag", r.tag},         {"fields", r.fields},
          {"createdMs", r.created_ms}, {"modifiedMs", r.modified_ms}, {"deleted", r.deleted},
          {"seq", r.seq}};
}

CkRecord RecordFromStored(const nlohmann::json& j) {
  CkRecord r;
  r.db = j.value("db", "");
  r.zone = j.value("zone", "");
  r.name = j.value("name", "");
  r.type = j.value("type", "");
  r.tag = j.value("tag", "");
  if (j.contains("fields") && j["fields"].is_object()) r.fields = j["fields"];
  r.created_ms = j.value("createdMs", int64_t{0});
  r.modified_ms = j.value("modifiedMs", int64_t{0});
  r.deleted = j.value("deleted", false);
  r.seq = j.value("seq", int64_t{0});
  return r;
}

nlohmann::json AssetToStored(const CkAsset& a) {
  return {{"id", a.id},
          {"size", a.size},
          {"checksum", a.checksum},
          {"wrappingKey", a.wrapping_key},
          {"referenceChecksum", a.reference_checksum},
          {"receiptHash", a.receipt_hash},
          {"attached", a.attached},
          {"createdMs", a.created_ms}};
}

CkAsset AssetFromStored(const nlohmann::json& j) {
  CkAsset a;
  a.id = j.value("id", "");
  a.size = j.value("size", int64_t{0});
  a.checksum = j.value("checksum", "");
  a.wrapping_key = j.value("wrappingKey", "");
  a.reference_checksum = j.value("referenceChecksum", "");
  a.receipt_hash = j.value("receiptHash", "");
  a.attached = j.value("attached", false);
  a.created_ms = j.value("createdMs", int64_t{0});
  return a;
}

bool IsAssetField(const nlohmann::json& f) {
  return f.is_object() && f.value("type", "") == "ASSET" && f.contains("value") &&
         f["value"].is_object() && f["value"].contains("assetId");
}

}  // namespace

int64_t FieldBytes(const nlohmann::json& fields) {
  nlohmann::json counted = nlohmann::json::object();
  for (const auto& [k, v] : fields.items())
    if (!IsAssetField(v)) counted[k] = v;
  return static_cast<int64_t>(counted.dump().size());
}

std::vector<std::string> AssetIdsOf(const nlohmann::json& fields) {
  std::vector<std::string> ids;
  for (const auto& [k, v] : fields.items())
    if (IsAssetField(v)) ids.push_back(v["value"].value("assetId", ""));
  return ids;
}

std::string CkState::Key(const std::string& db, const std::string& zone, const std::string& name) {
  return HexSha256(db + '\0' + zone + '\0' + name).substr(0, 40);
}

Result<std::unique_ptr<CkState>> CkState::Open(const std::string& dir) {
  std::unique_ptr<CkState> s(new CkState());
  s->dir_ = dir;
  std::error_code ec;
  for (const char* sub : {"zones", "records", "assets"}) {
    fs::create_directories(fs::path(dir) / sub, ec);
    if (ec) return Status::Fatal("cannot create the state folder " + dir + ": " + ec.message());
  }
  // Two emulators writing one folder would lose each other's changes.
  s->lock_fd_ = ::open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (s->lock_fd_ < 0 || ::flock(s->lock_fd_, LOCK_EX | LOCK_NB) != 0)
    return Status::Fatal("the state folder " + dir +
                         " is in use by another jsync-emulator (or cannot be locked)");
  std::string text;
  nlohmann::json meta = nlohmann::json::object();
  if (ReadFile(dir + "/meta.json", &text)) {
    meta = nlohmann::json::parse(text, nullptr, false);
    if (!meta.is_object()) return Status::Fatal(dir + "/meta.json is not valid JSON");
  }
  s->secret_ = meta.value("secret", RandomString(32));
  s->user_ = meta.value("userRecordName", "_" + RandomString(32, "0123456789abcdef"));
  s->partition_ = meta.value("partition", std::to_string(10 + NowMs() % 90));
  s->seq_ = meta.value("seq", int64_t{0});
  s->epoch_ = meta.value("epoch", int64_t{1});
  s->zone_gen_ = meta.value("zoneGen", int64_t{0});
  JSYNC_RETURN_IF_ERROR(ForEachJsonFile(dir + "/zones", [&](const nlohmann::json& j) {
    CkZone z = ZoneFromStored(j);
    s->zones_[Key(z.db, z.name, "")] = z;
  }));
  JSYNC_RETURN_IF_ERROR(ForEachJsonFile(dir + "/records", [&](const nlohmann::json& j) {
    CkRecord r = RecordFromStored(j);
    s->records_[Key(r.db, r.zone, r.name)] = std::move(r);
  }));
  JSYNC_RETURN_IF_ERROR(ForEachJsonFile(dir + "/assets", [&](const nlohmann::json& j) {
    CkAsset a = AssetFromStored(j);
    s->assets_[a.id] = a;
  }));
  if (ReadFile(dir + "/subscriptions.json", &text)) {
    const auto subs = nlohmann::json::parse(text, nullptr, false);
    if (subs.is_object())
      for (const auto& [db, m] : subs.items())
        for (const auto& [id, sub] : m.items()) s->subscriptions_[db][id] = sub;
  }
  if (!s->LiveZone("private", kDefaultZone)) {
    CkZone def;
    def.db = "private";
    def.name = kDefaultZone;
    def.gen = s->NextZoneGen();
    JSYNC_RETURN_IF_ERROR(s->PutZone(def));
  }
  JSYNC_RETURN_IF_ERROR(s->SaveMeta());
  return s;
}

CkState::~CkState() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status CkState::SaveMeta() {
  const nlohmann::json meta = {{"secret", secret_}, {"userRecordName", user_},
                               {"partition", partition_}, {"seq", seq_},
                               {"epoch", epoch_},   {"zoneGen", zone_gen_}};
  if (!WriteFileAtomic(dir_ + "/meta.json", meta.dump()))
    return Status::Fatal("cannot write " + dir_ + "/meta.json");
  return Status::Ok();
}

CkZone* CkState::FindZone(const std::string& db, const std::string& name) {
  auto it = zones_.find(Key(db, name, ""));
  return it == zones_.end() ? nullptr : &it->second;
}

CkZone* CkState::LiveZone(const std::string& db, const std::string& name) {
  CkZone* z = FindZone(db, name);
  return z && !z->deleted ? z : nullptr;
}

std::vector<CkZone*> CkState::Zones(const std::string& db) {
  std::vector<CkZone*> out;
  for (auto& [k, z] : zones_)
    if (z.db == db) out.push_back(&z);
  std::sort(out.begin(), out.end(), [](const CkZone* a, const CkZone* b) { return a->name < b->name; });
  return out;
}

Status CkState::PutZone(const CkZone& zone) {
  const std::string key = Key(zone.db, zone.name, "");
  if (!WriteFileAtomic(dir_ + "/zones/" + key + ".json", ZoneToStored(zone).dump()))
    return Status::Fatal("cannot write a zone under " + dir_);
  zones_[key] = zone;
  return Status::Ok();
}

void CkState::DropRecordAssets(const CkRecord& r) {
  for (const auto& id : AssetIdsOf(r.fields)) DeleteAsset(id);
}

Status CkState::DeleteZone(const std::string& db, const std::string& name, int64_t seq) {
  CkZone* z = FindZone(db, name);
  if (!z) return Status::NotFound("no zone " + name);
  for (auto it = records_.begin(); it != records_.end();) {
    if (it->second.db == db && it->second.zone == name) {
      DropRecordAssets(it->second);
      std::error_code ec;
      fs::remove(dir_ + "/records/" + it->first + ".json", ec);
      it = records_.erase(it);
    } else {
      ++it;
    }
  }
  CkZone copy = *z;
  copy.deleted = true;
  copy.changed_seq = seq;
  return PutZone(copy);
}

CkRecord* CkState::FindRecord(const std::string& db, const std::string& zone,
                              const std::string& name) {
  auto it = records_.find(Key(db, zone, name));
  return it == records_.end() ? nullptr : &it->second;
}

Status CkState::PutRecord(const CkRecord& record) {
  const std::string key = Key(record.db, record.zone, record.name);
  if (auto it = records_.find(key); it != records_.end()) {
    // Assets the new version no longer holds are freed.
    const auto kept = AssetIdsOf(record.fields);
    for (const auto& id : AssetIdsOf(it->second.fields))
      if (std::find(kept.begin(), kept.end(), id) == kept.end()) DeleteAsset(id);
  }
  if (!WriteFileAtomic(dir_ + "/records/" + key + ".json", RecordToStored(record).dump()))
    return Status::Fatal("cannot write a record under " + dir_);
  records_[key] = record;
  return Status::Ok();
}

std::vector<const CkRecord*> CkState::ChangesAfter(const std::string& db, const std::string& zone,
                                                   int64_t after) const {
  std::vector<const CkRecord*> out;
  for (const auto& [k, r] : records_)
    if (r.db == db && r.zone == zone && r.seq > after) out.push_back(&r);
  std::sort(out.begin(), out.end(), [](const CkRecord* a, const CkRecord* b) { return a->seq < b->seq; });
  return out;
}

CkAsset* CkState::FindAsset(const std::string& id) {
  auto it = assets_.find(id);
  return it == assets_.end() ? nullptr : &it->second;
}

CkAsset* CkState::FindAssetByReceipt(const std::string& receipt) {
  const std::string hash = HexSha256(receipt);
  for (auto& [id, a] : assets_)
    if (!a.receipt_hash.empty() && a.receipt_hash == hash) return &a;
  return nullptr;
}

Status CkState::PutAsset(const CkAsset& asset, const std::string* content) {
  const std::string base = dir_ + "/assets/" + asset.id;
  if (content && !WriteFileAtomic(base + ".bin", *content))
    return Status::Fatal("cannot write an asset under " + dir_);
  if (!WriteFileAtomic(base + ".json", AssetToStored(asset).dump()))
    return Status::Fatal("cannot write an asset under " + dir_);
  assets_[asset.id] = asset;
  return Status::Ok();
}

void CkState::DeleteAsset(const std::string& id) {
  std::error_code ec;
  fs::remove(dir_ + "/assets/" + id + ".json", ec);
  fs::remove(dir_ + "/assets/" + id + ".bin", ec);
  assets_.erase(id);
}

bool CkState::ReadAsset(const std::string& id, std::string* out) const {
  if (!assets_.count(id)) return false;
  return ReadFile(dir_ + "/assets/" + id + ".bin", out);
}

void CkState::CollectOrphans(int64_t max_age_ms) {
  const int64_t now = NowMs();
  std::vector<std::string> old;
  for (const auto& [id, a] : assets_)
    if (!a.attached && now - a.created_ms > max_age_ms) old.push_back(id);
  for (const auto& id : old) DeleteAsset(id);
}

int64_t CkState::UsedBytes() const {
  int64_t used = 0;
  for (const auto& [k, r] : records_)
    if (!r.deleted) used += FieldBytes(r.fields);
  for (const auto& [id, a] : assets_) used += a.size;
  return used;
}

size_t CkState::live_records() const {
  size_t n = 0;
  for (const auto& [k, r] : records_) n += r.deleted ? 0 : 1;
  return n;
}

Status CkState::SaveSubscriptions() {
  nlohmann::json all = nlohmann::json::object();
  for (const auto& [db, m] : subscriptions_)
    for (const auto& [id, sub] : m) all[db][id] = sub;
  if (!WriteFileAtomic(dir_ + "/subscriptions.json", all.dump()))
    return Status::Fatal("cannot write " + dir_ + "/subscriptions.json");
  return Status::Ok();
}

}  // namespace jsync::emulator::cloudkit

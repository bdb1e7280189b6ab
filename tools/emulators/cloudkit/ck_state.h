// The emulated CloudKit container's data: zones, records (with tombstones for the change feed),
// assets and zone subscriptions, per database ("private", "shared"). Persisted under --state so
// a restarted emulator keeps everything:
//   meta.json             HMAC secret, user record name, partition, change sequence, sync-token
//                         epoch, zone generation counter
//   zones/<h>.json        one zone (live or deleted)
//   records/<h>.json      one record or tombstone (h: a hash of database, zone and name)
//   assets/<id>.json|bin  an uploaded asset's metadata and bytes
//   subscriptions.json    the zone subscriptions
//   .lock                 flock()ed while an emulator runs: a second one on the folder is refused
// Every change to a record or zone takes the next value of one sequence; the change feed is
// "records of the zone with seq > token's seq, by seq". Not thread-safe: CloudKitApi serialises
// access with its own mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/util/status.h"

namespace jsync::emulator::cloudkit {

inline constexpr const char* kDefaultZone = "_defaultZone";

struct CkZone {
  std::string db, name;
  int64_t gen = 0;          // a new generation each time the zone is (re)created
  int64_t changed_seq = 0;  // the last change in it (creation, records, deletion)
  bool deleted = false;
};

struct CkRecord {
  std::string db, zone, name, type, tag;
  nlohmann::json fields = nlohmann::json::object();  // name → {value, type?}; assets by id
  int64_t created_ms = 0, modified_ms = 0;
  bool deleted = false;
  int64_t seq = 0;
};

struct CkAsset {
  std::string id;
  int64_t size = 0;
  std::string checksum, wrapping_key, reference_checksum;
  std::string receipt_hash;  // sha256 of the receipt; "" once attached
  bool attached = false;
  int64_t created_ms = 0;
};

class CkState {
 public:
  static Result<std::unique_ptr<CkState>> Open(const std::string& dir);
  ~CkState();
  CkState(const CkState&) = delete;
  CkState& operator=(const CkState&) = delete;

  const std::string& secret() const { return secret_; }
  const std::string& user_record_name() const { return user_; }
  const std::string& partition() const { return partition_; }

  int64_t last_seq() const { return seq_; }
  int64_t NextSeq() { return ++seq_; }  // saved with the next SaveMeta
  int64_t epoch() const { return epoch_; }
  void BumpEpoch() { ++epoch_; }
  int64_t NextZoneGen() { return ++zone_gen_; }
  Status SaveMeta();

  // The zone (live or deleted); null when never seen. _defaultZone of "private" always exists.
  CkZone* FindZone(const std::string& db, const std::string& name);
  CkZone* LiveZone(const std::string& db, const std::string& name);
  std::vector<CkZone*> Zones(const std::string& db);  // live and deleted, by name
  Status PutZone(const CkZone& zone);
  // Marks the zone deleted (with `seq`) and drops its records and their assets.
  Status DeleteZone(const std::string& db, const std::string& name, int64_t seq);

  CkRecord* FindRecord(const std::string& db, const std::string& zone, const std::string& name);
  Status PutRecord(const CkRecord& record);
  // The zone's records and tombstones with seq > after, oldest change first.
  std::vector<const CkRecord*> ChangesAfter(const std::string& db, const std::string& zone,
                                            int64_t after) const;

  CkAsset* FindAsset(const std::string& id);
  CkAsset* FindAssetByReceipt(const std::string& receipt);
  Status PutAsset(const CkAsset& asset, const std::string* content);
  void DeleteAsset(const std::string& id);
  bool ReadAsset(const std::string& id, std::string* out) const;
  // Unattached uploads older than `max_age_ms` are orphans: deleted (Apple collects lazily).
  void CollectOrphans(int64_t max_age_ms);

  // Live records' field bytes (assets excluded) plus every stored asset's size.
  int64_t UsedBytes() const;
  size_t live_records() const;
  size_t asset_count() const { return assets_.size(); }

  // The zone subscriptions of `db`: id → subscription dictionary as stored.
  std::map<std::string, nlohmann::json>& subscriptions(const std::string& db) {
    return subscriptions_[db];
  }
  Status SaveSubscriptions();

 private:
  CkState() = default;
  static std::string Key(const std::string& db, const std::string& zone, const std::string& name);
  void DropRecordAssets(const CkRecord& r);

  std::string dir_;
  int lock_fd_ = -1;
  std::string secret_, user_, partition_;
  int64_t seq_ = 0, epoch_ = 1, zone_gen_ = 0;
  std::map<std::string, CkZone> zones_;      // Key(db, name, "") → zone
  std::map<std::string, CkRecord> records_;  // Key(db, zone, name) → record
  std::map<std::string, CkAsset> assets_;    // id → asset
  std::map<std::string, std::map<std::string, nlohmann::json>> subscriptions_;
};

// The bytes a record's fields count for the 1 MB limit and the quota: their JSON, asset fields
// left out.
int64_t FieldBytes(const nlohmann::json& fields);
// The asset ids a record's fields hold.
std::vector<std::string> AssetIdsOf(const nlohmann::json& fields);

}  // namespace jsync::emulator::cloudkit

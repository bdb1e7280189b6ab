// The CloudKit Web Services surface of the emulator (mode A of icloud.md): routing of
// /database/1/{container}/{environment}/{database}/{op}, the API-token and web-auth-token
// checks with per-answer token rotation, faults, latency, the request log, and the handlers:
// zones (ck_zones.cc), records (ck_records.cc), the change feed (ck_changes.cc), assets
// (ck_assets.cc), subscriptions, push tokens and the courier (ck_courier.cc), the admin routes
// (ck_admin.cc). Thread-safe: handlers take mu_ around CkState; the courier waits outside it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "net/local_http_server.h"
#include "tools/emulators/cloudkit/ck_fault_spec.h"
#include "tools/emulators/cloudkit/ck_state.h"
#include "tools/emulators/cloudkit/ck_web_auth.h"

namespace jsync::emulator::cloudkit {

struct CloudKitOptions {
  FaultSpec faults;
  int64_t latency_ms = 0;
  int64_t quota = 0;  // bytes of record fields + assets; 0: unlimited
  int64_t page_size = 200;
  std::string api_token = "jsync-test-api-token";
  std::string container = "iCloud.org.journalsync.test";
  int64_t asset_url_lifetime_s = 900;
  int64_t asset_max_bytes = 15 * 1000 * 1000;
  int64_t record_max_bytes = 1024 * 1024;
  int64_t courier_timeout_s = 25;
  std::string request_log;  // "" for none
  // Switches for what icloud.md marks inferred (README.md "CloudKit"):
  bool no_rotation = false;           // answers return the same token, which stays valid
  bool atomic_request_error = false;  // a failed atomic batch: request-level 400 ATOMIC_ERROR
  bool zone_create_exists = false;    // creating an existing zone: per-zone EXISTS
};

class CloudKitApi {
 public:
  CloudKitApi(CloudKitOptions options, std::unique_ptr<CkState> state, WebAuth* auth);
  void set_base_url(std::string url) { base_url_ = std::move(url); }
  net::LocalResponse Handle(const net::LocalRequest& req);

 private:
  // One API request after the checks: its database, op and parsed JSON body.
  struct Call {
    const net::LocalRequest* req = nullptr;
    std::string env, db, op;
    nlohmann::json body;  // an object; {} for GET
  };

  // The request's op for fault matching ("" when not counted) and the log.
  static std::string OpOf(const net::LocalRequest& req, std::string* db);
  std::optional<net::LocalResponse> ApplyFaults(const std::string& op, const Fault** matched);
  net::LocalResponse AuthRequired() const;
  net::LocalResponse HandleDatabase(const net::LocalRequest& req, std::string* rotated);
  net::LocalResponse Route(Call& c);
  void LogRequest(const net::LocalRequest& req, const std::string& op, int64_t t_ms,
                  const net::LocalResponse& r, const Fault* fault);

  // ck_zones.cc
  nlohmann::json ZoneJson(const CkZone& z) const;
  net::LocalResponse ZonesList(Call& c);
  net::LocalResponse ZonesLookup(Call& c);
  net::LocalResponse ZonesModify(Call& c);
  // ck_records.cc
  net::LocalResponse RecordsModify(Call& c);
  net::LocalResponse RecordsLookup(Call& c);
  // Under mu_: the record dictionary; `desired` null: every field.
  nlohmann::json RecordJson(const CkRecord& r, const nlohmann::json* desired) const;
  // ck_changes.cc
  std::string ZoneToken(const CkZone& z, int64_t seq) const;
  net::LocalResponse ChangesDatabase(Call& c);
  net::LocalResponse ChangesZone(Call& c);
  // ck_assets.cc
  net::LocalResponse AssetsUpload(Call& c);
  net::LocalResponse UploadAsset(const net::LocalRequest& req, const std::string& id);
  net::LocalResponse DownloadAsset(const net::LocalRequest& req, const std::string& rest);
  std::string DownloadUrl(const CkAsset& a) const;
  // ck_courier.cc
  net::LocalResponse SubscriptionsList(Call& c);
  net::LocalResponse SubscriptionsModify(Call& c);
  net::LocalResponse TokensCreate(Call& c);
  net::LocalResponse TokensRegister(Call& c);
  net::LocalResponse Courier(const std::string& id);
  // Under mu_: queues a notification for every courier when `zone` has a subscription.
  void NotifyZoneChanged(const std::string& db, const std::string& zone);
  // ck_admin.cc
  net::LocalResponse Admin(const net::LocalRequest& req);

  // Signed opaque strings (sync tokens, download URLs).
  std::string Sign(const std::string& payload) const;
  bool Verify(const std::string& token, std::string* payload) const;

  CloudKitOptions options_;
  WebAuth* auth_;
  std::string base_url_;

  std::mutex fault_mu_;
  std::vector<uint64_t> fault_counts_;  // per entry of options_.faults.faults
  uint64_t requests_ = 0;

  std::mutex mu_;  // guards state_, uploads_, couriers_
  std::unique_ptr<CkState> state_;
  struct UploadSlot {
    std::string db, zone, record_name, field_name;
    int64_t expires_ms = 0;
  };
  std::map<std::string, UploadSlot> uploads_;  // url id → slot (in memory: URLs are short-lived)
  struct CourierQueue {
    std::deque<nlohmann::json> pending;
    bool registered = false;
  };
  std::map<std::string, CourierQueue> couriers_;
  std::condition_variable courier_cv_;
  int64_t next_nid_ = 1;

  std::mutex log_mu_;
  std::ofstream request_log_;
};

}  // namespace jsync::emulator::cloudkit

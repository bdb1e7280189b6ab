// The Microsoft Graph v1.0 surface of the OneDrive emulator: routing, bearer auth, faults,
// latency, the request log, and the handlers for the drive, items (graph_items.cc), upload
// sessions (graph_uploads.cc), downloads, delta (graph_delta.cc) and subscriptions.
// Thread-safe: handlers take mu_ around GraphState; webhook work happens outside it.
#pragma once

#include <atomic>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "net/local_http_server.h"
#include "tools/emulators/onedrive/fault_spec.h"
#include "tools/emulators/onedrive/graph_state.h"
#include "tools/emulators/onedrive/identity_endpoints.h"
#include "tools/emulators/onedrive/subscriptions.h"

namespace jsync::emulator::onedrive {

struct GraphOptions {
  FaultSpec faults;
  int64_t latency_ms = 0;
  int64_t quota = 0;  // bytes; 0: 5 GiB personal, 1 TiB business
  bool business = false;
  int64_t upload_session_ttl_s = 86400;
  int64_t download_url_ttl_s = 3600;
  int64_t page_size = 200;
  int64_t delta_token_ttl_s = 30 * 86400;
  std::string request_log;  // "" for none
  // The field report of AppFolder-only personal tokens: every app-folder request → 403.
  bool approot_denied = false;
};

class GraphApi {
 public:
  GraphApi(GraphOptions options, std::unique_ptr<GraphState> state, IdentityServer* identity,
           Subscriptions* subscriptions);
  void set_base_url(std::string url) { base_url_ = std::move(url); }
  net::LocalResponse Handle(const net::LocalRequest& req);

 private:
  struct Call {
    const net::LocalRequest* req = nullptr;
    std::string token;
    std::string scope;
    bool full_access = false;  // Files.ReadWrite(.All): the whole drive, not only the app folder
  };
  // An item address: a base (root, app folder or id), a relative path, a suffix.
  struct Address {
    std::string base;  // "root", "approot" or an item id
    std::vector<std::string> rel;
    std::string suffix;       // "", "children", "content", "createUploadSession", "delta", ...
    std::string delta_token;  // from the delta(token='...') form
    bool has_token_fn = false;
  };
  // What an address resolves to (under mu_).
  struct Resolved {
    const GraphItem* item = nullptr;    // null when it does not exist
    const GraphItem* parent = nullptr;  // the deepest existing folder on the way
    size_t missing_from = 0;            // index in rel of the first missing segment
    std::string error_status;           // not used
  };
  struct UploadSession {
    std::string hash;  // sha256 of the secret in the URL (the key; the secret is not kept)
    std::string parent_id;
    std::string name;
    std::string target_id;  // the item to replace (createUploadSession by id)
    std::string conflict = "fail";
    int64_t total = -1;
    int64_t received = 0;
    int64_t expires_ms = 0;
    nlohmann::json ToStored() const;
    static UploadSession FromStored(const nlohmann::json& j);
  };

  // Which counted requests and which faults.
  enum class Kind { kGraph, kUpload, kDownload };
  std::optional<net::LocalResponse> ApplyFaults(Kind kind, const net::LocalRequest& req,
                                                const Fault** immediate);
  bool TakeArmed(FaultKind kind);
  net::LocalResponse Unauthorized(const std::string& message, bool expired) const;
  void LogRequest(const net::LocalRequest& req, int64_t t_ms, const net::LocalResponse& r,
                  bool dropped);
  void NotifyIfChanged();

  net::LocalResponse RouteGraph(Call& c);
  std::optional<net::LocalResponse> ParseAddress(const std::string& rest, Address* out) const;
  // Under mu_: the base item (creating the app folder on first use) and the walk down rel.
  std::optional<net::LocalResponse> Resolve(const Call& c, const Address& a, Resolved* out);
  bool Allowed(const Call& c, const std::string& id) const;  // under mu_

  // graph_items.cc
  net::LocalResponse GetDrive(const Call& c);
  net::LocalResponse GetItem(const Call& c, const Address& a);
  net::LocalResponse ListChildren(const Call& c, const Address& a);
  net::LocalResponse CreateChild(const Call& c, const Address& a);
  net::LocalResponse PutContent(const Call& c, const Address& a);
  net::LocalResponse GetContent(const Call& c, const Address& a);
  net::LocalResponse DeleteItem(const Call& c, const Address& a, bool permanent);
  net::LocalResponse Download(const net::LocalRequest& req, const std::string& token);
  // graph_uploads.cc
  net::LocalResponse CreateUploadSession(const Call& c, const Address& a);
  net::LocalResponse UploadSessionRequest(const net::LocalRequest& req, const std::string& secret);
  void LoadSessions();
  void SaveSession(const UploadSession& s);
  void DropSession(const std::string& hash);
  // graph_delta.cc
  net::LocalResponse Delta(const Call& c, const Address& a);
  // subscriptions
  net::LocalResponse SubscriptionRequest(const Call& c, const std::string& id);

  // Under mu_: the driveItem JSON. `select` empty: the default property set.
  nlohmann::json ItemJson(const GraphItem& item, const std::set<std::string>& select, bool in_delta,
                          bool with_download_url);
  std::optional<net::LocalResponse> ParseSelect(const net::LocalRequest& req,
                                                std::set<std::string>* out) const;
  nlohmann::json QuotaJson() const;  // under mu_
  int64_t QuotaTotal() const;
  // Under mu_: 507 when adding `delta_bytes` would exceed the quota.
  std::optional<net::LocalResponse> CheckQuota(int64_t delta_bytes) const;
  std::string DownloadUrl(const GraphItem& item) const;
  // Under mu_: stores a file at parent/name (new) or over `existing`; the response.
  // Under mu_: stores `content` as a new file parent/name, or over `existing`; *id its id.
  std::optional<net::LocalResponse> CommitFile(const std::string& parent_id,
                                               const std::string& name, const GraphItem* existing,
                                               const std::string& content, std::string* id);
  // Under mu_: creates the missing folders rel[from..to) under parent; *id the last one.
  std::optional<net::LocalResponse> MakeFolders(const std::string& parent_id,
                                                const std::vector<std::string>& rel, size_t from,
                                                size_t to, std::string* id);
  // Under mu_: `name`, or "name 1.ext", "name 2.ext"... the first free one under parent.
  std::string FreeName(const std::string& parent_id, const std::string& name) const;
  // The armed 423 / quota faults, for writes.
  std::optional<net::LocalResponse> WriteFaults();
  // Signed opaque strings (delta cursors, skip tokens, download tokens).
  std::string Sign(const std::string& payload) const;
  bool Verify(const std::string& token, std::string* payload) const;

  GraphOptions options_;
  IdentityServer* identity_;
  Subscriptions* subscriptions_;
  std::string base_url_;

  std::mutex fault_mu_;  // guards the fault counters
  uint64_t counted_ = 0;
  std::map<FaultKind, int> armed_;
  int64_t throttle_count_ = 0;
  int64_t throttle_until_ms_ = 0;

  std::mutex mu_;  // guards state_, sessions_
  std::unique_ptr<GraphState> state_;
  std::map<std::string, UploadSession> sessions_;
  int64_t notified_seq_ = 0;

  std::mutex log_mu_;
  std::ofstream request_log_;
};

}  // namespace jsync::emulator::onedrive

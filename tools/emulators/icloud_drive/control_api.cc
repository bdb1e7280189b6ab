#include "tools/emulators/icloud_drive/control_api.h"

#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>

#include "tools/emulators/common/fault_when.h"

namespace jsync::emulator::icloud_drive {
namespace {

using nlohmann::json;

net::LocalResponse Reply(int status, const json& body) {
  return net::LocalResponse::Json(status, body.dump());
}

net::LocalResponse Error(const Status& st) {
  const int status = st.Is(Code::kNotFound) ? 404 : st.Is(Code::kInvalid) ? 400 : 500;
  return Reply(status, {{"error", st.message()}});
}

bool Root(const net::LocalRequest& req, const Simulator& sim, size_t* root) {
  const std::string v = req.QueryParam("root");
  if (v.empty() || v.size() > 3 || v.find_first_not_of("0123456789") != std::string::npos)
    return false;
  *root = std::stoul(v);
  return *root < sim.root_count();
}

bool On(const net::LocalRequest& req) {
  const std::string v = req.QueryParam("on");
  return v.empty() || v == "1" || v == "true";
}

}  // namespace

net::LocalResponse ControlApi::Handle(const net::LocalRequest& req) {
  if (!request_log_.empty()) {
    static std::mutex log_mu;
    std::lock_guard lock(log_mu);
    if (FILE* f = std::fopen(request_log_.c_str(), "a")) {
      const std::string line =
          json{{"method", req.method}, {"path", req.path}, {"query", req.query}}.dump() + "\n";
      std::fputs(line.c_str(), f);
      std::fclose(f);
    }
  }
  return Route(req);
}

net::LocalResponse ControlApi::Route(const net::LocalRequest& req) {
  const std::string& p = req.path;
  if (req.method == "GET" && p == "/_admin/settled") return Reply(200, sim_->Settled());
  if (req.method == "GET" && p == "/_admin/state") return Reply(200, sim_->Counters());
  if (req.method != "POST") return Reply(404, {{"error", "no route " + req.method + " " + p}});
  size_t root = 0;
  const bool has_root = Root(req, *sim_, &root);
  const std::string path = req.QueryParam("path");
  if (p == "/_admin/evict" || p == "/_admin/hydrate" || p == "/_admin/conflict") {
    if (!has_root) return Reply(400, {{"error", "root must be a root's number, from 0"}});
    if (p != "/_admin/evict" && path.empty()) return Reply(400, {{"error", "path is required"}});
  }
  if (p == "/_admin/evict") {
    int count = 0;
    const Status st = sim_->Evict(root, path, &count);
    return st.ok() ? Reply(200, {{"evicted", count}}) : Error(st);
  }
  if (p == "/_admin/hydrate") {
    const Status st = sim_->Hydrate(root, path);
    return st.ok() ? Reply(200, {{"hydrated", path}}) : Error(st);
  }
  if (p == "/_admin/conflict") {
    std::string made;
    const std::string style = req.QueryParam("style").empty() ? "space" : req.QueryParam("style");
    const Status st =
        sim_->InjectDuplicate(root, path, style, req.QueryParam("same") == "1", &made);
    return st.ok() ? Reply(200, {{"path", made}}) : Error(st);
  }
  if (p == "/_admin/hydrate-ms") {
    uint64_t ms = 0;
    const std::string v = req.QueryParam("ms");
    if (v != "0" && (!ParseCount(v, &ms) || ms > 600000))
      return Reply(400, {{"error", "ms must be 0 to 600000"}});
    sim_->SetHydrateMs(static_cast<int64_t>(ms));
    return Reply(200, {{"hydrate_ms", ms}});
  }
  if (p == "/_admin/drop-events") {
    sim_->SetDropEvents(On(req));
    return Reply(200, {{"drop_events", On(req)}});
  }
  if (p == "/_admin/storage-full") {
    sim_->SetStorageFull(On(req));
    return Reply(200, {{"storage_full", On(req)}});
  }
  if (p == "/_admin/pause" || p == "/_admin/resume") {
    sim_->SetPaused(p == "/_admin/pause");
    return Reply(200, {{"paused", p == "/_admin/pause"}});
  }
  if (p == "/_admin/rescan") {
    sim_->RequestRescan();
    return Reply(200, {{"rescan", true}});
  }
  return Reply(404, {{"error", "no route POST " + p}});
}

}  // namespace jsync::emulator::icloud_drive

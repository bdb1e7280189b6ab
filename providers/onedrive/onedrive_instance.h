// The plugin's instance (opaque to the host): configuration, and what must outlive one call so
// the host's retries are cheap and idempotent (upload sessions to resume, folders known to
// exist) and the feed can name what it reports (the items it has seen, by id).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "jsync_provider.h"
#include "link_cache.h"

namespace jsync_onedrive {

enum class DriveKind { kAuto, kPersonal, kBusiness };

// An upload session kept across the host's retries of one put (same path, same bytes).
struct UploadSession {
  std::string url;  // pre-authenticated: never logged, never in a message
};

// What the feed knows of an item, to name a path from parent ids (delta answers carry no
// parentReference.path).
struct ItemNode {
  std::string name;       // the item name as stored (EncodeName form)
  std::string parent_id;  // "" for the drive root
  bool folder = false;
  bool file = false;
};

}  // namespace jsync_onedrive

struct jsync_instance {
  const jsync_host_services* host = nullptr;
  std::string location;  // the journal's folder under the app folder ("journal")
  std::string api_base;  // https://graph.microsoft.com
  std::string graph;     // {api_base}/v1.0
  std::string origin;    // scheme://host[:port] of api_base: links must stay on it
  uint64_t simple_upload_max = 4194304;
  uint64_t fragment_size = 10 * 327680;
  int page_size = 200;
  std::string webhook_url;
  jsync_onedrive::DriveKind drive_kind = jsync_onedrive::DriveKind::kAuto;

  // Learned lazily (open makes no request: devices open offline).
  bool business_known = false;
  bool business = false;
  std::string approot_id;    // the app folder's item id
  std::string approot_path;  // its parentReference.path + "/" + name ("/drive/root:/Apps/x")

  // Item paths of folders that exist (created or found), so each is made once.
  std::set<std::string> folders;
  // Upload sessions by item path + '\n' + QuickXorHash of the bytes.
  std::map<std::string, jsync_onedrive::UploadSession> sessions;
  // Items seen by id (the feed's map for naming paths and removals).
  std::map<std::string, jsync_onedrive::ItemNode> nodes;
  // Download links by object path, shared by the instances of this location.
  jsync_onedrive::LinkCache links;
  // The subscription watch() made or renewed last, and the address it notifies.
  std::string subscription_id;
  std::string subscription_url;
};

namespace jsync_onedrive {

inline void Log(const jsync_instance* inst, int level, const std::string& message) {
  if (inst->host->log != nullptr) inst->host->log(inst->host->host, level, message.c_str());
}

}  // namespace jsync_onedrive

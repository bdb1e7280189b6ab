// The plugin's instance (opaque to the host): configuration plus the state that must outlive
// one call so the host's retries are idempotent and cheap.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "drive_client.h"
#include "winner_cache.h"
#include "jsync_provider.h"

struct jsync_instance {
  const jsync_host_services* host = nullptr;
  std::string location;  // the journal's namespace: file names start with location + "/"
  jsync_gdrive::Endpoints ep;
  uint64_t resumable_threshold = 5u << 20;
  int page_size = 1000;     // files.list / changes.list pageSize (Drive's maximum)
  std::string webhook_url;  // "" : push only when the host passes an address to watch()

  // Ids from files.generateIds not yet used.
  std::vector<std::string> id_pool;
  // The pre-generated id of an upload in progress, by UploadKey(path, md5): a retry of the
  // same put re-sends the same id, so Drive answers 409 instead of creating a duplicate.
  std::map<std::string, std::string> pending_ids;
  // Resumable upload sessions by UploadKey: a retried put resumes instead of restarting.
  std::map<std::string, std::string> sessions;
  // The winning file id of object names seen by any instance of this location (files.get by
  // id is read-after-write consistent; name queries may lag). Shared: winner_cache.h.
  jsync_gdrive::WinnerCache winners;
  // The last channel changes.watch opened.
  std::string channel_id;
  std::string channel_resource_id;
};

namespace jsync_gdrive {

inline std::string UploadKey(const std::string& path, const std::string& md5) {
  return path + '\n' + md5;
}

void Log(const jsync_instance* inst, int level, const std::string& message);

}  // namespace jsync_gdrive

// The iCloud plugin's instance (opaque to the host): configuration, and what outlives one call
// (whether the journal's zone is known to exist).
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "jsync_provider.h"

struct jsync_instance {
  const jsync_host_services* host = nullptr;
  std::string location;  // the journal's name ("journal"): its zone is ZoneNameOf(location)
  std::string zone;      // "jsync-journal"
  std::string api_base;  // https://api.apple-cloudkit.com/database/1/{container}/{environment}
  std::string database;  // "private" (or "shared")
  std::string db;        // {api_base}/{database}: the base of every operation
  uint64_t inline_max = 700u << 10;  // bytes kept inline as BYTES; more go to assets
  uint64_t asset_max = 15u << 20;    // bytes per asset; more are split into part records
  int page_size = 200;               // resultsLimit of changes/zone
  bool zone_ready = false;           // the zone was made (or found) by this instance
  // Names the listing under way emitted: a record changed between two pages comes again in a
  // later one (changes/zone reports each record once after a token, in its latest state).
  std::set<std::string> listed;
};

namespace jsync_icloud {

inline void Log(const jsync_instance* inst, int level, const std::string& message) {
  if (inst->host->log != nullptr) inst->host->log(inst->host->host, level, message.c_str());
}

}  // namespace jsync_icloud

// The iCloud Drive simulator's loopback control API (tests drive the simulated iCloud with it):
//   GET  /_admin/settled                    {"settled","pending","differences"}
//   GET  /_admin/state                      counters and switches
//   POST /_admin/evict?root=N[&path=REL]    to a ".name.icloud" stub (no path: every synced file)
//   POST /_admin/hydrate?root=N&path=REL    download an evicted file now
//   POST /_admin/hydrate-ms?ms=N            how long an asked-for stub takes to download
//   POST /_admin/conflict?root=N&path=REL&style=space|paren|underscore&same=1|0
//   POST /_admin/drop-events?on=1|0         lose file events (changes wait for a full rescan)
//   POST /_admin/storage-full?on=1|0        iCloud full: nothing uploads until off
//   POST /_admin/pause, /_admin/resume      stop and restart all propagation
//   POST /_admin/rescan                     a full rescan now
// Roots are numbered from 0 in --roots order. Errors: JSON {"error": "..."} with 400/404/500.
#pragma once

#include <string>

#include "net/local_http_server.h"
#include "tools/emulators/icloud_drive/simulator.h"

namespace jsync::emulator::icloud_drive {

class ControlApi {
 public:
  // request_log: "" or a file to append one JSON line per request to.
  ControlApi(Simulator* sim, std::string request_log)
      : sim_(sim), request_log_(std::move(request_log)) {}
  net::LocalResponse Handle(const net::LocalRequest& req);

 private:
  net::LocalResponse Route(const net::LocalRequest& req);
  Simulator* sim_;
  std::string request_log_;
};

}  // namespace jsync::emulator::icloud_drive

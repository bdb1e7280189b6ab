// The watcher's link to the relay: connects to the configured relays in turn (backoff with
// jitter between attempts, the next relay after a failure or a drop), seals what this device
// says and opens what the others say, dropping anything unauthentic or replayed. Losing the
// relay costs latency only: the poll covers every gap, so nothing here is persisted.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/format/relay_message.h"
#include "net/ws_client.h"

namespace jsync::live {

struct RelaySessionOptions {
  std::vector<std::string> urls;
  bool presence = false;
  std::string ca_file;  // wss: an extra certificate to trust (tests, private relays)
  int connect_timeout_ms = 3'000;
  int64_t reconnect_min_ms = 1'000;
  int64_t reconnect_max_ms = 60'000;
  int64_t presence_every_ms = 30'000;  // heartbeat; a device unseen for 3x this is offline
  uint64_t seed = 0;
};

struct RelayEvent {
  enum Kind { kHook, kNudge, kChange, kPresence } kind = kHook;
  format::RelayMessage message;  // not for kHook
};

class RelaySession {
 public:
  using Log = std::function<void(const std::string&)>;
  RelaySession(RelaySessionOptions options, format::RelayKeys keys, DeviceId self, Log log);
  ~RelaySession();

  // Connects when a connection attempt is due (blocks up to connect_timeout_ms), sends the
  // presence heartbeat when due. `now` is monotonic, `wall_ms` Unix time (counters).
  void Tick(int64_t now, uint64_t wall_ms);
  // When Tick next has something to do; INT64_MAX when nothing.
  int64_t next_due() const;
  int fd() const;  // readable while frames wait; -1 when not connected
  // Every frame received so far, opened and checked; notices a closed connection.
  std::vector<RelayEvent> Drain(int64_t now, uint64_t wall_ms);
  // Seals and sends (sender and counter filled in); dropped when not connected.
  void Send(format::RelayMessage message, uint64_t wall_ms);
  // Announces going offline (presence) and closes.
  void Close(uint64_t wall_ms);

  bool connected() const { return client_ != nullptr; }
  const std::string& url() const;
  // Devices that said they are online and were heard from lately (presence).
  std::vector<DeviceId> Online(int64_t now) const;
  uint64_t refused_frames() const { return refused_; }

 private:
  void Connect(int64_t now, uint64_t wall_ms);
  void Dropped(int64_t now, const std::string& why);

  RelaySessionOptions options_;
  format::RelayKeys keys_;
  DeviceId self_;
  Log log_;
  std::mt19937_64 rng_;
  std::unique_ptr<net::WsClient> client_;
  size_t next_url_ = 0;
  size_t current_url_ = 0;
  int failures_ = 0;
  int64_t connect_due_ = 0;
  int64_t presence_due_ = INT64_MAX;
  format::RelayCounter counter_;
  format::RelayReplayGuard guard_;
  std::map<DeviceId, int64_t> online_;  // last heard online, monotonic ms
  std::set<DeviceId> heard_;             // senders heard on this connection
  int64_t reannounce_after_ = 0;
  uint64_t refused_ = 0;
  bool said_refused_ = false;
};

}  // namespace jsync::live

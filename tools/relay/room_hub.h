// The relay's only state: which connections are in which room and which registered which hook,
// the per-room rate limit, and the counters of /v1/stats. Frames are fanned out to the room's
// other local connections at once and handed to the Bus (Redis) for the other instances.
//
// Thread-safety: every method is thread-safe (one mutex; Peer::Deliver is called after it is
// released, so a peer may leave from inside Deliver's consequences without deadlock).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "tools/relay/rate_limit.h"

namespace jsync::relay {

// One WebSocket connection as the hub sees it.
class Peer {
 public:
  virtual ~Peer() = default;
  // Queues a frame to send; never blocks; drops it (counted) when the peer's queue is full.
  // Thread-safe.
  virtual void Deliver(std::shared_ptr<const std::string> frame) = 0;
  // Starts a close handshake with this code. Thread-safe; idempotent.
  virtual void Close(uint16_t code) = 0;
};

// The link to the other instances (RedisBus). Calls never block on the network.
class Bus {
 public:
  virtual ~Bus() = default;
  virtual void Subscribe(const std::string& channel) = 0;
  virtual void Unsubscribe(const std::string& channel) = 0;
  virtual void Publish(const std::string& channel, std::string payload) = 0;
  virtual bool connected() const = 0;
  virtual uint64_t published() const = 0;
  virtual uint64_t received() const = 0;
  virtual uint64_t dropped() const = 0;  // publishes lost while Redis was down or behind
};

// Counters the connections bump directly.
struct RelayCounters {
  std::atomic<uint64_t> frames_in{0};         // binary frames received from devices
  std::atomic<uint64_t> frames_forwarded{0};  // frame copies queued to local connections
  std::atomic<uint64_t> garbage{0};
  std::atomic<uint64_t> oversize{0};
  std::atomic<uint64_t> text_frames{0};
  std::atomic<uint64_t> rate_limited{0};
  std::atomic<uint64_t> hooks{0};         // webhook notifications accepted (not validations)
  std::atomic<uint64_t> slow_dropped{0};  // frames dropped: a connection's write queue was full
  std::atomic<uint64_t> refused{0};       // upgrades refused with 429/503
};

std::string RoomChannel(const std::string& room);  // "jsync:room:<ROOM>"
std::string HookChannel(const std::string& hook);  // "jsync:hook:<HOOK>"

class RoomHub {
 public:
  using Clock = std::chrono::steady_clock;
  // Runs `fn` after `delay` on some thread (the server's io_context).
  using Scheduler = std::function<void(std::chrono::milliseconds, std::function<void()>)>;

  RoomHub(size_t max_connections, size_t max_per_room, Scheduler scheduler);

  // Before any connection: the bus (may stay null) and this instance's 16-byte id.
  void SetBus(Bus* bus, std::string instance_id);

  enum class Admission { kOk, kRoomFull, kServerFull };
  // Reserves the connection's place before the WebSocket handshake (`hook` may be empty).
  Admission Join(Peer* key, std::weak_ptr<Peer> peer, const std::string& room,
                 const std::string& hook);
  // Idempotent; called from the connection's destructor.
  void Leave(Peer* key);

  // A sealed frame `from` sent (already checked and within its connection's limit). False when
  // the room's bucket is empty: the frame is dropped (the caller counts it).
  bool Forward(Peer* from, std::shared_ptr<const std::string> frame);
  // A message on a channel this instance subscribed to (the bus's thread).
  void OnBusMessage(const std::string& channel, const std::string& payload);
  // A webhook for `hook`: the 2-byte nudge to its registrants here and on the other instances,
  // at most one per 250 ms (a nudge inside the window is sent at its end).
  void Nudge(const std::string& hook);
  // Every connection gets Close(code) (shutdown: 1001).
  void CloseAll(uint16_t code);

  RelayCounters& counters() { return counters_; }
  size_t connections() const;
  std::string StatsJson() const;

 private:
  struct Member {
    std::weak_ptr<Peer> peer;
    std::string room;
    std::string hook;
  };
  struct Room {
    std::set<Peer*> members;
    TokenBucket bucket{kRoomBurst, kRoomPerSecond};
  };
  struct HookWindow {
    Clock::time_point sent;
    bool pending = false;
  };
  // Local registrants of `hook`, under mu_.
  std::vector<std::shared_ptr<Peer>> HookPeersLocked(const std::string& hook) const;
  void SendNudgeLocked(const std::string& hook, std::vector<std::shared_ptr<Peer>>* to);
  void WindowEnds(const std::string& hook);
  void DeliverAll(const std::vector<std::shared_ptr<Peer>>& to,
                  const std::shared_ptr<const std::string>& frame);

  const size_t max_connections_;
  const size_t max_per_room_;
  Scheduler scheduler_;
  Bus* bus_ = nullptr;
  std::string instance_id_;
  RelayCounters counters_;

  mutable std::mutex mu_;
  std::unordered_map<Peer*, Member> members_;
  std::unordered_map<std::string, Room> rooms_;
  std::unordered_map<std::string, std::set<Peer*>> hooks_;
  std::unordered_map<std::string, HookWindow> windows_;
  const std::shared_ptr<const std::string> nudge_frame_;
};

}  // namespace jsync::relay

// The Bus over Redis pub/sub (hiredis, synchronous API on two threads of its own):
//  - the subscriber thread owns one connection in subscribe mode; it polls the socket and a
//    wake-up pipe, so SUBSCRIBE/UNSUBSCRIBE requests from the hub are sent between messages;
//  - the publisher thread owns a second connection and drains a bounded publish queue.
// Redis down (at start or later): both threads reconnect with backoff (100 ms doubling to 2 s,
// with jitter), the subscriber re-subscribes to every wanted channel, publishes meanwhile are
// dropped and counted (the devices' poll covers the gap), and the state change is logged once.
//
// Thread-safety: every public method is thread-safe and returns without network I/O.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tools/relay/room_hub.h"

namespace jsync::relay {

struct RedisAddress {
  std::string host;
  int port = 6379;
};
// "redis://HOST:PORT" (or HOST:PORT); false when malformed.
bool ParseRedisUrl(const std::string& url, RedisAddress* out);

class RedisBus : public Bus {
 public:
  using OnMessage = std::function<void(const std::string& channel, const std::string& payload)>;
  RedisBus(RedisAddress address, OnMessage on_message);
  ~RedisBus() override;  // Stop()s
  RedisBus(const RedisBus&) = delete;
  RedisBus& operator=(const RedisBus&) = delete;

  void Start();
  void Stop();  // joins the threads; idempotent

  void Subscribe(const std::string& channel) override;
  void Unsubscribe(const std::string& channel) override;
  void Publish(const std::string& channel, std::string payload) override;
  bool connected() const override { return sub_up_.load() && pub_up_.load(); }
  uint64_t published() const override { return published_.load(); }
  uint64_t received() const override { return received_.load(); }
  uint64_t dropped() const override { return dropped_.load(); }

 private:
  void RunSubscriber();
  void RunPublisher();
  void Wake();
  // Sleeps for the backoff of `attempt` or until Stop(); false when stopping.
  bool Backoff(int attempt);
  void SetUp(std::atomic<bool>* flag, bool up, const char* which, const std::string& why);

  const RedisAddress address_;
  const OnMessage on_message_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> sub_up_{false}, pub_up_{false};
  std::atomic<uint64_t> published_{0}, received_{0}, dropped_{0};
  int wake_pipe_[2] = {-1, -1};

  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::set<std::string> wanted_;                         // channels we should be subscribed to
  std::vector<std::pair<bool, std::string>> changes_;    // (subscribe?, channel) not yet sent
  std::deque<std::pair<std::string, std::string>> queue_;  // (channel, payload) to publish
  bool logged_down_ = false;
  bool announced_ = false;  // the first "connected" line
  bool probe_publisher_ = false;
  std::chrono::steady_clock::time_point down_since_, sub_since_, pub_since_;

  std::thread subscriber_, publisher_;
};

}  // namespace jsync::relay

// changes.watch channels and their notifications. Deliveries are POSTs with an empty body and
// Drive's X-Goog-* headers, sent with libcurl by one background thread, in order (so the "sync"
// message always precedes the first "change"), never while DriveApi holds its state lock.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace jsync::emulator::gdrive {

struct Channel {
  std::string id;
  std::string resource_id;
  std::string resource_uri;
  std::string token;
  std::string address;
  int64_t expiration_ms = 0;
  int64_t next_message = 1;
};

class Webhooks {
 public:
  Webhooks();
  ~Webhooks();  // delivers nothing more; joins the thread
  Webhooks(const Webhooks&) = delete;
  Webhooks& operator=(const Webhooks&) = delete;

  // Registers a channel and queues its "sync" message. False when the id is taken.
  bool Add(Channel channel);
  // False when no channel has this id (and resource id, when given).
  bool Stop(const std::string& id, const std::string& resource_id);
  // Queues a "change" message to every live channel.
  void NotifyChange();

 private:
  struct Delivery {
    Channel channel;  // a copy, with the message number to send
    std::string state;
  };
  void Run();
  void Send(const Delivery& d);

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Channel> channels_;
  std::deque<Delivery> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace jsync::emulator::gdrive

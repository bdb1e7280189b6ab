// Graph change-notification subscriptions on the drive: the validation handshake (a POST of
// ?validationToken=X that must be echoed as text/plain within 10 s) and the notifications, POSTed
// as {"value":[changeNotification...]} by one background thread after drive changes (debounced
// by 100 ms), never while GraphApi holds its state lock. Kept in memory. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace jsync::emulator::onedrive {

struct Subscription {
  std::string id;  // a GUID
  std::string resource;
  std::string client_state;
  std::string notification_url;
  int64_t expiration_ms = 0;
  bool approot_only = false;  // resource is the app folder: only its changes notify
  nlohmann::json ToJson(const std::string& application_id) const;
};

class Subscriptions {
 public:
  explicit Subscriptions(std::string tenant_id);
  ~Subscriptions();  // delivers nothing more; joins the thread
  Subscriptions(const Subscriptions&) = delete;
  Subscriptions& operator=(const Subscriptions&) = delete;

  // POSTs notification_url?validationToken=X; "" when it echoed X with 200 in time, else why not.
  static std::string Validate(const std::string& notification_url);

  void Add(const Subscription& s);
  std::optional<Subscription> Get(const std::string& id);
  std::vector<Subscription> List();
  // False when unknown (or expired).
  bool Renew(const std::string& id, int64_t expiration_ms, Subscription* out);
  bool Remove(const std::string& id);
  // Something changed in the drive; `in_approot`: (also) inside the app folder.
  void NotifyChange(bool in_approot);

 private:
  void Run();
  void Deliver(const Subscription& s);
  void DropExpired();  // under mu_

  std::string tenant_id_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Subscription> subs_;
  bool pending_root_ = false;
  bool pending_approot_ = false;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace jsync::emulator::onedrive

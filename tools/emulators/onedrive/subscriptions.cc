#include "tools/emulators/onedrive/subscriptions.h"

#include <curl/curl.h>

#include <chrono>
#include <cstdio>

#include "tools/emulators/common/util.h"

namespace jsync::emulator::onedrive {
namespace {

size_t Collect(char* data, size_t size, size_t n, void* out) {
  auto* s = static_cast<std::string*>(out);
  if (s->size() < 65536) s->append(data, size * n);
  return size * n;
}

// One POST; the HTTP status (0 on a transport error) and the body.
long Post(const std::string& url, const std::string& type, const std::string& body, long timeout_ms,
          std::string* reply, std::string* reply_type) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return 0;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Content-Type: " + type).c_str());
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, reply);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  char* ct = nullptr;
  if (rc == CURLE_OK && curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
    *reply_type = ct;
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return status;
}

}  // namespace

nlohmann::json Subscription::ToJson(const std::string& application_id) const {
  return {{"id", id},
          {"resource", resource},
          {"applicationId", application_id},
          {"changeType", "updated"},
          {"clientState", client_state.empty() ? nlohmann::json() : nlohmann::json(client_state)},
          {"notificationUrl", notification_url},
          {"expirationDateTime", Rfc3339(expiration_ms)},
          {"creatorId", "00000000-0000-0000-0000-00000000e001"},
          {"latestSupportedTlsVersion", "v1_2"},
          {"includeResourceData", false}};
}

Subscriptions::Subscriptions(std::string tenant_id)
    : tenant_id_(std::move(tenant_id)), worker_([this] { Run(); }) {}

Subscriptions::~Subscriptions() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

std::string Subscriptions::Validate(const std::string& notification_url) {
  const std::string token =
      "Validation: Testing client application reachability for subscription "
      "Request-Id: " +
      RandomUuid();
  char* escaped = curl_easy_escape(nullptr, token.data(), static_cast<int>(token.size()));
  const std::string url = notification_url +
                          (notification_url.find('?') == std::string::npos ? "?" : "&") +
                          "validationToken=" + escaped;
  curl_free(escaped);
  std::string reply, type;
  const long status = Post(url, "text/plain; charset=utf-8", "", 10000, &reply, &type);
  if (status == 0) return "the notification endpoint did not answer within 10 s";
  if (status != 200) return "the notification endpoint answered HTTP " + std::to_string(status);
  if (type.rfind("text/plain", 0) != 0)
    return "the notification endpoint answered Content-Type '" + type + "', not text/plain";
  if (reply != token) return "the notification endpoint did not echo the validation token";
  return "";
}

void Subscriptions::DropExpired() {
  const int64_t now = NowMs();
  for (auto it = subs_.begin(); it != subs_.end();) {
    if (it->second.expiration_ms <= now) {
      it = subs_.erase(it);
    } else {
      ++it;
    }
  }
}

void Subscriptions::Add(const Subscription& s) {
  std::lock_guard lock(mu_);
  subs_[s.id] = s;
}

std::optional<Subscription> Subscriptions::Get(const std::string& id) {
  std::lock_guard lock(mu_);
  DropExpired();
  auto it = subs_.find(id);
  if (it == subs_.end()) return std::nullopt;
  return it->second;
}

std::vector<Subscription> Subscriptions::List() {
  std::lock_guard lock(mu_);
  DropExpired();
  std::vector<Subscription> out;
  for (const auto& [id, s] : subs_) out.push_back(s);
  return out;
}

bool Subscriptions::Renew(const std::string& id, int64_t expiration_ms, Subscription* out) {
  std::lock_guard lock(mu_);
  DropExpired();
  auto it = subs_.find(id);
  if (it == subs_.end()) return false;
  it->second.expiration_ms = expiration_ms;
  *out = it->second;
  return true;
}

bool Subscriptions::Remove(const std::string& id) {
  std::lock_guard lock(mu_);
  DropExpired();
  return subs_.erase(id) > 0;
}

void Subscriptions::NotifyChange(bool in_approot) {
  std::lock_guard lock(mu_);
  pending_root_ = true;
  if (in_approot) pending_approot_ = true;
  cv_.notify_all();
}

void Subscriptions::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || pending_root_; });
    if (stopping_) return;
    // Debounce: a burst of changes becomes one notification per subscription.
    cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_; });
    if (stopping_) return;
    const bool approot = pending_approot_;
    pending_root_ = pending_approot_ = false;
    DropExpired();
    std::vector<Subscription> due;
    for (const auto& [id, s] : subs_)
      if (!s.approot_only || approot) due.push_back(s);
    lock.unlock();
    for (const auto& s : due) Deliver(s);
    lock.lock();
  }
}

void Subscriptions::Deliver(const Subscription& s) {
  nlohmann::json n = {{"subscriptionId", s.id},
                      {"subscriptionExpirationDateTime", Rfc3339(s.expiration_ms)},
                      {"changeType", "updated"},
                      {"resource", s.resource},
                      {"tenantId", tenant_id_}};
  if (!s.client_state.empty()) n["clientState"] = s.client_state;
  const std::string body = nlohmann::json({{"value", nlohmann::json::array({n})}}).dump();
  // A receiver that fails or is slow is retried twice (Graph retries for hours).
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::string reply, type;
    const long status =
        Post(s.notification_url, "application/json; charset=utf-8", body, 3000, &reply, &type);
    if (status >= 200 && status < 300) return;
    std::fprintf(stderr, "jsync-emulator: notification to subscription %s failed (%s)\n",
                 s.id.c_str(),
                 status == 0 ? "no answer within 3 s" : ("HTTP " + std::to_string(status)).c_str());
  }
}

}  // namespace jsync::emulator::onedrive

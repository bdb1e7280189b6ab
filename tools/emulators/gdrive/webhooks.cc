#include "tools/emulators/gdrive/webhooks.h"

#include <curl/curl.h>

#include <cstdio>

#include "tools/emulators/gdrive/util.h"

namespace jsync::emulator::gdrive {
namespace {
size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }
}  // namespace

Webhooks::Webhooks() : worker_([this] { Run(); }) {}

Webhooks::~Webhooks() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

bool Webhooks::Add(Channel channel) {
  std::lock_guard lock(mu_);
  if (channels_.count(channel.id)) return false;
  Delivery d{channel, "sync"};
  channel.next_message = 2;
  channels_[channel.id] = channel;
  queue_.push_back(d);
  cv_.notify_all();
  return true;
}

bool Webhooks::Stop(const std::string& id, const std::string& resource_id) {
  std::lock_guard lock(mu_);
  auto it = channels_.find(id);
  if (it == channels_.end()) return false;
  if (!resource_id.empty() && it->second.resource_id != resource_id) return false;
  channels_.erase(it);
  return true;
}

void Webhooks::NotifyChange() {
  std::lock_guard lock(mu_);
  const int64_t now = NowMs();
  for (auto it = channels_.begin(); it != channels_.end();) {
    if (it->second.expiration_ms <= now) {
      it = channels_.erase(it);
      continue;
    }
    queue_.push_back({it->second, "change"});
    ++it->second.next_message;
    ++it;
  }
  cv_.notify_all();
}

void Webhooks::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    const Delivery d = queue_.front();
    queue_.pop_front();
    lock.unlock();
    Send(d);
    lock.lock();
  }
}

void Webhooks::Send(const Delivery& d) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return;
  curl_slist* headers = nullptr;
  const Channel& c = d.channel;
  auto add = [&headers](const std::string& h) { headers = curl_slist_append(headers, h.c_str()); };
  add("X-Goog-Channel-ID: " + c.id);
  if (!c.token.empty()) add("X-Goog-Channel-Token: " + c.token);
  add("X-Goog-Channel-Expiration: " + HttpDate(c.expiration_ms));
  add("X-Goog-Resource-ID: " + c.resource_id);
  add("X-Goog-Resource-URI: " + c.resource_uri);
  add("X-Goog-Resource-State: " + d.state);
  add("X-Goog-Message-Number: " + std::to_string(c.next_message));
  add("Content-Type: application/json; charset=UTF-8");
  add("Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, c.address.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  // Receivers answering 500/502/503/504 are retried (Drive retries with backoff).
  for (int attempt = 0; attempt < 3; ++attempt) {
    const CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && (status < 500 || status > 504)) break;
    std::fprintf(stderr, "jsync-emulator: webhook %s (channel %s) failed: %s\n",
                 c.address.c_str(), c.id.c_str(),
                 rc != CURLE_OK ? curl_easy_strerror(rc) : ("HTTP " + std::to_string(status)).c_str());
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
}

}  // namespace jsync::emulator::gdrive

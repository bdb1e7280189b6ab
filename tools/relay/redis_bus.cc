#include "tools/relay/redis_bus.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

namespace jsync::relay {
namespace {

constexpr size_t kMaxQueuedPublishes = 16384;
constexpr size_t kMaxBatch = 256;

// Sends everything hiredis buffered; false on a broken connection.
bool Flush(redisContext* c) {
  int done = 0;
  while (!done)
    if (redisBufferWrite(c, &done) != REDIS_OK) return false;
  return true;
}

redisContext* Connect(const RedisAddress& a, std::string* why) {
  redisContext* c = redisConnectWithTimeout(a.host.c_str(), a.port, timeval{1, 0});
  if (c == nullptr) {
    *why = "out of memory";
    return nullptr;
  }
  if (c->err) {
    *why = c->errstr;
    redisFree(c);
    return nullptr;
  }
  redisEnableKeepAlive(c);
  // A half-open connection (a partition, a Redis host gone without a reset) must fail a
  // blocked read or write, not hang the publisher (and SIGTERM, which joins it) for good.
  redisSetTimeout(c, timeval{5, 0});
  return c;
}

}  // namespace

bool ParseRedisUrl(const std::string& url, RedisAddress* out) {
  std::string rest = url;
  if (rest.rfind("redis://", 0) == 0) rest = rest.substr(8);
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  RedisAddress a;
  a.host = colon == std::string::npos ? rest : rest.substr(0, colon);
  if (a.host.empty() || a.host.find_first_of("/@") != std::string::npos) return false;
  if (colon != std::string::npos) {
    const std::string port = rest.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos)
      return false;
    a.port = std::stoi(port);
    if (a.port < 1 || a.port > 65535) return false;
  }
  *out = a;
  return true;
}

RedisBus::RedisBus(RedisAddress address, OnMessage on_message)
    : address_(std::move(address)), on_message_(std::move(on_message)) {}

RedisBus::~RedisBus() { Stop(); }

void RedisBus::Start() {
  if (::pipe2(wake_pipe_, O_NONBLOCK | O_CLOEXEC) != 0) wake_pipe_[0] = wake_pipe_[1] = -1;
  subscriber_ = std::thread([this] { RunSubscriber(); });
  publisher_ = std::thread([this] { RunPublisher(); });
}

void RedisBus::Stop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard lock(mu_);  // so a waiter cannot miss the flag
  }
  cv_.notify_all();
  Wake();
  if (subscriber_.joinable()) subscriber_.join();
  if (publisher_.joinable()) publisher_.join();
  for (int& fd : wake_pipe_)
    if (fd >= 0) ::close(fd), fd = -1;
}

void RedisBus::Wake() {
  if (wake_pipe_[1] >= 0) {
    const char b = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_pipe_[1], &b, 1);  // full pipe: awake anyway
  }
}

void RedisBus::Subscribe(const std::string& channel) {
  {
    std::lock_guard lock(mu_);
    if (!wanted_.insert(channel).second) return;
    changes_.emplace_back(true, channel);
  }
  Wake();
}

void RedisBus::Unsubscribe(const std::string& channel) {
  {
    std::lock_guard lock(mu_);
    if (wanted_.erase(channel) == 0) return;
    changes_.emplace_back(false, channel);
  }
  Wake();
}

void RedisBus::Publish(const std::string& channel, std::string payload) {
  {
    std::lock_guard lock(mu_);
    if (!pub_up_.load() || queue_.size() >= kMaxQueuedPublishes) {
      ++dropped_;
      return;
    }
    queue_.emplace_back(channel, std::move(payload));
  }
  cv_.notify_all();
}

bool RedisBus::Backoff(int attempt) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  const int base = std::min(2000, 100 << std::min(attempt, 5));
  std::uniform_int_distribution<int> jitter(base * 3 / 4, base * 5 / 4);
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(jitter(rng)), [this] { return stopping_.load(); });
  return !stopping_.load();
}

void RedisBus::SetUp(std::atomic<bool>* flag, bool up, const char* which,
                     const std::string& why) {
  const bool was = flag->exchange(up);
  if (up && was) return;
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (up) {
    (flag == &sub_up_ ? sub_since_ : pub_since_) = now;
    // Back only when both connections were made after the outage began (a connection that
    // has not noticed the outage yet is not back).
    const bool both = sub_up_.load() && pub_up_.load();
    if (logged_down_ && both && sub_since_ > down_since_ && pub_since_ > down_since_) {
      std::fprintf(stderr, "jsync-relay: redis %s:%d connected again\n", address_.host.c_str(),
                   address_.port);
      logged_down_ = false;
    } else if (!logged_down_ && !announced_ && both) {
      std::fprintf(stderr, "jsync-relay: redis %s:%d connected\n", address_.host.c_str(),
                   address_.port);
      announced_ = true;
    }
    return;
  }
  // The subscriber notices an outage at once (its socket is read all the time): have the
  // publisher look at its own connection now rather than at its next publish.
  probe_publisher_ = true;
  cv_.notify_all();
  if (!logged_down_) {
    // Once per outage, whichever connection notices first.
    std::fprintf(stderr,
                 "jsync-relay: redis %s:%d unreachable (%s: %s); local forwarding goes on, "
                 "reconnecting with backoff\n",
                 address_.host.c_str(), address_.port, which, why.c_str());
    logged_down_ = true;
    down_since_ = now;
  }
}

void RedisBus::RunSubscriber() {
  int attempt = 0;
  while (!stopping_.load()) {
    std::string why;
    redisContext* c = Connect(address_, &why);
    if (c == nullptr) {
      SetUp(&sub_up_, false, "subscriber", why);
      if (!Backoff(attempt++)) break;
      continue;
    }
    std::set<std::string> channels;
    {
      std::lock_guard lock(mu_);
      channels = wanted_;
      changes_.clear();  // the snapshot already reflects them
    }
    for (const auto& ch : channels)
      redisAppendCommand(c, "SUBSCRIBE %b", ch.data(), ch.size());
    bool ok = Flush(c);
    if (ok) {
      attempt = 0;
      SetUp(&sub_up_, true, "subscriber", "");
    }
    while (ok && !stopping_.load()) {
      void* raw = nullptr;
      while (ok) {
        if (redisGetReplyFromReader(c, &raw) != REDIS_OK) {
          ok = false;
          break;
        }
        if (raw == nullptr) break;
        auto* r = static_cast<redisReply*>(raw);
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
            r->element[0]->type == REDIS_REPLY_STRING &&
            std::string(r->element[0]->str, r->element[0]->len) == "message") {
          ++received_;
          on_message_(std::string(r->element[1]->str, r->element[1]->len),
                      std::string(r->element[2]->str, r->element[2]->len));
        }
        freeReplyObject(r);
      }
      if (!ok) break;
      std::vector<std::pair<bool, std::string>> changes;
      {
        std::lock_guard lock(mu_);
        changes.swap(changes_);
      }
      for (const auto& [sub, ch] : changes)
        redisAppendCommand(c, sub ? "SUBSCRIBE %b" : "UNSUBSCRIBE %b", ch.data(), ch.size());
      if (!changes.empty() && !Flush(c)) break;
      pollfd fds[2] = {{c->fd, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
      if (::poll(fds, wake_pipe_[0] >= 0 ? 2 : 1, 1000) < 0) continue;
      if (fds[1].revents & POLLIN) {
        char buf[256];
        while (::read(wake_pipe_[0], buf, sizeof buf) > 0) {
        }
      }
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
        ok = redisBufferRead(c) == REDIS_OK;
    }
    why = c->err ? c->errstr : "connection lost";
    redisFree(c);
    SetUp(&sub_up_, false, "subscriber", why);
    // Not at once: a Redis that is going down may still accept (and then reset) a connection.
    if (!Backoff(attempt++)) break;
  }
}

void RedisBus::RunPublisher() {
  int attempt = 0;
  while (!stopping_.load()) {
    std::string why;
    redisContext* c = Connect(address_, &why);
    if (c == nullptr) {
      SetUp(&pub_up_, false, "publisher", why);
      if (!Backoff(attempt++)) break;
      continue;
    }
    attempt = 0;
    SetUp(&pub_up_, true, "publisher", "");
    bool ok = true;
    while (ok && !stopping_.load()) {
      std::vector<std::pair<std::string, std::string>> batch;
      {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(500), [this] {
          return stopping_.load() || !queue_.empty() || probe_publisher_;
        });
        probe_publisher_ = false;
        while (!queue_.empty() && batch.size() < kMaxBatch) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      if (batch.empty()) {
        // Idle: notice a Redis that went away (EOF) without waiting for the next publish.
        pollfd fd{c->fd, POLLIN, 0};
        if (::poll(&fd, 1, 0) > 0) ok = redisBufferRead(c) == REDIS_OK;
        continue;
      }
      for (const auto& [ch, payload] : batch)
        redisAppendCommand(c, "PUBLISH %b %b", ch.data(), ch.size(), payload.data(),
                           payload.size());
      size_t done = 0;
      for (; done < batch.size(); ++done) {
        void* raw = nullptr;
        if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) {
          ok = false;
          break;
        }
        freeReplyObject(raw);
      }
      published_ += done;
      dropped_ += batch.size() - done;
    }
    why = c->err ? c->errstr : "connection lost";
    redisFree(c);
    SetUp(&pub_up_, false, "publisher", why);
    {
      std::lock_guard lock(mu_);
      dropped_ += queue_.size();
      queue_.clear();
    }
    if (!Backoff(attempt++)) break;
  }
}

}  // namespace jsync::relay

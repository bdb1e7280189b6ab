// Download links (@microsoft.graph.downloadUrl) seen in delta pages and listings, by object
// path, shared by every instance of one location in the process (the host opens several to
// download at once). A get with a fresh link costs one request instead of two (GET :/content →
// 302, then the link). Entries are hints: a link refused (401/403/404/410) is dropped and the
// object is read through :/content, so a stale link costs one request, never a wrong answer.
// Links are secrets of a kind (pre-authenticated): kept in memory only, never logged.
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace jsync_onedrive {

class LinkCache {
 public:
  // Graph's links live about an hour; younger than this they are used.
  static constexpr int64_t kMaxAgeMs = 50LL * 60 * 1000;
  static constexpr size_t kMaxEntries = 50000;

  LinkCache() : state_(std::make_shared<State>()) {}
  // The cache every instance of (Graph endpoint, location) shares in this process.
  static LinkCache For(const std::string& graph, const std::string& location) {
    static std::mutex mu;
    static std::map<std::string, std::weak_ptr<State>> all;
    std::lock_guard lock(mu);
    auto& slot = all[graph + '\n' + location];
    LinkCache c;
    if (auto s = slot.lock()) {
      c.state_ = s;
    } else {
      slot = c.state_;
    }
    return c;
  }

  // A link for `path` seen less than kMaxAgeMs before `now_ms`.
  std::optional<std::string> Find(const std::string& path, int64_t now_ms) const {
    std::lock_guard lock(state_->mu);
    auto it = state_->links.find(path);
    if (it == state_->links.end() || now_ms - it->second.seen_ms > kMaxAgeMs ||
        now_ms < it->second.seen_ms) {
      return std::nullopt;
    }
    return it->second.url;
  }
  void Set(const std::string& path, const std::string& url, int64_t now_ms) {
    std::lock_guard lock(state_->mu);
    if (state_->links.size() >= kMaxEntries) state_->links.clear();  // a bound, not an LRU
    state_->links[path] = {url, now_ms};
  }
  void Erase(const std::string& path) {
    std::lock_guard lock(state_->mu);
    state_->links.erase(path);
  }

 private:
  struct Link {
    std::string url;
    int64_t seen_ms = 0;
  };
  struct State {
    std::mutex mu;
    std::map<std::string, Link> links;
  };
  std::shared_ptr<State> state_;
};

}  // namespace jsync_onedrive

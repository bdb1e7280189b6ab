// The winning Drive file of each object name (the id files.get reads, read-after-write
// consistent where name queries may lag), shared by every instance of one location in the
// process: the host opens several to download at once (the ABI's threading contract), and an
// instance that never listed would otherwise pay a name query before each download. Entries
// are hints: a remembered file that is gone is looked up again by name (DoGet), so a stale or
// foreign id costs one request, never a wrong answer. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "drive_client.h"

namespace jsync_gdrive {

class WinnerCache {
 public:
  WinnerCache() : state_(std::make_shared<State>()) {}
  // The cache every instance of (endpoint, location) shares in this process.
  static WinnerCache For(const std::string& api, const std::string& location) {
    static std::mutex mu;
    static std::map<std::string, std::weak_ptr<State>> all;
    std::lock_guard lock(mu);
    auto& slot = all[api + '\n' + location];
    WinnerCache c;
    if (auto s = slot.lock()) {
      c.state_ = s;
    } else {
      slot = c.state_;
    }
    return c;
  }

  std::optional<DriveFile> Find(const std::string& name) const {
    std::lock_guard lock(state_->mu);
    auto it = state_->files.find(name);
    if (it == state_->files.end()) return std::nullopt;
    return it->second;
  }
  bool Contains(const std::string& name) const { return Find(name).has_value(); }
  void Set(const std::string& name, const DriveFile& file) {
    std::lock_guard lock(state_->mu);
    state_->files[name] = file;
  }
  void Erase(const std::string& name) {
    std::lock_guard lock(state_->mu);
    state_->files.erase(name);
  }

 private:
  struct State {
    std::mutex mu;
    std::map<std::string, DriveFile> files;
  };
  std::shared_ptr<State> state_;
};

}  // namespace jsync_gdrive

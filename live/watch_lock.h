// One watcher per home: an exclusive flock on watch.lock, which also names its holder (pid and
// start time) so a second watcher can say who runs. The kernel drops the lock when the process
// dies, however it dies.
#pragma once

#include <string>

#include "core/util/status.h"

namespace jsync::live {

class WatchLock {
 public:
  // kExists "jsync watch is already running for this home (pid N, since T)" when held.
  static Result<WatchLock> Take(const std::string& home, int64_t now_unix_ms);
  WatchLock(WatchLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  WatchLock& operator=(WatchLock&&) = delete;
  WatchLock(const WatchLock&) = delete;
  ~WatchLock();

  // Whether a watcher holds this home now, and its "pid N, since T" text; for status/doctor.
  static Result<std::string> Holder(const std::string& home);

 private:
  explicit WatchLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace jsync::live

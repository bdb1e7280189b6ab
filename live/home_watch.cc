#include "live/home_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "core/journal/journal.h"

namespace jsync::live {

Result<HomeWatch> HomeWatch::Start(const std::string& home) {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return Status::Fatal(std::string("inotify: ") + std::strerror(errno));
  // The folder, not the files: SQLite creates the WAL lazily and may remove it on close.
  if (::inotify_add_watch(fd, home.c_str(), IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO |
                                           IN_DELETE_SELF | IN_MOVE_SELF) <
      0) {
    const int e = errno;
    ::close(fd);
    return Status::Fatal("cannot watch " + home + ": " + std::strerror(e));
  }
  return HomeWatch(fd);
}

HomeWatch::~HomeWatch() {
  if (fd_ >= 0) ::close(fd_);
}

bool HomeWatch::Drain() {
  bool store_touched = false;
  alignas(inotify_event) char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) break;  // EAGAIN: drained
    for (ssize_t at = 0; at + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
      const std::string_view name(ev->len > 0 ? ev->name : "");
      // An overflowed queue lost events: assume the store changed.
      if ((ev->mask & IN_Q_OVERFLOW) != 0 || name.starts_with("journal.db")) {
        store_touched = true;
      }
      if (name == "accounts.json") accounts_changed_ = true;
      if (name == "journal.db" && (ev->mask & (IN_CREATE | IN_MOVED_TO)) != 0) replaced_ = true;
      if ((ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) != 0) gone_ = true;
      if (name == kEditSignalFile && (ev->mask & IN_CLOSE_WRITE) != 0) store_touched = true;
      at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
  return store_touched;
}

}  // namespace jsync::live

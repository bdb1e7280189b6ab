#include "live/watch_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/util/escape.h"

namespace jsync::live {
namespace {

std::string LockPath(const std::string& home) { return home + "/watch.lock"; }

std::string ReadHolder(int fd) {
  char buf[128] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string s(buf, n > 0 ? static_cast<size_t>(n) : 0);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s.empty() ? "holder unknown" : EscapeForDisplay(s);
}

}  // namespace

Result<WatchLock> WatchLock::Take(const std::string& home, int64_t now_unix_ms) {
  const std::string path = LockPath(home);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::Fatal("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const std::string holder = ReadHolder(fd);
    ::close(fd);
    return Status::Exists("jsync watch is already running for this home (" + holder + ")");
  }
  char when[32] = "?";
  const std::time_t t = static_cast<std::time_t>(now_unix_ms / 1000);
  std::tm tm{};
  if (::gmtime_r(&t, &tm) != nullptr) std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  const std::string text = "pid " + std::to_string(::getpid()) + ", since " + when + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    ::close(fd);
    return Status::Fatal("cannot write " + path + ": " + std::strerror(errno));
  }
  return WatchLock(fd);
}

WatchLock::~WatchLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::string> WatchLock::Holder(const std::string& home) {
  int fd = ::open(LockPath(home).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::string();
  std::string holder;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) holder = ReadHolder(fd);
  ::close(fd);
  return holder;
}

}  // namespace jsync::live

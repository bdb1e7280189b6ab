/*
 * journal-sync plugin helpers for providers backed by a local directory (the folder provider,
 * the iCloud Drive folder provider): optional, header-only C++17 over jsync_provider.h,
 * jsync_plugin_util.h and POSIX. Installed with the SDK next to them:
 *
 *     #include "jsync_plugin_fs.h"
 *
 * The directory is not trusted (anyone with access to a shared or synced folder can plant
 * anything), so every helper here is written for a hostile folder:
 *   - Fd:              a file descriptor closed on every path out;
 *   - FailErrno:       errno as a JSYNC_* code and one line naming the path;
 *   - OpenDirBeneath:  walks a relative path one component at a time without following a
 *                      symlink (openat O_NOFOLLOW | O_DIRECTORY), optionally making folders;
 *   - OpenRegular:     opens a name only when it is a regular file (checked before and after
 *                      the open; O_NONBLOCK, so a FIFO never blocks, a device is never opened);
 *   - ReadFd:          reads a range with pread, stopping when the sink says so;
 *   - SameBytes:       whether a file holds exactly these bytes, reading at most len + 1;
 *   - WriteAll, SyncDirectory, SplitParent, KindName, NotAFile, MtimeMs.
 * Nothing here retries, sleeps or keeps global state (docs/decisions/0018-hostile-cloud-folder.md,
 * docs/decisions/0030-icloud-drive-provider.md).
 */
#ifndef JSYNC_PLUGIN_FS_H_
#define JSYNC_PLUGIN_FS_H_

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "jsync_plugin_util.h"
#include "jsync_provider.h"

namespace jsync_plugin {
inline namespace v1 {

// A file descriptor closed on every path out.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

// errno (as it is on entry) as a code, with "<what> <path>: <strerror>".
inline int FailErrno(jsync_error* err, const std::string& what, const std::string& path) {
  const int e = errno;
  const int code = e == ENOSPC || e == EDQUOT              ? JSYNC_QUOTA_EXCEEDED
                   : e == ENOENT                           ? JSYNC_NOT_FOUND
                   : e == EACCES || e == EPERM             ? JSYNC_FATAL
                   : e == EIO || e == EAGAIN || e == EINTR ? JSYNC_RETRYABLE_UNAVAILABLE
                                                           : JSYNC_FATAL;
  return Fail(err, code, what + " " + path + ": " + std::strerror(e));
}

// Writes all of data. between (may be null) runs after each partial write that leaves bytes
// to go: the first write covers half, so a test hook there is reached once per object.
inline int WriteAll(int fd, const uint8_t* data, size_t len, const std::string& shown,
                    jsync_error* err, void (*between)() = nullptr) {
  size_t done = 0;
  while (done < len) {
    const size_t want = done == 0 && len >= 2 ? len / 2 : len - done;
    ssize_t n = ::write(fd, data + done, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FailErrno(err, "cannot write", shown);
    done += static_cast<size_t>(n);
    if (done < len && between != nullptr) between();
  }
  return JSYNC_OK;
}

inline void SyncDirectory(int dir_fd) {
  if (dir_fd >= 0) ::fsync(dir_fd);
}

inline const char* KindName(mode_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

inline int NotAFile(jsync_error* err, const std::string& path, mode_t mode) {
  return Fail(err, JSYNC_FATAL_NOT_A_FILE,
              path + " is " + KindName(mode) +
                  ", not a regular file; it was not opened (remove it from the cloud folder)");
}

// "a/b/c" -> {"a/b", "c"}; "c" -> {"", "c"}.
inline std::pair<std::string, std::string> SplitParent(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

inline std::string JoinPath(const std::string& root, const std::string& rel) {
  if (rel.empty()) return root;
  return root + (root.empty() || root.back() == '/' ? "" : "/") + rel;
}

// Opens the directory `rel` (relative, '/'-separated) below `root` without following a
// symlink at any component, so nothing planted in the folder leads reads or writes outside.
// create: make missing directories on the way.
inline int OpenDirBeneath(const std::string& root, const std::string& rel, bool create, Fd* out,
                          jsync_error* err) {
  Fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.ok()) return FailErrno(err, "cannot open", root);
  size_t start = 0;
  std::string walked;
  while (start < rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    const std::string part = rel.substr(start, end - start);
    walked += (walked.empty() ? "" : "/") + part;
    if (create && ::mkdirat(dir.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
      return FailErrno(err, "cannot create", JoinPath(root, walked));
    }
    int next = ::openat(dir.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      struct stat st {};
      const int e = errno;
      if ((e == ELOOP || e == ENOTDIR) &&
          ::fstatat(dir.get(), part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISREG(st.st_mode)) {
          return Fail(err, JSYNC_FATAL_NOT_A_FILE, walked + " is a file where a folder belongs");
        }
        return NotAFile(err, walked, st.st_mode);
      }
      errno = e;
      return FailErrno(err, "cannot open", JoinPath(root, walked));
    }
    dir = Fd(next);
    start = end + 1;
  }
  *out = std::move(dir);
  return JSYNC_OK;
}

// Opens `name` in `dir_fd` (flags: O_RDONLY, or O_WRONLY to touch it without writing) only
// when it is a regular file: checked before opening (a device is never opened) and again on
// the descriptor (it may have been swapped meanwhile). O_NONBLOCK: opening a FIFO that slipped
// in between returns at once instead of waiting.
inline int OpenRegular(int dir_fd, const std::string& name, const std::string& shown, Fd* out,
                       struct stat* st, jsync_error* err, int access = O_RDONLY) {
  if (::fstatat(dir_fd, name.c_str(), st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Fail(err, JSYNC_NOT_FOUND, "no object " + shown);
    return FailErrno(err, "cannot read", shown);
  }
  if (!S_ISREG(st->st_mode)) return NotAFile(err, shown, st->st_mode);
  Fd fd(::openat(dir_fd, name.c_str(), access | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.ok()) {
    if (errno == ENOENT) return Fail(err, JSYNC_NOT_FOUND, "no object " + shown);
    if (errno == ELOOP) return NotAFile(err, shown, S_IFLNK);
    return FailErrno(err, "cannot read", shown);
  }
  if (::fstat(fd.get(), st) != 0) return FailErrno(err, "cannot read", shown);
  if (!S_ISREG(st->st_mode)) return NotAFile(err, shown, st->st_mode);
  *out = std::move(fd);
  return JSYNC_OK;
}

// Reads [offset, offset + length) of an open regular file, stopping when the sink says so.
inline int ReadFd(int fd, uint64_t offset, uint64_t length, jsync_sink* out,
                  const std::string& shown, jsync_error* err) {
  std::vector<uint8_t> buf(1 << 16);
  uint64_t left = length;
  uint64_t at = offset;
  while (left > 0) {
    ssize_t n = ::pread(fd, buf.data(), static_cast<size_t>(std::min<uint64_t>(buf.size(), left)),
                        static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FailErrno(err, "cannot read", shown);
    if (n == 0) break;
    if (out->write(out->ctx, buf.data(), static_cast<size_t>(n)) != 0) break;
    left -= static_cast<uint64_t>(n);
    at += static_cast<uint64_t>(n);
  }
  return JSYNC_OK;
}

// A get sink that compares what it is given with `data`, stopping at the first difference;
// Same() once the read is over. For put(if_absent)'s "is this taken name ours?" check.
struct SameBytesSink {
  const uint8_t* data;
  size_t len;
  size_t pos = 0;
  bool differ = false;
  jsync_sink sink{this, &SameBytesSink::Write};
  SameBytesSink(const uint8_t* d, size_t n) : data(d), len(n) {}
  SameBytesSink(const SameBytesSink&) = delete;
  SameBytesSink& operator=(const SameBytesSink&) = delete;
  bool Same() const { return !differ && pos == len; }
  static int Write(void* ctx, const uint8_t* d, size_t n) {
    auto* c = static_cast<SameBytesSink*>(ctx);
    if (n > c->len - c->pos || std::memcmp(c->data + c->pos, d, n) != 0) {
      c->differ = true;
      return 1;
    }
    c->pos += n;
    return 0;
  }
};

// Whether the open regular file `fd` of st_size `size` holds exactly these bytes; compared in
// pieces, never reading more than len + 1 bytes. JSYNC_OK with *same set, or the refusal.
inline int SameBytesFd(int fd, uint64_t size, const std::string& shown, const uint8_t* data,
                       size_t len, bool* same, jsync_error* err) {
  *same = false;
  if (size != len) return JSYNC_OK;
  SameBytesSink cmp(data, len);
  const int rc = ReadFd(fd, 0, static_cast<uint64_t>(len) + 1, &cmp.sink, shown, err);
  if (rc != JSYNC_OK) return rc;
  *same = cmp.Same();
  return JSYNC_OK;
}

// SameBytesFd on the regular file `name` in dir_fd.
inline int SameBytes(int dir_fd, const std::string& name, const std::string& shown,
                     const uint8_t* data, size_t len, bool* same, jsync_error* err) {
  *same = false;
  Fd fd;
  struct stat st {};
  int rc = OpenRegular(dir_fd, name, shown, &fd, &st, err);
  if (rc != JSYNC_OK) return rc;
  return SameBytesFd(fd.get(), static_cast<uint64_t>(st.st_size), shown, data, len, same, err);
}

// Last modification as Unix milliseconds.
inline int64_t MtimeMs(const struct stat& st) {
#if defined(__APPLE__)
  return static_cast<int64_t>(st.st_mtimespec.tv_sec) * 1000 + st.st_mtimespec.tv_nsec / 1000000;
#else
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
#endif
}

}  // namespace v1
}  // namespace jsync_plugin

#endif /* JSYNC_PLUGIN_FS_H_ */

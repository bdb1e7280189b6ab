// The folder provider: any local directory (a USB stick, a synced or network folder) as the
// journal's storage. Built with the SDK only, like any third-party plugin; the host also links
// it in as the built-in default (JSYNC_FOLDER_EMBEDDED), so it needs no file or configuration.
//
// Creation is atomic and never replaces: bytes go to a hidden temporary file in the target
// directory, are flushed, and are hard-linked to the final name (link() fails if the name is
// taken, where rename() would replace it). Temporary names are never listed.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <new>
#include <string>
#include <vector>

#include "jsync_provider.h"

namespace fs = std::filesystem;

namespace {

struct Folder {
  fs::path root;
  const jsync_host_services* host;
};

int Fail(jsync_error* err, int code, const std::string& message) {
  std::snprintf(err->message, sizeof err->message, "%s", message.c_str());
  err->retry_after_ms = -1;
  return code;
}

int FailErrno(jsync_error* err, const std::string& what, const fs::path& p) {
  const int e = errno;
  const int code = e == ENOSPC || e == EDQUOT              ? JSYNC_QUOTA_EXCEEDED
                   : e == ENOENT                           ? JSYNC_NOT_FOUND
                   : e == EACCES || e == EPERM             ? JSYNC_FATAL
                   : e == EIO || e == EAGAIN || e == EINTR ? JSYNC_RETRYABLE_UNAVAILABLE
                                                           : JSYNC_FATAL;
  return Fail(err, code, what + " " + p.string() + ": " + std::strerror(e));
}

// Test hook for the crash tests (JSYNC_CRASH_AT=folder.put.partial[:N]): the N-th torn write
// ends the process, leaving a partial temporary file behind as a power cut would.
void CrashPointPartialWrite() {
  static long remaining = [] {
    const char* env = std::getenv("JSYNC_CRASH_AT");
    if (env == nullptr || std::strncmp(env, "folder.put.partial", 18) != 0) return -1L;
    return env[18] == ':' ? std::strtol(env + 19, nullptr, 10) : 1L;
  }();
  if (remaining > 0 && --remaining == 0) _exit(86);
}

int WriteAll(int fd, const uint8_t* data, size_t len, const fs::path& p, jsync_error* err) {
  size_t done = 0;
  while (done < len) {
    // The first write covers half, so the torn-write crash point is reached once per object.
    const size_t want = done == 0 && len >= 2 ? len / 2 : len - done;
    ssize_t n = ::write(fd, data + done, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FailErrno(err, "cannot write", p);
    done += static_cast<size_t>(n);
    if (done < len) CrashPointPartialWrite();
  }
  return JSYNC_OK;
}

void SyncDirectory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

int ReadRange(const fs::path& p, uint64_t offset, uint64_t length, jsync_sink* out,
              jsync_error* err) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FailErrno(err, "cannot read", p);
  if (offset > 0 && ::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
    ::close(fd);
    return FailErrno(err, "cannot seek in", p);
  }
  std::vector<uint8_t> buf(1 << 16);
  uint64_t left = length;
  while (left > 0) {
    ssize_t n = ::read(fd, buf.data(), static_cast<size_t>(std::min<uint64_t>(buf.size(), left)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return FailErrno(err, "cannot read", p);
    }
    if (n == 0) break;
    if (out->write(out->ctx, buf.data(), static_cast<size_t>(n)) != 0) break;
    left -= static_cast<uint64_t>(n);
  }
  ::close(fd);
  return JSYNC_OK;
}

bool SameBytes(const fs::path& p, const uint8_t* data, size_t len) {
  std::vector<uint8_t> have;
  jsync_sink sink{&have, [](void* ctx, const uint8_t* d, size_t n) {
                    auto* v = static_cast<std::vector<uint8_t>*>(ctx);
                    v->insert(v->end(), d, d + n);
                    return 0;
                  }};
  jsync_error err{};
  if (ReadRange(p, 0, UINT64_MAX, &sink, &err) != JSYNC_OK) return false;
  return have.size() == len && (len == 0 || std::memcmp(have.data(), data, len) == 0);
}

std::string RandomHex(const jsync_host_services* host) {
  uint8_t b[8];
  host->random(host->host, b, sizeof b);
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  for (uint8_t x : b) {
    s.push_back(kDigits[x >> 4]);
    s.push_back(kDigits[x & 15]);
  }
  return s;
}

int FolderOpen(const jsync_host_services* host, const char* location, const char*,
               jsync_instance** out, jsync_error* err) {
  try {
    *out = nullptr;
    if (location == nullptr || *location == '\0') {
      return Fail(err, JSYNC_INVALID, "the folder provider needs a location (a directory path)");
    }
    std::error_code ec;
    if (!fs::is_directory(location, ec)) {
      // A missing mount must not look like an empty cloud.
      return Fail(err, JSYNC_FATAL,
                  std::string("cloud folder ") + location +
                      " does not exist or is not a directory (is it mounted?)");
    }
    *out = reinterpret_cast<jsync_instance*>(new Folder{fs::absolute(location), host});
    return JSYNC_OK;
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_FATAL, e.what());
  }
}

int FolderPut(jsync_instance* inst, const char* path, const uint8_t* data, size_t len,
              int if_absent, jsync_error* err) {
  try {
    auto* f = reinterpret_cast<Folder*>(inst);
    const fs::path target = f->root / path;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec)
      return Fail(err, JSYNC_FATAL,
                  "cannot create " + target.parent_path().string() + ": " + ec.message());
    const fs::path temp = target.parent_path() / (JSYNC_TEMP_PREFIX + RandomHex(f->host));
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return FailErrno(err, "cannot create", temp);
    int rc = WriteAll(fd, data, len, temp, err);
    if (rc == JSYNC_OK && ::fsync(fd) != 0) rc = FailErrno(err, "cannot flush", temp);
    ::close(fd);
    if (rc != JSYNC_OK) {
      ::unlink(temp.c_str());
      return rc;
    }
    if (!if_absent) {
      if (::rename(temp.c_str(), target.c_str()) != 0) {
        rc = FailErrno(err, "cannot publish", target);
        ::unlink(temp.c_str());
        return rc;
      }
      SyncDirectory(target.parent_path());
      return JSYNC_OK;
    }
    const int linked = ::link(temp.c_str(), target.c_str());
    const int link_errno = errno;
    ::unlink(temp.c_str());
    if (linked == 0) {
      SyncDirectory(target.parent_path());
      return JSYNC_OK;
    }
    if (link_errno != EEXIST) {
      errno = link_errno;
      return FailErrno(err, "cannot publish", target);
    }
    if (SameBytes(target, data, len)) return JSYNC_OK;
    return Fail(err, JSYNC_EXISTS, std::string(path) + " already exists with different content");
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_FATAL, e.what());
  }
}

int FolderGet(jsync_instance* inst, const char* path, uint64_t offset, uint64_t length,
              jsync_sink* out, jsync_error* err) {
  try {
    auto* f = reinterpret_cast<Folder*>(inst);
    int rc = ReadRange(f->root / path, offset, length, out, err);
    if (rc == JSYNC_NOT_FOUND) return Fail(err, JSYNC_NOT_FOUND, std::string("no object ") + path);
    return rc;
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_FATAL, e.what());
  }
}

int FolderList(jsync_instance* inst, const char* prefix_c, const char*, jsync_list_sink* out,
               jsync_error* err) {
  try {
    auto* f = reinterpret_cast<Folder*>(inst);
    const std::string prefix = prefix_c ? prefix_c : "";
    // Walk only the deepest directory the prefix names, then filter by the whole prefix.
    const size_t slash = prefix.rfind('/');
    const fs::path dir = slash == std::string::npos ? f->root : f->root / prefix.substr(0, slash);
    std::error_code ec;
    if (!fs::exists(dir, ec)) return JSYNC_OK;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      if (it->path().filename().string().starts_with(JSYNC_TEMP_PREFIX)) continue;
      std::string rel = fs::relative(it->path(), f->root, ec).generic_string();
      if (!rel.starts_with(prefix)) continue;
      out->emit(out->ctx, rel.c_str(), static_cast<uint64_t>(it->file_size(ec)));
    }
    if (ec) return Fail(err, JSYNC_FATAL, "cannot list " + dir.string() + ": " + ec.message());
    return JSYNC_OK;
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_FATAL, e.what());
  }
}

int FolderRemove(jsync_instance* inst, const char* path, jsync_error* err) {
  auto* f = reinterpret_cast<Folder*>(inst);
  const fs::path p = f->root / path;
  if (::unlink(p.c_str()) != 0 && errno != ENOENT) return FailErrno(err, "cannot remove", p);
  return JSYNC_OK;
}

void FolderClose(jsync_instance* inst) { delete reinterpret_cast<Folder*>(inst); }

const jsync_provider kFolder = {
    JSYNC_PROVIDER_ABI_VERSION,
    sizeof(jsync_provider),
    "folder",
    "1.0.0",
    JSYNC_CAP_RANGE_READ,
    nullptr,
    nullptr,
    0,
    FolderOpen,
    FolderPut,
    FolderGet,
    FolderList,
    FolderRemove,
    nullptr,
    nullptr,
    nullptr,
    FolderClose,
};

const jsync_provider* FolderTable(const jsync_host_info* host) {
  return host && host->abi_version >= 1 ? &kFolder : nullptr;
}

}  // namespace

#ifdef JSYNC_FOLDER_EMBEDDED
extern "C" const jsync_provider* jsync_folder_provider_table(const jsync_host_info* host) {
  return FolderTable(host);
}
#else
JSYNC_DEFINE_PROVIDER("folder", "1.0.0", FolderTable)
#endif

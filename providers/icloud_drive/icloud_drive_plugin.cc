// The iCloud Drive folder provider ("icloud-drive", mode B of reference/icloud.md): the
// journal lives in a folder that Apple's own client keeps in sync (on macOS
// ~/Library/Mobile Documents/com~apple~CloudDocs/JournalSync/). The network is iCloud's
// business; this plugin knows what iCloud does to the files in the folder
// (docs/decisions/0030-icloud-drive-provider.md):
//   - evicted files: a hidden ".name.icloud" stub (macOS <= 13, iOS) is listed as the object
//     it stands for, with the real size the stub names; a dataless file (macOS >= 14,
//     st_flags & SF_DATALESS) keeps its name; a get asks iCloud for the bytes and says
//     "not downloaded yet" (retryable); a put(if_absent) never writes past a stub;
//   - every read runs on a worker thread with a deadline (option read_timeout_ms): reading a
//     dataless file blocks until it is downloaded;
//   - iCloud's duplicates ("name 2.ext", "name(1).ext", "name_2.ext") of a known object are
//     removed when they hold the same bytes, else kept, reported and listed as something
//     that is not an object (the engine never merges them);
//   - uploads are written in a staging folder outside the synced tree (option staging), then
//     linked (if_absent) or renamed into place: iCloud never sees a half-written file;
//   - no quota: statvfs would tell the local disk, not the iCloud plan.
// The file access itself is the folder provider's hostile-folder handling (jsync_plugin_fs.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "download_request.h"
#include "icloud_instance.h"
#include "icloud_names.h"
#include "jsync_plugin_fs.h"
#include "jsync_plugin_util.h"
#include "jsync_provider.h"
#include "staging.h"
#include "stub_file.h"
#include "timed_read.h"

namespace fs = std::filesystem;

namespace jsync_icloud_drive {
namespace {

using jsync_plugin::Fail;
using jsync_plugin::FailErrno;
using jsync_plugin::Fd;
using jsync_plugin::JoinPath;
using jsync_plugin::OpenDirBeneath;
using jsync_plugin::OpenRegular;
using jsync_plugin::SplitParent;
using jsync_plugin::SyncDirectory;

#if defined(__APPLE__)
constexpr const char* kDefaultLocation =
    "~/Library/Mobile Documents/com~apple~CloudDocs/JournalSync";
constexpr const char* kLocationHelp =
    "a folder in iCloud Drive (default ~/Library/Mobile Documents/com~apple~CloudDocs/"
    "JournalSync)";
#elif defined(__linux__)
constexpr const char* kDefaultLocation = nullptr;
constexpr const char* kLocationHelp =
    "a directory path: iCloud Drive has no Linux client, so a location must be given (a folder "
    "that another tool keeps in sync with iCloud Drive)";
#else
constexpr const char* kDefaultLocation = nullptr;
constexpr const char* kLocationHelp =
    "a directory path: the folder iCloud Drive syncs (no default on this system)";
#endif

constexpr int64_t kDefaultReadTimeoutMs = 20000;

const jsync_option kOptions[] = {
    {"staging",
     "Folder for uploads being written, on the same volume as the location and outside the "
     "synced tree (default: ~/Library/Caches/journal-sync/staging on macOS, "
     "$XDG_CACHE_HOME/journal-sync/staging elsewhere)",
     "", 0},
    {"read_timeout_ms",
     "How long a read may wait for iCloud to download a file before it is retried later", "20000",
     0},
};

std::string ExpandHome(const std::string& p) {
  if (p == "~" || p.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    if (home != nullptr && *home != '\0') return std::string(home) + p.substr(1);
  }
  return p;
}

std::string NeedsLocation() {
  return std::string("the icloud-drive provider needs a location (") + kLocationHelp + ")";
}

int Canonical(const char* location, std::string* out, jsync_error* err) {
  if (location == nullptr || *location == '\0') return Fail(err, JSYNC_INVALID, NeedsLocation());
  std::string p = fs::absolute(ExpandHome(location)).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  *out = p;
  return JSYNC_OK;
}

// Options as strings (what `--option` gives) or numbers.
int ParseConfig(const char* config_json, std::string* staging, int64_t* timeout_ms,
                jsync_error* err) {
  *timeout_ms = kDefaultReadTimeoutMs;
  if (config_json == nullptr || *config_json == '\0') return JSYNC_OK;
  const auto config = nlohmann::json::parse(config_json, nullptr, false);
  if (!config.is_object())
    return Fail(err, JSYNC_INVALID, "icloud-drive: the options are not a JSON object");
  if (auto it = config.find("staging"); it != config.end() && it->is_string()) {
    *staging = ExpandHome(it->get<std::string>());
  }
  if (auto it = config.find("read_timeout_ms"); it != config.end()) {
    int64_t v = -1;
    if (it->is_number_integer()) {
      v = it->get<int64_t>();
    } else if (it->is_string()) {
      uint64_t u = 0;
      if (jsync_plugin::ParseDecimal(it->get<std::string>(), &u) && u <= 3600000)
        v = static_cast<int64_t>(u);
    }
    if (v <= 0 || v > 3600000) {
      return Fail(err, JSYNC_INVALID,
                  "icloud-drive: read_timeout_ms must be a whole number of milliseconds from 1 "
                  "to 3600000");
    }
    *timeout_ms = v;
  }
  return JSYNC_OK;
}

int OpenWith(const jsync_host_services* host, const char* location_c, const char* config_json,
             uint32_t flags, jsync_instance** out, jsync_error* err) {
  *out = nullptr;
  std::string location;
  int rc = Canonical(location_c, &location, err);
  if (rc != JSYNC_OK) return rc;
  std::string staging;
  int64_t timeout_ms = 0;
  rc = ParseConfig(config_json, &staging, &timeout_ms, err);
  if (rc != JSYNC_OK) return rc;
  std::error_code ec;
  if ((flags & JSYNC_OPEN_CREATE) != 0 && !fs::exists(location, ec)) {
    fs::create_directories(location, ec);
    if (ec) return Fail(err, JSYNC_FATAL, "cannot create " + location + ": " + ec.message());
  }
  if (!fs::is_directory(location, ec)) {
    // iCloud Drive switched off, or another Apple ID: must not look like an empty cloud.
    return Fail(err, JSYNC_FATAL,
                "the iCloud Drive folder " + location +
                    " does not exist or is not a directory (is iCloud Drive on, and signed in?)");
  }
  auto self = std::make_unique<Instance>();
  self->root = location;
  self->host = host;
  self->read_timeout_ms = timeout_ms;
  rc = PrepareStaging(staging, location, &self->staging, err);
  if (rc != JSYNC_OK) return rc;
  RemoveStaleTemporaries(self->staging, jsync_plugin::NowMs(host));
  *out = reinterpret_cast<jsync_instance*>(self.release());
  return JSYNC_OK;
}

int IcloudOpen(const jsync_host_services* host, const char* location, const char* config_json,
               jsync_instance** out, jsync_error* err) {
  return jsync_plugin::CatchAll(err, "icloud-drive open", [&]() -> int {
    return OpenWith(host, location, config_json, 0, out, err);
  });
}

int IcloudOpenEx(const jsync_host_services* host, const jsync_open_args* args, jsync_instance** out,
                 jsync_error* err) {
  return jsync_plugin::CatchAll(err, "icloud-drive open", [&]() -> int {
    *out = nullptr;
    if (args == nullptr ||
        args->struct_size < offsetof(jsync_open_args, config_json) + sizeof(const char*)) {
      return Fail(err, JSYNC_INVALID, "open: no arguments");
    }
    return OpenWith(host, args->location, args->config_json, args->flags, out, err);
  });
}

int IcloudCanonicalLocation(const jsync_host_services*, const char* location, char* out,
                            size_t out_size, jsync_error* err) {
  return jsync_plugin::CatchAll(err, "icloud-drive location", [&]() -> int {
    std::string p;
    const int rc = Canonical(location, &p, err);
    if (rc != JSYNC_OK) return rc;
    if (p.size() + 1 > out_size) return Fail(err, JSYNC_INVALID, "the folder path is too long");
    std::memcpy(out, p.c_str(), p.size() + 1);
    return JSYNC_OK;
  });
}

// Opens the parent folder of `path` (making it when create), once more when a removal took an
// emptied folder away in between.
int OpenParent(const Instance& self, const std::string& parent, bool create, Fd* dir,
               jsync_error* err) {
  int rc = OpenDirBeneath(self.root, parent, create, dir, err);
  if (create && JSYNC_PRIMARY(rc) == JSYNC_NOT_FOUND)
    rc = OpenDirBeneath(self.root, parent, true, dir, err);
  return rc;
}

bool Exists(int dir_fd, const std::string& name, struct stat* st) {
  return ::fstatat(dir_fd, name.c_str(), st, AT_SYMLINK_NOFOLLOW) == 0;
}

// An evicted object (its stub, no file at the name) asked for by a get or a put: ask iCloud
// for it and say so.
int Evicted(const Instance& self, int dir_fd, const std::string& path, const std::string& name,
            jsync_error* err) {
  jsync_error why{};
  const std::string real_path = JoinPath(self.root, path);
  if (RequestDownload(real_path, dir_fd, StubName(name), &why) != JSYNC_OK) {
    self.Log(2, std::string("icloud-drive: ") + why.message);
  }
  return Fail(err, JSYNC_RETRYABLE, NotDownloadedMessage(path));
}

#if defined(__APPLE__)
bool IsDataless(const struct stat& st) {
#ifndef SF_DATALESS
#define SF_DATALESS 0x40000000
#endif
  return (st.st_flags & SF_DATALESS) != 0;
}
#endif

// Writes the bytes to a new temporary file in the staging folder, flushed.
int WriteTemporary(const Instance& self, int staging_fd, const std::string& temp,
                   const uint8_t* data, size_t len, jsync_error* err) {
  const std::string shown = JoinPath(self.staging, temp);
  Fd fd(::openat(staging_fd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                 0600));
  if (!fd.ok()) return FailErrno(err, "cannot create", shown);
  int rc = jsync_plugin::WriteAll(fd.get(), data, len, shown, err);
  if (rc == JSYNC_OK && ::fsync(fd.get()) != 0) rc = FailErrno(err, "cannot flush", shown);
  if (rc != JSYNC_OK) ::unlinkat(staging_fd, temp.c_str(), 0);
  return rc;
}

int PublishError(const Instance& self, const std::string& path, int e, jsync_error* err) {
  if (e == EXDEV) return Fail(err, JSYNC_INVALID, CrossVolumeMessage(self.staging, self.root));
  errno = e;
  return FailErrno(err, "cannot publish", JoinPath(self.root, path));
}

int IcloudPut(jsync_instance* inst, const char* path_c, const uint8_t* data, size_t len,
              int if_absent, jsync_error* err) {
  return jsync_plugin::CatchAll(err, "icloud-drive put", [&]() -> int {
    Instance& self = *Self(inst);
    const std::string path = path_c;
    const auto [parent, name] = SplitParent(path);
    std::string ignored;
    if (StubTarget(name, &ignored)) {
      return Fail(err, JSYNC_INVALID,
                  path + ": names of the form .NAME.icloud are iCloud's placeholders, not objects");
    }
    Fd dir;
    int rc = OpenParent(self, parent, true, &dir, err);
    if (rc != JSYNC_OK) return rc;
    struct stat st {};
    // An evicted object is there, only not on this disk: writing the name would shadow it
    // (reflect-open #501). Compared once downloaded; another size differs already.
    if (if_absent && !Exists(dir.get(), name, &st) && Exists(dir.get(), StubName(name), &st)) {
      uint64_t size = 0;
      bool known = false;
      StubSize(dir.get(), StubName(name), &size, &known);
      if (known && size != len) {
        return Fail(err, JSYNC_EXISTS,
                    path + " already exists (in iCloud, not downloaded) with different content");
      }
      return Evicted(self, dir.get(), path, name, err);
    }
    Fd staging(::open(self.staging.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!staging.ok() && errno == ENOENT) {  // a cache cleaner took it: made again
      std::error_code ec;
      fs::create_directories(self.staging, ec);
      staging = Fd(::open(self.staging.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    }
    if (!staging.ok()) return FailErrno(err, "cannot open the staging folder", self.staging);
    const std::string temp = std::string(JSYNC_TEMP_PREFIX) + name.substr(0, 96) + "-" +
                             jsync_plugin::RandomHex(self.host, 8);
    rc = WriteTemporary(self, staging.get(), temp, data, len, err);
    if (rc != JSYNC_OK) return rc;
    if (!if_absent) {
      if (::renameat(staging.get(), temp.c_str(), dir.get(), name.c_str()) != 0) {
        const int e = errno;
        ::unlinkat(staging.get(), temp.c_str(), 0);
        return PublishError(self, path, e, err);
      }
      SyncDirectory(dir.get());
      return JSYNC_OK;
    }
    // linkat without AT_SYMLINK_FOLLOW fails with EEXIST on anything at the name: nothing
    // planted there is replaced or written through.
    const int linked = ::linkat(staging.get(), temp.c_str(), dir.get(), name.c_str(), 0);
    const int link_errno = errno;
    ::unlinkat(staging.get(), temp.c_str(), 0);
    if (linked == 0) {
      SyncDirectory(dir.get());
      return JSYNC_OK;
    }
    if (link_errno != EEXIST) return PublishError(self, path, link_errno, err);
    Fd fd;
    rc = OpenRegular(dir.get(), name, path, &fd, &st, err);
    if (rc != JSYNC_OK) return rc;
#if defined(__APPLE__)
    if (IsDataless(st)) {
      jsync_error why{};
      RequestDownload(JoinPath(self.root, path), dir.get(), "", &why);
    }
#endif
    bool same = false;
    rc = TimedSameBytes(std::move(fd), static_cast<uint64_t>(st.st_size), data, len,
                        self.read_timeout_ms, TestReadDelayMs(), path, &same, err);
    if (rc != JSYNC_OK) return rc;
    if (same) return JSYNC_OK;
    return Fail(err, JSYNC_EXISTS, path + " already exists with different content");
  });
}

int IcloudGet(jsync_instance* inst, const char* path_c, uint64_t offset, uint64_t length,
              jsync_sink* out, jsync_error* err) {
  return jsync_plugin::CatchAll(err, "icloud-drive get", [&]() -> int {
    Instance& self = *Self(inst);
    const std::string path = path_c;
    const auto [parent, name] = SplitParent(path);
    Fd dir;
    int rc = OpenParent(self, parent, false, &dir, err);
    if (JSYNC_PRIMARY(rc) == JSYNC_NOT_FOUND)
      return Fail(err, JSYNC_NOT_FOUND, "no object " + path);
    if (rc != JSYNC_OK) return rc;
    struct stat st {};
    std::string ignored;
    if (StubTarget(name, &ignored)) return Fail(err, JSYNC_NOT_FOUND, "no object " + path);
    const bool here = Exists(dir.get(), name, &st);
    const bool evicted = !here && Exists(dir.get(), StubName(name), &st) && S_ISREG(st.st_mode);
    if (!here && !evicted) return Fail(err, JSYNC_NOT_FOUND, "no object " + path);
    std::string base;
    if (IsConflictCopyIn(dir.get(), name, &base)) {
      return Fail(err, JSYNC_FATAL_NOT_A_FILE,
                  path + " is a copy iCloud made of " + base +
                      " with other bytes; it is not read as an object (compare the two and "
                      "remove one)");
    }
    if (evicted) return Evicted(self, dir.get(), path, name, err);
    Fd fd;
    rc = OpenRegular(dir.get(), name, path, &fd, &st, err);
    if (rc != JSYNC_OK) return rc;
#if defined(__APPLE__)
    if (IsDataless(st)) {
      jsync_error why{};
      RequestDownload(JoinPath(self.root, path), dir.get(), "", &why);
    }
#endif
    const jsync_get_sink* ext = JSYNC_GET_SINK(self.host->abi_version, out);
    if (ext != nullptr && ext->size != nullptr && offset == 0 &&
        ext->size(out->ctx, static_cast<uint64_t>(st.st_size)) != 0) {
      return JSYNC_OK;
    }
    return TimedRead(std::move(fd), offset, length, out, self.read_timeout_ms, TestReadDelayMs(),
                     path, err);
  });
}

int IcloudRemove(jsync_instance* inst, const char* path_c, jsync_error* err) {
  return jsync_plugin::CatchAll(err, "icloud-drive remove", [&]() -> int {
    Instance& self = *Self(inst);
    const std::string path = path_c;
    const auto [parent, name] = SplitParent(path);
    Fd dir;
    int rc = OpenParent(self, parent, false, &dir, err);
    if (JSYNC_PRIMARY(rc) == JSYNC_NOT_FOUND) return JSYNC_OK;
    if (rc != JSYNC_OK) return rc;
    // Removing an evicted object removes its stub: iCloud deletes the file everywhere.
    for (const std::string& n : {name, StubName(name)}) {
      if (::unlinkat(dir.get(), n.c_str(), 0) != 0 && errno != ENOENT) {
        return FailErrno(err, "cannot remove", JoinPath(self.root, JoinPath(parent, n)));
      }
    }
    for (std::string d = parent; !d.empty();) {
      if (::rmdir(JoinPath(self.root, d).c_str()) != 0) break;
      const size_t up = d.rfind('/');
      d = up == std::string::npos ? "" : d.substr(0, up);
    }
    return JSYNC_OK;
  });
}

void IcloudClose(jsync_instance* inst) { delete Self(inst); }

const jsync_provider kTable = {
    JSYNC_PROVIDER_ABI_VERSION,
    sizeof(jsync_provider),
    "icloud-drive",
    "1.0.0",
    // No quota: statvfs tells the local disk, not the iCloud plan. Own storage: read as a
    // plain folder, a stub looks absent and a conflict copy like data (decision 0031).
    JSYNC_CAP_RANGE_READ | JSYNC_CAP_OWN_STORAGE,
    nullptr,
    kOptions,
    sizeof kOptions / sizeof kOptions[0],
    IcloudOpen,
    IcloudPut,
    IcloudGet,
    IcloudList,
    IcloudRemove,
    nullptr,
    nullptr,
    nullptr,
    IcloudClose,
    IcloudOpenEx,
    IcloudCanonicalLocation,
    kDefaultLocation,
    kLocationHelp,
    0,  // a local folder needs no pacing
    0,
    0,
};

const jsync_provider* Table(const jsync_host_info* host) {
  return host && host->abi_version >= 1 ? &kTable : nullptr;
}

}  // namespace

std::string NotDownloadedMessage(const std::string& path) {
  return path +
         " is in iCloud but not downloaded yet; asked iCloud to download it, try again "
         "later";
}

}  // namespace jsync_icloud_drive

JSYNC_DEFINE_PROVIDER("icloud-drive", "1.0.0", jsync_icloud_drive::Table)

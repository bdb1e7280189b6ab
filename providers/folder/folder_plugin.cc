// The folder provider: any local directory (a USB stick, a synced or network folder) as the
// journal's storage. Built with the SDK only, like any third-party plugin; the host also links
// it in as the built-in default (JSYNC_FOLDER_EMBEDDED), so it needs no file or configuration.
//
// Creation is atomic and never replaces: bytes go to a hidden temporary file in the target
// directory, are flushed, and are hard-linked to the final name (link() fails if the name is
// taken, where rename() would replace it). Temporary names are never listed as objects.
//
// The folder is not trusted (anyone with access to the share can plant anything): every path
// is walked one component at a time without following symlinks, only regular files are opened
// (O_NOFOLLOW | O_NONBLOCK, checked with fstat, so a FIFO never blocks and /dev/zero is never
// read), reads stop at the length asked for, and what is not a regular file is listed with its
// kind instead of being followed or skipped. Those primitives live in the SDK
// (jsync_plugin_fs.h), shared with the iCloud Drive folder provider.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <new>
#include <set>
#include <string>
#include <vector>

#include "jsync_plugin_fs.h"
#include "jsync_plugin_util.h"
#include "jsync_provider.h"

namespace fs = std::filesystem;

namespace {

struct Folder {
  fs::path root;
  const jsync_host_services* host;
  bool v2() const { return host != nullptr && host->abi_version >= 2; }
};

using jsync_plugin::Fail;
using jsync_plugin::Fd;
using jsync_plugin::NotAFile;
using jsync_plugin::OpenRegular;
using jsync_plugin::ReadFd;
using jsync_plugin::SameBytes;
using jsync_plugin::SplitParent;
using jsync_plugin::SyncDirectory;

// The SDK's hostile-folder primitives (jsync_plugin_fs.h), given paths as std::filesystem.
int FailErrno(jsync_error* err, const std::string& what, const fs::path& p) {
  return jsync_plugin::FailErrno(err, what, p.string());
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
  return jsync_plugin::WriteAll(fd, data, len, p.string(), err, CrashPointPartialWrite);
}

// Opens the directory `rel` below the root without following a symlink at any component.
int OpenDirBeneath(const Folder& f, const std::string& rel, bool create, Fd* out,
                   jsync_error* err) {
  return jsync_plugin::OpenDirBeneath(f.root.string(), rel, create, out, err);
}

int ReadRange(const Folder& f, const std::string& path, uint64_t offset, uint64_t length,
              jsync_sink* out, jsync_error* err) {
  const auto [parent, name] = SplitParent(path);
  Fd dir;
  int rc = OpenDirBeneath(f, parent, false, &dir, err);
  if (JSYNC_PRIMARY(rc) == JSYNC_NOT_FOUND) return Fail(err, JSYNC_NOT_FOUND, "no object " + path);
  if (rc != JSYNC_OK) return rc;
  Fd fd;
  struct stat st {};
  rc = OpenRegular(dir.get(), name, path, &fd, &st, err);
  if (rc != JSYNC_OK) return rc;
  // Tell the host the size first: an object over its limit is refused without a read.
  const jsync_get_sink* ext = JSYNC_GET_SINK(f.host->abi_version, out);
  if (ext != nullptr && ext->size != nullptr && offset == 0 &&
      ext->size(out->ctx, static_cast<uint64_t>(st.st_size)) != 0) {
    return JSYNC_OK;
  }
  return ReadFd(fd.get(), offset, length, out, path, err);
}

// flags: JSYNC_OPEN_CREATE makes a missing directory (and its parents); only `jsync init` asks.
int FolderOpenFlags(const jsync_host_services* host, const char* location, uint32_t flags,
                    jsync_instance** out, jsync_error* err) {
  try {
    *out = nullptr;
    if (location == nullptr || *location == '\0') {
      return Fail(err, JSYNC_INVALID, "the folder provider needs a location (a directory path)");
    }
    std::error_code ec;
    if ((flags & JSYNC_OPEN_CREATE) != 0 && !fs::exists(location, ec)) {
      fs::create_directories(location, ec);
      if (ec) {
        return Fail(err, JSYNC_FATAL, std::string("cannot create ") + location + ": " + ec.message());
      }
    }
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

int FolderOpen(const jsync_host_services* host, const char* location, const char*,
               jsync_instance** out, jsync_error* err) {
  return FolderOpenFlags(host, location, 0, out, err);
}

int FolderOpenEx(const jsync_host_services* host, const jsync_open_args* args,
                 jsync_instance** out, jsync_error* err) {
  if (args == nullptr || args->struct_size < offsetof(jsync_open_args, config_json)) {
    *out = nullptr;
    return Fail(err, JSYNC_INVALID, "open: no arguments");
  }
  return FolderOpenFlags(host, args->location, args->flags, out, err);
}

// Absolute and normal ("./cloud/" from /home/me is "/home/me/cloud"): a journal made with a
// relative path opens the same folder from any directory.
int FolderCanonicalLocation(const jsync_host_services*, const char* location, char* out,
                            size_t out_size, jsync_error* err) {
  try {
    if (location == nullptr || *location == '\0') {
      return Fail(err, JSYNC_INVALID, "the folder provider needs a location (a directory path)");
    }
    std::string p = fs::absolute(location).lexically_normal().string();
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    if (p.size() + 1 > out_size) return Fail(err, JSYNC_INVALID, "the folder path is too long");
    std::memcpy(out, p.c_str(), p.size() + 1);
    return JSYNC_OK;
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_INVALID, std::string("the folder location: ") + e.what());
  }
}

// ".jsync-tmp-<target name>-<random>": the host tells whose upload an orphan was by the name
// it was meant to get (docs/decisions/0018-hostile-cloud-folder.md).
std::string TempName(const Folder& f, const std::string& target_name) {
  return std::string(JSYNC_TEMP_PREFIX) + target_name.substr(0, 96) + "-" +
         jsync_plugin::RandomHex(f.host, 8);
}

int FolderPut(jsync_instance* inst, const char* path_c, const uint8_t* data, size_t len,
              int if_absent, jsync_error* err) {
  try {
    auto* f = reinterpret_cast<Folder*>(inst);
    const std::string path = path_c;
    const auto [parent, name] = SplitParent(path);
    Fd dir;
    int rc = OpenDirBeneath(*f, parent, true, &dir, err);
    // A removal elsewhere may take an emptied folder away between mkdir and open: once more.
    if (JSYNC_PRIMARY(rc) == JSYNC_NOT_FOUND) rc = OpenDirBeneath(*f, parent, true, &dir, err);
    if (rc != JSYNC_OK) return rc;
    const fs::path shown_dir = f->root / parent;
    const std::string temp = TempName(*f, name);
    Fd fd(::openat(dir.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                   0644));
    if (!fd.ok()) return FailErrno(err, "cannot create", shown_dir / temp);
    rc = WriteAll(fd.get(), data, len, shown_dir / temp, err);
    if (rc == JSYNC_OK && ::fsync(fd.get()) != 0)
      rc = FailErrno(err, "cannot flush", shown_dir / temp);
    fd = Fd();
    if (rc != JSYNC_OK) {
      ::unlinkat(dir.get(), temp.c_str(), 0);
      return rc;
    }
    if (!if_absent) {
      if (::renameat(dir.get(), temp.c_str(), dir.get(), name.c_str()) != 0) {
        rc = FailErrno(err, "cannot publish", f->root / path);
        ::unlinkat(dir.get(), temp.c_str(), 0);
        return rc;
      }
      SyncDirectory(dir.get());
      return JSYNC_OK;
    }
    // linkat without AT_SYMLINK_FOLLOW fails with EEXIST on anything at the name, a dangling
    // symlink included: nothing planted there is ever replaced or written through.
    const int linked = ::linkat(dir.get(), temp.c_str(), dir.get(), name.c_str(), 0);
    const int link_errno = errno;
    ::unlinkat(dir.get(), temp.c_str(), 0);
    if (linked == 0) {
      SyncDirectory(dir.get());
      return JSYNC_OK;
    }
    if (link_errno != EEXIST) {
      errno = link_errno;
      return FailErrno(err, "cannot publish", f->root / path);
    }
    bool same = false;
    rc = SameBytes(dir.get(), name, path, data, len, &same, err);
    if (rc != JSYNC_OK) return rc;
    if (same) return JSYNC_OK;
    return Fail(err, JSYNC_EXISTS, path + " already exists with different content");
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_FATAL, e.what());
  }
}

int FolderGet(jsync_instance* inst, const char* path, uint64_t offset, uint64_t length,
              jsync_sink* out, jsync_error* err) {
  try {
    auto* f = reinterpret_cast<Folder*>(inst);
    return ReadRange(*f, path, offset, length, out, err);
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_FATAL, e.what());
  }
}

using jsync_plugin::MtimeMs;

int FolderList(jsync_instance* inst, const char* prefix_c, const char*, jsync_list_sink* out,
               jsync_error* err) {
  try {
    auto* f = reinterpret_cast<Folder*>(inst);
    const std::string prefix = prefix_c ? prefix_c : "";
    const bool entries = f->v2() && out->entry != nullptr;
    // Walk only the deepest directory the prefix names, then filter by the whole prefix.
    const size_t slash = prefix.rfind('/');
    const fs::path dir = slash == std::string::npos ? f->root : f->root / prefix.substr(0, slash);
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(dir, ec))) return JSYNC_OK;
    if (!fs::is_directory(fs::symlink_status(dir, ec))) return JSYNC_OK;  // not followed
    std::vector<std::string> dirs;
    std::set<std::string> not_empty;  // directories with something listable below
    // recursive_directory_iterator never follows directory symlinks (no follow option).
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      struct stat st {};
      if (::lstat(it->path().c_str(), &st) != 0) continue;  // gone meanwhile
      // Lexically: fs::relative would resolve a planted symlink to where it points.
      const std::string rel = it->path().lexically_relative(f->root).generic_string();
      if (S_ISDIR(st.st_mode)) {
        dirs.push_back(rel);
        continue;
      }
      const bool temp = it->path().filename().string().starts_with(JSYNC_TEMP_PREFIX);
      // A folder holding only temporary files is an upload's folder, not an entry either.
      {
        for (size_t p = rel.rfind('/'); p != std::string::npos && p > 0;
             p = rel.rfind('/', p - 1)) {
          if (!not_empty.insert(rel.substr(0, p)).second) break;
        }
      }
      if (!rel.starts_with(prefix)) continue;
      if (!entries) {
        // A version-1 host: regular objects only, as ABI 1 says.
        if (S_ISREG(st.st_mode) && !temp) out->emit(out->ctx, rel.c_str(), st.st_size);
        continue;
      }
      jsync_list_entry e{rel.c_str(), S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0,
                         MtimeMs(st), S_ISREG(st.st_mode) ? JSYNC_KIND_FILE : JSYNC_KIND_SPECIAL,
                         temp ? JSYNC_ENTRY_TEMPORARY : 0u};
      out->entry(out->ctx, &e);
    }
    if (ec) return Fail(err, JSYNC_FATAL, "cannot list " + dir.string() + ": " + ec.message());
    if (entries) {
      for (const std::string& d : dirs) {
        if (not_empty.count(d) || !d.starts_with(prefix)) continue;
        struct stat st {};
        const int64_t mtime = ::lstat((f->root / d).c_str(), &st) == 0 ? MtimeMs(st) : -1;
        jsync_list_entry e{d.c_str(), 0, mtime, JSYNC_KIND_DIRECTORY, 0u};
        out->entry(out->ctx, &e);
      }
    }
    return JSYNC_OK;
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_FATAL, e.what());
  }
}

int FolderRemove(jsync_instance* inst, const char* path_c, jsync_error* err) {
  try {
    auto* f = reinterpret_cast<Folder*>(inst);
    const std::string path = path_c;
    const auto [parent, name] = SplitParent(path);
    Fd dir;
    int rc = OpenDirBeneath(*f, parent, false, &dir, err);
    if (JSYNC_PRIMARY(rc) == JSYNC_NOT_FOUND) return JSYNC_OK;
    if (rc != JSYNC_OK) return rc;
    // unlinkat removes a planted symlink itself, never what it points to; a directory at the
    // name fails (EISDIR) and is reported.
    if (::unlinkat(dir.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
      return FailErrno(err, "cannot remove", f->root / path);
    }
    // Object stores have no folders: a folder emptied by a removal goes too, so an empty
    // folder that is listed is one somebody made (and the engine can report it). rmdir fails
    // on anything not empty, and never follows a symlink.
    for (std::string d = parent; !d.empty();) {
      if (::rmdir((f->root / d).c_str()) != 0) break;
      const size_t up = d.rfind('/');
      d = up == std::string::npos ? "" : d.substr(0, up);
    }
    return JSYNC_OK;
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_FATAL, e.what());
  }
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
    FolderOpenEx,
    FolderCanonicalLocation,
    nullptr,  // no default location
    "a directory path",
    0,  // a local folder needs no pacing
    0,
    0,  // max_concurrency: the host's default
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

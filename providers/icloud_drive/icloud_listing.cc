// list(): the folder as iCloud leaves it, shown as the objects it holds. Each folder is read
// whole before anything of it is emitted, because what a name is depends on its neighbours:
// ".a.icloud" is the object "a" (unless "a" itself is there, half hydrated), and "a 2.jchg"
// is iCloud's duplicate of "a.jchg" when that exists (as a file or a stub).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "icloud_instance.h"
#include "icloud_names.h"
#include "jsync_plugin_fs.h"
#include "jsync_plugin_util.h"
#include "stub_file.h"
#include "timed_read.h"

namespace fs = std::filesystem;

namespace jsync_icloud_drive {
namespace {

using jsync_plugin::Fail;
using jsync_plugin::Fd;
using jsync_plugin::JoinPath;
using jsync_plugin::MtimeMs;

struct Found {
  std::string name;
  struct stat st;
};

// What to do about a duplicate: drop it (same bytes), or keep it out of the objects.
enum class CopyVerdict { kIdentical, kDifferent };

// Whole file into *bytes when it is a regular file of at most `cap` bytes, through the timed
// read. False when it is not, or could not be read in time.
bool ReadWhole(const Instance& self, int dir_fd, const std::string& name, uint64_t cap,
               std::string* bytes) {
  Fd fd;
  struct stat st {};
  jsync_error err{};
  if (jsync_plugin::OpenRegular(dir_fd, name, name, &fd, &st, &err) != JSYNC_OK) return false;
  if (static_cast<uint64_t>(st.st_size) > cap) return false;
  bytes->clear();
  jsync_sink sink{bytes, [](void* ctx, const uint8_t* d, size_t n) {
                    static_cast<std::string*>(ctx)->append(reinterpret_cast<const char*>(d), n);
                    return 0;
                  }};
  return TimedRead(std::move(fd), 0, cap + 1, &sink, self.read_timeout_ms, TestReadDelayMs(), name,
                   &err) == JSYNC_OK &&
         bytes->size() <= cap;
}

// Same bytes as the object it copies? Only when both are here and readable in time; an
// evicted original cannot be compared, so the copy is kept for now.
CopyVerdict Compare(const Instance& self, int dir_fd, const Found& copy, const std::string& base) {
  struct stat st {};
  if (::fstatat(dir_fd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
      !S_ISREG(copy.st.st_mode) || st.st_size != copy.st.st_size) {
    return CopyVerdict::kDifferent;
  }
  constexpr uint64_t kMaxCompared = uint64_t{64} << 20;  // a change file's limit
  std::string bytes;
  if (!ReadWhole(self, dir_fd, copy.name, kMaxCompared, &bytes)) return CopyVerdict::kDifferent;
  Fd fd;
  jsync_error err{};
  if (jsync_plugin::OpenRegular(dir_fd, base, base, &fd, &st, &err) != JSYNC_OK)
    return CopyVerdict::kDifferent;
  bool same = false;
  if (TimedSameBytes(std::move(fd), static_cast<uint64_t>(st.st_size),
                     reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                     self.read_timeout_ms, TestReadDelayMs(), base, &same, &err) != JSYNC_OK) {
    return CopyVerdict::kDifferent;
  }
  return same ? CopyVerdict::kIdentical : CopyVerdict::kDifferent;
}

class Lister {
 public:
  Lister(Instance& self, const std::string& prefix, jsync_list_sink* out)
      : self_(self), prefix_(prefix), out_(out), entries_(self.v2() && out->entry != nullptr) {}

  // One folder's files (not its subfolders), `rel` relative to the root.
  void Folder(const std::string& rel, const std::vector<Found>& files) {
    Fd dir;
    jsync_error err{};
    if (jsync_plugin::OpenDirBeneath(self_.root, rel, false, &dir, &err) != JSYNC_OK) return;
    std::set<std::string> names;  // the objects here: files and what stubs stand for
    std::map<std::string, const Found*> stubs;
    for (const Found& f : files) {
      std::string real;
      if (StubTarget(f.name, &real)) {
        stubs[real] = &f;
      } else {
        names.insert(f.name);
      }
    }
    for (const auto& [real, stub] : stubs) names.insert(real);
    for (const Found& f : files) {
      std::string real;
      if (StubTarget(f.name, &real)) {
        if (files_here(files, real)) continue;  // being hydrated: the file itself is listed
        std::string base;
        if (ConflictCopyBase(real, &base) && names.count(base) != 0) {
          Found copy = f;
          copy.name = real;
          Duplicate(dir.get(), rel, copy, base);  // evicted: cannot be compared, kept
          continue;
        }
        uint64_t size = static_cast<uint64_t>(f.st.st_size);
        bool known = false;
        uint64_t named = 0;
        if (S_ISREG(f.st.st_mode)) StubSize(dir.get(), f.name, &named, &known);
        if (known) size = named;
        Emit(JoinPath(rel, real), size, MtimeMs(f.st),
             S_ISREG(f.st.st_mode) ? JSYNC_KIND_FILE : JSYNC_KIND_SPECIAL, 0);
        continue;
      }
      const bool temp = f.name.rfind(JSYNC_TEMP_PREFIX, 0) == 0;
      std::string base;
      if (!temp && ConflictCopyBase(f.name, &base) && names.count(base) != 0) {
        Duplicate(dir.get(), rel, f, base);
        continue;
      }
      const bool regular = S_ISREG(f.st.st_mode);
      Emit(JoinPath(rel, f.name), regular ? static_cast<uint64_t>(f.st.st_size) : 0, MtimeMs(f.st),
           regular ? JSYNC_KIND_FILE : JSYNC_KIND_SPECIAL, temp ? JSYNC_ENTRY_TEMPORARY : 0u);
    }
  }

  void EmptyFolder(const std::string& rel, int64_t mtime) {
    if (entries_ && rel.rfind(prefix_, 0) == 0) {
      jsync_list_entry e{rel.c_str(), 0, mtime, JSYNC_KIND_DIRECTORY, 0u};
      out_->entry(out_->ctx, &e);
    }
  }

 private:
  static bool files_here(const std::vector<Found>& files, const std::string& name) {
    for (const Found& f : files)
      if (f.name == name) return true;
    return false;
  }

  void Emit(const std::string& path, uint64_t size, int64_t mtime, uint32_t kind, uint32_t flags) {
    if (path.rfind(prefix_, 0) != 0) return;
    if (!entries_) {
      // A version-1 host: regular objects only, as ABI 1 says.
      if (kind == JSYNC_KIND_FILE && flags == 0) out_->emit(out_->ctx, path.c_str(), size);
      return;
    }
    jsync_list_entry e{path.c_str(), size, mtime, kind, flags};
    out_->entry(out_->ctx, &e);
  }

  // iCloud's duplicate of `base`: removed when it holds the same bytes; otherwise kept (it
  // may be the only copy of something), reported once, and listed as not an object so the
  // engine never merges it (and names it among what it ignored).
  void Duplicate(int dir_fd, const std::string& rel, const Found& copy, const std::string& base) {
    const std::string path = JoinPath(rel, copy.name);
    const std::string base_path = JoinPath(rel, base);
    if (Compare(self_, dir_fd, copy, base) == CopyVerdict::kIdentical) {
      if (::unlinkat(dir_fd, copy.name.c_str(), 0) == 0) {
        self_.Log(1, "icloud-drive: removed " + path + ", a copy iCloud made of " + base_path +
                         " with the same bytes");
        return;
      }
    }
    if (self_.reported.insert(path).second) {
      self_.Log(2, "icloud-drive: kept " + path + ", a copy iCloud made of " + base_path +
                       " that holds other bytes (or could not be compared yet); it is not synced "
                       "as data: compare the two and remove one");
    }
    Emit(path, static_cast<uint64_t>(copy.st.st_size), MtimeMs(copy.st), JSYNC_KIND_SPECIAL, 0);
  }

  Instance& self_;
  const std::string& prefix_;
  jsync_list_sink* out_;
  bool entries_;
};

}  // namespace

void StubSize(int dir_fd, const std::string& stub_name, uint64_t* size, bool* known) {
  *known = false;
  Fd fd;
  struct stat st {};
  jsync_error err{};
  if (jsync_plugin::OpenRegular(dir_fd, stub_name, stub_name, &fd, &st, &err) != JSYNC_OK) return;
  if (static_cast<uint64_t>(st.st_size) > kMaxStubBytes) return;
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  const ssize_t n = ::pread(fd.get(), bytes.data(), bytes.size(), 0);
  if (n < 0) return;
  bytes.resize(static_cast<size_t>(n));
  const StubInfo info = ParseStub(bytes);
  if (!info.has_size) return;
  *size = info.size;
  *known = true;
}

bool IsConflictCopyIn(int dir_fd, const std::string& name, std::string* base) {
  if (!ConflictCopyBase(name, base)) return false;
  struct stat st {};
  return ::fstatat(dir_fd, base->c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 ||
         ::fstatat(dir_fd, StubName(*base).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int IcloudList(jsync_instance* inst, const char* prefix_c, const char*, jsync_list_sink* out,
               jsync_error* err) {
  return jsync_plugin::CatchAll(err, "icloud-drive list", [&]() -> int {
    Instance& self = *Self(inst);
    const std::string prefix = prefix_c ? prefix_c : "";
    const fs::path root(self.root);
    const size_t slash = prefix.rfind('/');
    const fs::path start = slash == std::string::npos ? root : root / prefix.substr(0, slash);
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(start, ec))) return JSYNC_OK;
    if (!fs::is_directory(fs::symlink_status(start, ec))) return JSYNC_OK;  // not followed
    std::map<std::string, std::vector<Found>> folders;  // relative folder -> its files
    std::vector<std::string> dirs;
    std::set<std::string> not_empty;
    const std::string start_rel =
        start == root ? "" : start.lexically_relative(root).generic_string();
    folders[start_rel];
    // recursive_directory_iterator never follows directory symlinks (no follow option).
    for (auto it = fs::recursive_directory_iterator(start, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      Found f{it->path().filename().string(), {}};
      if (::lstat(it->path().c_str(), &f.st) != 0) continue;  // gone meanwhile
      // Lexically: fs::relative would resolve a planted symlink to where it points.
      const std::string rel = it->path().lexically_relative(root).generic_string();
      if (S_ISDIR(f.st.st_mode)) {
        dirs.push_back(rel);
        folders[rel];
        continue;
      }
      for (size_t p = rel.rfind('/'); p != std::string::npos && p > 0; p = rel.rfind('/', p - 1)) {
        if (!not_empty.insert(rel.substr(0, p)).second) break;
      }
      const size_t cut = rel.rfind('/');
      folders[cut == std::string::npos ? "" : rel.substr(0, cut)].push_back(std::move(f));
    }
    if (ec) return Fail(err, JSYNC_FATAL, "cannot list " + start.string() + ": " + ec.message());
    Lister lister(self, prefix, out);
    for (const auto& [rel, files] : folders) lister.Folder(rel, files);
    for (const std::string& d : dirs) {
      if (not_empty.count(d)) continue;
      struct stat st {};
      lister.EmptyFolder(d, ::lstat((root / d).c_str(), &st) == 0 ? MtimeMs(st) : -1);
    }
    return JSYNC_OK;
  });
}

}  // namespace jsync_icloud_drive

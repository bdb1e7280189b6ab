#include "core/provider/folder_provider.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/crypto/primitives.h"
#include "core/util/crash_point.h"

namespace fs = std::filesystem;

namespace jsync::provider {
namespace {

std::string Errno(const std::string& what, const fs::path& p) {
  return what + " " + p.string() + ": " + std::strerror(errno);
}

Status WriteAll(int fd, ByteSpan bytes, const fs::path& p) {
  size_t done = 0;
  while (done < bytes.size()) {
    // The first write stops halfway so that the crash point below is reached once per object.
    const size_t want = done == 0 && bytes.size() >= 2 ? bytes.size() / 2 : bytes.size() - done;
    ssize_t n = ::write(fd, bytes.data() + done, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (errno == ENOSPC || errno == EDQUOT) {
        return Status(Code::kQuotaExceeded, Errno("no space left writing", p));
      }
      return Status::Fatal(Errno("cannot write", p));
    }
    done += static_cast<size_t>(n);
    // The crash tests stop here to leave a torn temporary file behind.
    if (done < bytes.size() || bytes.size() < 2) CrashPoint("folder.put.partial");
  }
  return Status::Ok();
}

void SyncDirectory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

Result<Bytes> ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return Status::NotFound("no object " + p.string());
    return Status::Fatal(Errno("cannot read", p));
  }
  Bytes out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::Fatal(Errno("cannot read", p));
  return out;
}

}  // namespace

Result<std::unique_ptr<FolderProvider>> FolderProvider::Open(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return Status::Fatal("cloud folder " + root.string() +
                         " does not exist or is not a directory (is it mounted?)");
  }
  return std::unique_ptr<FolderProvider>(new FolderProvider(fs::absolute(root)));
}

Status FolderProvider::PutIfAbsent(const std::string& path, ByteSpan bytes) {
  JSYNC_RETURN_IF_ERROR(ValidateObjectPath(path));
  const fs::path target = root_ / path;
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec)
    return Status::Fatal("cannot create " + target.parent_path().string() + ": " + ec.message());

  const fs::path temp = target.parent_path() / (kTempPrefix + ToHex(crypto::RandomArray<8>()));
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Fatal(Errno("cannot create", temp));
  Status st = WriteAll(fd, bytes, temp);
  if (st.ok() && ::fsync(fd) != 0) st = Status::Fatal(Errno("cannot flush", temp));
  ::close(fd);
  if (!st.ok()) {
    ::unlink(temp.c_str());
    return st;
  }
  // link() refuses an existing name, which rename() would silently replace.
  int rc = ::link(temp.c_str(), target.c_str());
  int link_errno = errno;
  ::unlink(temp.c_str());
  if (rc == 0) {
    SyncDirectory(target.parent_path());
    return Status::Ok();
  }
  if (link_errno != EEXIST) {
    errno = link_errno;
    return Status::Fatal(Errno("cannot publish", target));
  }
  JSYNC_ASSIGN_OR_RETURN(Bytes existing, ReadFile(target));
  if (std::equal(existing.begin(), existing.end(), bytes.begin(), bytes.end())) {
    return Status::Ok();
  }
  return Status::Exists(path + " already exists with different content");
}

Result<Bytes> FolderProvider::Get(const std::string& path) {
  JSYNC_RETURN_IF_ERROR(ValidateObjectPath(path));
  auto r = ReadFile(root_ / path);
  if (!r.ok() && r.status().Is(Code::kNotFound)) return Status::NotFound("no object " + path);
  return r;
}

Result<std::vector<ObjectInfo>> FolderProvider::List(const std::string& prefix) {
  // Walk only the deepest directory the prefix names, then filter by the full prefix.
  const size_t slash = prefix.rfind('/');
  const std::string dir_part = slash == std::string::npos ? "" : prefix.substr(0, slash);
  const fs::path dir = dir_part.empty() ? root_ : root_ / dir_part;
  std::vector<ObjectInfo> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    if (it->path().filename().string().starts_with(kTempPrefix)) continue;
    std::string rel = fs::relative(it->path(), root_, ec).generic_string();
    if (!rel.starts_with(prefix)) continue;
    out.push_back({rel, static_cast<uint64_t>(it->file_size(ec))});
  }
  if (ec) return Status::Fatal("cannot list " + dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.path < b.path; });
  return out;
}

Status FolderProvider::Remove(const std::string& path) {
  JSYNC_RETURN_IF_ERROR(ValidateObjectPath(path));
  if (::unlink((root_ / path).c_str()) != 0 && errno != ENOENT) {
    return Status::Fatal(Errno("cannot remove", root_ / path));
  }
  return Status::Ok();
}

}  // namespace jsync::provider

#include "tools/emulators/icloud_drive/sim_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tools/emulators/common/util.h"

namespace fs = std::filesystem;

namespace jsync::emulator::icloud_drive {

std::string Join(const std::string& root, const std::string& rel) {
  return rel.empty() ? root : root + "/" + rel;
}

bool StatFile(const std::string& path, FileStat* out) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  out->size = static_cast<uint64_t>(st.st_size);
#if defined(__APPLE__)
  const struct timespec& m = st.st_mtimespec;
#else
  const struct timespec& m = st.st_mtim;
#endif
  out->mtime_ns = static_cast<int64_t>(m.tv_sec) * 1000000000 + m.tv_nsec;
  out->ino = static_cast<uint64_t>(st.st_ino);
  return true;
}

bool IsStubName(const std::string& name, std::string* real) {
  static const std::string kSuffix = ".icloud";
  if (name.size() <= 1 + kSuffix.size() || name[0] != '.') return false;
  if (name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) return false;
  *real = name.substr(1, name.size() - 1 - kSuffix.size());
  return true;
}

std::string StubPathFor(const std::string& rel) {
  const size_t slash = rel.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : rel.substr(0, slash + 1);
  const std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  return dir + "." + name + ".icloud";
}

std::string DuplicateName(const std::string& rel, const std::string& style) {
  const size_t slash = rel.rfind('/');
  const size_t dot = rel.rfind('.');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash + 1);
  const std::string stem = has_ext ? rel.substr(0, dot) : rel;
  const std::string ext = has_ext ? rel.substr(dot) : "";
  if (style == "space") return stem + " 2" + ext;
  if (style == "paren") return stem + "(1)" + ext;
  if (style == "underscore") return stem + "_2" + ext;
  return "";
}

std::string StubBytes(const std::string& real_name, uint64_t size) {
  std::string name;
  for (char c : real_name) {
    if (c == '&')
      name += "&amp;";
    else if (c == '<')
      name += "&lt;";
    else if (c == '>')
      name += "&gt;";
    else
      name.push_back(c);
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
         "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
         "<plist version=\"1.0\">\n<dict>\n"
         "\t<key>NSURLFileResourceTypeKey</key>\n\t<string>NSURLFileResourceTypeRegular</string>\n"
         "\t<key>NSURLFileSizeKey</key>\n\t<integer>" +
         std::to_string(size) + "</integer>\n\t<key>NSURLNameKey</key>\n\t<string>" + name +
         "</string>\n</dict>\n</plist>\n";
}

Walk WalkTree(const std::string& root, const std::string& under) {
  Walk w;
  std::error_code ec;
  const fs::path base(root);
  const fs::path start = under.empty() ? base : base / under;
  for (auto it = fs::recursive_directory_iterator(start, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    const std::string rel = it->path().lexically_relative(base).generic_string();
    if (S_ISDIR(st.st_mode)) {
      w.dirs.insert(rel);
      continue;
    }
    if (!S_ISREG(st.st_mode)) continue;  // iCloud syncs files only
    std::string real;
    const std::string name = it->path().filename().string();
    if (IsStubName(name, &real)) {
      const size_t slash = rel.rfind('/');
      w.stubs.insert(slash == std::string::npos ? real : rel.substr(0, slash + 1) + real);
      continue;
    }
    FileStat fst;
    if (StatFile(it->path().string(), &fst)) w.files[rel] = fst;
  }
  return w;
}

bool ReadWhole(const std::string& path, std::string* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

std::string Publish(const std::string& staging, const std::string& root, const std::string& rel,
                    const std::string& bytes) {
  const std::string dest = Join(root, rel);
  std::error_code ec;
  fs::create_directories(fs::path(dest).parent_path(), ec);
  if (ec) return "cannot create the folder of " + dest + ": " + ec.message();
  const std::string temp = staging + "/publish-" + RandomString(12);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return "cannot create " + temp;
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      ::close(fd);
      ::unlink(temp.c_str());
      return "cannot write " + temp;
    }
    done += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(temp.c_str(), dest.c_str()) != 0) {
    ::unlink(temp.c_str());
    return "cannot move a download into " + dest;
  }
  return "";
}

void RemoveEmptyParents(const std::string& root, const std::string& rel) {
  std::string d = rel;
  for (size_t slash = d.rfind('/'); slash != std::string::npos; slash = d.rfind('/')) {
    d.resize(slash);
    if (::rmdir(Join(root, d).c_str()) != 0) break;
  }
}

}  // namespace jsync::emulator::icloud_drive

// Files only their owner may read: secrets and account facts in a device's home folder.
#pragma once

#include <string>

#include "core/util/bytes.h"

namespace jsync {

// Writes `data` to `path` atomically with mode 0600: a temp name created O_EXCL|O_NOFOLLOW,
// fsync, rename over `path`, fsync of the folder. kFatal naming the path on failure.
Status WritePrivateFile(const std::string& path, ByteSpan data);

// An exclusive flock on `path` (created 0600) for as long as the object lives; serialises
// read-modify-write cycles between processes.
class FileLock {
 public:
  explicit FileLock(const std::string& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace jsync

#include "download_request.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "jsync_plugin_fs.h"

#if defined(__APPLE__)
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

extern char** environ;
#endif

namespace jsync_icloud_drive {

using jsync_plugin::Fail;

#if defined(__APPLE__)

int RequestDownload(const std::string& real_path, int, const std::string&, jsync_error* err) {
  // posix_spawnp with an argument vector: no shell ever sees the path.
  const char* argv[] = {"brctl", "download", real_path.c_str(), nullptr};
  pid_t pid = 0;
  const int rc =
      ::posix_spawnp(&pid, "brctl", nullptr, nullptr, const_cast<char* const*>(argv), environ);
  if (rc != 0) {
    return Fail(err, JSYNC_RETRYABLE,
                "cannot run brctl download for " + real_path + ": " + std::strerror(rc));
  }
  // brctl only queues the request; whatever it takes, it is reaped on a thread of its own.
  std::thread([pid] {
    int status = 0;
    ::waitpid(pid, &status, 0);
  }).detach();
  return JSYNC_OK;
}

#else

int RequestDownload(const std::string& real_path, int dir_fd, const std::string& stub_name,
                    jsync_error* err) {
  if (stub_name.empty()) return JSYNC_OK;  // no dataless files here
  jsync_plugin::Fd fd;
  struct stat st {};
  const int rc = jsync_plugin::OpenRegular(dir_fd, stub_name, real_path, &fd, &st, err, O_WRONLY);
  return rc;  // closing it (nothing written) is the request
}

#endif

}  // namespace jsync_icloud_drive

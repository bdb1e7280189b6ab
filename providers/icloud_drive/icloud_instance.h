// One open iCloud Drive folder (the provider's jsync_instance) and the pieces the slots share.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>

#include "jsync_plugin_fs.h"
#include "jsync_provider.h"

namespace jsync_icloud_drive {

struct Instance {
  std::string root;     // the location, absolute
  std::string staging;  // temporaries go here, outside the synced tree
  int64_t read_timeout_ms = 20000;
  const jsync_host_services* host = nullptr;
  std::set<std::string> reported;  // conflict copies already logged by this instance

  bool v2() const { return host != nullptr && host->abi_version >= 2; }
  void Log(int level, const std::string& message) const {
    if (host != nullptr && host->log != nullptr) host->log(host->host, level, message.c_str());
  }
};

inline Instance* Self(jsync_instance* inst) { return reinterpret_cast<Instance*>(inst); }

// The message of an evicted file's get (and of a put that must compare with one).
std::string NotDownloadedMessage(const std::string& path);

// Whether `name` in dir_fd is a duplicate iCloud made of another object there ("a 2.jchg"
// next to "a.jchg", or to its stub); *base: that object's name.
bool IsConflictCopyIn(int dir_fd, const std::string& name, std::string* base);

// Reads a stub (at most kMaxStubBytes, only a regular file): the real size it names, or
// *known false.
void StubSize(int dir_fd, const std::string& stub_name, uint64_t* size, bool* known);

int IcloudList(jsync_instance* inst, const char* prefix, const char* page_token,
               jsync_list_sink* out, jsync_error* err);

}  // namespace jsync_icloud_drive

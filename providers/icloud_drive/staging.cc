#include "staging.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "jsync_plugin_fs.h"

namespace fs = std::filesystem;

namespace jsync_icloud_drive {
namespace {

using jsync_plugin::Fail;

std::string Home() {
  const char* home = std::getenv("HOME");
  return home != nullptr ? home : "";
}

// Whether `inner` is `outer` or below it (both absolute and normal).
bool IsWithin(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i) {
    if (o->empty()) continue;  // a trailing separator
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

fs::path Normal(const std::string& p) {
  std::error_code ec;
  fs::path n = fs::weakly_canonical(fs::absolute(p), ec);
  return ec ? fs::absolute(p).lexically_normal() : n;
}

}  // namespace

std::string DefaultStagingDir() {
  const std::string home = Home();
#if defined(__APPLE__)
  if (home.empty()) return "";
  return home + "/Library/Caches/journal-sync/staging";
#else
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && *xdg == '/') return std::string(xdg) + "/journal-sync/staging";
  if (home.empty()) return "";
  return home + "/.cache/journal-sync/staging";
#endif
}

std::string CrossVolumeMessage(const std::string& staging, const std::string& location) {
  return "the staging folder " + staging + " is on another volume than " + location +
         ", so a finished upload cannot be moved into place; set the option staging to a folder "
         "on the same volume, outside the synced folder";
}

int PrepareStaging(const std::string& staging_in, const std::string& location, std::string* out,
                   jsync_error* err) {
  const std::string staging = staging_in.empty() ? DefaultStagingDir() : staging_in;
  if (staging.empty()) {
    return Fail(err, JSYNC_INVALID,
                "no home folder to put the staging folder in: set the option staging to a folder "
                "on the same volume as the location, outside the synced folder");
  }
  const fs::path loc = Normal(location);
  const fs::path stage = Normal(staging);
  if (IsWithin(stage, loc)) {
    return Fail(err, JSYNC_INVALID,
                "the staging folder " + stage.string() + " is inside the location " + loc.string() +
                    ": iCloud would upload half-written files; choose one outside");
  }
#if defined(__APPLE__)
  const fs::path mobile = Normal(Home() + "/Library/Mobile Documents");
  if (!Home().empty() && IsWithin(stage, mobile)) {
    return Fail(err, JSYNC_INVALID,
                "the staging folder " + stage.string() +
                    " is inside iCloud Drive, which would upload half-written files; choose one "
                    "outside ~/Library/Mobile Documents (the default is " +
                    DefaultStagingDir() + ")");
  }
#endif
  std::error_code ec;
  fs::create_directories(stage, ec);
  if (ec) {
    return Fail(err, JSYNC_FATAL,
                "cannot create the staging folder " + stage.string() + ": " + ec.message());
  }
  ::chmod(stage.c_str(), 0700);  // our own uploads in the clear of other users
  struct stat s {
  }, l{};
  if (::lstat(stage.c_str(), &s) != 0 || !S_ISDIR(s.st_mode)) {
    return Fail(err, JSYNC_FATAL, "the staging folder " + stage.string() + " is not a directory");
  }
  if (::stat(loc.c_str(), &l) == 0 && l.st_dev != s.st_dev) {
    return Fail(err, JSYNC_INVALID, CrossVolumeMessage(stage.string(), loc.string()));
  }
  *out = stage.string();
  return JSYNC_OK;
}

void RemoveStaleTemporaries(const std::string& staging, int64_t now_ms) {
  std::error_code ec;
  for (auto it = fs::directory_iterator(staging, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(JSYNC_TEMP_PREFIX, 0) != 0) continue;
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (now_ms - jsync_plugin::MtimeMs(st) > 24LL * 3600 * 1000) {
      fs::remove(it->path(), ec);
      ec.clear();
    }
  }
}

}  // namespace jsync_icloud_drive

// Google Drive's JSON answers as the Drive plugin reads them: files.list pages, changes.list
// pages, error documents, File resources, about.get quotas, and the Retry-After header. Every
// reader gets every input (each is cheap).
#include <map>
#include <string>

#include "drive_client.h"
#include "drive_files.h"
#include "feed.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jsync_gdrive;
  const std::string body(reinterpret_cast<const char*>(data), size);
  jsync_error err{};
  FilePage page;
  (void)ParseFileList(body, "fuzz", &page, &err);
  std::map<std::string, uint64_t> found;
  std::string next, start;
  (void)ParseChangesPage(body, "journals/j", &found, &next, &start);
  (void)ParseDriveError(body);
  DriveFile file;
  (void)ParseFileText(body, &file);
  (void)StorageFullFromAbout(body, 0);
  (void)StorageFullFromAbout(body, UINT64_MAX);
  uint64_t used = 0, total = 0;
  (void)ParseStorageQuota(body, &used, &total);
  if (size <= 64) (void)jsync_plugin::ParseRetryAfter(body, 0);
  return 0;
}

// Drive calls on files in appDataFolder: name lookups (with the winner rule), listing pages,
// generateIds, files.get, downloads and deletes. Each is one request (or one per page) and
// classifies its failure; none retries.
#pragma once

#include <string>
#include <vector>

#include "drive_client.h"
#include "gdrive_instance.h"

namespace jsync_gdrive {

// FailFromResponse (drive_client.h), which reads Drive's reason from the error document the
// host passes for every status >= 300 (jsync_http_response.body). Fallback, one extra request
// and only then: a 403 with no readable reason (an empty body, or a proxy's HTML page instead
// of Drive's JSON) is told apart by asking about.get whether the storage is full (or would be
// with the upload: QUOTA_EXCEEDED); otherwise it is taken for a rate limit
// (RETRYABLE_THROTTLED), the common case, and the message says the reason was not readable.
// `upload_bytes`: the size of the upload that was refused (0: not an upload).
int FailFrom(jsync_instance* inst, const std::string& what, const Response& response,
             jsync_error* err, uint64_t upload_bytes = 0);

// Every live file in appDataFolder named exactly `name` (all duplicates).
int FindByName(jsync_instance* inst, const std::string& name, const std::string& what,
               std::vector<DriveFile>* files, jsync_error* err);

// The winning file for an object name, from the cache or a lookup; NOT_FOUND when there is none.
int FindWinner(jsync_instance* inst, const std::string& name, const std::string& what,
               DriveFile* winner, jsync_error* err);

// One page of files whose name starts with `name_prefix`, ordered by name.
struct FilePage {
  std::vector<DriveFile> files;
  std::string next_page_token;  // "" on the last page
};
// Reads one files.list answer (live files only); RETRYABLE_UNAVAILABLE when it is not JSON.
int ParseFileList(const std::string& body, const std::string& what, FilePage* page,
                  jsync_error* err);
// Whether an about.get answer (fields=storageQuota) says the storage is full, or would be
// with `upload_bytes` more (0: not an upload). False when the answer is unreadable.
bool StorageFullFromAbout(const std::string& about_body, uint64_t upload_bytes);
int ListPage(jsync_instance* inst, const std::string& name_prefix, const std::string& page_token,
             int page_size, const std::string& what, FilePage* page, jsync_error* err);

// A pre-generated id for appDataFolder (from the pool, refilled with files.generateIds).
int NextFileId(jsync_instance* inst, const std::string& what, std::string* id, jsync_error* err);

// files.get metadata by id.
int GetFile(jsync_instance* inst, const std::string& id, const std::string& what, DriveFile* file,
            jsync_error* err);

// files.get alt=media: bytes [offset, offset+length) of a file of `size` bytes into out.
int Download(jsync_instance* inst, const DriveFile& file, uint64_t offset, uint64_t length,
             jsync_sink* out, const std::string& what, jsync_error* err);

// Whether the file holds exactly `data` (md5Checksum and size; downloads when Drive gave no
// md5). *same gets the answer.
int SameBytes(jsync_instance* inst, const DriveFile& file, const uint8_t* data, size_t len,
              const std::string& md5, const std::string& what, bool* same, jsync_error* err);

// files.delete; an absent file is success.
int DeleteFile(jsync_instance* inst, const std::string& id, const std::string& what,
               jsync_error* err);

}  // namespace jsync_gdrive

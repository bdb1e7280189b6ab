// The change feed (changes.getStartPageToken / changes.list, with a listing as the fallback
// when Drive refuses a page token), push (changes.watch) and quota (about.get).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gdrive_instance.h"

namespace jsync_gdrive {

// Reads one changes.list answer: live files under `location` into *found (path -> size), and
// the page tokens ("" when absent); *removals (when not NULL) turns true on a removed or
// trashed file. False when the answer is not a JSON object.
bool ParseChangesPage(const std::string& body, const std::string& location,
                      std::map<std::string, uint64_t>* found, std::string* next_page_token,
                      std::string* new_start_page_token, bool* removals = nullptr,
                      std::map<std::string, std::vector<DriveFile>>* by_name = nullptr);
// Reads an about.get answer's storageQuota (usage, limit; 0 when absent: unlimited). False when
// there is none.
bool ParseStorageQuota(const std::string& body, uint64_t* used, uint64_t* total);

int DoChanges(jsync_instance* inst, const char* cursor, jsync_list_sink* out, jsync_error* err);
int DoWatch(jsync_instance* inst, const char* webhook_url, jsync_error* err);
int DoQuota(jsync_instance* inst, uint64_t* used, uint64_t* total, jsync_error* err);

}  // namespace jsync_gdrive

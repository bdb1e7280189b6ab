// The emulated Drive: files (metadata + content), the change log, ids, quota accounting.
// Persisted under the --state folder so a restarted emulator keeps its files:
//   meta.json           secret for generated ids, the appDataFolder's real id
//   files/<id>.json     one file's metadata (written atomically)
//   blobs/<id>          its content, exactly the uploaded bytes (written atomically)
//   changes.jsonl       the change log, one JSON line per change (appended)
// Not thread-safe: DriveApi serialises access with its own mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/status.h"

namespace jsync::emulator::gdrive {

inline constexpr const char* kFolderMime = "application/vnd.google-apps.folder";
inline constexpr const char* kAppDataSpace = "appDataFolder";
inline constexpr const char* kDriveSpace = "drive";

struct DriveFile {
  std::string id;
  std::string name;
  std::string mime_type;
  std::string space;                 // kAppDataSpace or kDriveSpace
  std::vector<std::string> parents;  // real ids; "root" for My Drive
  std::map<std::string, std::string> app_properties;
  std::map<std::string, std::string> properties;
  std::string description;
  std::string original_filename;
  int64_t created_ms = 0;
  int64_t modified_ms = 0;
  int64_t version = 1;
  bool trashed = false;
  bool starred = false;
  // Content (blob files only).
  bool has_content = false;
  int64_t size = 0;
  std::string md5;
  std::string sha256;
  std::string head_revision_id;

  bool is_folder() const { return mime_type == kFolderMime; }
  nlohmann::json ToJson() const;  // the full Drive v3 File resource
  nlohmann::json ToStored() const;
  static DriveFile FromStored(const nlohmann::json& j);
};

struct Change {
  int64_t seq = 0;
  std::string file_id;
  std::string space;
  int64_t time_ms = 0;
  bool removed = false;
};

class DriveState {
 public:
  static Result<std::unique_ptr<DriveState>> Open(const std::string& dir);

  const std::string& appdata_folder_id() const { return appdata_->id; }
  // A file by id or alias ("appDataFolder"); null when missing.
  const DriveFile* Find(const std::string& id_or_alias) const;
  const std::map<std::string, DriveFile>& files() const { return files_; }

  // A fresh id for `space`, recognisable later by IdGenerated.
  std::string NewId(const std::string& space) const;
  bool IdGenerated(const std::string& id, const std::string& space) const;

  // Stores a new or replaced file. `content` null keeps the stored content. Records a change.
  Status Put(DriveFile file, const std::string* content);
  // Permanently deletes a file and (for folders) its descendants; records removals.
  Status Delete(const std::string& id);
  Status ReadContent(const std::string& id, std::string* out) const;

  int64_t usage() const;        // bytes of all stored content
  int64_t trash_usage() const;  // bytes of trashed files
  int64_t ContentSize(const std::string& id) const;

  const std::vector<Change>& changes() const { return changes_; }
  int64_t next_change_seq() const { return next_seq_; }

 private:
  DriveState() = default;
  Status AppendChange(const DriveFile& file, bool removed);
  std::string dir_;
  std::string secret_;
  std::unique_ptr<DriveFile> appdata_;
  std::map<std::string, DriveFile> files_;
  std::vector<Change> changes_;
  int64_t next_seq_ = 1;
};

}  // namespace jsync::emulator::gdrive

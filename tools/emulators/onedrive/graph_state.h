// The emulated OneDrive: items (files and folders), their content, the recycle bin, the change
// log behind delta, and quota accounting. Persisted under the --state folder so a restarted
// emulator keeps everything:
//   drive.json          the drive id, the root's and app folder's ids, the id counter
//   items/<id>.json     one item's metadata (written atomically)
//   blobs/<id>          a file's content, exactly the uploaded bytes (written atomically)
//   changes.jsonl       the change log, one JSON line per change (appended)
//   .lock               flock()ed while an emulator runs on the folder: a second one is refused
// Deleted items stay (in the recycle bin) with their blobs: they count in quota.used and
// quota.deleted. Not thread-safe: GraphApi serialises access with its own mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/util/status.h"

namespace jsync::emulator::onedrive {

struct GraphItem {
  std::string id;
  std::string name;
  std::string parent_id;  // "" for the root
  bool folder = false;
  std::string special;  // "approot" on the app folder
  int64_t size = 0;
  int64_t created_ms = 0;
  int64_t modified_ms = 0;
  std::string tag_base;  // the stable part of eTag/cTag
  int64_t etag_version = 1;
  int64_t ctag_version = 1;
  std::string mime_type;
  std::string quick_xor;
  std::string sha256;  // upper-case hex
  bool deleted = false;
  int64_t deleted_ms = 0;

  std::string ETag() const;
  std::string CTag() const;
  nlohmann::json ToStored() const;
  static GraphItem FromStored(const nlohmann::json& j);
};

struct GraphChange {
  int64_t seq = 0;
  std::string item_id;
  int64_t time_ms = 0;
};

class GraphState {
 public:
  static Result<std::unique_ptr<GraphState>> Open(const std::string& dir, bool business,
                                                  const std::string& app_name);
  ~GraphState();
  GraphState(const GraphState&) = delete;
  GraphState& operator=(const GraphState&) = delete;

  const std::string& dir() const { return dir_; }
  bool business() const { return business_; }
  const std::string& drive_id() const { return drive_id_; }
  const std::string& root_id() const { return root_id_; }
  const std::string& secret() const { return secret_; }
  int64_t created_ms() const { return created_ms_; }

  // The app folder (/Apps/<app name>), created on first use (and again after a delete).
  Result<std::string> EnsureApproot();
  // Its id when it exists (not deleted), else "".
  std::string approot_id() const;

  // A live item; null when missing or deleted.
  const GraphItem* Find(const std::string& id) const;
  // Live or deleted.
  const GraphItem* FindAny(const std::string& id) const;
  // Live children sorted by name (case-insensitively).
  std::vector<const GraphItem*> Children(const std::string& id) const;
  // A live child by name, case-insensitively (OneDrive is case-preserving, case-insensitive).
  const GraphItem* Child(const std::string& parent_id, const std::string& name) const;
  int64_t ChildCount(const std::string& id) const;
  // "/drive/root:" for the root's children, "/drive/root:/Apps/jsync" for the app folder's.
  std::string ParentPath(const GraphItem& item) const;
  // True when `id` is `ancestor` or below it.
  bool IsWithin(const std::string& id, const std::string& ancestor) const;
  int Depth(const std::string& id) const;

  std::string NewId();
  // Stores a new or changed item; `content` (files) replaces the blob, hashes and cTag. Bumps
  // the eTag of an existing item, records a change.
  Status Put(GraphItem item, const std::string* content);
  // Moves an item (and a folder's descendants) to the recycle bin; records the changes.
  Status Recycle(const std::string& id);
  // Empties a recycled item's content (permanentDelete): its bytes leave the quota.
  Status Purge(const std::string& id);
  Status ReadContent(const std::string& id, std::string* out) const;

  int64_t used_bytes() const;     // live files and the recycle bin
  int64_t deleted_bytes() const;  // the recycle bin

  const std::vector<GraphChange>& changes() const { return changes_; }
  int64_t last_seq() const { return next_seq_ - 1; }

 private:
  GraphState() = default;
  Status AppendChange(const std::string& id);
  Status SaveDrive();
  Status Store(const GraphItem& item);

  std::string dir_;
  int lock_fd_ = -1;
  bool business_ = false;
  std::string app_name_;
  std::string drive_id_;
  std::string root_id_;
  std::string approot_id_;
  std::string secret_;
  int64_t created_ms_ = 0;
  int64_t next_item_ = 101;
  std::map<std::string, GraphItem> items_;
  std::vector<GraphChange> changes_;
  int64_t next_seq_ = 1;
};

}  // namespace jsync::emulator::onedrive

// Graph calls on single items under the app folder, shared by the slots: metadata, folders
// made once, downloads through the pre-authenticated link, the same-bytes check that tells a
// retried create from a clash, and what the plugin learns lazily about the drive (its type,
// the app folder's id and path).
#pragma once

#include <cstdint>
#include <string>

#include "graph_client.h"
#include "onedrive_instance.h"

namespace jsync_onedrive {

// The driveItem fields the plugin reads.
struct Item {
  std::string id;
  std::string name;
  uint64_t size = 0;
  bool file = false;
  bool folder = false;
  bool deleted = false;
  bool root = false;  // the drive's root
  uint64_t child_count = 0;
  std::string quick_xor;     // file.hashes.quickXorHash, "" when absent
  std::string parent_id;     // parentReference.id
  std::string parent_path;   // parentReference.path ("" when absent, as in delta)
  int64_t mtime_ms = -1;     // lastModifiedDateTime
  bool approot = false;      // specialFolder.name == "approot"
  std::string download_url;  // @microsoft.graph.downloadUrl, "" when absent
};

// What listings and delta ask for: the fields above, and the download link of each file.
inline constexpr const char* kListSelect =
    "id,name,size,file,folder,eTag,lastModifiedDateTime,@microsoft.graph.downloadUrl";
inline constexpr const char* kDeltaSelect =
    "id,name,size,file,folder,deleted,root,specialFolder,parentReference,"
    "@microsoft.graph.downloadUrl";

// Reads one driveItem (a nlohmann::json object); false when it has no id.
bool ParseItem(const void* json_object, Item* out);
// "2015-01-29T09:21:55.523Z" as Unix milliseconds; -1 when unreadable.
int64_t ParseGraphTime(const std::string& text);

// GET the item at `item_path` (under the app folder). NOT_FOUND when absent.
int GetItem(jsync_instance* inst, const std::string& item_path, const std::string& what, Item* item,
            jsync_error* err);

// Makes every folder of `folder_path` (an item path under the app folder) that this instance
// has not seen yet: POST children with conflictBehavior fail, a 409 meaning it exists.
int EnsureFolders(jsync_instance* inst, const std::string& folder_path, const std::string& what,
                  jsync_error* err);

// Bytes [offset, offset + length) of object `path` into `out` through a download link the
// instance's LinkCache holds (one request); *used false when it holds none or the link was
// refused (then dropped): the caller goes through Download.
int DownloadCached(jsync_instance* inst, const std::string& path, uint64_t offset, uint64_t length,
                   jsync_sink* out, const jsync_get_sink* ext, const std::string& what, bool* used,
                   jsync_error* err);

// Bytes [offset, offset + length) of the file at `item_path` into `out` (`ext`: the ABI-2
// sink, or NULL): GET :/content answers 302 with a pre-authenticated link, which is fetched
// without credentials (with a Range); an expired link (401/403/404/410) is asked for afresh
// once. length 0 only checks the file exists.
int Download(jsync_instance* inst, const std::string& item_path, uint64_t offset, uint64_t length,
             jsync_sink* out, const jsync_get_sink* ext, const std::string& what, jsync_error* err);

// Whether the item at `item_path` holds exactly [data, data + len): size, then quickXorHash
// (the bytes are downloaded and compared when Graph gave no hash). NOT_FOUND when it is gone.
int SameContent(jsync_instance* inst, const std::string& item_path, const uint8_t* data, size_t len,
                const std::string& quick_xor, const std::string& what, bool* same,
                jsync_error* err);

// Learns the drive's type (the drive_type option, or /me/drive's driveType for auto).
int LearnDriveType(jsync_instance* inst, const std::string& what, jsync_error* err);
// Learns the app folder's id and path (GET special/approot, which also creates it).
int LearnAppFolder(jsync_instance* inst, const std::string& what, jsync_error* err);

}  // namespace jsync_onedrive

// put(if_absent) on a store without atomic create-if-absent by name:
//   1. look the name up; a winner with the same bytes (md5Checksum, size) is success (a retried
//      upload), other bytes JSYNC_EXISTS;
//   2. absent: create with a pre-generated id, remembered per (path, md5) across the host's
//      retries, so a retry after a lost answer gets 409 (verified by md5) instead of a duplicate;
//   3. look the name up again: when another client created the same name concurrently, the
//      earliest file (createdTime, then id) wins for everyone; if it is not ours, ours is deleted
//      and the answer is OK (same bytes) or JSYNC_EXISTS (other bytes).
#include "store.h"

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "drive_files.h"
#include "drive_paths.h"
#include "md5.h"
#include "upload.h"

namespace jsync_gdrive {
namespace {

using nlohmann::json;

int InvalidPath(jsync_error* err, const char* path) {
  return Fail(err, JSYNC_INVALID,
              std::string("invalid object path \"") + (path ? path : "(null)") +
                  "\": it must be relative, '/'-separated, without empty, '.' or '..' parts");
}

void Forget(jsync_instance* inst, const std::string& key) {
  inst->pending_ids.erase(key);
  inst->sessions.erase(key);
}

// Deletes our own losing duplicates (left by an attempt interrupted after its create).
void DeleteOurLosers(jsync_instance* inst, const std::vector<DriveFile>& files, int winner,
                     const std::string& our_id, const std::string& what) {
  for (size_t i = 0; i < files.size(); ++i) {
    if (static_cast<int>(i) == winner || files[i].id != our_id) continue;
    jsync_error ignored{-1, {0}};
    if (DeleteFile(inst, files[i].id, what + " (removing our duplicate)", &ignored) != JSYNC_OK) {
      Log(inst, 2, std::string("could not remove a duplicate: ") + ignored.message);
    }
  }
}

}  // namespace

int DoPut(jsync_instance* inst, const char* path_c, const uint8_t* data, size_t len, int if_absent,
          jsync_error* err) {
  if (path_c == nullptr || !ValidObjectPath(path_c)) return InvalidPath(err, path_c);
  if (data == nullptr && len > 0) return Fail(err, JSYNC_INVALID, "put: no bytes given");
  static const uint8_t kEmpty = 0;
  if (data == nullptr) data = &kEmpty;
  const std::string path = path_c;
  const std::string name = DriveName(inst->location, path);
  const std::string what = "put " + path;
  const std::string md5 = Md5Hex(data, len);
  const std::string key = UploadKey(path, md5);

  // 1. Is the name taken?
  std::vector<DriveFile> files;
  int rc = FindByName(inst, name, what, &files, err);
  if (rc != JSYNC_OK) return rc;
  if (!files.empty()) {
    const int w = WinnerIndex(files);
    const DriveFile winner = files[static_cast<size_t>(w)];
    bool same = false;
    rc = SameBytes(inst, winner, data, len, md5, what, &same, err);
    if (rc != JSYNC_OK) return rc;
    auto pending = inst->pending_ids.find(key);
    if (pending != inst->pending_ids.end()) DeleteOurLosers(inst, files, w, pending->second, what);
    if (same) {
      inst->winners.Set(name, winner);
      Forget(inst, key);
      return JSYNC_OK;
    }
    if (if_absent) {
      Forget(inst, key);
      return Fail(err, JSYNC_EXISTS,
                  "Google Drive " + what + ": the object already exists with other content");
    }
    // Replace: remove every file of the name, then create ours.
    for (const DriveFile& f : files) {
      rc = DeleteFile(inst, f.id, what + " (replacing)", err);
      if (rc != JSYNC_OK) return rc;
    }
    inst->winners.Erase(name);
  }

  // 2. Create with a pre-generated id (the same one on every retry of this put).
  std::string id;
  auto pending = inst->pending_ids.find(key);
  if (pending != inst->pending_ids.end()) {
    id = pending->second;
  } else {
    rc = NextFileId(inst, what, &id, err);
    if (rc != JSYNC_OK) return rc;
    inst->pending_ids[key] = id;
  }
  UploadResult up;
  rc = CreateFile(inst, key, id, name, data, len, what, &up, err);
  if (rc != JSYNC_OK) return rc;
  DriveFile ours = up.file;
  if (up.id_in_use) {
    // An earlier attempt of this put created it (its answer was lost): check it is ours.
    rc = GetFile(inst, id, what + " (checking an earlier attempt)", &ours, err);
    if (JSYNC_PRIMARY(rc) == JSYNC_NOT_FOUND) {
      Forget(inst, key);  // the id is spoiled: the next attempt takes a fresh one
      return Fail(err, JSYNC_RETRYABLE_UNAVAILABLE,
                  "Google Drive " + what + ": the file id was taken, then vanished");
    }
    if (rc != JSYNC_OK) return rc;
    bool same = false;
    if (ours.name == name) {
      rc = SameBytes(inst, ours, data, len, md5, what, &same, err);
      if (rc != JSYNC_OK) return rc;
    }
    if (!same) {
      Forget(inst, key);
      return Fail(err, JSYNC_FATAL,
                  "Google Drive " + what +
                      ": the pre-generated file id is used by a file with other content");
    }
  }

  // 3. Did another client create the same name meanwhile? The earliest file wins.
  rc = FindByName(inst, name, what + " (checking for duplicates)", &files, err);
  if (rc != JSYNC_OK) return rc;
  bool listed = false;
  for (const DriveFile& f : files) listed = listed || f.id == ours.id;
  if (!listed) files.push_back(ours);  // a name query may lag behind the create
  const int w = WinnerIndex(files);
  const DriveFile winner = files[static_cast<size_t>(w)];
  if (winner.id == ours.id) {
    inst->winners.Set(name, ours);
    Forget(inst, key);
    return JSYNC_OK;
  }
  bool same = false;
  rc = SameBytes(inst, winner, data, len, md5, what, &same, err);
  if (rc != JSYNC_OK) return rc;
  rc = DeleteFile(inst, ours.id, what + " (removing our duplicate)", err);
  if (rc != JSYNC_OK) return rc;
  Forget(inst, key);
  inst->winners.Set(name, winner);
  if (same) return JSYNC_OK;
  return Fail(
      err, JSYNC_EXISTS,
      "Google Drive " + what + ": another client created the object first, with other content");
}

int DoGet(jsync_instance* inst, const char* path_c, uint64_t offset, uint64_t length,
          jsync_sink* out, jsync_error* err) {
  if (path_c == nullptr || !ValidObjectPath(path_c)) return InvalidPath(err, path_c);
  if (out == nullptr || out->write == nullptr) return Fail(err, JSYNC_INVALID, "get: no sink");
  const std::string path = path_c;
  const std::string name = DriveName(inst->location, path);
  const std::string what = "get " + path;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool cached = inst->winners.Contains(name);
    DriveFile winner;
    int rc = FindWinner(inst, name, what, &winner, err);
    if (rc != JSYNC_OK) return rc;
    rc = Download(inst, winner, offset, length, out, what, err);
    // A remembered file that is gone (removed elsewhere): look the name up once more.
    if (JSYNC_PRIMARY(rc) == JSYNC_NOT_FOUND && cached) {
      inst->winners.Erase(name);
      continue;
    }
    return rc;
  }
  return Fail(err, JSYNC_NOT_FOUND, "Google Drive " + what + ": no such object");
}

int DoList(jsync_instance* inst, const char* prefix_c, const char* page_token, jsync_list_sink* out,
           jsync_error* err) {
  if (out == nullptr || out->emit == nullptr) return Fail(err, JSYNC_INVALID, "list: no sink");
  const std::string prefix = prefix_c ? prefix_c : "";
  const std::string what = "list " + (prefix.empty() ? std::string("(all)") : prefix);
  // Our page token: Drive's, plus the last name emitted (its duplicates may open the next page).
  std::string drive_token, last_name;
  if (page_token != nullptr && *page_token != '\0') {
    const json t = json::parse(page_token, nullptr, /*allow_exceptions=*/false);
    if (!t.is_object() || !t.contains("d") || !t["d"].is_string()) {
      return Fail(err, JSYNC_INVALID, "Google Drive " + what + ": not a page token of this plugin");
    }
    drive_token = t["d"];
    if (t.contains("l") && t["l"].is_string()) last_name = t["l"];
  }
  FilePage page;
  int rc = ListPage(inst, DriveName(inst->location, prefix), drive_token, inst->page_size, what,
                    &page, err);
  if (rc != JSYNC_OK) return rc;
  // Group by name (the page is ordered by name); one object per name, the winner's size.
  const std::string page_last = page.files.empty() ? last_name : page.files.back().name;
  std::map<std::string, std::vector<DriveFile>> by_name;
  for (DriveFile& f : page.files) {
    if (f.name == last_name) continue;
    by_name[f.name].push_back(std::move(f));
  }
  for (const auto& [name, files] : by_name) {
    std::string path;
    if (!ObjectPathOf(inst->location, name, &path) || !path.starts_with(prefix)) continue;
    const DriveFile& winner = files[static_cast<size_t>(WinnerIndex(files))];
    inst->winners.Set(name, winner);
    out->emit(out->ctx, path.c_str(), winner.size);
  }
  if (!page.next_page_token.empty() && page.next_page_token != drive_token && out->set_next) {
    const std::string next = json{{"d", page.next_page_token}, {"l", page_last}}.dump();
    out->set_next(out->ctx, next.c_str());
  }
  return JSYNC_OK;
}

int DoRemove(jsync_instance* inst, const char* path_c, jsync_error* err) {
  if (path_c == nullptr || !ValidObjectPath(path_c)) return InvalidPath(err, path_c);
  const std::string path = path_c;
  const std::string name = DriveName(inst->location, path);
  const std::string what = "remove " + path;
  std::vector<DriveFile> files;
  int rc = FindByName(inst, name, what, &files, err);
  if (rc != JSYNC_OK) return rc;
  // Every file of the name goes (duplicates too), or a loser would become the object.
  for (const DriveFile& f : files) {
    rc = DeleteFile(inst, f.id, what, err);
    if (rc != JSYNC_OK) return rc;
  }
  inst->winners.Erase(name);
  return JSYNC_OK;
}

}  // namespace jsync_gdrive

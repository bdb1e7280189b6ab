#include "tools/emulators/gdrive/drive_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tools/emulators/common/json_store.h"
#include "tools/emulators/gdrive/util.h"

namespace fs = std::filesystem;

namespace jsync::emulator::gdrive {

nlohmann::json DriveFile::ToJson() const {
  nlohmann::json j = {{"kind", "drive#file"},
                      {"id", id},
                      {"name", name},
                      {"mimeType", mime_type},
                      {"parents", parents},
                      {"spaces", nlohmann::json::array({space})},
                      {"createdTime", Rfc3339(created_ms)},
                      {"modifiedTime", Rfc3339(modified_ms)},
                      {"version", std::to_string(version)},
                      {"trashed", trashed},
                      {"explicitlyTrashed", trashed},
                      {"starred", starred},
                      {"ownedByMe", true},
                      {"quotaBytesUsed", std::to_string(has_content ? size : 0)}};
  if (!app_properties.empty()) j["appProperties"] = app_properties;
  if (!properties.empty()) j["properties"] = properties;
  if (!description.empty()) j["description"] = description;
  if (!original_filename.empty()) j["originalFilename"] = original_filename;
  if (has_content) {
    j["size"] = std::to_string(size);
    j["md5Checksum"] = md5;
    j["sha256Checksum"] = sha256;
    j["headRevisionId"] = head_revision_id;
    const size_t dot = name.rfind('.');
    if (dot != std::string::npos && dot + 1 < name.size()) {
      j["fileExtension"] = name.substr(dot + 1);
      j["fullFileExtension"] = name.substr(dot + 1);
    }
  }
  return j;
}

nlohmann::json DriveFile::ToStored() const {
  return {{"id", id},
          {"name", name},
          {"mimeType", mime_type},
          {"space", space},
          {"parents", parents},
          {"appProperties", app_properties},
          {"properties", properties},
          {"description", description},
          {"originalFilename", original_filename},
          {"createdMs", created_ms},
          {"modifiedMs", modified_ms},
          {"version", version},
          {"trashed", trashed},
          {"starred", starred},
          {"hasContent", has_content},
          {"size", size},
          {"md5", md5},
          {"sha256", sha256},
          {"headRevisionId", head_revision_id}};
}

DriveFile DriveFile::FromStored(const nlohmann::json& j) {
  DriveFile f;
  f.id = j.value("id", "");
  f.name = j.value("name", "");
  f.mime_type = j.value("mimeType", "");
  f.space = j.value("space", kAppDataSpace);
  f.parents = j.value("parents", std::vector<std::string>{});
  f.app_properties = j.value("appProperties", std::map<std::string, std::string>{});
  f.properties = j.value("properties", std::map<std::string, std::string>{});
  f.description = j.value("description", "");
  f.original_filename = j.value("originalFilename", "");
  f.created_ms = j.value("createdMs", int64_t{0});
  f.modified_ms = j.value("modifiedMs", int64_t{0});
  f.version = j.value("version", int64_t{1});
  f.trashed = j.value("trashed", false);
  f.starred = j.value("starred", false);
  f.has_content = j.value("hasContent", false);
  f.size = j.value("size", int64_t{0});
  f.md5 = j.value("md5", "");
  f.sha256 = j.value("sha256", "");
  f.head_revision_id = j.value("headRevisionId", "");
  return f;
}

Result<std::unique_ptr<DriveState>> DriveState::Open(const std::string& dir) {
  std::unique_ptr<DriveState> s(new DriveState());
  s->dir_ = dir;
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "files", ec);
  if (!ec) fs::create_directories(fs::path(dir) / "blobs", ec);
  if (ec) return Status::Fatal("cannot create the state folder " + dir + ": " + ec.message());

  const std::string meta_path = dir + "/meta.json";
  std::string text;
  nlohmann::json meta;
  if (ReadFile(meta_path, &text)) {
    meta = nlohmann::json::parse(text, nullptr, false);
    if (!meta.is_object()) return Status::Fatal(meta_path + " is not valid JSON");
  } else {
    meta = {{"secret", RandomString(32)}, {"createdMs", NowMs()}};
  }
  s->secret_ = meta.value("secret", "");
  s->appdata_ = std::make_unique<DriveFile>();
  DriveFile& app = *s->appdata_;
  app.id = meta.value("appDataFolderId", "");
  if (app.id.empty()) {
    app.id = s->NewId(kAppDataSpace);
    meta["appDataFolderId"] = app.id;
  }
  app.name = "appDataFolder";
  app.mime_type = kFolderMime;
  app.space = kAppDataSpace;
  app.created_ms = app.modified_ms = meta.value("createdMs", NowMs());
  if (!WriteFileAtomic(meta_path, meta.dump(2))) return Status::Fatal("cannot write " + meta_path);

  JSYNC_RETURN_IF_ERROR(
      ForEachJsonFile((fs::path(dir) / "files").string(), [&](const nlohmann::json& j) {
        DriveFile f = DriveFile::FromStored(j);
        s->files_[f.id] = std::move(f);
      }));
  ForEachJsonLine(dir + "/changes.jsonl", [&](const nlohmann::json& j) {
    Change c;
    c.seq = j.value("seq", int64_t{0});
    c.file_id = j.value("fileId", "");
    c.space = j.value("space", kAppDataSpace);
    c.time_ms = j.value("time", int64_t{0});
    c.removed = j.value("removed", false);
    s->changes_.push_back(c);
    s->next_seq_ = std::max(s->next_seq_, c.seq + 1);
  });
  return s;
}

const DriveFile* DriveState::Find(const std::string& id) const {
  if (id == kAppDataSpace || id == appdata_->id) return appdata_.get();
  auto it = files_.find(id);
  return it == files_.end() ? nullptr : &it->second;
}

std::string DriveState::NewId(const std::string& space) const {
  const std::string body = RandomString(24);
  return "1" + body + HexSha256(secret_ + "|" + space + "|" + body).substr(0, 8);
}

bool DriveState::IdGenerated(const std::string& id, const std::string& space) const {
  if (id.size() != 33 || id[0] != '1') return false;
  const std::string body = id.substr(1, 24);
  return id.substr(25) == HexSha256(secret_ + "|" + space + "|" + body).substr(0, 8);
}

Status DriveState::AppendChange(const DriveFile& file, bool removed) {
  Change c;
  c.seq = next_seq_++;
  c.file_id = file.id;
  c.space = file.space;
  c.time_ms = NowMs();
  c.removed = removed;
  const nlohmann::json j = {{"seq", c.seq},
                            {"fileId", c.file_id},
                            {"space", c.space},
                            {"time", c.time_ms},
                            {"removed", c.removed}};
  JSYNC_RETURN_IF_ERROR(AppendLine(dir_ + "/changes.jsonl", j.dump()));
  changes_.push_back(c);
  return Status::Ok();
}

Status DriveState::Put(DriveFile file, const std::string* content) {
  if (content != nullptr) {
    const std::string blob = dir_ + "/blobs/" + file.id;
    if (!WriteFileAtomic(blob, *content)) return Status::Fatal("cannot write " + blob);
    file.has_content = true;
    file.size = static_cast<int64_t>(content->size());
    file.md5 = HexMd5(*content);
    file.sha256 = HexSha256(*content);
    file.head_revision_id = "0B" + RandomString(30);
  }
  const std::string meta = dir_ + "/files/" + file.id + ".json";
  if (!WriteFileAtomic(meta, file.ToStored().dump())) return Status::Fatal("cannot write " + meta);
  const std::string id = file.id;
  files_[id] = std::move(file);
  return AppendChange(files_[id], false);
}

Status DriveState::Delete(const std::string& id) {
  // Children first (folders delete their descendants).
  std::vector<std::string> children;
  for (const auto& [cid, f] : files_)
    for (const auto& p : f.parents)
      if (p == id) children.push_back(cid);
  for (const auto& c : children) JSYNC_RETURN_IF_ERROR(Delete(c));
  auto it = files_.find(id);
  if (it == files_.end()) return Status::NotFound(id);
  const DriveFile gone = it->second;
  std::error_code ec;
  fs::remove(dir_ + "/files/" + id + ".json", ec);
  fs::remove(dir_ + "/blobs/" + id, ec);
  files_.erase(it);
  return AppendChange(gone, true);
}

Status DriveState::ReadContent(const std::string& id, std::string* out) const {
  if (!ReadFile(dir_ + "/blobs/" + id, out)) return Status::NotFound(id);
  return Status::Ok();
}

int64_t DriveState::usage() const {
  int64_t total = 0;
  for (const auto& [id, f] : files_)
    if (f.has_content) total += f.size;
  return total;
}

int64_t DriveState::trash_usage() const {
  int64_t total = 0;
  for (const auto& [id, f] : files_)
    if (f.has_content && f.trashed) total += f.size;
  return total;
}

int64_t DriveState::ContentSize(const std::string& id) const {
  auto it = files_.find(id);
  return it != files_.end() && it->second.has_content ? it->second.size : 0;
}

}  // namespace jsync::emulator::gdrive

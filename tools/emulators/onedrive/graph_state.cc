#include "tools/emulators/onedrive/graph_state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "tools/emulators/common/json_store.h"
#include "tools/emulators/common/util.h"
#include "tools/emulators/onedrive/quick_xor_hash.h"

namespace fs = std::filesystem;

namespace jsync::emulator::onedrive {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string GraphItem::ETag() const {
  return "\"{" + tag_base + "}," + std::to_string(etag_version) + "\"";
}
std::string GraphItem::CTag() const {
  return "\"c:{" + tag_base + "}," + std::to_string(ctag_version) + "\"";
}

nlohmann::json GraphItem::ToStored() const {
  return {{"id", id},
          {"name", name},
          {"parentId", parent_id},
          {"folder", folder},
          {"special", special},
          {"size", size},
          {"createdMs", created_ms},
          {"modifiedMs", modified_ms},
          {"tagBase", tag_base},
          {"etagVersion", etag_version},
          {"ctagVersion", ctag_version},
          {"mimeType", mime_type},
          {"quickXor", quick_xor},
          {"sha256", sha256},
          {"deleted", deleted},
          {"deletedMs", deleted_ms}};
}

GraphItem GraphItem::FromStored(const nlohmann::json& j) {
  GraphItem i;
  i.id = j.value("id", "");
  i.name = j.value("name", "");
  i.parent_id = j.value("parentId", "");
  i.folder = j.value("folder", false);
  i.special = j.value("special", "");
  i.size = j.value("size", int64_t{0});
  i.created_ms = j.value("createdMs", int64_t{0});
  i.modified_ms = j.value("modifiedMs", int64_t{0});
  i.tag_base = j.value("tagBase", "");
  i.etag_version = j.value("etagVersion", int64_t{1});
  i.ctag_version = j.value("ctagVersion", int64_t{1});
  i.mime_type = j.value("mimeType", "");
  i.quick_xor = j.value("quickXor", "");
  i.sha256 = j.value("sha256", "");
  i.deleted = j.value("deleted", false);
  i.deleted_ms = j.value("deletedMs", int64_t{0});
  return i;
}

Result<std::unique_ptr<GraphState>> GraphState::Open(const std::string& dir, bool business,
                                                     const std::string& app_name) {
  std::unique_ptr<GraphState> s(new GraphState());
  s->dir_ = dir;
  s->business_ = business;
  s->app_name_ = app_name;
  std::error_code ec;
  for (const char* sub : {"items", "blobs", "sessions"}) {
    fs::create_directories(fs::path(dir) / sub, ec);
    if (ec) return Status::Fatal("cannot create the state folder " + dir + ": " + ec.message());
  }
  // Two emulators writing one state folder would corrupt it (items without blobs).
  s->lock_fd_ = ::open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (s->lock_fd_ < 0 || ::flock(s->lock_fd_, LOCK_EX | LOCK_NB) != 0)
    return Status::Fatal("the state folder " + dir +
                         " is in use by another jsync-emulator (or cannot be locked)");
  const std::string drive_path = dir + "/drive.json";
  std::string text;
  nlohmann::json meta = nlohmann::json::object();
  const bool existing = ReadFile(drive_path, &text);
  if (existing) {
    meta = nlohmann::json::parse(text, nullptr, false);
    if (!meta.is_object()) return Status::Fatal(drive_path + " is not valid JSON");
    if (meta.value("business", false) != business)
      return Status::Invalid("the state folder " + dir + " holds a " +
                             (business ? "personal" : "business") +
                             " drive; start with the same --business setting");
  }
  s->secret_ = meta.value("secret", RandomString(32));
  s->created_ms_ = meta.value("createdMs", NowMs());
  s->next_item_ = meta.value("nextItem", int64_t{101});
  s->drive_id_ = meta.value("driveId", "");
  if (s->drive_id_.empty()) {
    s->drive_id_ = business ? "b!" + RandomString(64) : Lower(RandomString(16, "0123456789ABCDEF"));
  }
  s->root_id_ = meta.value("rootId", "");
  s->approot_id_ = meta.value("approotId", "");

  JSYNC_RETURN_IF_ERROR(
      ForEachJsonFile((fs::path(dir) / "items").string(), [&](const nlohmann::json& j) {
        GraphItem item = GraphItem::FromStored(j);
        s->items_[item.id] = std::move(item);
      }));
  ForEachJsonLine(dir + "/changes.jsonl", [&](const nlohmann::json& j) {
    GraphChange c;
    c.seq = j.value("seq", int64_t{0});
    c.item_id = j.value("id", "");
    c.time_ms = j.value("time", int64_t{0});
    s->changes_.push_back(c);
    s->next_seq_ = std::max(s->next_seq_, c.seq + 1);
  });
  if (s->root_id_.empty() || s->items_.count(s->root_id_) == 0) {
    GraphItem root;
    root.id = s->root_id_.empty() ? s->NewId() : s->root_id_;
    root.name = "root";
    root.folder = true;
    root.created_ms = root.modified_ms = s->created_ms_;
    root.tag_base = Upper(RandomUuid());
    s->root_id_ = root.id;
    JSYNC_RETURN_IF_ERROR(s->Store(root));
    s->items_[root.id] = root;
  }
  JSYNC_RETURN_IF_ERROR(s->SaveDrive());
  return s;
}

GraphState::~GraphState() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status GraphState::SaveDrive() {
  const nlohmann::json meta = {{"secret", secret_},      {"createdMs", created_ms_},
                               {"nextItem", next_item_}, {"driveId", drive_id_},
                               {"rootId", root_id_},     {"approotId", approot_id_},
                               {"business", business_}};
  const std::string path = dir_ + "/drive.json";
  if (!WriteFileAtomic(path, meta.dump(2))) return Status::Fatal("cannot write " + path);
  return Status::Ok();
}

Status GraphState::Store(const GraphItem& item) {
  const std::string path = dir_ + "/items/" + item.id + ".json";
  if (!WriteFileAtomic(path, item.ToStored().dump())) return Status::Fatal("cannot write " + path);
  return Status::Ok();
}

std::string GraphState::NewId() {
  std::string id;
  if (business_) {
    id = "01" + RandomString(32, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
  } else {
    id = Upper(drive_id_) + "!" + std::to_string(next_item_++);
    (void)SaveDrive();
  }
  return id;
}

std::string GraphState::approot_id() const {
  const GraphItem* a = Find(approot_id_);
  return a != nullptr ? a->id : "";
}

Result<std::string> GraphState::EnsureApproot() {
  if (!approot_id().empty()) return approot_id_;
  const int64_t now = NowMs();
  auto folder = [&](const std::string& parent, const std::string& name) -> Result<std::string> {
    if (const GraphItem* existing = Child(parent, name)) return existing->id;
    GraphItem f;
    f.id = NewId();
    f.name = name;
    f.parent_id = parent;
    f.folder = true;
    f.created_ms = f.modified_ms = now;
    JSYNC_RETURN_IF_ERROR(Put(f, nullptr));
    return f.id;
  };
  auto apps = folder(root_id_, "Apps");
  if (!apps.ok()) return apps.status();
  auto app = folder(*apps, app_name_);
  if (!app.ok()) return app.status();
  GraphItem a = items_[*app];
  a.special = "approot";
  approot_id_ = a.id;
  JSYNC_RETURN_IF_ERROR(SaveDrive());
  JSYNC_RETURN_IF_ERROR(Store(a));
  items_[a.id] = a;
  return approot_id_;
}

const GraphItem* GraphState::Find(const std::string& id) const {
  auto it = items_.find(id);
  return it == items_.end() || it->second.deleted ? nullptr : &it->second;
}

const GraphItem* GraphState::FindAny(const std::string& id) const {
  auto it = items_.find(id);
  return it == items_.end() ? nullptr : &it->second;
}

std::vector<const GraphItem*> GraphState::Children(const std::string& id) const {
  std::vector<const GraphItem*> out;
  for (const auto& [cid, item] : items_)
    if (!item.deleted && item.parent_id == id && cid != root_id_) out.push_back(&item);
  std::sort(out.begin(), out.end(), [](const GraphItem* a, const GraphItem* b) {
    const std::string la = Lower(a->name), lb = Lower(b->name);
    return la != lb ? la < lb : a->id < b->id;
  });
  return out;
}

const GraphItem* GraphState::Child(const std::string& parent_id, const std::string& name) const {
  const std::string want = Lower(name);
  for (const auto& [cid, item] : items_)
    if (!item.deleted && item.parent_id == parent_id && cid != root_id_ && Lower(item.name) == want)
      return &item;
  return nullptr;
}

int64_t GraphState::ChildCount(const std::string& id) const {
  int64_t n = 0;
  for (const auto& [cid, item] : items_)
    if (!item.deleted && item.parent_id == id && cid != root_id_) ++n;
  return n;
}

std::string GraphState::ParentPath(const GraphItem& item) const {
  std::vector<std::string> names;
  const GraphItem* p = FindAny(item.parent_id);
  while (p != nullptr && p->id != root_id_) {
    names.push_back(p->name);
    p = FindAny(p->parent_id);
  }
  std::string path = "/drive/root:";
  for (auto it = names.rbegin(); it != names.rend(); ++it) path += "/" + *it;
  return path;
}

bool GraphState::IsWithin(const std::string& id, const std::string& ancestor) const {
  if (ancestor.empty()) return false;
  std::string at = id;
  for (int guard = 0; guard < 10000 && !at.empty(); ++guard) {
    if (at == ancestor) return true;
    const GraphItem* i = FindAny(at);
    if (i == nullptr) return false;
    at = i->parent_id;
  }
  return false;
}

int GraphState::Depth(const std::string& id) const {
  int depth = 0;
  const GraphItem* i = FindAny(id);
  while (i != nullptr && !i->parent_id.empty() && depth < 10000) {
    ++depth;
    i = FindAny(i->parent_id);
  }
  return depth;
}

Status GraphState::AppendChange(const std::string& id) {
  GraphChange c;
  c.seq = next_seq_++;
  c.item_id = id;
  c.time_ms = NowMs();
  JSYNC_RETURN_IF_ERROR(
      AppendLine(dir_ + "/changes.jsonl",
                 nlohmann::json({{"seq", c.seq}, {"id", c.item_id}, {"time", c.time_ms}}).dump()));
  changes_.push_back(c);
  return Status::Ok();
}

Status GraphState::Put(GraphItem item, const std::string* content) {
  auto it = items_.find(item.id);
  if (it != items_.end()) {
    item.tag_base = it->second.tag_base;
    item.etag_version = it->second.etag_version + 1;
    item.ctag_version = it->second.ctag_version;
  } else {
    if (item.tag_base.empty()) item.tag_base = Upper(RandomUuid());
  }
  if (content != nullptr) {
    const std::string blob = dir_ + "/blobs/" + item.id;
    if (!WriteFileAtomic(blob, *content)) return Status::Fatal("cannot write " + blob);
    item.size = static_cast<int64_t>(content->size());
    item.quick_xor = QuickXorHashBase64(*content);
    item.sha256 = Upper(HexSha256(*content));
    if (it != items_.end()) ++item.ctag_version;
  }
  JSYNC_RETURN_IF_ERROR(Store(item));
  const std::string id = item.id;
  items_[id] = std::move(item);
  return AppendChange(id);
}

Status GraphState::Recycle(const std::string& id) {
  std::vector<std::string> children;
  for (const auto& [cid, item] : items_)
    if (!item.deleted && item.parent_id == id && cid != root_id_) children.push_back(cid);
  for (const auto& c : children) JSYNC_RETURN_IF_ERROR(Recycle(c));
  auto it = items_.find(id);
  if (it == items_.end() || it->second.deleted) return Status::NotFound(id);
  it->second.deleted = true;
  it->second.deleted_ms = NowMs();
  ++it->second.etag_version;
  JSYNC_RETURN_IF_ERROR(Store(it->second));
  return AppendChange(id);
}

Status GraphState::Purge(const std::string& id) {
  auto it = items_.find(id);
  if (it == items_.end() || !it->second.deleted) return Status::NotFound(id);
  std::error_code ec;
  fs::remove(dir_ + "/blobs/" + id, ec);
  it->second.size = 0;
  return Store(it->second);
}

Status GraphState::ReadContent(const std::string& id, std::string* out) const {
  if (!ReadFile(dir_ + "/blobs/" + id, out)) return Status::NotFound(id);
  return Status::Ok();
}

int64_t GraphState::used_bytes() const {
  int64_t total = 0;
  for (const auto& [id, item] : items_)
    if (!item.folder) total += item.size;
  return total;
}

int64_t GraphState::deleted_bytes() const {
  int64_t total = 0;
  for (const auto& [id, item] : items_)
    if (!item.folder && item.deleted) total += item.size;
  return total;
}

}  // namespace jsync::emulator::onedrive

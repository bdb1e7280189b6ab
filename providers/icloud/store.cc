#include "store.h"

#include <algorithm>
#include <string>
#include <vector>

#include "assets.h"
#include "ck_bytes.h"
#include "ck_client.h"
#include "ck_names.h"
#include "records.h"
#include "zone.h"

namespace jsync_icloud {
namespace {

constexpr size_t kMaxOperations = 200;  // per records/modify and records/lookup (icloud.md §5.1)

bool ValidObjectPath(std::string_view p) {
  if (p.empty() || p.front() == '/' || p.back() == '/') return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    const std::string_view part = p.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return p.find('\0') == std::string_view::npos;
}

int InvalidPath(jsync_error* err, const char* path) {
  return Fail(err, JSYNC_INVALID,
              std::string("iCloud: invalid object path \"") + (path ? Shown(path) : "(null)") +
                  "\": it must be UTF-8, relative, '/'-separated, without empty, '.' or '..' "
                  "parts (at most 4096 bytes)");
}

// A field value without its type tag: the record types are deployed in the container (the
// schema decides), and the two descriptions disagree on the tags (README.md).
json Field(const json& value) { return json{{"value", value}}; }

// One records/modify; *entry gets the answer's entry for each operation, in order.
int Modify(jsync_instance* inst, json operations, std::string_view what, std::vector<json>* entries,
           jsync_error* err, CkError* refused) {
  const size_t n = operations.size();
  const json body = {{"operations", std::move(operations)},
                     {"zoneID", ZoneId(inst)},
                     {"atomic", false},
                     {"desiredKeys", json::array()}};
  json answer;
  const int rc = Call(inst, "records/modify", &body, &answer, what, err, refused);
  if (rc != JSYNC_OK) return rc;
  if (!answer.contains("records") || !answer["records"].is_array() || answer["records"].size() != n) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                    "CloudKit's answer does not have one entry per operation");
  }
  entries->assign(answer["records"].begin(), answer["records"].end());
  return JSYNC_OK;
}

// records/lookup of `names`; *entries gets a record or an error dictionary for each.
int Lookup(jsync_instance* inst, const std::vector<std::string>& names, const json& keys,
           std::string_view what, std::vector<json>* entries, jsync_error* err, CkError* refused,
           size_t body_limit = size_t{16} << 20) {
  json records = json::array();
  for (const std::string& n : names) records.push_back({{"recordName", n}});
  const json body = {{"records", records}, {"zoneID", ZoneId(inst)}, {"desiredKeys", keys}};
  json answer;
  const int rc = Call(inst, "records/lookup", &body, &answer, what, err, refused, body_limit);
  if (rc != JSYNC_OK) return rc;
  if (!answer.contains("records") || !answer["records"].is_array() ||
      answer["records"].size() != names.size()) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                    "CloudKit's answer does not have one entry per record asked for");
  }
  entries->assign(answer["records"].begin(), answer["records"].end());
  for (size_t i = 0; i < names.size(); ++i) {
    const json& e = (*entries)[i];
    CkError ce;
    if (!ReadCkError(e, &ce) && StrOr(e, "recordName") != names[i]) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                      "CloudKit answered with another record than the one asked for");
    }
  }
  return JSYNC_OK;
}

// Whether an error dictionary or a refused request says the zone is gone.
bool ZoneGone(const CkError& e) { return e.code == "ZONE_NOT_FOUND"; }

// Sends a modify of one operation; ZONE_NOT_FOUND (request or record) makes the zone again
// and tries once more. *entry gets the record or its error dictionary. `uploaded`: the record
// refers to assets or parts sent into the zone that is now gone, so trying again here would
// commit a record without its content: the zone is forgotten and the whole put retried.
int ModifyOneInZone(jsync_instance* inst, const json& operation, std::string_view what, json* entry,
                    jsync_error* err, bool uploaded = false) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    int rc = EnsureZone(inst, what, err);
    if (rc != JSYNC_OK) return rc;
    std::vector<json> entries;
    CkError refused;
    rc = Modify(inst, json::array({operation}), what, &entries, err, &refused);
    if (rc != JSYNC_OK && !ZoneGone(refused)) return rc;
    CkError e;
    if (rc == JSYNC_OK && !(ReadCkError(entries[0], &e) && ZoneGone(e))) {
      *entry = entries[0];
      return JSYNC_OK;
    }
    Log(inst, 1, "iCloud " + std::string(what) + ": the journal's zone is gone; making it again");
    ForgetZone(inst);
    if (uploaded) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                      "the journal's zone was erased during the upload; uploading again");
    }
  }
  return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what, "the journal's zone vanished twice");
}

// Fields for the content of an object: inline, one asset, or parts written here first.
int ContentFields(jsync_instance* inst, const std::string& name, const std::string& hash,
                  const uint8_t* data, size_t len, std::string_view what, json* fields,
                  jsync_error* err) {
  if (len <= inst->inline_max) {
    (*fields)["data"] = Field(Base64Encode(data, len));
    return JSYNC_OK;
  }
  if (len <= inst->asset_max) {
    json receipt;
    const int rc = UploadAsset(inst, name, kFileType, "blob", data, len, what, &receipt, err);
    if (rc != JSYNC_OK) return rc;
    (*fields)["blob"] = json{{"value", receipt}};
    return JSYNC_OK;
  }
  const uint64_t part_size = inst->asset_max;
  const uint64_t parts = (len + part_size - 1) / part_size;
  for (uint64_t i = 0; i < parts; ++i) {
    const size_t off = static_cast<size_t>(i * part_size);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(part_size, len - off));
    const std::string part = PartRecordName(name, hash, i);
    const std::string step = std::string(what) + " (part " + std::to_string(i + 1) + " of " +
                             std::to_string(parts) + ")";
    json receipt;
    int rc = UploadAsset(inst, part, kPartType, "blob", data + off, n, step, &receipt, err);
    if (rc != JSYNC_OK) return rc;
    // Parts are replaced, not created: a retried put writes them again (the same bytes: they
    // are named by content); only the main record's create decides whether the object is new.
    const json op = {{"operationType", "forceReplace"},
                     {"record",
                      {{"recordName", part},
                       {"recordType", kPartType},
                       {"fields",
                        {{"sha256", Field(Sha256Hex(data + off, n))},
                         {"blob", json{{"value", receipt}}}}}}}};
    json entry;
    rc = ModifyOneInZone(inst, op, step, &entry, err, /*uploaded=*/true);
    if (rc != JSYNC_OK) return rc;
    CkError e;
    if (ReadCkError(entry, &e)) return FailFromCkError(err, step, e, 200);
    if (StrOr(entry, "recordName") != part) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, step,
                      "CloudKit answered the part's write with another record");
    }
  }
  (*fields)["parts"] = Field(parts);
  (*fields)["part_size"] = Field(part_size);
  return JSYNC_OK;
}

// After EXISTS: whether the object at `name` holds these bytes.
int CompareExisting(jsync_instance* inst, const std::string& name, const std::string& path,
                    size_t len, const std::string& hash, std::string_view what, jsync_error* err) {
  std::vector<json> entries;
  CkError refused;
  const int rc = Lookup(inst, {name}, json::array({"path", "size", "sha256"}), what, &entries, err,
                        &refused);
  if (rc != JSYNC_OK) return rc;
  CkError e;
  if (ReadCkError(entries[0], &e)) {
    if (e.code == "NOT_FOUND") {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                      "the name was taken, then the record vanished; trying again");
    }
    return FailFromCkError(err, what, e, 200);
  }
  FileRecord r;
  if (ReadFileRecord(entries[0], &r) && r.path == path && r.size == len && r.sha256 == hash) {
    return JSYNC_OK;  // an earlier attempt landed; its answer was lost
  }
  return FailWith(err, JSYNC_EXISTS, what, "the object already exists with other content");
}

// The record at `name` before anything is uploaded for it: *old gets it (old->deleted when
// there is none, or the zone is gone). For a big put(if_absent) the comparison then costs no
// upload; for a plain put it says which parts the new version leaves behind.
int LookupOld(jsync_instance* inst, const std::string& name, std::string_view what,
              FileRecord* old, jsync_error* err) {
  *old = FileRecord{};
  old->deleted = true;
  std::vector<json> entries;
  CkError refused;
  const int rc = Lookup(inst, {name}, json::array({"path", "size", "sha256", "parts", "part_size"}),
                        what, &entries, err, &refused);
  if (rc != JSYNC_OK) return ZoneGone(refused) ? JSYNC_OK : rc;
  CkError e;
  if (ReadCkError(entries[0], &e)) {
    return e.code == "NOT_FOUND" || ZoneGone(e) ? JSYNC_OK : FailFromCkError(err, what, e, 200);
  }
  if (!ReadFileRecord(entries[0], old)) {
    return FailWith(err, JSYNC_FATAL, what,
                    "the record at this name is not a journal-sync file record (another app's, "
                    "or damaged)");
  }
  return JSYNC_OK;
}

// The part names of a record, when its fields add up (a hostile count is not followed).
std::vector<std::string> PartNames(const FileRecord& r) {
  std::vector<std::string> names;
  if (r.parts == 0 || r.part_size == 0 || r.parts != (r.size + r.part_size - 1) / r.part_size ||
      r.parts > 65536 || r.sha256.size() < 16) {
    return names;
  }
  for (uint64_t i = 0; i < r.parts; ++i) names.push_back(PartRecordName(r.record_name, r.sha256, i));
  return names;
}

// forceDelete of `names` (NOT_FOUND and a gone zone are success), kMaxOperations at a time.
int DeleteRecords(jsync_instance* inst, const std::vector<std::string>& names,
                  std::string_view what, jsync_error* err) {
  for (size_t at = 0; at < names.size(); at += kMaxOperations) {
    json ops = json::array();
    for (size_t i = at; i < std::min(names.size(), at + kMaxOperations); ++i) {
      ops.push_back({{"operationType", "forceDelete"}, {"record", {{"recordName", names[i]}}}});
    }
    std::vector<json> done;
    CkError refused;
    const int rc = Modify(inst, ops, what, &done, err, &refused);
    if (rc != JSYNC_OK) return ZoneGone(refused) ? JSYNC_OK : rc;
    for (size_t i = 0; i < done.size(); ++i) {
      CkError e;
      if (ReadCkError(done[i], &e)) {
        if (e.code != "NOT_FOUND" && !ZoneGone(e)) return FailFromCkError(err, what, e, 200);
      } else if (StrOr(done[i], "recordName") != names[at + i]) {
        return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                        "CloudKit answered a removal with another record");
      }
    }
  }
  return JSYNC_OK;
}

// Passes bytes on to the host's sink and hashes them, for the check of a whole read.
struct HashingSink {
  jsync_sink sink;  // first: the RangeTarget sees a jsync_sink*
  jsync_sink* out;
  Sha256 hash;
  uint64_t count = 0;
  bool stopped = false;
  static int Write(void* ctx, const uint8_t* data, size_t len) {
    auto* s = static_cast<HashingSink*>(ctx);
    s->hash.Update(data, len);
    s->count += len;
    const int rc = s->out->write(s->out->ctx, data, len);
    if (rc != 0) s->stopped = true;
    return rc;
  }
  explicit HashingSink(jsync_sink* target) : sink{this, &HashingSink::Write}, out(target) {}
};

int ReadParts(jsync_instance* inst, const FileRecord& r, uint64_t offset, uint64_t n,
              HashingSink* sink, std::string_view what, jsync_error* err) {
  if (r.part_size == 0 || r.parts != (r.size + r.part_size - 1) / r.part_size) {
    return FailWith(err, JSYNC_FATAL, what, "the record's parts do not add up to its size");
  }
  const uint64_t first = offset / r.part_size;
  const uint64_t last = (offset + n - 1) / r.part_size;
  for (uint64_t i = first; i <= last && !sink->stopped; ++i) {
    const std::string part = PartRecordName(r.record_name, r.sha256, i);
    std::vector<json> entries;
    CkError refused;
    int rc = Lookup(inst, {part}, json::array({"sha256", "blob"}), what, &entries, err, &refused);
    if (rc != JSYNC_OK) return rc;
    CkError e;
    if (ReadCkError(entries[0], &e)) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                      "part " + std::to_string(i + 1) + " of the object is missing (" + e.code + ")");
    }
    const json* blob = FieldValue(entries[0], "blob");
    const uint64_t part_start = i * r.part_size;
    const uint64_t part_len = std::min<uint64_t>(r.part_size, r.size - part_start);
    const uint64_t from = std::max(offset, part_start) - part_start;
    const uint64_t to = std::min(offset + n, part_start + part_len) - part_start;
    uint64_t got = 0;
    rc = DownloadAsset(inst, blob != nullptr ? *blob : json(), part_len, from, to - from,
                       &sink->sink, what, &got, err);
    if (rc != JSYNC_OK) return rc;
  }
  return JSYNC_OK;
}

}  // namespace

bool StorablePath(const char* path) {
  return path != nullptr && ValidObjectPath(path) && std::string_view(path).size() <= 4096 &&
         IsValidUtf8(path);
}

int DoPut(jsync_instance* inst, const char* path_c, const uint8_t* data, size_t len, int if_absent,
          jsync_error* err) {
  if (!StorablePath(path_c)) return InvalidPath(err, path_c);
  if (data == nullptr && len > 0) return Fail(err, JSYNC_INVALID, "iCloud put: no bytes given");
  static const uint8_t kEmpty = 0;
  if (data == nullptr) data = &kEmpty;
  const std::string path = path_c;
  const std::string what = "put " + Shown(path);
  const std::string name = RecordNameFor(path);
  const std::string hash = Sha256Hex(data, len);
  int rc = EnsureZone(inst, what, err);
  if (rc != JSYNC_OK) return rc;
  // Before uploading content: a big create compares with what is there at no upload's cost,
  // a replacement learns which parts its predecessor leaves behind.
  FileRecord old;
  old.deleted = true;
  if (!if_absent || len > inst->inline_max) {
    rc = LookupOld(inst, name, what, &old, err);
    if (rc != JSYNC_OK) return rc;
    if (if_absent && !old.deleted) {
      if (old.path == path && old.size == len && old.sha256 == hash) return JSYNC_OK;
      return FailWith(err, JSYNC_EXISTS, what, "the object already exists with other content");
    }
  }
  json fields = {{"path", Field(path)},
                 {"size", Field(static_cast<uint64_t>(len))},
                 {"sha256", Field(hash)}};
  rc = ContentFields(inst, name, hash, data, len, what, &fields, err);
  if (rc != JSYNC_OK) return rc;
  const json op = {{"operationType", if_absent ? "create" : "forceReplace"},
                   {"record", {{"recordName", name}, {"recordType", kFileType}, {"fields", fields}}}};
  json entry;
  rc = ModifyOneInZone(inst, op, what, &entry, err, /*uploaded=*/len > inst->inline_max);
  if (rc != JSYNC_OK) return rc;
  CkError e;
  if (ReadCkError(entry, &e)) {
    if (if_absent && e.code == "EXISTS") return CompareExisting(inst, name, path, len, hash, what, err);
    return FailFromCkError(err, what, e, 200);
  }
  if (StrOr(entry, "recordName") != name) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                    "CloudKit answered the create with another record");
  }
  if (!old.deleted && old.sha256 != hash) {
    // The replaced version's parts: nobody reads them now. A failure only leaves them behind.
    jsync_error ignored{-1, {0}};
    if (DeleteRecords(inst, PartNames(old), what, &ignored) != JSYNC_OK) {
      Log(inst, 1, "iCloud " + what + ": the replaced version's parts stay behind: " + ignored.message);
    }
  }
  return JSYNC_OK;
}

int DoGet(jsync_instance* inst, const char* path_c, uint64_t offset, uint64_t length,
          jsync_sink* out, jsync_error* err) {
  if (!StorablePath(path_c)) return InvalidPath(err, path_c);
  if (out == nullptr || out->write == nullptr) return Fail(err, JSYNC_INVALID, "iCloud get: no sink");
  const std::string path = path_c;
  const std::string what = "get " + Shown(path);
  const std::string name = RecordNameFor(path);
  std::vector<json> entries;
  CkError refused;
  // A record holds at most 1 MB of fields; base64 and JSON add a little.
  int rc = Lookup(inst, {name},
                  json::array({"path", "size", "sha256", "data", "blob", "parts", "part_size"}),
                  what, &entries, err, &refused, size_t{4} << 20);
  if (rc != JSYNC_OK) {
    if (ZoneGone(refused)) {
      ForgetZone(inst);
      return FailWith(err, JSYNC_NOT_FOUND, what, "no such object (the journal's zone is gone)");
    }
    return rc;
  }
  CkError e;
  if (ReadCkError(entries[0], &e)) {
    if (e.code == "NOT_FOUND" || ZoneGone(e)) return FailWith(err, JSYNC_NOT_FOUND, what, "no such object");
    return FailFromCkError(err, what, e, 200);
  }
  FileRecord r;
  if (!ReadFileRecord(entries[0], &r) || r.deleted || r.path != path || r.sha256.empty() ||
      !r.has_size) {
    return FailWith(err, JSYNC_FATAL, what,
                    "the record at this name is not a journal-sync file record (another app's, or "
                    "damaged)");
  }
  const jsync_get_sink* ext = JSYNC_GET_SINK(inst->host->abi_version, out);
  if (ext != nullptr && ext->size != nullptr && offset == 0 && ext->size(out->ctx, r.size) != 0) {
    return JSYNC_OK;  // over the host's limit: it says so itself
  }
  if (length == 0 || offset >= r.size) return JSYNC_OK;
  const uint64_t n = std::min<uint64_t>(length, r.size - offset);
  const bool whole = offset == 0 && n == r.size;
  if (r.data_base64) {
    const auto bytes = Base64Decode(*r.data_base64);
    if (!bytes || bytes->size() != r.size ||
        Sha256Hex(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()) != r.sha256) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                      "the record's bytes do not match its size and sha256");
    }
    out->write(out->ctx, reinterpret_cast<const uint8_t*>(bytes->data()) + offset,
               static_cast<size_t>(n));
    return JSYNC_OK;
  }
  HashingSink sink(out);
  if (r.parts > 0) {
    rc = ReadParts(inst, r, offset, n, &sink, what, err);
  } else if (!r.blob.is_null()) {
    uint64_t got = 0;
    rc = DownloadAsset(inst, r.blob, r.size, offset, n, &sink.sink, what, &got, err);
  } else if (r.size == 0) {
    return JSYNC_OK;
  } else {
    return FailWith(err, JSYNC_FATAL, what, "the record holds no content");
  }
  if (rc != JSYNC_OK || sink.stopped) return rc;
  if (whole && (sink.count != r.size || sink.hash.HexDigest() != r.sha256)) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                    "the downloaded bytes do not match the record's size and sha256");
  }
  return JSYNC_OK;
}

int DoList(jsync_instance* inst, const char* prefix_c, const char* page_token, jsync_list_sink* out,
           jsync_error* err) {
  if (out == nullptr || out->emit == nullptr) return Fail(err, JSYNC_INVALID, "iCloud list: no sink");
  const std::string prefix = prefix_c ? prefix_c : "";
  const std::string what = "list " + (prefix.empty() ? std::string("(all)") : Shown(prefix));
  std::string token;
  if (page_token == nullptr || *page_token == '\0') inst->listed.clear();  // a new listing
  if (page_token != nullptr && *page_token != '\0') {
    const json t = json::parse(page_token, nullptr, false);
    if (!t.is_object() || !t.contains("t") || !t["t"].is_string() || t["t"].get<std::string>().empty()) {
      return FailWith(err, JSYNC_INVALID, what, "not a page token of this plugin");
    }
    token = t["t"];
  }
  json zone = {{"zoneID", ZoneId(inst)},
               {"resultsLimit", inst->page_size},
               {"desiredKeys", json::array({"path", "size"})}};
  if (!token.empty()) zone["syncToken"] = token;
  const json body = {{"zones", json::array({zone})}};
  json answer;
  CkError refused;
  int rc = Call(inst, "changes/zone", &body, &answer, what, err, &refused);
  if (rc != JSYNC_OK) {
    if (ZoneGone(refused)) {
      ForgetZone(inst);
      return JSYNC_OK;  // no zone, no objects
    }
    return rc;
  }
  if (!answer.contains("zones") || !answer["zones"].is_array() || answer["zones"].size() != 1) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what, "CloudKit's answer names no zone");
  }
  const json& z = answer["zones"][0];
  CkError e;
  if (ReadCkError(z, &e)) {
    if (ZoneGone(e)) {
      ForgetZone(inst);
      return JSYNC_OK;
    }
    return FailFromCkError(err, what, e, 200);
  }
  if (!z.is_object() || !z.contains("records") || !z["records"].is_array()) {
    return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what, "a change page has no list of records");
  }
  const bool v2 = inst->host->abi_version >= 2 && out->entry != nullptr;
  for (const json& rec : z["records"]) {
    FileRecord r;
    const bool readable = ReadFileRecord(rec, &r);
    if (!readable) {
      // A record of ours by name that does not read as one: reported, never merged.
      const auto p = PathOfRecordName(StrOr(rec, "recordName"));
      if (v2 && p && p->starts_with(prefix) && inst->listed.insert(*p).second) {
        const jsync_list_entry entry{p->c_str(), 0, -1, JSYNC_KIND_SPECIAL, 0u};
        out->entry(out->ctx, &entry);
      }
      continue;
    }
    if (r.deleted || !r.path.starts_with(prefix) || !inst->listed.insert(r.path).second) continue;
    if (!v2) {
      out->emit(out->ctx, r.path.c_str(), r.size);
      continue;
    }
    const jsync_list_entry entry{r.path.c_str(), r.size, r.modified_ms, JSYNC_KIND_FILE, 0u};
    out->entry(out->ctx, &entry);
  }
  const bool more = BoolOr(z, "moreComing");
  const std::string next = StrOr(z, "syncToken");
  if (more) {
    if (next.empty() || next == token) {
      return FailWith(err, JSYNC_RETRYABLE_UNAVAILABLE, what,
                      "CloudKit says more is coming but gives no new sync token");
    }
    if (out->set_next != nullptr) out->set_next(out->ctx, json{{"t", next}}.dump().c_str());
  }
  return JSYNC_OK;
}

int DoRemove(jsync_instance* inst, const char* path_c, jsync_error* err) {
  if (!StorablePath(path_c)) return InvalidPath(err, path_c);
  const std::string path = path_c;
  const std::string what = "remove " + Shown(path);
  const std::string name = RecordNameFor(path);
  FileRecord r;
  int rc = LookupOld(inst, name, what, &r, err);
  if (rc != JSYNC_OK || r.deleted) return rc;
  // The parts first: a removal cut short is retried with the main record still naming them.
  rc = DeleteRecords(inst, PartNames(r), what, err);
  if (rc != JSYNC_OK) return rc;
  return DeleteRecords(inst, {name}, what, err);
}

}  // namespace jsync_icloud

#include "records.h"

#include "ck_bytes.h"
#include "ck_names.h"
#include "jsync_plugin_util.h"

namespace jsync_icloud {

using nlohmann::json;

std::string RecordNameFor(const std::string& path) {
  // Room is left for a part's suffix, so every part name fits too.
  if (auto readable = ReadableRecordNameOf(path); readable && readable->size() + kPartSuffixMax <= kMaxRecordName) {
    return *readable;
  }
  return kHashedPrefix +
         Sha256Hex(reinterpret_cast<const uint8_t*>(path.data()), path.size()).substr(0, 48);
}

const json* FieldValue(const json& record, const char* name) {
  if (!record.is_object() || !record.contains("fields") || !record["fields"].is_object()) {
    return nullptr;
  }
  const json& fields = record["fields"];
  if (!fields.contains(name) || !fields[name].is_object() || !fields[name].contains("value")) {
    return nullptr;
  }
  return &fields[name]["value"];
}

bool ReadCount(const json* v, uint64_t* out) {
  if (v == nullptr) return false;
  if (v->is_number_unsigned()) {
    *out = v->get<uint64_t>();
    return true;
  }
  if (v->is_number_integer()) {
    if (v->get<int64_t>() < 0) return false;
    *out = static_cast<uint64_t>(v->get<int64_t>());
    return true;
  }
  return v->is_string() && jsync_plugin::ParseDecimal(v->get_ref<const std::string&>(), out);
}

bool ReadFileRecord(const json& record, FileRecord* out) {
  *out = FileRecord{};
  if (!record.is_object() || !record.contains("recordName") || !record["recordName"].is_string()) {
    return false;
  }
  out->record_name = record["recordName"];
  const bool hashed = out->record_name.starts_with(kHashedPrefix);
  const auto path = PathOfRecordName(out->record_name);
  if (!path && !hashed) return false;
  if (path) out->path = *path;
  if (record.contains("deleted") && record["deleted"].is_boolean() && record["deleted"].get<bool>()) {
    out->deleted = true;
    return true;
  }
  if (record.contains("recordType") && record["recordType"] != kFileType) return false;
  // The path field must name the record's own path: a record copied under another name is
  // not the object that name stands for.
  const json* p = FieldValue(record, "path");
  if (hashed) {
    if (p == nullptr || !p->is_string() || RecordNameFor(*p) != out->record_name) return false;
    out->path = *p;
  }
  if (p != nullptr && (!p->is_string() || *p != out->path)) return false;
  if (const json* s = FieldValue(record, "size"); s != nullptr) {
    if (!ReadCount(s, &out->size)) return false;
    out->has_size = true;
  }
  if (const json* h = FieldValue(record, "sha256"); h != nullptr) {
    if (!h->is_string()) return false;
    out->sha256 = *h;
  }
  if (const json* d = FieldValue(record, "data"); d != nullptr) {
    if (!d->is_string()) return false;
    out->data_base64 = d->get<std::string>();
  }
  if (const json* b = FieldValue(record, "blob"); b != nullptr) out->blob = *b;
  if (const json* n = FieldValue(record, "parts"); n != nullptr && !ReadCount(n, &out->parts)) {
    return false;
  }
  if (const json* n = FieldValue(record, "part_size");
      n != nullptr && !ReadCount(n, &out->part_size)) {
    return false;
  }
  if (record.contains("modified") && record["modified"].is_object() &&
      record["modified"].contains("timestamp") && record["modified"]["timestamp"].is_number()) {
    out->modified_ms = record["modified"]["timestamp"].get<int64_t>();
  }
  return true;
}

}  // namespace jsync_icloud

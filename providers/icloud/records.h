// The record mapping of the journal's objects (icloud.md §3): one record per object, named
// from its path (ck_names.h), type JFile, fields `path` (STRING), `size` (INT64) and `sha256`
// (STRING, hex of the content), and the content as
//   - `data` (BYTES, base64) up to inline_max bytes (a record holds 1 MB, base64 adds a third);
//   - `blob` (ASSET) up to asset_max bytes;
//   - `parts` and `part_size` (INT64) above that: the content in part records "<name>~<i>"
//     (type JFilePart, fields `sha256` and `blob`), written before the main record, whose
//     creation is the commit: a reader never sees part of an object.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace jsync_icloud {

inline constexpr char kFileType[] = "JFile";
inline constexpr char kPartType[] = "JFilePart";

// What a JFile record says of its object. Only what the answer held is filled in.
struct FileRecord {
  std::string record_name;
  std::string path;
  uint64_t size = 0;
  bool has_size = false;  // the answer held `size` (a get needs it)
  std::string sha256;
  std::optional<std::string> data_base64;  // `data`
  nlohmann::json blob;                     // `blob`'s value (an asset dictionary), or null
  uint64_t parts = 0;
  uint64_t part_size = 0;
  int64_t modified_ms = -1;
  bool deleted = false;  // a tombstone; `path` is "" for one with a hashed name
};

// The record name of `path`: ck_names.h's readable one, or for a path too long for it "h." +
// the hex SHA-256 of the path.
std::string RecordNameFor(const std::string& path);

// Reads a record dictionary (a lookup's or a change feed's); false when it is not one a
// JFile record of this plugin can be (wrong type, a path field that does not match its name,
// a size that is not a number).
bool ReadFileRecord(const nlohmann::json& record, FileRecord* out);

// A count: a non-negative JSON integer, or a decimal string (numbersAsStrings, an option's
// text); false for anything else, null included.
bool ReadCount(const nlohmann::json* v, uint64_t* out);

// The value of field `name` in a record dictionary, or null.
const nlohmann::json* FieldValue(const nlohmann::json& record, const char* name);

}  // namespace jsync_icloud

// Names the iCloud (CloudKit) plugin gives things, pure functions without I/O (unit-tested):
//   (paths whose readable name would be too long get a hashed one, see ReadableRecordNameOf)
//   - the record name of an object path: reversible, so a tombstone in the change feed (which
//     carries only the record name) still says which object went. "j." then the path with
//     '/' as '.', letters, digits and '-' kept, every other byte as "_XX" (upper-case hex):
//     "changes/d1/000001.chg" -> "j.changes.d1.000001_2Echg". ASCII, no leading '_'
//     (icloud.md §3), at most kMaxRecordName bytes.
//   - a part record of a split object: "<record>~<index>" ('~' never occurs in the above);
//   - the zone of a journal location: "jsync-" + the location encoded the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jsync_icloud {

// CloudKit's documented limit for a record name.
inline constexpr size_t kMaxRecordName = 255;

inline constexpr char kHashedPrefix[] = "h.";

inline bool KeptAsIs(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

inline std::string EncodeNamePart(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + 8);
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (KeptAsIs(c)) {
      out.push_back(ch);
    } else if (c == '/') {
      out.push_back('.');
    } else {
      out.push_back('_');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// The readable record name of `path`; nullopt when it would pass kMaxRecordName (the plugin
// then names the record "h." + the hex SHA-256 of the path: not reversible, so such a record's
// tombstone is an unnamed removal and the host lists again).
inline std::optional<std::string> ReadableRecordNameOf(std::string_view path) {
  std::string name = "j." + EncodeNamePart(path);
  if (name.size() > kMaxRecordName) return std::nullopt;
  return name;
}

inline int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The path a record name stands for; nullopt for a name this plugin does not make (a part
// record, another app's record, a malformed escape).
inline std::optional<std::string> PathOfRecordName(std::string_view name) {
  if (!name.starts_with("j.") || name.size() == 2) return std::nullopt;
  std::string out;
  for (size_t i = 2; i < name.size(); ++i) {
    const char c = name[i];
    if (KeptAsIs(static_cast<unsigned char>(c))) {
      out.push_back(c);
    } else if (c == '.') {
      out.push_back('/');
    } else if (c == '_' && i + 2 < name.size() && HexValue(name[i + 1]) >= 0 &&
               HexValue(name[i + 2]) >= 0) {
      const char decoded = static_cast<char>(HexValue(name[i + 1]) * 16 + HexValue(name[i + 2]));
      // One spelling per path: a byte that is kept as is or is '/' is never escaped.
      if (KeptAsIs(static_cast<unsigned char>(decoded)) || decoded == '/') return std::nullopt;
      out.push_back(decoded);
      i += 2;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

inline std::string PartRecordName(const std::string& record, uint64_t index) {
  return record + "~" + std::to_string(index);
}

// The zone of the journal at `location` ("journal" -> "jsync-journal").
inline std::string ZoneNameOf(std::string_view location) {
  return "jsync-" + EncodeNamePart(location);
}

}  // namespace jsync_icloud

// Names the iCloud (CloudKit) plugin gives things, pure functions without I/O (unit-tested):
//   (paths whose readable name would be too long get a hashed one, see ReadableRecordNameOf)
//   - the record name of an object path: reversible, so a tombstone in the change feed (which
//     carries only the record name) still says which object went. "j." then the path with
//     '/' as '.', letters, digits and '-' kept, every other byte as "_XX" (upper-case hex):
//     "changes/d1/000001.chg" -> "j.changes.d1.000001_2Echg". ASCII, no leading '_'
//     (icloud.md §3), at most kMaxRecordName bytes.
//   - a part record of a split object: "<record>~<16 hex of its content's SHA-256>~<index>"
//     ('~' never occurs in the above);
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

// Part `index` of the object whose content has SHA-256 `content_sha256` (hex): named by content,
// so a put of other bytes under the same name never touches the parts a stored object reads.
inline std::string PartRecordName(const std::string& record, std::string_view content_sha256,
                                  uint64_t index) {
  return record + "~" + std::string(content_sha256.substr(0, 16)) + "~" + std::to_string(index);
}
// What a part name adds to its record's name, at most ("~" 16 hex "~" 20 digits).
inline constexpr size_t kPartSuffixMax = 38;

// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF):
// record names and fields travel as JSON strings.
inline bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 0x2) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n;
  }
  return true;
}

// The zone of the journal at `location` ("journal" -> "jsync-journal").
inline std::string ZoneNameOf(std::string_view location) {
  return "jsync-" + EncodeNamePart(location);
}

}  // namespace jsync_icloud

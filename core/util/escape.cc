#include "core/util/escape.h"

#include <cstdint>
#include <cstdio>

#include "core/util/utf8.h"

namespace jsync {
namespace {

void AppendHex(std::string& out, const char* prefix, uint32_t v, const char* suffix) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s%02x%s", prefix, v, suffix);
  out += buf;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto c = static_cast<uint8_t>(s[i]);
  size_t len = c < 0x80             ? 1
               : (c & 0xe0) == 0xc0 ? 2
               : (c & 0xf0) == 0xe0 ? 3
               : (c & 0xf8) == 0xf0 ? 4
                                    : 0;
  if (len == 0 || i + len > s.size()) return 0;
  return IsValidUtf8(s.substr(i, len)) ? len : 0;
}

}  // namespace

std::string EscapeForDisplay(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<uint8_t>(s[i]);
    const size_t len = Utf8SequenceLength(s, i);
    if (len == 0) {
      AppendHex(out, "\\x", c, "");
      ++i;
      continue;
    }
    if (len == 1) {
      switch (c) {
        case '\n':
          out += "\\n";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\\':
          out += "\\\\";
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            AppendHex(out, "\\x", c, "");
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // C1 controls (U+0080..U+009F) are two-byte sequences C2 80..C2 9F.
    if (len == 2 && c == 0xc2 && static_cast<uint8_t>(s[i + 1]) < 0xa0) {
      AppendHex(out, "\\u{", static_cast<uint8_t>(s[i + 1]) & 0xff, "}");
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

}  // namespace jsync

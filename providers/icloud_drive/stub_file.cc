#include "stub_file.h"

#include <cstring>
#include <vector>

namespace jsync_icloud_drive {
namespace {

// ---- XML plist: <key>NSURLFileSizeKey</key><integer>N</integer> -----------------------------

bool XmlValueAfterKey(const std::string& x, const std::string& key, const std::string& tag,
                      std::string* value) {
  const std::string k = "<key>" + key + "</key>";
  size_t at = x.find(k);
  if (at == std::string::npos) return false;
  at += k.size();
  while (at < x.size() && (x[at] == ' ' || x[at] == '\n' || x[at] == '\r' || x[at] == '\t')) ++at;
  const std::string open = "<" + tag + ">";
  const std::string close = "</" + tag + ">";
  if (x.compare(at, open.size(), open) != 0) return false;
  at += open.size();
  const size_t end = x.find(close, at);
  if (end == std::string::npos) return false;
  *value = x.substr(at, end - at);
  return true;
}

bool Decimal(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

std::string XmlUnescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    static const struct {
      const char* entity;
      char c;
    } kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool matched = false;
    for (const auto& e : kEntities) {
      const size_t n = std::strlen(e.entity);
      if (s.compare(i, n, e.entity) == 0) {
        out.push_back(e.c);
        i += n - 1;
        matched = true;
        break;
      }
    }
    if (!matched) out.push_back('&');
  }
  return out;
}

// ---- binary plist (bplist00): only what a stub's top-level dictionary needs ---------------

class Bplist {
 public:
  explicit Bplist(const std::string& b) : b_(b) {}

  bool Parse(StubInfo* info) {
    if (b_.size() < 8 + 32 || b_.compare(0, 8, "bplist00") != 0) return false;
    const size_t t = b_.size() - 32;  // the trailer
    offset_size_ = Byte(t + 6);
    ref_size_ = Byte(t + 7);
    uint64_t count = 0, top = 0, table = 0;
    if (!Uint(t + 8, 8, &count) || !Uint(t + 16, 8, &top) || !Uint(t + 24, 8, &table)) return false;
    if (offset_size_ < 1 || offset_size_ > 8 || ref_size_ < 1 || ref_size_ > 8) return false;
    if (count > 4096 || top >= count || table > t || (t - table) / offset_size_ < count)
      return false;
    count_ = count;
    table_ = table;
    uint64_t top_at = 0;
    if (!ObjectOffset(top, &top_at)) return false;
    const int marker = Byte(top_at);
    if ((marker >> 4) != 0xD) return false;  // not a dictionary
    uint64_t n = 0;
    size_t at = top_at + 1;
    if (!Length(marker, &at, &n) || n > 64) return false;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t key_ref = 0, value_ref = 0;
      if (!Uint(at + i * ref_size_, ref_size_, &key_ref) ||
          !Uint(at + (n + i) * ref_size_, ref_size_, &value_ref)) {
        return false;
      }
      std::string key;
      if (!String(key_ref, &key)) continue;
      if (key == "NSURLFileSizeKey") {
        uint64_t size = 0;
        if (Integer(value_ref, &size)) {
          info->has_size = true;
          info->size = size;
        }
      } else if (key == "NSURLNameKey") {
        String(value_ref, &info->name);
      }
    }
    return true;
  }

 private:
  int Byte(size_t at) const { return at < b_.size() ? static_cast<unsigned char>(b_[at]) : -1; }

  bool Uint(size_t at, size_t n, uint64_t* out) const {
    if (n == 0 || n > 8 || at > b_.size() || b_.size() - at < n) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(b_[at + i]);
    *out = v;
    return true;
  }

  bool ObjectOffset(uint64_t ref, uint64_t* at) const {
    if (ref >= count_) return false;
    return Uint(table_ + ref * offset_size_, offset_size_, at) && *at < b_.size();
  }

  // The count in a marker's low nibble, or the int object that follows it (0xF).
  bool Length(int marker, size_t* at, uint64_t* n) const {
    if ((marker & 0xF) != 0xF) {
      *n = static_cast<uint64_t>(marker & 0xF);
      return true;
    }
    const int int_marker = Byte(*at);
    if (int_marker < 0 || (int_marker >> 4) != 0x1) return false;
    const size_t width = size_t{1} << (int_marker & 0xF);
    if (!Uint(*at + 1, width, n)) return false;
    *at += 1 + width;
    return true;
  }

  bool Integer(uint64_t ref, uint64_t* out) const {
    uint64_t at = 0;
    if (!ObjectOffset(ref, &at)) return false;
    const int marker = Byte(at);
    if (marker < 0 || (marker >> 4) != 0x1 || (marker & 0xF) > 3) return false;
    return Uint(at + 1, size_t{1} << (marker & 0xF), out);
  }

  // ASCII (0x5n) strings as they are; UTF-16 (0x6n) reduced to its ASCII characters, enough
  // for key names.
  bool String(uint64_t ref, std::string* out) const {
    uint64_t at64 = 0;
    if (!ObjectOffset(ref, &at64)) return false;
    size_t at = at64;
    const int marker = Byte(at);
    if (marker < 0) return false;
    const int type = marker >> 4;
    if (type != 0x5 && type != 0x6) return false;
    uint64_t n = 0;
    ++at;
    if (!Length(marker, &at, &n) || n > 1024) return false;
    const size_t bytes = type == 0x5 ? n : 2 * n;
    if (at > b_.size() || b_.size() - at < bytes) return false;
    out->clear();
    for (size_t i = 0; i < n; ++i) {
      if (type == 0x5) {
        out->push_back(b_[at + i]);
      } else {
        const unsigned hi = static_cast<unsigned char>(b_[at + 2 * i]);
        const unsigned lo = static_cast<unsigned char>(b_[at + 2 * i + 1]);
        out->push_back(hi == 0 && lo < 0x80 ? static_cast<char>(lo) : '?');
      }
    }
    return true;
  }

  const std::string& b_;
  size_t offset_size_ = 0;
  size_t ref_size_ = 0;
  uint64_t count_ = 0;
  uint64_t table_ = 0;
};

}  // namespace

StubInfo ParseStub(const std::string& bytes) {
  StubInfo info;
  if (bytes.size() > kMaxStubBytes) return info;
  if (bytes.compare(0, 8, "bplist00") == 0) {
    StubInfo parsed;
    if (Bplist(bytes).Parse(&parsed)) info = parsed;
    return info;
  }
  std::string value;
  if (XmlValueAfterKey(bytes, "NSURLFileSizeKey", "integer", &value) && Decimal(value, &info.size))
    info.has_size = true;
  if (XmlValueAfterKey(bytes, "NSURLNameKey", "string", &value)) info.name = XmlUnescape(value);
  return info;
}

}  // namespace jsync_icloud_drive

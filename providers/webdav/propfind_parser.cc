#include "propfind_parser.h"
#include "webdav_http.h"

#include <expat.h>

#include <charconv>
#include <climits>
#include <cstring>

namespace jsync_webdav {
namespace {

// libexpat reports namespaced names as "<uri><sep><local>".
constexpr char kSep = ' ';
constexpr std::string_view kDav = "DAV:";

// Returns the local name when `name` is in the DAV: namespace, "" otherwise.
std::string_view DavLocal(const XML_Char* name) {
  std::string_view n(name);
  if (n.size() > kDav.size() + 1 && n.substr(0, kDav.size()) == kDav && n[kDav.size()] == kSep) {
    return n.substr(kDav.size() + 1);
  }
  return {};
}

template <typename T>
std::optional<T> ParseNumber(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  if (text.front() == '+') text.remove_prefix(1);
  T v{};
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

// "HTTP/1.1 200 OK" -> 200; 0 when unreadable.
int StatusLineCode(std::string_view line) {
  line = Trim(line);
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return 0;
  std::string_view rest = Trim(line.substr(sp + 1)).substr(0, 3);
  return ParseNumber<int>(rest).value_or(0);
}

struct Propstat {
  bool is_collection = false;
  std::optional<uint64_t> content_length;
  std::optional<int64_t> quota_available;
  std::optional<int64_t> quota_used;
  int status = 0;  // 0: no <status> seen
};

enum class Field { kNone, kHref, kStatus, kLength, kQuotaAvailable, kQuotaUsed };

struct State {
  std::vector<DavEntry>* entries = nullptr;
  int depth = 0;
  bool root_ok = false;
  bool in_response = false;
  bool in_propstat = false;
  bool in_prop = false;
  bool in_resourcetype = false;
  int response_depth = 0;
  DavEntry entry;
  Propstat propstat;
  Field field = Field::kNone;
  int field_depth = 0;
  std::string text;
};

void XMLCALL OnStart(void* user, const XML_Char* name, const XML_Char** /*attrs*/) {
  auto* s = static_cast<State*>(user);
  ++s->depth;
  std::string_view local = DavLocal(name);
  if (s->depth == 1) {
    s->root_ok = local == "multistatus";
    return;
  }
  if (!s->root_ok || s->field != Field::kNone) return;
  if (local == "response" && !s->in_response) {
    s->in_response = true;
    s->response_depth = s->depth;
    s->entry = DavEntry{};
  } else if (!s->in_response) {
    return;
  } else if (local == "href" && s->depth == s->response_depth + 1) {
    s->field = Field::kHref;
  } else if (local == "propstat" && s->depth == s->response_depth + 1) {
    s->in_propstat = true;
    s->propstat = Propstat{};
  } else if (!s->in_propstat) {
    return;
  } else if (local == "status" && !s->in_prop) {
    s->field = Field::kStatus;
  } else if (local == "prop") {
    s->in_prop = true;
  } else if (!s->in_prop) {
    return;
  } else if (local == "resourcetype") {
    s->in_resourcetype = true;
  } else if (local == "collection" && s->in_resourcetype) {
    s->propstat.is_collection = true;
  } else if (local == "getcontentlength") {
    s->field = Field::kLength;
  } else if (local == "quota-available-bytes") {
    s->field = Field::kQuotaAvailable;
  } else if (local == "quota-used-bytes") {
    s->field = Field::kQuotaUsed;
  }
  if (s->field != Field::kNone) {
    s->field_depth = s->depth;
    s->text.clear();
  }
}

void XMLCALL OnEnd(void* user, const XML_Char* name) {
  auto* s = static_cast<State*>(user);
  std::string_view local = DavLocal(name);
  if (s->field != Field::kNone && s->depth == s->field_depth) {
    switch (s->field) {
      case Field::kHref:
        s->entry.href = std::string(Trim(s->text));
        break;
      case Field::kStatus:
        s->propstat.status = StatusLineCode(s->text);
        break;
      case Field::kLength:
        s->propstat.content_length = ParseNumber<uint64_t>(s->text);
        break;
      case Field::kQuotaAvailable:
        s->propstat.quota_available = ParseNumber<int64_t>(s->text);
        break;
      case Field::kQuotaUsed:
        s->propstat.quota_used = ParseNumber<int64_t>(s->text);
        break;
      case Field::kNone:
        break;
    }
    s->field = Field::kNone;
  } else if (s->in_response && s->field == Field::kNone) {
    if (local == "resourcetype") {
      s->in_resourcetype = false;
    } else if (local == "prop") {
      s->in_prop = false;
    } else if (local == "propstat" && s->depth == s->response_depth + 1) {
      s->in_propstat = false;
      const Propstat& p = s->propstat;
      // Properties count only from a successful propstat (servers list the ones they lack
      // under a 404 propstat, often as empty elements).
      if (p.status == 0 || (p.status >= 200 && p.status < 300)) {
        s->entry.is_collection = s->entry.is_collection || p.is_collection;
        if (p.content_length) s->entry.content_length = p.content_length;
        if (p.quota_available) s->entry.quota_available = p.quota_available;
        if (p.quota_used) s->entry.quota_used = p.quota_used;
      }
    } else if (local == "response" && s->depth == s->response_depth) {
      s->in_response = false;
      if (!s->entry.href.empty()) s->entries->push_back(std::move(s->entry));
      s->entry = DavEntry{};
    }
  }
  --s->depth;
}

void XMLCALL OnText(void* user, const XML_Char* data, int len) {
  auto* s = static_cast<State*>(user);
  if (s->field != Field::kNone && s->text.size() < 64 * 1024) s->text.append(data, len);
}

}  // namespace

bool ParseMultistatus(std::string_view xml, std::vector<DavEntry>* entries, std::string* error) {
  XML_Parser parser = XML_ParserCreateNS(nullptr, kSep);
  if (parser == nullptr) {
    *error = "out of memory for the XML parser";
    return false;
  }
  State state;
  state.entries = entries;
  XML_SetUserData(parser, &state);
  XML_SetElementHandler(parser, OnStart, OnEnd);
  XML_SetCharacterDataHandler(parser, OnText);
  bool ok = true;
  // Feed in slices: XML_Parse takes an int length.
  constexpr size_t kSlice = 1 << 20;
  size_t pos = 0;
  do {
    const size_t n = std::min(kSlice, xml.size() - pos);
    const bool last = pos + n == xml.size();
    if (XML_Parse(parser, xml.data() + pos, static_cast<int>(n), last ? 1 : 0) ==
        XML_STATUS_ERROR) {
      *error = std::string("malformed XML at line ") +
               std::to_string(XML_GetCurrentLineNumber(parser)) + ": " +
               XML_ErrorString(XML_GetErrorCode(parser));
      ok = false;
      break;
    }
    pos += n;
  } while (pos < xml.size());
  XML_ParserFree(parser);
  if (ok && !state.root_ok) {
    *error = "the answer is not a DAV: multistatus document";
    ok = false;
  }
  return ok;
}

}  // namespace jsync_webdav

// Reads a WebDAV multistatus answer (RFC 4918 §14.16) from PROPFIND: one entry per
// <response>, with the properties found in a propstat whose status is 200.
//
// Element names are matched by namespace (libexpat with namespace processing), so any prefix
// bound to "DAV:" works, as does a default namespace. Stateless; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jsync_webdav {

struct DavEntry {
  std::string href;  // as sent: percent-encoded, an absolute URL or an absolute path
  bool is_collection = false;
  std::optional<uint64_t> content_length;
  std::optional<int64_t> quota_available;  // RFC 4331 quota-available-bytes
  std::optional<int64_t> quota_used;       // RFC 4331 quota-used-bytes
};

// Parses `xml`. Returns false (with a reason in *error) when it is not well-formed XML or
// has no DAV: multistatus root.
bool ParseMultistatus(std::string_view xml, std::vector<DavEntry>* entries, std::string* error);

}  // namespace jsync_webdav

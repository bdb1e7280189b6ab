// A WebDAV server's PROPFIND answer (multistatus XML, libexpat), and the headers the plugin
// reads through the SDK's helpers (Retry-After, Content-Range).
#include <string_view>
#include <vector>

#include "propfind_parser.h"
#include "webdav_http.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<jsync_webdav::DavEntry> entries;
  std::string error;
  (void)jsync_webdav::ParseMultistatus(text, &entries, &error);
  if (size <= 64) {
    (void)jsync_plugin::ParseRetryAfter(text, /*now_ms=*/1'700'000'000'000);
    jsync_plugin::ContentRange range;
    (void)jsync_plugin::ParseContentRange(text, &range);
  }
  return 0;
}

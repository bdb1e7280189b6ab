// Bytes a client sends to a loopback listener (the OAuth redirect, webhooks, emulators), parsed
// as the server parses a connection (Beast), then read the way the handlers read requests.
#include <string_view>

#include "net/local_http_server.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jsync::net;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (const LocalRequest& req : ParseRequestStream(bytes, /*max_body_bytes=*/1 << 20)) {
    (void)req.QueryParam("code");
    (void)req.QueryParam("state");
    (void)req.FormParam("grant_type");
    (void)req.Header("content-type");
  }
  return 0;
}

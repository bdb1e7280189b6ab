// What an emulated authorization server shows a browser: its HTML pages and the redirects that
// carry a code or an error back to the client (RFC 6749 §4.1.2).
#pragma once

#include <string>

#include "net/local_http_server.h"

namespace jsync::emulator {

// `uri` with `query` appended ("?" or "&" as `uri` already has a query or not).
std::string WithQuery(const std::string& uri, const std::string& query);

// A 302 to `location`, with the provider's Cache-Control value.
net::LocalResponse RedirectTo(const std::string& location, const std::string& cache_control);

// A minimal HTML page: `title` (escaped) as <title> and <h1>, then `body_html` as given.
net::LocalResponse HtmlPage(int status, const std::string& title, const std::string& body_html);

}  // namespace jsync::emulator

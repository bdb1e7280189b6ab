#include "tools/emulators/common/oauth_pages.h"

#include "tools/emulators/common/util.h"

namespace jsync::emulator {

std::string WithQuery(const std::string& uri, const std::string& query) {
  return uri + (uri.find('?') == std::string::npos ? "?" : "&") + query;
}

net::LocalResponse RedirectTo(const std::string& location, const std::string& cache_control) {
  net::LocalResponse r;
  r.status = 302;
  r.headers.emplace_back("Location", location);
  r.headers.emplace_back("Cache-Control", cache_control);
  return r;
}

net::LocalResponse HtmlPage(int status, const std::string& title, const std::string& body_html) {
  const std::string t = HtmlEscape(title);
  return net::LocalResponse::Text(status,
                                  "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + t +
                                      "</title></head><body><h1>" + t + "</h1>" + body_html +
                                      "</body></html>\n",
                                  "text/html; charset=utf-8");
}

}  // namespace jsync::emulator

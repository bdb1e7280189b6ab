// The WebDAV provider (RFC 4918): any WebDAV server (Nextcloud, ownCloud, Apache mod_dav,
// rclone serve webdav, a NAS) as the journal's storage. Location: the base URL of the
// journal's folder, e.g. https://cloud.example.com/remote.php/dav/files/me/journal.
// Credentials are HTTP Basic, injected by the host into every request (host->http).
//
// Create-if-absent: many servers ignore `If-None-Match: *` on PUT, so bytes go to a hidden
// temporary name in the target collection and are then MOVEd to the final name with
// `Overwrite: F`, which answers 412 when the name is taken (RFC 4918 §9.9.3). On 412 the
// existing object is read back: the same bytes are a retried upload (success), other bytes
// are JSYNC_EXISTS. Temporary names start with JSYNC_TEMP_PREFIX and are never listed.
//
// Listing walks collections with PROPFIND Depth 1 (Depth infinity is often disabled),
// descending only into collections that can hold names under the prefix; one page.
// Quota comes from RFC 4331 properties on the location, when the server reports them.
//
// The plugin never retries or sleeps: each failure is classified (webdav_http.cc). Exchanges,
// ranges, Retry-After and random names come from the SDK's jsync_plugin_util.h.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "jsync_plugin_util.h"
#include "jsync_provider.h"
#include "propfind_parser.h"
#include "webdav_http.h"

using jsync_plugin::BodyTarget;
using jsync_plugin::Fail;
using jsync_plugin::Request;
using jsync_plugin::Response;
using jsync_webdav::BaseUrl;
using jsync_webdav::FailFromStatus;

// The plugin's instance (opaque to the host).
struct jsync_instance {
  const jsync_host_services* host = nullptr;
  BaseUrl base;
};

namespace {

constexpr size_t kMaxPropfindBytes = 256u << 20;
constexpr const char* kPropfindListBody =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<d:propfind xmlns:d=\"DAV:\"><d:prop><d:resourcetype/><d:getcontentlength/></d:prop>"
    "</d:propfind>\n";
constexpr const char* kPropfindQuotaBody =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<d:propfind xmlns:d=\"DAV:\"><d:prop><d:quota-available-bytes/><d:quota-used-bytes/>"
    "</d:prop></d:propfind>\n";

// Names the plugin in the messages of failed exchanges; the host's context already says which
// operation and object ("put a/b: WebDAV: PUT failed: ...").
constexpr const char* kWhat = "WebDAV";

bool Is2xx(int status) { return status >= 200 && status < 300; }

int Exchange(const jsync_host_services* host, const Request& request, Response* response,
             jsync_error* err) {
  return jsync_plugin::Exchange(host, request, response, kWhat, err);
}

void Log(const jsync_instance* inst, int level, const std::string& message) {
  if (inst->host->log != nullptr) inst->host->log(inst->host->host, level, message.c_str());
}

std::string Join(const std::vector<std::string>& segments, size_t n) {
  std::string out;
  for (size_t i = 0; i < n && i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    out += segments[i];
  }
  return out;
}

int InvalidPath(jsync_error* err, const char* path) {
  return Fail(err, JSYNC_INVALID,
              std::string("invalid object path \"") + (path ? path : "(null)") +
                  "\": it must be relative, '/'-separated, without empty, '.' or '..' parts");
}

// ---- body targets --------------------------------------------------------------------------

// Compares a 200 body with expected bytes as it streams, stopping at the first difference.
class CompareTarget final : public BodyTarget {
 public:
  CompareTarget(const uint8_t* data, size_t len) : data_(data), len_(len) {}
  bool Write(int status, const Response& /*response*/, const uint8_t* data, size_t len) override {
    if (status != 200) return true;
    if (differ_ || pos_ + len > len_ || (len > 0 && std::memcmp(data_ + pos_, data, len) != 0)) {
      differ_ = true;
      return false;
    }
    pos_ += len;
    return true;
  }
  bool Same() const { return !differ_ && pos_ == len_; }

 private:
  const uint8_t* data_;
  size_t len_;
  size_t pos_ = 0;
  bool differ_ = false;
};

// ---- operations ----------------------------------------------------------------------------

// MKCOL for the first `n` of `raw` (encoded segments from the server root), creating missing
// parents top-down when the server answers 409. `what` names the collection in messages.
int MakeCollection(jsync_instance* inst, const std::vector<std::string>& raw, size_t n,
                   const std::string& what, jsync_error* err) {
  if (n == 0) return JSYNC_OK;  // the server root
  Request req;
  req.method = "MKCOL";
  req.url = inst->base.RootCollectionUrl(raw, n);
  Response resp;
  for (int attempt = 0; attempt < 2; ++attempt) {
    int rc = Exchange(inst->host, req, &resp, err);
    if (rc != JSYNC_OK) return rc;
    // 405: already there (RFC 4918 §9.3.1); 301: the server redirects to the slashed form.
    if (Is2xx(resp.status) || resp.status == 405 || resp.status == 301) return JSYNC_OK;
    if (resp.status != 409 || attempt > 0) break;
    rc = MakeCollection(inst, raw, n - 1, what, err);  // a parent is missing
    if (rc != JSYNC_OK) return rc;
  }
  std::string dir = what;
  const size_t base_n = inst->base.raw_segments.size();
  if (n < base_n) dir = "(a parent of the journal folder)";
  return FailFromStatus(inst->host, "MKCOL", dir, resp, err);
}

int EnsureCollections(jsync_instance* inst, const std::vector<std::string>& dir, jsync_error* err) {
  std::vector<std::string> raw = inst->base.raw_segments;
  for (const std::string& s : dir) raw.push_back(jsync_webdav::EncodeSegment(s));
  return MakeCollection(inst, raw, raw.size(), Join(dir, dir.size()) + "/", err);
}

int SendBytes(jsync_instance* inst, const std::string& url, const uint8_t* data, size_t len,
              Response* resp, jsync_error* err) {
  Request req;
  req.method = "PUT";
  req.url = url;
  req.headers = {{"Content-Type", "application/octet-stream"}};
  req.body = data;
  req.body_len = len;
  return Exchange(inst->host, req, resp, err);
}

void DeleteQuietly(jsync_instance* inst, const std::string& url, const std::string& what) {
  Request req;
  req.method = "DELETE";
  req.url = url;
  Response resp;
  jsync_error err{-1, {0}};
  const int rc = Exchange(inst->host, req, &resp, &err);
  if (rc != JSYNC_OK || (!Is2xx(resp.status) && resp.status != 404)) {
    Log(inst, 2,
        "WebDAV: could not remove the temporary upload " + what + " (it is never listed): " +
            (rc != JSYNC_OK ? std::string(err.message) : "HTTP " + std::to_string(resp.status)));
  }
}

int DoPut(jsync_instance* inst, const char* path, const uint8_t* data, size_t len, int if_absent,
          jsync_error* err) {
  std::vector<std::string> segs;
  if (path == nullptr || !jsync_webdav::SplitPath(path, &segs)) return InvalidPath(err, path);
  if (data == nullptr && len > 0) return Fail(err, JSYNC_INVALID, "put: no bytes given");
  static const uint8_t kEmpty = 0;
  if (data == nullptr) data = &kEmpty;
  const std::vector<std::string> dir(segs.begin(), segs.end() - 1);
  std::vector<std::string> temp_segs = dir;
  // The target's name in the temporary one tells whose upload an orphan was.
  temp_segs.push_back(JSYNC_TEMP_PREFIX + segs.back().substr(0, 96) + "-" +
                      jsync_plugin::RandomHex(inst->host, 16));
  const std::string temp_url = inst->base.Url(temp_segs, false);
  const std::string final_url = inst->base.Url(segs, false);
  const std::string temp_what = Join(temp_segs, temp_segs.size());

  // 1. The bytes go to a temporary name (creating the collections on the first miss).
  Response resp;
  int rc = SendBytes(inst, temp_url, data, len, &resp, err);
  if (rc != JSYNC_OK) return rc;
  if (resp.status == 404 || resp.status == 409) {  // a missing parent collection
    rc = EnsureCollections(inst, dir, err);
    if (rc != JSYNC_OK) return rc;
    rc = SendBytes(inst, temp_url, data, len, &resp, err);
    if (rc != JSYNC_OK) return rc;
  }
  if (!Is2xx(resp.status)) {
    rc = FailFromStatus(inst->host, "PUT", path, resp, err);
    // Some servers keep an empty or partial file after refusing a body (507, 413, 5xx).
    if (resp.status != 401 && resp.status != 403 && resp.status != 404 && resp.status != 409) {
      DeleteQuietly(inst, temp_url, temp_what);  // keeps *err
    }
    return rc;
  }

  // 2. MOVE publishes it whole; with Overwrite: F only if the name is free.
  Request move;
  move.method = "MOVE";
  move.url = temp_url;
  move.headers = {{"Destination", final_url}, {"Overwrite", if_absent ? "F" : "T"}};
  rc = Exchange(inst->host, move, &resp, err);
  if (rc != JSYNC_OK) return rc;  // the server may have moved it: a retry sees equal bytes
  if (Is2xx(resp.status)) return JSYNC_OK;
  if (resp.status != 412 || !if_absent) {
    rc = FailFromStatus(inst->host, "MOVE", path, resp, err);
    DeleteQuietly(inst, temp_url, temp_what);
    return rc;
  }

  // 3. The name is taken: equal bytes mean our earlier attempt got there (a retried upload).
  Request get;
  get.method = "GET";
  get.url = final_url;
  CompareTarget compare(data, len);
  get.target = &compare;
  get.body_limit = jsync_plugin::DownloadBodyLimit(0, len);  // one byte more tells "longer"
  Response existing;
  rc = Exchange(inst->host, get, &existing, err);
  if (rc != JSYNC_OK) return rc;  // unreachable now: the temporary file stays (never listed)
  if (existing.status == 200) {
    rc = compare.Same() ? JSYNC_OK
                        : Fail(err, JSYNC_EXISTS,
                               std::string(path) + " already exists with different content");
  } else if (existing.status == 404) {  // removed since the MOVE: the caller may try again
    rc = Fail(err, JSYNC_RETRYABLE_UNAVAILABLE,
              std::string("WebDAV MOVE ") + path +
                  ": the name was taken, then vanished before it could be compared");
  } else {
    rc = FailFromStatus(inst->host, "GET", path, existing, err);
  }
  DeleteQuietly(inst, temp_url, temp_what);
  return rc;
}

int DoGet(jsync_instance* inst, const char* path, uint64_t offset, uint64_t length, jsync_sink* out,
          jsync_error* err) {
  std::vector<std::string> segs;
  if (path == nullptr || !jsync_webdav::SplitPath(path, &segs)) return InvalidPath(err, path);
  if (out == nullptr || out->write == nullptr) return Fail(err, JSYNC_INVALID, "get: no sink");
  Request req;
  req.method = "GET";
  req.url = inst->base.Url(segs, false);
  const bool whole = offset == 0 && length == UINT64_MAX;
  if (!whole) {
    // length 0 asks for one byte; none is passed on.
    req.headers.emplace_back("Range",
                             jsync_plugin::RangeHeaderValue(offset, length == 0 ? 1 : length));
  }
  jsync_plugin::RangeTarget target(out, offset, length,
                                   JSYNC_GET_SINK(inst->host->abi_version, out));
  req.target = &target;
  req.body_limit = jsync_plugin::DownloadBodyLimit(offset, length);
  Response resp;
  const int rc = Exchange(inst->host, req, &resp, err);
  if (rc != JSYNC_OK) return rc;
  if (target.bad_range()) {
    return Fail(err, JSYNC_FATAL,
                std::string("WebDAV GET ") + path + ": the server sent another range (" +
                    resp.Header("content-range") + ") than the one asked for");
  }
  if (target.EndedEarly(resp)) {
    return Fail(err, JSYNC_RETRYABLE_UNAVAILABLE,
                std::string("WebDAV GET ") + path + ": the answer ended before the bytes it announced (" +
                    std::to_string(target.delivered()) + " arrived)");
  }
  if (resp.status == 200 || resp.status == 206) return JSYNC_OK;
  if (resp.status == 416) {
    // Nothing at or after `offset`: an empty read, unless the server says the object is longer.
    jsync_plugin::ContentRange range;
    if (jsync_plugin::ParseContentRange(resp.Header("content-range"), &range) && range.has_total &&
        offset < range.total) {
      return FailFromStatus(inst->host, "GET", path, resp, err);
    }
    return JSYNC_OK;
  }
  if (resp.status == 404) {
    return Fail(err, JSYNC_NOT_FOUND, std::string("no object ") + path + " on the WebDAV server");
  }
  return FailFromStatus(inst->host, "GET", path, resp, err);
}

// One PROPFIND; entries in *entries. *status gets the HTTP status (404 is left to the caller).
int Propfind(jsync_instance* inst, const std::vector<std::string>& dir, const char* depth,
             const char* body, std::vector<jsync_webdav::DavEntry>* entries, int* status,
             jsync_error* err) {
  Request req;
  req.method = "PROPFIND";
  req.url = inst->base.Url(dir, true);
  req.headers = {{"Depth", depth}, {"Content-Type", "application/xml; charset=utf-8"}};
  req.body = reinterpret_cast<const uint8_t*>(body);
  req.body_len = std::strlen(body);
  req.body_limit = kMaxPropfindBytes;  // more fails the exchange
  Response resp;
  const int rc = Exchange(inst->host, req, &resp, err);
  if (rc != JSYNC_OK) return rc;
  *status = resp.status;
  const std::string what = Join(dir, dir.size()) + "/";
  if (resp.status == 404) return JSYNC_OK;
  if (resp.status != 207 && resp.status != 200) {
    return FailFromStatus(inst->host, "PROPFIND", what, resp, err);
  }
  std::string why;
  if (!jsync_webdav::ParseMultistatus(resp.body, entries, &why)) {
    return Fail(err, JSYNC_FATAL, "WebDAV PROPFIND " + what + ": unreadable answer: " + why);
  }
  return JSYNC_OK;
}

int DoList(jsync_instance* inst, const char* prefix_c, const char* token, jsync_list_sink* out,
           jsync_error* err) {
  if (token != nullptr && *token != '\0') {
    return Fail(err, JSYNC_INVALID, "WebDAV listings have a single page; got a page token");
  }
  if (out == nullptr || out->emit == nullptr) return Fail(err, JSYNC_INVALID, "list: no sink");
  const std::string prefix = prefix_c ? prefix_c : "";
  const size_t slash = prefix.rfind('/');
  const std::string start = slash == std::string::npos ? "" : prefix.substr(0, slash);
  std::vector<std::string> segs;
  if (!start.empty() && !jsync_webdav::SplitPath(start, &segs)) return JSYNC_OK;  // no match

  std::vector<std::pair<std::string, uint64_t>> found;
  std::vector<std::string> todo{start};
  std::set<std::string> seen{start};
  while (!todo.empty()) {
    const std::string dir = todo.back();
    todo.pop_back();
    segs.clear();
    if (!dir.empty() && !jsync_webdav::SplitPath(dir, &segs)) continue;
    std::vector<jsync_webdav::DavEntry> entries;
    int status = 0;
    const int rc = Propfind(inst, segs, "1", kPropfindListBody, &entries, &status, err);
    if (rc != JSYNC_OK) return rc;
    if (status == 404) continue;  // not there (yet, or any more): nothing under it
    for (const auto& e : entries) {
      std::string rel;
      if (!inst->base.Relative(e.href, &rel)) {
        Log(inst, 0, "WebDAV: ignoring a PROPFIND entry outside the journal folder: " + e.href);
        continue;
      }
      if (rel == dir || (!dir.empty() && !rel.starts_with(dir + "/")) || rel.empty()) continue;
      if (e.is_collection) {
        const std::string c = rel + "/";
        if ((prefix.starts_with(c) || c.starts_with(prefix)) && seen.insert(rel).second) {
          todo.push_back(rel);
        }
        continue;
      }
      const size_t last = rel.rfind('/');
      const std::string name = last == std::string::npos ? rel : rel.substr(last + 1);
      if (name.starts_with(JSYNC_TEMP_PREFIX)) continue;
      if (rel.starts_with(prefix)) found.emplace_back(rel, e.content_length.value_or(0));
    }
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end(),
                          [](const auto& a, const auto& b) { return a.first == b.first; }),
              found.end());
  for (const auto& [rel, size] : found) out->emit(out->ctx, rel.c_str(), size);
  return JSYNC_OK;
}

int DoRemove(jsync_instance* inst, const char* path, jsync_error* err) {
  std::vector<std::string> segs;
  if (path == nullptr || !jsync_webdav::SplitPath(path, &segs)) return InvalidPath(err, path);
  Request req;
  req.method = "DELETE";
  req.url = inst->base.Url(segs, false);
  Response resp;
  const int rc = Exchange(inst->host, req, &resp, err);
  if (rc != JSYNC_OK) return rc;
  if (Is2xx(resp.status) || resp.status == 404) return JSYNC_OK;
  return FailFromStatus(inst->host, "DELETE", path, resp, err);
}

int DoQuota(jsync_instance* inst, uint64_t* used, uint64_t* total, jsync_error* err) {
  std::vector<jsync_webdav::DavEntry> entries;
  int status = 0;
  const int rc = Propfind(inst, {}, "0", kPropfindQuotaBody, &entries, &status, err);
  if (rc != JSYNC_OK) return rc;
  if (status == 404) {
    return Fail(err, JSYNC_NOT_FOUND, "the journal folder does not exist on the WebDAV server yet");
  }
  for (const auto& e : entries) {
    std::string rel;
    if (!inst->base.Relative(e.href, &rel) || !rel.empty()) continue;
    if (!e.quota_used && !e.quota_available) break;
    // RFC 4331; Nextcloud reports negative values for "unknown" and "unlimited".
    const uint64_t u = e.quota_used && *e.quota_used > 0 ? static_cast<uint64_t>(*e.quota_used) : 0;
    const bool known = e.quota_available && *e.quota_available >= 0;
    *used = u;
    *total = known ? u + static_cast<uint64_t>(*e.quota_available) : 0;
    return JSYNC_OK;
  }
  return Fail(err, JSYNC_NOT_FOUND,
              "the WebDAV server reports no quota (RFC 4331 properties) for the journal folder");
}

// ---- the C table ---------------------------------------------------------------------------

int WebdavOpen(const jsync_host_services* host, const char* location, const char* /*config*/,
               jsync_instance** out, jsync_error* err) {
  try {
    if (out == nullptr) return Fail(err, JSYNC_INVALID, "open: no place for the instance");
    *out = nullptr;
    if (host == nullptr || host->http == nullptr ||
        host->struct_size < offsetof(jsync_host_services, http) + sizeof host->http) {
      return Fail(err, JSYNC_INVALID, "the host offers no HTTP service to the WebDAV plugin");
    }
    if (location == nullptr || *location == '\0') {
      return Fail(err, JSYNC_INVALID,
                  "the WebDAV provider needs a location: the URL of the journal's folder");
    }
    auto inst = std::make_unique<jsync_instance>();
    inst->host = host;
    std::string why;
    if (!jsync_webdav::ParseBaseUrl(location, &inst->base, &why)) {
      return Fail(err, JSYNC_INVALID, why);
    }
    *out = inst.release();  // no request yet: the host may open offline
    return JSYNC_OK;
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_FATAL, std::string("WebDAV open: ") + e.what());
  } catch (...) {
    return Fail(err, JSYNC_FATAL, "WebDAV open: unexpected failure");
  }
}

// One spelling per collection, and never a secret in what the host stores: user info dropped
// (credentials belong to `jsync link`), scheme and host lower-case, no empty segments, no
// trailing '/'.
int WebdavCanonicalLocation(const jsync_host_services* host, const char* location, char* out,
                            size_t out_size, jsync_error* err) {
  try {
    std::string url = location != nullptr ? location : "";
    if (url.empty()) {
      return Fail(err, JSYNC_INVALID,
                  "the WebDAV provider needs a location: the URL of the journal's folder");
    }
    const size_t scheme = url.find("://");
    if (scheme != std::string::npos) {
      const size_t host_at = scheme + 3;
      const size_t end = url.find_first_of("/?#", host_at);
      const size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
      if (at != std::string::npos && at >= host_at) {
        url.erase(host_at, at + 1 - host_at);
        if (host != nullptr && host->log != nullptr) {
          host->log(host->host, 2,
                    "the user name and password in the WebDAV location were dropped: link the "
                    "account with `jsync link webdav --user NAME` instead");
        }
      }
      const size_t end2 = url.find_first_of("/?#", host_at);
      for (size_t i = 0; i < (end2 == std::string::npos ? url.size() : end2); ++i) {
        url[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(url[i])));
      }
    }
    jsync_webdav::BaseUrl base;
    std::string why;
    if (!jsync_webdav::ParseBaseUrl(url, &base, &why)) return Fail(err, JSYNC_INVALID, why);
    std::string canonical = base.Url({}, false);
    if (!base.raw_segments.empty() && canonical.back() == '/') canonical.pop_back();
    if (canonical.size() + 1 > out_size) return Fail(err, JSYNC_INVALID, "the URL is too long");
    std::memcpy(out, canonical.c_str(), canonical.size() + 1);
    return JSYNC_OK;
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_INVALID, std::string("WebDAV location: ") + e.what());
  }
}

int WebdavPut(jsync_instance* inst, const char* path, const uint8_t* data, size_t len,
              int if_absent, jsync_error* err) {
  try {
    return DoPut(inst, path, data, len, if_absent, err);
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_FATAL, std::string("WebDAV put: ") + e.what());
  } catch (...) {
    return Fail(err, JSYNC_FATAL, "WebDAV put: unexpected failure");
  }
}

int WebdavGet(jsync_instance* inst, const char* path, uint64_t offset, uint64_t length,
              jsync_sink* out, jsync_error* err) {
  try {
    return DoGet(inst, path, offset, length, out, err);
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_FATAL, std::string("WebDAV get: ") + e.what());
  } catch (...) {
    return Fail(err, JSYNC_FATAL, "WebDAV get: unexpected failure");
  }
}

int WebdavList(jsync_instance* inst, const char* prefix, const char* token, jsync_list_sink* out,
               jsync_error* err) {
  try {
    return DoList(inst, prefix, token, out, err);
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_FATAL, std::string("WebDAV list: ") + e.what());
  } catch (...) {
    return Fail(err, JSYNC_FATAL, "WebDAV list: unexpected failure");
  }
}

int WebdavRemove(jsync_instance* inst, const char* path, jsync_error* err) {
  try {
    return DoRemove(inst, path, err);
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_FATAL, std::string("WebDAV remove: ") + e.what());
  } catch (...) {
    return Fail(err, JSYNC_FATAL, "WebDAV remove: unexpected failure");
  }
}

int WebdavQuota(jsync_instance* inst, uint64_t* used, uint64_t* total, jsync_error* err) {
  try {
    if (used == nullptr || total == nullptr) return Fail(err, JSYNC_INVALID, "quota: no output");
    return DoQuota(inst, used, total, err);
  } catch (const std::exception& e) {
    return Fail(err, JSYNC_FATAL, std::string("WebDAV quota: ") + e.what());
  } catch (...) {
    return Fail(err, JSYNC_FATAL, "WebDAV quota: unexpected failure");
  }
}

void WebdavClose(jsync_instance* inst) { delete inst; }

const jsync_auth_descriptor kAuth = {"basic",  nullptr, nullptr, nullptr, nullptr,
                                     nullptr,  nullptr, 0,       nullptr};

const jsync_provider kWebdav = {
    JSYNC_PROVIDER_ABI_VERSION,
    sizeof(jsync_provider),
    "webdav",
    "1.0.0",
    JSYNC_CAP_RANGE_READ | JSYNC_CAP_QUOTA,
    &kAuth,
    nullptr,
    0,
    WebdavOpen,
    WebdavPut,
    WebdavGet,
    WebdavList,
    WebdavRemove,
    nullptr,  // changes: WebDAV has no portable change feed
    nullptr,  // watch
    WebdavQuota,
    WebdavClose,
    nullptr,  // open_ex: collections are made on the first upload
    WebdavCanonicalLocation,
    nullptr,  // no default location
    "the http(s) URL of the journal's WebDAV collection",
    0,  // servers differ too much for one pace; the host's retries honour Retry-After
    0,
    0,  // max_concurrency: the host's default
};

const jsync_provider* WebdavTable(const jsync_host_info* host) {
  return host != nullptr && host->abi_version >= 1 ? &kWebdav : nullptr;
}

}  // namespace

JSYNC_DEFINE_PROVIDER("webdav", "1.0.0", WebdavTable)

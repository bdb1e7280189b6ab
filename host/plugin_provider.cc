#include "host/plugin_provider.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "core/crypto/primitives.h"
#include "core/model/hlc.h"
#include "core/util/escape.h"

namespace jsync::provider {
namespace {

void SetError(jsync_error* err, const std::string& message) {
  std::snprintf(err->message, sizeof err->message, "%s", message.c_str());
}

int CodeFromStatus(const Status& s) {
  switch (s.code()) {
    case Code::kOk:
      return JSYNC_OK;
    case Code::kRetryable:
      return JSYNC_RETRYABLE_NETWORK;
    case Code::kAuthExpired:
      return JSYNC_AUTH_EXPIRED;
    case Code::kInvalid:
      return JSYNC_INVALID;
    default:
      return JSYNC_FATAL;
  }
}

void HostLog(void*, int level, const char* message) {
  static const bool verbose = std::getenv("JSYNC_DEBUG") != nullptr;
  if (verbose || level >= 3) std::fprintf(stderr, "jsync: provider: %s\n", message);
}

int64_t HostNow(void*) { return static_cast<int64_t>(SystemMillis()); }
void HostRandom(void*, uint8_t* out, size_t len) {
  crypto::RandomBytes(std::span<uint8_t>(out, len));
}

// Collects a download, holding at most `cap` bytes whatever the plugin sends: past the cap it
// says stop (a plugin that ignores the range or the stop still cannot grow our memory).
struct ByteCollector {
  Bytes bytes;
  uint64_t cap = kNoSizeLimit;
  bool over = false;                  // more than `cap` bytes arrived or were announced
  std::optional<uint64_t> announced;  // the total size the plugin reported through size()
  static int Write(void* ctx, const uint8_t* data, size_t len) {
    auto* self = static_cast<ByteCollector*>(ctx);
    if (self->over) return 1;
    const uint64_t room = self->cap - self->bytes.size();
    if (len > room) {
      self->over = true;
      return 1;
    }
    self->bytes.insert(self->bytes.end(), data, data + len);
    return 0;
  }
  static int Size(void* ctx, uint64_t total) {
    auto* self = static_cast<ByteCollector*>(ctx);
    self->announced = total;
    if (total > self->cap) {
      self->over = true;
      return 1;
    }
    if (self->bytes.empty()) self->bytes.reserve(static_cast<size_t>(total));
    return 0;
  }
};

// A listing entry as the engine sees it. Unknown kinds from a newer plugin are "not an
// object" too: Get will refuse them.
ObjectInfo InfoOf(const jsync_list_entry& e) {
  ObjectInfo o{e.path ? e.path : "", e.size, e.mtime_ms, ObjectKind::kFile};
  if (e.kind == JSYNC_KIND_DIRECTORY) {
    o.kind = ObjectKind::kDirectory;
  } else if (e.kind != JSYNC_KIND_FILE) {
    o.kind = ObjectKind::kSpecial;
  }
  return o;
}

struct ListCollector {
  std::vector<ObjectInfo> objects;
  std::vector<ObjectInfo> temporary;
  std::string next;
  static void Emit(void* ctx, const char* path, uint64_t size) {
    static_cast<ListCollector*>(ctx)->objects.push_back({path ? path : "", size});
  }
  static void Entry(void* ctx, const jsync_list_entry* e) {
    if (e == nullptr) return;
    auto* self = static_cast<ListCollector*>(ctx);
    ObjectInfo o = InfoOf(*e);
    if (e->flags & JSYNC_ENTRY_TEMPORARY) {
      self->temporary.push_back(std::move(o));
    } else {
      self->objects.push_back(std::move(o));
    }
  }
  static void SetNext(void* ctx, const char* token) {
    static_cast<ListCollector*>(ctx)->next = token ? token : "";
  }
};

// A change feed answer: created objects, removals (version 3) and the new cursor.
struct FeedCollector {
  ChangePage page;
  static void Emit(void* ctx, const char* path, uint64_t size) {
    if (path != nullptr) static_cast<FeedCollector*>(ctx)->page.changed.push_back({path, size});
  }
  static void Entry(void* ctx, const jsync_list_entry* e) {
    if (e == nullptr) return;
    auto* self = static_cast<FeedCollector*>(ctx);
    const std::string path = e->path ? e->path : "";
    if (e->flags & JSYNC_ENTRY_REMOVED) {
      if (path.empty()) {
        self->page.unnamed_removals = true;
      } else {
        self->page.removed.push_back(path);
      }
      return;
    }
    if (e->flags & JSYNC_ENTRY_TEMPORARY || path.empty()) return;
    self->page.changed.push_back(InfoOf(*e));
  }
  static void SetNext(void* ctx, const char* token) {
    static_cast<FeedCollector*>(ctx)->page.cursor = token ? token : "";
  }
};

bool IsTemporaryName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return path.compare(slash == std::string::npos ? 0 : slash + 1, std::strlen(JSYNC_TEMP_PREFIX),
                      JSYNC_TEMP_PREFIX) == 0;
}

// "https://user:secret@host/x" -> "https://host/x": locations appear in messages and status.
std::string WithoutUserInfo(const std::string& location) {
  const size_t scheme = location.find("://");
  if (scheme == std::string::npos) return location;
  const size_t host = scheme + 3;
  const size_t at = location.find('@', host);
  const size_t slash = location.find('/', host);
  if (at == std::string::npos || (slash != std::string::npos && at > slash)) return location;
  return location.substr(0, host) + location.substr(at + 1);
}

}  // namespace

// host->http: the plugin's only way to the network.
static int PluginExchange(void* host, const jsync_http_request* req, jsync_http_response* resp,
                          jsync_error* err, bool without_credentials) {
  try {
    auto* client = static_cast<HttpClient*>(host);
    HttpRequest request;
    request.method = req->method ? req->method : "GET";
    request.url = req->url ? req->url : "";
    for (size_t i = 0; i < req->header_count; ++i) {
      // Credentials come from the host only; a plugin cannot set or read them.
      if (strcasecmp(req->headers[i].name, "Authorization") == 0) continue;
      request.headers.emplace_back(req->headers[i].name, req->headers[i].value);
    }
    request.body = ByteSpan(req->body, req->body_len);
    request.timeout_ms = req->timeout_ms;
    request.without_credentials = without_credentials;
    std::function<bool(ByteSpan)> sink;
    if (resp->body.write) {
      sink = [resp](ByteSpan b) {
        return resp->body.write(resp->body.ctx, b.data(), b.size()) == 0;
      };
    }
    auto response = client->Send(request, sink);
    if (!response.ok()) {
      SetError(err, response.status().message());
      err->retry_after_ms = -1;
      return CodeFromStatus(response.status());
    }
    resp->status = response->status;
    // The server's error document (Drive's reason, a WebDAV error XML) after the headers are
    // known to the host: plugins read resp->status before trusting what their sink received.
    if (resp->status >= 300 && resp->body.write && !response->error_body.empty()) {
      resp->body.write(resp->body.ctx,
                       reinterpret_cast<const uint8_t*>(response->error_body.data()),
                       response->error_body.size());
    }
    if (resp->on_header) {
      for (const auto& [k, v] : response->headers)
        resp->on_header(resp->header_ctx, k.c_str(), v.c_str());
    }
    return JSYNC_OK;
  } catch (const std::exception& e) {
    SetError(err, std::string("host HTTP failure: ") + e.what());
    return JSYNC_FATAL;
  }
}

int HostHttp(void* host, const jsync_http_request* req, jsync_http_response* resp,
             jsync_error* err) {
  return PluginExchange(host, req, resp, err, /*without_credentials=*/false);
}

int HostHttpWithoutCredentials(void* host, const jsync_http_request* req, jsync_http_response* resp,
                               jsync_error* err) {
  return PluginExchange(host, req, resp, err, /*without_credentials=*/true);
}

Status StatusFromPlugin(int code, const jsync_error& err, const std::string& context) {
  std::string msg(err.message, strnlen(err.message, sizeof err.message));
  if (msg.empty()) msg = "no details given";
  msg = context + ": " + msg;
  switch (JSYNC_PRIMARY(code)) {
    case JSYNC_OK:
      return Status::Ok();
    case JSYNC_NOT_FOUND:
      return Status::NotFound(msg);
    case JSYNC_EXISTS:
      return Status::Exists(msg);
    case JSYNC_RETRYABLE:
      return Status::Retryable(msg).WithRetryAfter(err.retry_after_ms);
    case JSYNC_AUTH_EXPIRED:
      return Status(Code::kAuthExpired, msg);
    case JSYNC_QUOTA_EXCEEDED:
      return Status(Code::kQuotaExceeded, msg);
    case JSYNC_INVALID:
      return Status::Invalid(msg);
    case JSYNC_FATAL:
      // Something that is not an object sits at the name: the file is refused like a damaged
      // one, so sync reports it and goes on with other devices.
      if (code == JSYNC_FATAL_NOT_A_FILE) return Status::Corrupt(msg);
      return Status::Fatal(msg);
    default:
      return Status::Fatal(msg);
  }
}

Result<std::unique_ptr<PluginProvider>> PluginProvider::Open(
    PluginInfo plugin, const std::string& location, const std::string& config_json,
    std::shared_ptr<CredentialSource> credentials, bool create) {
  std::unique_ptr<PluginProvider> p(new PluginProvider());
  p->plugin_ = std::move(plugin);
  p->location_ = WithoutUserInfo(location);
  p->http_ = std::make_unique<HttpClient>(std::move(credentials));
  p->services_ = {JSYNC_PROVIDER_ABI_VERSION,
                  sizeof(jsync_host_services),
                  p->http_.get(),
                  HostHttp,
                  HostLog,
                  HostNow,
                  HostRandom,
                  HostHttpWithoutCredentials};
  const jsync_provider* t = p->plugin_.table;
  p->opened_location_ = location;
  jsync_error err{-1, {0}};
  if (JSYNC_TABLE_HAS(t, canonical_location) && t->canonical_location != nullptr) {
    // A path is at most PATH_MAX on the systems we run on; a URL longer than this is no
    // location anyone types.
    std::string canonical(8192, '\0');
    int rc = JSYNC_FATAL;
    try {
      rc = t->canonical_location(&p->services_, location.c_str(), canonical.data(),
                                 canonical.size(), &err);
    } catch (...) {
      std::snprintf(err.message, sizeof err.message, "threw an exception");
    }
    if (rc != JSYNC_OK) {
      return StatusFromPlugin(rc, err, p->plugin_.name + " location " + p->location_);
    }
    canonical.resize(strnlen(canonical.data(), canonical.size()));
    if (canonical.empty()) {
      return Status::Invalid(p->plugin_.name + " made an empty location of " + p->location_);
    }
    p->opened_location_ = canonical;
    p->location_ = WithoutUserInfo(canonical);
    err = jsync_error{-1, {0}};
  }
  int rc = JSYNC_FATAL;
  try {
    if (JSYNC_TABLE_HAS(t, open_ex) && t->open_ex != nullptr) {
      const jsync_open_args args{sizeof(jsync_open_args), create ? JSYNC_OPEN_CREATE : 0u,
                                 p->opened_location_.c_str(), config_json.c_str()};
      rc = t->open_ex(&p->services_, &args, &p->instance_, &err);
    } else {
      rc = t->open(&p->services_, p->opened_location_.c_str(), config_json.c_str(), &p->instance_,
                   &err);
    }
  } catch (...) {
    std::snprintf(err.message, sizeof err.message, "threw an exception");
  }
  if (rc != JSYNC_OK || p->instance_ == nullptr) {
    p->instance_ = nullptr;
    return StatusFromPlugin(rc == JSYNC_OK ? JSYNC_FATAL : rc, err,
                            "opening " + p->plugin_.name + " at " + p->location_);
  }
  return p;
}

PluginProvider::~PluginProvider() {
  if (instance_ != nullptr) {
    try {
      plugin_.table->close(instance_);
    } catch (...) {
    }
  }
}

// Every slot is called through this: a plugin that throws is reported, never crashes us.
#define JSYNC_CALL_PLUGIN(context, expr)                                         \
  jsync_error err{-1, {0}};                                                      \
  int rc = JSYNC_FATAL;                                                          \
  try {                                                                          \
    rc = (expr);                                                                 \
  } catch (...) {                                                                \
    std::snprintf(err.message, sizeof err.message, "plugin threw an exception"); \
    rc = JSYNC_FATAL;                                                            \
  }                                                                              \
  Status st = StatusFromPlugin(rc, err, context)

Status PluginProvider::PutIfAbsent(const std::string& path, ByteSpan bytes) {
  JSYNC_RETURN_IF_ERROR(ValidateObjectPath(path));
  JSYNC_CALL_PLUGIN("put " + path, plugin_.table->put(instance_, path.c_str(), bytes.data(),
                                                      bytes.size(), 1, &err));
  return st;
}

// Bounded the same way for every plugin version: the range [0, max_size + 1) is in ABI 1, and
// the collector's cap holds even against a plugin that ignores it. One byte more than the limit
// tells "exactly at the limit" from "over it" without a stat call in the ABI.
Result<Bytes> PluginProvider::Get(const std::string& path, uint64_t max_size) {
  JSYNC_RETURN_IF_ERROR(ValidateObjectPath(path));
  const uint64_t ask = max_size == kNoSizeLimit ? kNoSizeLimit : max_size + 1;
  ByteCollector out;
  out.cap = max_size;
  jsync_get_sink get_sink{{&out, ByteCollector::Write}, ByteCollector::Size};
  jsync_sink* sink = &get_sink.sink;
  const std::string shown = EscapeForDisplay(path);
  JSYNC_CALL_PLUGIN("get " + shown,
                    plugin_.table->get(instance_, path.c_str(), 0, ask, sink, &err));
  if (out.over) {
    return out.announced ? TooLarge(path, *out.announced, true, max_size)
                         : TooLarge(path, max_size, false, max_size);
  }
  if (!st.ok()) return st;
  return std::move(out.bytes);
}

Result<Bytes> PluginProvider::GetRange(const std::string& path, uint64_t offset, uint64_t length) {
  JSYNC_RETURN_IF_ERROR(ValidateObjectPath(path));
  ByteCollector out;
  out.cap = length;  // the range bounds it
  jsync_get_sink get_sink{{&out, ByteCollector::Write}, nullptr};
  JSYNC_CALL_PLUGIN(
      "get " + EscapeForDisplay(path),
      plugin_.table->get(instance_, path.c_str(), offset, length, &get_sink.sink, &err));
  if (!st.ok()) return st;
  return std::move(out.bytes);
}

Result<std::vector<ObjectInfo>> PluginProvider::List(const std::string& prefix) {
  JSYNC_ASSIGN_OR_RETURN(auto listed, ListAll(prefix));
  return std::move(listed.first);
}

Result<std::vector<ObjectInfo>> PluginProvider::ListTemporary(const std::string& prefix) {
  JSYNC_ASSIGN_OR_RETURN(auto listed, ListAll(prefix));
  return std::move(listed.second);
}

Result<std::pair<std::vector<ObjectInfo>, std::vector<ObjectInfo>>> PluginProvider::ListAll(
    const std::string& prefix) {
  ListCollector out;
  std::string token;
  // Follow pages until the plugin reports no next one; a repeated token would loop forever.
  for (int page = 0;; ++page) {
    out.next.clear();
    jsync_list_sink sink{&out, ListCollector::Emit, ListCollector::SetNext, ListCollector::Entry};
    JSYNC_CALL_PLUGIN("list " + EscapeForDisplay(prefix),
                      plugin_.table->list(instance_, prefix.c_str(), token.c_str(), &sink, &err));
    if (!st.ok()) return st;
    if (out.next.empty()) break;
    if (out.next == token || page > 1000000) {
      return Status::Fatal("list " + prefix + ": the provider repeated a page token");
    }
    token = out.next;
  }
  std::vector<ObjectInfo> objects, temporary;
  for (auto& o : out.objects) {
    if (!o.path.starts_with(prefix)) continue;
    // Also from a plugin that forgot to flag one, or a version-1 plugin that emitted one.
    if (IsTemporaryName(o.path)) {
      temporary.push_back(std::move(o));
    } else if (o.path.find(JSYNC_TEMP_PREFIX) == std::string::npos) {
      objects.push_back(std::move(o));
    }
  }
  for (auto& o : out.temporary) {
    if (o.path.starts_with(prefix) && IsTemporaryName(o.path)) temporary.push_back(std::move(o));
  }
  const auto by_path = [](auto& a, auto& b) { return a.path < b.path; };
  std::sort(objects.begin(), objects.end(), by_path);
  std::sort(temporary.begin(), temporary.end(), by_path);
  return std::make_pair(std::move(objects), std::move(temporary));
}

Status PluginProvider::Remove(const std::string& path) {
  JSYNC_RETURN_IF_ERROR(ValidateObjectPath(path));
  JSYNC_CALL_PLUGIN("remove " + path, plugin_.table->remove(instance_, path.c_str(), &err));
  return st;
}

Result<ChangePage> PluginProvider::Changes(const std::string& cursor) {
  if (!plugin_.capabilities.change_feed || plugin_.table->changes == nullptr) {
    return Status::NotFound(plugin_.name + " has no change feed");
  }
  FeedCollector out;
  jsync_list_sink sink{&out, FeedCollector::Emit, FeedCollector::SetNext, FeedCollector::Entry};
  JSYNC_CALL_PLUGIN("change feed", plugin_.table->changes(instance_, cursor.c_str(), &sink, &err));
  if (rc == JSYNC_NOT_FOUND_CURSOR_EXPIRED) {
    ChangePage expired;
    expired.expired = true;
    return expired;
  }
  if (!st.ok()) return st;
  if (out.page.cursor.empty()) {
    return Status::Retryable("change feed: " + plugin_.name + " answered without a cursor");
  }
  // Only what sits under a journal's layout matters; temporary names never do.
  std::erase_if(out.page.changed, [](const ObjectInfo& o) {
    return o.path.find(JSYNC_TEMP_PREFIX) != std::string::npos || !ValidateObjectPath(o.path).ok();
  });
  return std::move(out.page);
}

Status PluginProvider::Watch(const std::string& webhook_url) {
  if (!plugin_.capabilities.push || plugin_.table->watch == nullptr) {
    return Status::NotFound(plugin_.name + " has no push notifications");
  }
  JSYNC_CALL_PLUGIN("watch", plugin_.table->watch(instance_, webhook_url.c_str(), &err));
  return st;
}

Result<QuotaInfo> PluginProvider::Quota() {
  if (!plugin_.capabilities.quota || plugin_.table->quota == nullptr) {
    return Status::NotFound(plugin_.name + " reports no quota");
  }
  QuotaInfo q;
  JSYNC_CALL_PLUGIN("quota", plugin_.table->quota(instance_, &q.used, &q.total, &err));
  if (!st.ok()) return st;
  return q;
}

}  // namespace jsync::provider

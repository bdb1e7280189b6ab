#include "core/provider/plugin_provider.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/crypto/primitives.h"
#include "core/model/hlc.h"

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

struct ByteCollector {
  Bytes bytes;
  static int Write(void* ctx, const uint8_t* data, size_t len) {
    auto* self = static_cast<ByteCollector*>(ctx);
    self->bytes.insert(self->bytes.end(), data, data + len);
    return 0;
  }
};

struct ListCollector {
  std::vector<ObjectInfo> objects;
  std::string next;
  static void Emit(void* ctx, const char* path, uint64_t size) {
    static_cast<ListCollector*>(ctx)->objects.push_back({path ? path : "", size});
  }
  static void SetNext(void* ctx, const char* token) {
    static_cast<ListCollector*>(ctx)->next = token ? token : "";
  }
};

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
int HostHttp(void* host, const jsync_http_request* req, jsync_http_response* resp,
             jsync_error* err) {
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
    default:
      return Status::Fatal(msg);
  }
}

Result<std::unique_ptr<PluginProvider>> PluginProvider::Open(
    PluginInfo plugin, const std::string& location, const std::string& config_json,
    std::shared_ptr<CredentialSource> credentials) {
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
                  HostRandom};
  jsync_error err{-1, {0}};
  int rc = JSYNC_FATAL;
  try {
    rc = p->plugin_.table->open(&p->services_, location.c_str(), config_json.c_str(), &p->instance_,
                                &err);
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

Result<Bytes> PluginProvider::Get(const std::string& path) { return GetRange(path, 0, UINT64_MAX); }

Result<Bytes> PluginProvider::GetRange(const std::string& path, uint64_t offset, uint64_t length) {
  JSYNC_RETURN_IF_ERROR(ValidateObjectPath(path));
  ByteCollector out;
  jsync_sink sink{&out, ByteCollector::Write};
  JSYNC_CALL_PLUGIN("get " + path,
                    plugin_.table->get(instance_, path.c_str(), offset, length, &sink, &err));
  if (!st.ok()) return st;
  return std::move(out.bytes);
}

Result<std::vector<ObjectInfo>> PluginProvider::List(const std::string& prefix) {
  ListCollector out;
  std::string token;
  // Follow pages until the plugin reports no next one; a repeated token would loop forever.
  for (int page = 0;; ++page) {
    out.next.clear();
    jsync_list_sink sink{&out, ListCollector::Emit, ListCollector::SetNext};
    JSYNC_CALL_PLUGIN("list " + prefix,
                      plugin_.table->list(instance_, prefix.c_str(), token.c_str(), &sink, &err));
    if (!st.ok()) return st;
    if (out.next.empty()) break;
    if (out.next == token || page > 1000000) {
      return Status::Fatal("list " + prefix + ": the provider repeated a page token");
    }
    token = out.next;
  }
  std::vector<ObjectInfo> objects;
  for (auto& o : out.objects) {
    if (o.path.starts_with(prefix) && o.path.find(JSYNC_TEMP_PREFIX) == std::string::npos) {
      objects.push_back(std::move(o));
    }
  }
  std::sort(objects.begin(), objects.end(), [](auto& a, auto& b) { return a.path < b.path; });
  return objects;
}

Status PluginProvider::Remove(const std::string& path) {
  JSYNC_RETURN_IF_ERROR(ValidateObjectPath(path));
  JSYNC_CALL_PLUGIN("remove " + path, plugin_.table->remove(instance_, path.c_str(), &err));
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

#include "tools/emulators/onedrive/graph_api.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cmath>
#include <sstream>
#include <thread>

#include "tools/emulators/common/util.h"
#include "tools/emulators/onedrive/graph_errors.h"

namespace jsync::emulator::onedrive {

using net::LocalRequest;
using net::LocalResponse;

namespace {

constexpr int64_t kMaxSubscriptionMinutes = 42300;

// Secrets never reach the request log: these query parameters and JSON keys are REDACTED.
// ("code" only as a query parameter: in JSON bodies it is an error code.)
bool SecretParam(const std::string& k) {
  static const char* kSecret[] = {"token",        "code",          "refresh_token",
                                  "access_token", "code_verifier", "device_code",
                                  "user_code",    "client_secret", "validationToken"};
  for (const char* s : kSecret)
    if (k == s) return true;
  return false;
}

bool SecretKey(const std::string& k) {
  static const char* kSecret[] = {"refresh_token", "access_token",
                                  "id_token",      "code_verifier",
                                  "device_code",   "user_code",
                                  "client_secret", "uploadUrl",
                                  "clientState",   "@microsoft.graph.downloadUrl"};
  for (const char* s : kSecret)
    if (k == s) return true;
  return false;
}

void Redact(nlohmann::json* j) {
  if (j->is_object()) {
    const bool device_answer = j->contains("user_code");
    for (auto& [k, v] : j->items()) {
      if (SecretKey(k) || (device_answer && k == "message")) {
        v = "REDACTED";
      } else {
        Redact(&v);
      }
    }
  } else if (j->is_array()) {
    for (auto& v : *j) Redact(&v);
  }
}

// "/upload/session/<secret>" → "/upload/session/REDACTED" (and the download URL alike).
std::string RedactPath(const std::string& path) {
  for (const char* prefix : {"/upload/session/", "/download/"}) {
    const std::string p = prefix;
    if (path.rfind(p, 0) == 0) return p + "REDACTED";
  }
  return path;
}

int64_t CeilSeconds(const std::string& s) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  return static_cast<int64_t>(std::ceil(v));
}

std::string Hex(const unsigned char* d, size_t n) {
  static const char* k = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s.push_back(k[d[i] >> 4]);
    s.push_back(k[d[i] & 15]);
  }
  return s;
}

}  // namespace

GraphApi::GraphApi(GraphOptions options, std::unique_ptr<GraphState> state,
                   IdentityServer* identity, Subscriptions* subscriptions)
    : options_(std::move(options)),
      identity_(identity),
      subscriptions_(subscriptions),
      state_(std::move(state)) {
  if (!options_.request_log.empty())
    request_log_.open(options_.request_log, std::ios::app | std::ios::binary);
  notified_seq_ = state_->last_seq();
  LoadSessions();
}

std::string GraphApi::Sign(const std::string& payload) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const std::string& key = state_->secret();
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &len);
  return Base64Url(payload) + "." + Hex(mac, 12);
}

bool GraphApi::Verify(const std::string& token, std::string* payload) const {
  const size_t dot = token.rfind('.');
  if (dot == std::string::npos) return false;
  // Decode base64url by re-signing candidates is not possible; decode directly.
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < dot; ++i) {
    const size_t v = kAlphabet.find(token[i]);
    if (v == std::string::npos) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  const std::string expect = Sign(out);
  if (expect.size() != token.size() ||
      CRYPTO_memcmp(expect.data(), token.data(), token.size()) != 0)
    return false;
  *payload = out;
  return true;
}

bool GraphApi::TakeArmed(FaultKind kind) {
  std::lock_guard lock(fault_mu_);
  auto it = armed_.find(kind);
  if (it == armed_.end() || it->second == 0) return false;
  --it->second;
  std::fprintf(stderr, "jsync-emulator: fault %s spent\n", FaultKindName(kind));
  return true;
}

LocalResponse GraphApi::Unauthorized(const std::string& message, bool expired) const {
  LocalResponse r = GraphError(401, "InvalidAuthenticationToken", message);
  std::string www =
      "Bearer realm=\"\", authorization_uri=\"" + base_url_ +
      "/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"";
  if (expired) www += ", error=\"invalid_token\", error_description=\"expired_token\"";
  r.headers.emplace_back("WWW-Authenticate", www);
  return r;
}

std::optional<LocalResponse> GraphApi::ApplyFaults(Kind kind, const LocalRequest& req,
                                                   const Fault** immediate) {
  *immediate = nullptr;
  std::lock_guard lock(fault_mu_);
  const uint64_t nth = ++counted_;
  for (const Fault& f : options_.faults.faults) {
    if (nth < f.first || nth > f.last) continue;
    if (IsArmed(f.kind)) {
      ++armed_[f.kind];
      std::fprintf(stderr, "jsync-emulator: request %llu: fault %s armed\n",
                   static_cast<unsigned long long>(nth), FaultKindName(f.kind));
    } else if (*immediate == nullptr) {
      *immediate = &f;
    }
  }
  const int64_t now = NowMs();
  auto throttled = [&](int64_t ms_left) {
    LocalResponse r = GraphError(429, "activityLimitReached", "The request has been throttled",
                                 "throttledRequest");
    r.headers.emplace_back("Retry-After", std::to_string((ms_left + 999) / 1000));
    return r;
  };
  if (throttle_until_ms_ > now) return throttled(throttle_until_ms_ - now);
  if (options_.faults.throttle_every > 0) {
    if (throttle_until_ms_ != 0) {  // a window just ended: count again
      throttle_until_ms_ = 0;
      throttle_count_ = 0;
    }
    if (++throttle_count_ > options_.faults.throttle_every) {
      throttle_until_ms_ = now + options_.faults.throttle_seconds * 1000;
      std::fprintf(stderr, "jsync-emulator: request %llu: throttling for %lld s\n",
                   static_cast<unsigned long long>(nth),
                   static_cast<long long>(options_.faults.throttle_seconds));
      return throttled(options_.faults.throttle_seconds * 1000);
    }
  }
  (void)kind;
  (void)req;
  const Fault* f = *immediate;
  if (f == nullptr) return std::nullopt;
  std::fprintf(stderr, "jsync-emulator: request %llu %s %s: fault %s\n",
               static_cast<unsigned long long>(nth), req.method.c_str(),
               RedactPath(req.path).c_str(), FaultKindName(f->kind));
  auto with_retry_after = [&](LocalResponse r) {
    if (!f->retry_after.empty()) r.headers.emplace_back("Retry-After", f->retry_after);
    return r;
  };
  switch (f->kind) {
    case FaultKind::k429:
      return with_retry_after(GraphError(429, "activityLimitReached",
                                         "The request has been throttled", "throttledRequest"));
    case FaultKind::k503:
      return with_retry_after(
          GraphError(503, "serviceNotAvailable", "Service unavailable. Please retry later."));
    case FaultKind::k500:
      return GraphError(500, "generalException", "An unspecified error has occurred.");
    case FaultKind::k502:
      return GraphError(502, "generalException", "Bad gateway.");
    case FaultKind::k504:
      return GraphError(504, "generalException", "The operation has timed out.");
    case FaultKind::k509:
      return GraphError(509, "bandwidthLimitExceeded",
                        "Bandwidth limit exceeded. Please retry later.");
    case FaultKind::kDrop: {
      LocalResponse r;
      r.drop_connection = true;
      return r;
    }
    default:
      return std::nullopt;  // drop-after: handled once the work is done
  }
}

void GraphApi::LogRequest(const LocalRequest& req, int64_t t_ms, const LocalResponse& r,
                          bool dropped) {
  if (!request_log_.is_open()) return;
  nlohmann::json query = nlohmann::json::object();
  for (const auto& [k, v] : net::ParseForm(req.query)) query[k] = SecretParam(k) ? "REDACTED" : v;
  const std::string type = req.Header("content-type");
  nlohmann::json line = {
      {"t_ms", t_ms},   {"method", req.method}, {"path", RedactPath(req.path)},
      {"query", query}, {"content_type", type}, {"status", dropped ? 0 : r.status}};
  if (dropped) line["dropped"] = true;
  if (!dropped && r.truncate_body_at >= 0) line["truncated"] = true;  // drop-download
  for (const auto& [k, v] : r.headers) {
    if (k == "Retry-After" && !dropped) line["retry_after"] = CeilSeconds(v);
  }
  if (type.rfind("application/json", 0) == 0) {
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    if (!j.is_discarded()) {
      Redact(&j);
      line["body_json"] = j;
    }
  }
  if (!dropped && !r.body.empty() && (r.body[0] == '{' || r.body[0] == '[')) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_discarded()) {
      Redact(&j);
      line["response_json"] = j;
    }
  }
  if (!req.Header("authorization").empty()) line["authorization"] = true;
  std::lock_guard lock(log_mu_);
  request_log_ << line.dump() << "\n";
  request_log_.flush();
}

void GraphApi::NotifyIfChanged() {
  bool changed = false, in_approot = false;
  {
    std::lock_guard lock(mu_);
    const int64_t last = state_->last_seq();
    if (last == notified_seq_) return;
    const std::string approot = state_->approot_id();
    const auto& log = state_->changes();
    for (auto it = log.rbegin(); it != log.rend() && it->seq > notified_seq_; ++it) {
      changed = true;
      if (!approot.empty() && state_->IsWithin(it->item_id, approot)) in_approot = true;
    }
    notified_seq_ = last;
  }
  if (changed) subscriptions_->NotifyChange(in_approot);
}

LocalResponse GraphApi::Handle(const LocalRequest& req) {
  const int64_t t_ms = NowMs();
  if (options_.latency_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.latency_ms));
  if (auto id = identity_->Handle(req)) {
    LogRequest(req, t_ms, *id, id->drop_connection);
    return *id;
  }
  Kind kind;
  if (req.path.rfind("/v1.0/", 0) == 0) {
    kind = Kind::kGraph;
  } else if (req.path.rfind("/upload/session/", 0) == 0) {
    kind = Kind::kUpload;
  } else if (req.path.rfind("/download/", 0) == 0) {
    kind = Kind::kDownload;
  } else {
    LocalResponse r = GraphError(404, "itemNotFound", "Not found: " + req.path);
    LogRequest(req, t_ms, r, false);
    return r;
  }
  std::string client_request_id = req.Header("client-request-id");
  const std::string request_id = RandomUuid();
  if (client_request_id.empty()) client_request_id = request_id;

  const Fault* immediate = nullptr;
  LocalResponse r;
  if (auto faulted = ApplyFaults(kind, req, &immediate)) {
    r = *faulted;
  } else if (kind == Kind::kUpload) {
    r = UploadSessionRequest(req, req.path.substr(16));
  } else if (kind == Kind::kDownload) {
    r = Download(req, req.path.substr(10));
  } else {
    Call c;
    c.req = &req;
    const std::string auth = req.Header("authorization");
    if (auth.rfind("Bearer ", 0) == 0) c.token = auth.substr(7);
    if (c.token.empty()) {
      r = Unauthorized("Access token is empty.", false);
    } else if (TakeArmed(FaultKind::kExpireToken)) {
      identity_->ExpireAccessToken(c.token);
      r = Unauthorized("Access token has expired or is not yet valid.", true);
    } else {
      switch (identity_->CheckAccessToken(c.token, &c.scope)) {
        case IdentityServer::Check::kOk: {
          std::stringstream in(c.scope);
          for (std::string s; in >> s;) {
            const std::string prefix = "https://graph.microsoft.com/";
            if (s.rfind(prefix, 0) == 0) s = s.substr(prefix.size());
            if (s == "Files.ReadWrite" || s == "Files.ReadWrite.All") c.full_access = true;
          }
          r = RouteGraph(c);
          break;
        }
        case IdentityServer::Check::kExpired:
          r = Unauthorized("Access token has expired or is not yet valid.", true);
          break;
        case IdentityServer::Check::kUnknown:
          r = Unauthorized("IDX14100: JWT is not well formed, there are no dots (.).", false);
          break;
      }
    }
  }
  NotifyIfChanged();
  if (immediate != nullptr && immediate->kind == FaultKind::kDropAfter) {
    r = LocalResponse();
    r.drop_connection = true;
  }
  if (!r.drop_connection) StampRequestIds(&r, request_id, client_request_id);
  LogRequest(req, t_ms, r, r.drop_connection);
  return r;
}

std::optional<LocalResponse> GraphApi::ParseAddress(const std::string& rest, Address* a) const {
  // rest follows "/me/drive": "/root...", "/special/approot...", "/items/{id}...".
  std::string tail;
  if (rest.rfind("/root", 0) == 0) {
    a->base = "root";
    tail = rest.substr(5);
  } else if (rest.rfind("/special/approot", 0) == 0) {
    a->base = "approot";
    tail = rest.substr(16);
  } else if (rest.rfind("/items/", 0) == 0) {
    const size_t end = rest.find_first_of("/:", 7);
    a->base = rest.substr(7, end == std::string::npos ? std::string::npos : end - 7);
    if (a->base.empty()) return GraphError(400, "invalidRequest", "Invalid request");
    tail = end == std::string::npos ? "" : rest.substr(end);
  } else if (rest.rfind("/special/", 0) == 0) {
    return GraphError(404, "itemNotFound", "Item not found");
  } else {
    return GraphError(400, "invalidRequest",
                      "Resource not found for the segment '" + rest.substr(1) + "'.");
  }
  if (!tail.empty() && tail[0] == ':') {
    // ":/a/b:" then an optional "/suffix"; the closing colon may be absent at the end.
    std::string path;
    size_t close = tail.find(':', 1);
    if (close == std::string::npos) {
      path = tail.substr(1);
      tail.clear();
    } else {
      path = tail.substr(1, close - 1);
      tail = tail.substr(close + 1);
    }
    std::stringstream in(path);
    for (std::string seg; std::getline(in, seg, '/');) {
      if (seg.empty()) continue;
      if (seg == "." || seg == "..")
        return GraphError(400, "invalidRequest", "Invalid path", "invalidPath");
      a->rel.push_back(seg);
    }
  }
  if (tail.empty() || tail == "/") return std::nullopt;
  if (tail[0] != '/') return GraphError(400, "invalidRequest", "Invalid request");
  a->suffix = tail.substr(1);
  if (a->suffix.rfind("delta(", 0) == 0 && a->suffix.back() == ')') {
    // delta(token='...')
    std::string inner = a->suffix.substr(6, a->suffix.size() - 7);
    a->has_token_fn = true;
    if (inner.rfind("token=", 0) == 0) {
      inner = inner.substr(6);
      if (inner.size() >= 2 && inner.front() == '\'' && inner.back() == '\'')
        inner = inner.substr(1, inner.size() - 2);
      a->delta_token = inner;
    }
    a->suffix = "delta";
  }
  return std::nullopt;
}

bool GraphApi::Allowed(const Call& c, const std::string& id) const {
  if (c.full_access) return true;
  const std::string approot = state_->approot_id();
  return !approot.empty() && state_->IsWithin(id, approot);
}

std::optional<LocalResponse> GraphApi::Resolve(const Call& c, const Address& a, Resolved* out) {
  const GraphItem* base = nullptr;
  if (a.base == "root") {
    base = state_->Find(state_->root_id());
  } else if (a.base == "approot") {
    if (options_.approot_denied) return GraphError(403, "accessDenied", "Access denied");
    auto id = state_->EnsureApproot();
    if (!id.ok()) return GraphError(500, "generalException", "Cannot create the app folder.");
    base = state_->Find(*id);
  } else {
    base = state_->Find(a.base);
    if (base == nullptr) return GraphError(404, "itemNotFound", "Item not found");
  }
  if (!Allowed(c, base->id)) return GraphError(403, "accessDenied", "Access denied");
  *out = Resolved();
  const GraphItem* at = base;
  for (size_t i = 0; i < a.rel.size(); ++i) {
    if (!at->folder) return GraphError(400, "invalidRequest", "Invalid path", "invalidPath");
    const GraphItem* next = state_->Child(at->id, a.rel[i]);
    if (next == nullptr) {
      out->parent = at;
      out->missing_from = i;
      return std::nullopt;
    }
    at = next;
  }
  out->item = at;
  out->parent = at->parent_id.empty() ? nullptr : state_->Find(at->parent_id);
  out->missing_from = a.rel.size();
  return std::nullopt;
}

LocalResponse GraphApi::RouteGraph(Call& c) {
  const LocalRequest& req = *c.req;
  const std::string& m = req.method;
  std::string rest = req.path.substr(5);  // after "/v1.0"
  if (rest.rfind("/drives/", 0) == 0) {
    // /drives/{drive-id}/... is the same drive under its id.
    const size_t end = rest.find('/', 8);
    const std::string id = rest.substr(8, end == std::string::npos ? end : end - 8);
    std::string drive_id;
    {
      std::lock_guard lock(mu_);
      drive_id = state_->drive_id();
    }
    if (id != drive_id) return GraphError(404, "itemNotFound", "Drive not found");
    rest = "/me/drive" + (end == std::string::npos ? "" : rest.substr(end));
  }
  if (rest == "/subscriptions" || rest.rfind("/subscriptions/", 0) == 0)
    return SubscriptionRequest(c, rest.size() > 15 ? rest.substr(15) : "");
  if (rest == "/me/drive" || rest == "/me/drive/") {
    if (m != "GET") return GraphError(405, "invalidRequest", "Method not allowed");
    return GetDrive(c);
  }
  if (rest.rfind("/me/drive/", 0) != 0)
    return GraphError(400, "invalidRequest",
                      "Resource not found for the segment '" + rest.substr(1) + "'.");
  Address a;
  if (auto e = ParseAddress(rest.substr(9), &a)) return *e;
  const std::string& s = a.suffix;
  if (s.empty()) {
    if (m == "GET") return GetItem(c, a);
    if (m == "DELETE") return DeleteItem(c, a, false);
  } else if (s == "children") {
    if (m == "GET") return ListChildren(c, a);
    if (m == "POST") return CreateChild(c, a);
  } else if (s == "content") {
    if (m == "PUT") return PutContent(c, a);
    if (m == "GET") return GetContent(c, a);
  } else if (s == "createUploadSession") {
    if (m == "POST") return CreateUploadSession(c, a);
  } else if (s == "delta") {
    if (m == "GET") return Delta(c, a);
  } else if (s == "permanentDelete") {
    if (m == "POST") return DeleteItem(c, a, true);
  } else {
    return GraphError(400, "invalidRequest", "Resource not found for the segment '" + s + "'.");
  }
  return GraphError(405, "invalidRequest", "The HTTP method '" + m + "' is not allowed here.");
}

// ---- subscriptions ------------------------------------------------------------------------

LocalResponse GraphApi::SubscriptionRequest(const Call& c, const std::string& id) {
  const LocalRequest& req = *c.req;
  const std::string app_id = "00000000-0000-0000-0000-00000000a001";
  auto parse_expiry = [](const nlohmann::json& body, int64_t* ms) -> std::optional<LocalResponse> {
    if (!body.contains("expirationDateTime") || !body["expirationDateTime"].is_string() ||
        !ParseRfc3339(body["expirationDateTime"].get<std::string>(), ms))
      return GraphError(400, "InvalidRequest",
                        "expirationDateTime is required and must be a "
                        "date-time.");
    const int64_t now = NowMs();
    if (*ms <= now)
      return GraphError(400, "InvalidRequest",
                        "Subscription expiration can only be in the future.");
    if (*ms > now + kMaxSubscriptionMinutes * 60 * 1000)
      return GraphError(400, "InvalidRequest",
                        "Subscription expiration exceeds the maximum of 42300 minutes for "
                        "driveItem.");
    return std::nullopt;
  };
  if (id.empty()) {
    if (req.method == "GET") {
      nlohmann::json value = nlohmann::json::array();
      for (const auto& s : subscriptions_->List()) value.push_back(s.ToJson(app_id));
      return GraphJson(200, {{"value", value}});
    }
    if (req.method != "POST") return GraphError(405, "InvalidRequest", "Method not allowed");
    const auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object()) return GraphError(400, "InvalidRequest", "Invalid JSON body.");
    if (body.value("changeType", "") != "updated")
      return GraphError(400, "InvalidRequest",
                        "Drive item subscriptions support only changeType 'updated'.");
    const std::string url = body.value("notificationUrl", "");
    if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
      return GraphError(400, "InvalidRequest", "The notificationUrl must be an https URL.");
    std::string resource = body.value("resource", "");
    std::string norm = resource;
    if (!norm.empty() && norm[0] != '/') norm = "/" + norm;
    Subscription s;
    if (norm == "/me/drive/root") {
      s.approot_only = false;
    } else if (norm == "/me/drive/special/approot" && !options_.business) {
      s.approot_only = true;
    } else {
      return GraphError(400, "InvalidRequest",
                        options_.business
                            ? "Only the drive root can be subscribed to: /me/drive/root."
                            : "Unsupported resource '" + resource + "'.");
    }
    if (s.approot_only || !c.full_access) {
      std::lock_guard lock(mu_);
      if (!c.full_access && !s.approot_only)
        return GraphError(403, "accessDenied", "Access denied");
      if (!state_->EnsureApproot().ok())
        return GraphError(500, "generalException", "Cannot create the app folder.");
    }
    const std::string client_state = body.value("clientState", "");
    if (client_state.size() > 128)
      return GraphError(400, "InvalidRequest", "clientState must be at most 128 characters.");
    if (auto e = parse_expiry(body, &s.expiration_ms)) return *e;
    const std::string why = Subscriptions::Validate(url);
    if (!why.empty()) {
      std::fprintf(stderr, "jsync-emulator: subscription validation failed: %s\n", why.c_str());
      return GraphError(400, "InvalidRequest",
                        "Subscription validation request failed. Notification endpoint must "
                        "respond with 200 OK to validation request.");
    }
    s.id = RandomUuid();
    s.resource = resource;
    s.client_state = client_state;
    s.notification_url = url;
    subscriptions_->Add(s);
    return GraphJson(201, s.ToJson(app_id));
  }
  Subscription s;
  if (req.method == "GET") {
    auto found = subscriptions_->Get(id);
    if (!found) return GraphError(404, "ResourceNotFound", "The object was not found.");
    return GraphJson(200, found->ToJson(app_id));
  }
  if (req.method == "DELETE") {
    if (!subscriptions_->Remove(id))
      return GraphError(404, "ResourceNotFound", "The object was not found.");
    return NoContent();
  }
  if (req.method == "PATCH") {
    const auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object()) return GraphError(400, "InvalidRequest", "Invalid JSON body.");
    int64_t ms = 0;
    if (auto e = parse_expiry(body, &ms)) return *e;
    if (!subscriptions_->Renew(id, ms, &s))
      return GraphError(404, "ResourceNotFound", "The object was not found.");
    return GraphJson(200, s.ToJson(app_id));
  }
  return GraphError(405, "InvalidRequest", "Method not allowed");
}

}  // namespace jsync::emulator::onedrive

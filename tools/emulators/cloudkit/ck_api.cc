#include "tools/emulators/cloudkit/ck_api.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "tools/emulators/cloudkit/ck_errors.h"
#include "tools/emulators/common/util.h"

namespace jsync::emulator::cloudkit {

using net::LocalRequest;
using net::LocalResponse;

namespace {

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream in(path);
  for (std::string s; std::getline(in, s, '/');)
    if (!s.empty()) out.push_back(s);
  return out;
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

bool Base64UrlDecode(const std::string& in, std::string* out) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const size_t v = kAlphabet.find(c);
    if (v == std::string::npos) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

}  // namespace

CloudKitApi::CloudKitApi(CloudKitOptions options, std::unique_ptr<CkState> state, WebAuth* auth)
    : options_(std::move(options)), auth_(auth), state_(std::move(state)) {
  fault_counts_.assign(options_.faults.faults.size(), 0);
  if (!options_.request_log.empty())
    request_log_.open(options_.request_log, std::ios::app | std::ios::binary);
}

std::string CloudKitApi::Sign(const std::string& payload) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const std::string& key = state_->secret();
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &len);
  return Base64Url(payload) + "." + Hex(mac, 12);
}

bool CloudKitApi::Verify(const std::string& token, std::string* payload) const {
  const size_t dot = token.rfind('.');
  std::string out;
  if (dot == std::string::npos || !Base64UrlDecode(token.substr(0, dot), &out)) return false;
  const std::string expect = Sign(out);
  if (expect.size() != token.size() ||
      CRYPTO_memcmp(expect.data(), token.data(), token.size()) != 0)
    return false;
  *payload = out;
  return true;
}

std::string CloudKitApi::OpOf(const LocalRequest& req, std::string* db) {
  db->clear();
  const auto seg = Segments(req.path);
  if (!seg.empty() && seg[0] == "_upload") return "_upload";
  if (!seg.empty() && seg[0] == "_download") return "_download";
  if (seg.size() < 6 || seg[0] != "database" || seg[1] != "1") return "";
  if (seg[4] == "tokens") return "tokens/" + seg[5];
  *db = seg[4];
  std::string op;
  for (size_t i = 5; i < seg.size(); ++i) op += (op.empty() ? "" : "/") + seg[i];
  return op;
}

std::optional<LocalResponse> CloudKitApi::ApplyFaults(const std::string& op,
                                                      const Fault** matched) {
  *matched = nullptr;
  {
    std::lock_guard lock(fault_mu_);
    ++requests_;
    const auto& faults = options_.faults.faults;
    for (size_t i = 0; i < faults.size(); ++i) {
      if (!faults[i].op.empty() && faults[i].op != op) continue;
      const uint64_t nth = ++fault_counts_[i];
      if (*matched == nullptr && nth >= faults[i].first && nth <= faults[i].last)
        *matched = &faults[i];
    }
  }
  const Fault* f = *matched;
  if (f == nullptr) return std::nullopt;
  std::fprintf(stderr, "jsync-emulator: %s: fault %s\n", op.c_str(), FaultKindName(f->kind));
  switch (f->kind) {
    case FaultKind::kThrottle:
      return CkError(429, "THROTTLED", "Request throttled, try again later", f->retry_after_s);
    case FaultKind::kUnavailable:
      return CkError(503, "TRY_AGAIN_LATER", "Service temporarily unavailable",
                     f->retry_after_s);
    case FaultKind::k500:
      return CkError(500, "INTERNAL_ERROR", "Internal server error");
    case FaultKind::k502:
      return LocalResponse::Text(502, "<html><body>502 Bad Gateway</body></html>", "text/html");
    case FaultKind::k504:
      return LocalResponse::Text(504, "<html><body>504 Gateway Time-out</body></html>",
                                 "text/html");
    case FaultKind::kDrop: {
      LocalResponse r;
      r.drop_connection = true;
      return r;
    }
    case FaultKind::kAuth:
      return AuthRequired();
    case FaultKind::kDropAfter:
      return std::nullopt;  // carried out first
  }
  return std::nullopt;
}

LocalResponse CloudKitApi::AuthRequired() const {
  LocalResponse r = CkError(421, "AUTHENTICATION_REQUIRED", "request needs authorization");
  auto j = nlohmann::json::parse(r.body);
  j["redirectURL"] = base_url_ + "/signin?container=" + net::PercentEncode(options_.container) +
                     "&ck=" + RandomString(16);
  r.body = j.dump();
  return r;
}

LocalResponse CloudKitApi::Handle(const LocalRequest& req) {
  const int64_t t_ms = NowMs();
  if (options_.latency_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.latency_ms));
  LocalResponse r;
  std::string db;
  if (req.path == "/signin") {
    r = auth_->HandleSignIn(req);
    LogRequest(req, "signin", t_ms, r, nullptr);
    return r;
  }
  if (req.path.rfind("/_admin/", 0) == 0) {
    r = Admin(req);
    StampCloudKitHeaders(&r, state_->partition());
    LogRequest(req, "_admin", t_ms, r, nullptr);
    return r;
  }
  if (req.path.rfind("/_courier/", 0) == 0) {
    r = Courier(req.path.substr(10));
    StampCloudKitHeaders(&r, state_->partition());
    LogRequest(req, "_courier", t_ms, r, nullptr);
    return r;
  }
  const std::string op = OpOf(req, &db);
  if (op.empty()) {
    r = CkError(404, "NOT_FOUND", "no such endpoint");
    StampCloudKitHeaders(&r, state_->partition());
    LogRequest(req, "", t_ms, r, nullptr);
    return r;
  }
  const Fault* fault = nullptr;
  std::string rotated;
  if (auto faulted = ApplyFaults(op, &fault)) {
    r = *faulted;
  } else if (op == "_upload") {
    r = UploadAsset(req, req.path.substr(9));
  } else if (op == "_download") {
    r = DownloadAsset(req, req.path.substr(11));
  } else {
    r = HandleDatabase(req, &rotated);
  }
  if (fault != nullptr && fault->kind == FaultKind::kDropAfter) {
    r = LocalResponse();
    r.drop_connection = true;
  }
  if (!r.drop_connection) {
    StampCloudKitHeaders(&r, state_->partition());
    if (!rotated.empty()) r.headers.emplace_back("X-Apple-CloudKit-Web-Auth-Token", rotated);
  }
  LogRequest(req, op, t_ms, r, fault);
  return r;
}

LocalResponse CloudKitApi::HandleDatabase(const LocalRequest& req, std::string* rotated) {
  const auto seg = Segments(req.path);  // database 1 {container} {env} {db|tokens} {op...}
  if (req.QueryParam("ckAPIToken") != options_.api_token)
    return CkError(401, "AUTHENTICATION_FAILED", "no auth method found");
  if (seg[2] != options_.container)
    return CkError(401, "AUTHENTICATION_FAILED", "the API token is not for this container");
  if (seg[3] != "development" && seg[3] != "production")
    return CkError(400, "BAD_REQUEST", "unknown environment");
  Call c;
  c.req = &req;
  c.env = seg[3];
  if (seg[4] == "tokens") {
    c.op = "tokens/" + seg[5];
  } else {
    c.db = seg[4];
    for (size_t i = 5; i < seg.size(); ++i) c.op += (c.op.empty() ? "" : "/") + seg[i];
    if (c.db != "private" && c.db != "shared" && c.db != "public")
      return CkError(400, "BAD_REQUEST", "unknown database type");
  }
  const std::string web = req.QueryParam("ckWebAuthToken");
  if (web.empty()) return AuthRequired();
  switch (auth_->CheckToken(web)) {
    case WebAuth::Check::kOk:
      break;
    case WebAuth::Check::kExpired:
      return CkError(401, "AUTHENTICATION_FAILED", "the web auth token has expired");
    case WebAuth::Check::kUnknown:
      return CkError(401, "AUTHENTICATION_FAILED", "the web auth token is not valid (unknown or already used)");
  }
  if (auth_->adp())
    return CkError(403, "ACCESS_DENIED", "private db access disabled for this account");
  // Accepted: from here on every answer carries the token's successor (or, with --no-rotation,
  // the same token, which stays valid).
  *rotated = options_.no_rotation ? web : auth_->Rotate(web);
  c.body = nlohmann::json::object();
  if (req.method != "GET" && !req.body.empty()) {
    c.body = nlohmann::json::parse(req.body, nullptr, false);
    if (!c.body.is_object()) return CkError(400, "BAD_REQUEST", "the body is not a JSON object");
  }
  return Route(c);
}

LocalResponse CloudKitApi::Route(Call& c) {
  const std::string& m = c.req->method;
  auto need = [&](const char* method) { return m == method; };
  if (c.op == "users/caller" || c.op == "users/current") {
    if (!need("GET")) return CkError(400, "BAD_REQUEST", "users/caller is a GET");
    std::lock_guard lock(mu_);
    return CkJson(200, {{"users", {{{"userRecordName", state_->user_record_name()}}}}});
  }
  if (c.op == "tokens/create" && need("POST")) return TokensCreate(c);
  if (c.op == "tokens/register" && need("POST")) return TokensRegister(c);
  if (c.op.rfind("tokens/", 0) == 0) return CkError(404, "NOT_FOUND", "unknown tokens operation");
  if (c.db == "public")
    return CkError(400, "BAD_REQUEST", "the public database is not emulated (private, shared)");
  struct RouteEntry {
    const char* op;
    const char* method;
    LocalResponse (CloudKitApi::*handler)(Call&);
  };
  static const RouteEntry kRoutes[] = {
      {"zones/list", "GET", &CloudKitApi::ZonesList},
      {"zones/lookup", "POST", &CloudKitApi::ZonesLookup},
      {"zones/modify", "POST", &CloudKitApi::ZonesModify},
      {"records/modify", "POST", &CloudKitApi::RecordsModify},
      {"records/lookup", "POST", &CloudKitApi::RecordsLookup},
      {"changes/database", "POST", &CloudKitApi::ChangesDatabase},
      {"changes/zone", "POST", &CloudKitApi::ChangesZone},
      {"assets/upload", "POST", &CloudKitApi::AssetsUpload},
      {"subscriptions/list", "GET", &CloudKitApi::SubscriptionsList},
      {"subscriptions/modify", "POST", &CloudKitApi::SubscriptionsModify},
  };
  for (const auto& route : kRoutes) {
    if (c.op != route.op) continue;
    if (m != route.method)
      return CkError(400, "BAD_REQUEST", c.op + " takes " + route.method);
    return (this->*route.handler)(c);
  }
  return CkError(404, "NOT_FOUND", "unknown operation " + c.op);
}

}  // namespace jsync::emulator::cloudkit

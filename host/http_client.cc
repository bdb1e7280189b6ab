#include "host/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>

namespace jsync::provider {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  const HttpRequest* request;
  size_t sent = 0;
  const std::function<bool(ByteSpan)>* sink;
  HttpResponse* response;
  bool sink_stopped = false;
};

size_t ReadBody(char* out, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t limit = std::min(t->request->body.size(), t->request->abort_body_after);
  if (t->sent >= limit) {
    return t->sent < t->request->body.size() ? CURL_READFUNC_ABORT : 0;
  }
  const size_t chunk = std::min(size * n, limit - t->sent);
  std::copy_n(t->request->body.data() + t->sent, chunk, out);
  t->sent += chunk;
  return chunk;
}

constexpr size_t kMaxErrorBody = 64 * 1024;

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  // Error bodies (4xx/5xx) are not the object: do not hand them to the sink.
  long code = t->response->status;
  if (code >= 300) {
    std::string& keep = t->response->error_body;
    keep.append(data, std::min(size * n, kMaxErrorBody - std::min(keep.size(), kMaxErrorBody)));
    return size * n;
  }
  if (!*t->sink) return size * n;
  if (!(*t->sink)(ByteSpan(reinterpret_cast<const uint8_t*>(data), size * n))) {
    t->sink_stopped = true;
    return 0;
  }
  return size * n;
}

size_t ReadHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after a redirect or 100-continue) starts a new header set.
    t->response->headers.clear();
    size_t sp = line.find(' ');
    if (sp != std::string::npos) t->response->status = std::atoi(line.c_str() + sp + 1);
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  size_t start = line.find_first_not_of(" \t", colon + 1);
  size_t end = line.find_last_not_of("\r\n \t");
  std::string value =
      start == std::string::npos || end < start ? "" : line.substr(start, end - start + 1);
  t->response->headers.emplace_back(std::move(name), std::move(value));
  return size * n;
}

// Parses a decimal request number; false unless it is all digits and at least 1.
bool ParseCount(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  *out = std::strtoull(s.c_str(), nullptr, 10);
  return *out >= 1;
}

}  // namespace

Result<FaultPlan> FaultPlan::Parse(const std::string& spec) {
  FaultPlan plan;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    std::string entry = spec.substr(start, end - start);
    entry.erase(0, entry.find_first_not_of(" \t"));
    entry.erase(entry.find_last_not_of(" \t") + 1);
    start = end + 1;
    if (entry.empty()) continue;
    const auto bad = [&](const std::string& why) {
      return Status::Invalid("fault plan entry '" + entry + "': " + why +
                             " (expected KIND[:METHOD]@N, @N-M or @N+; KIND one of 429, 503, "
                             "401, 507, reset, timeout, torn)");
    };
    const size_t at = entry.find('@');
    if (at == std::string::npos) return bad("no '@'");
    std::string kind = entry.substr(0, at);
    Fault fault;
    if (size_t colon = kind.find(':'); colon != std::string::npos) {
      fault.method = kind.substr(colon + 1);
      kind.resize(colon);
      if (fault.method.empty()) return bad("empty method");
      std::transform(fault.method.begin(), fault.method.end(), fault.method.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    }
    if (kind == "429")
      fault.kind = Kind::k429;
    else if (kind == "503")
      fault.kind = Kind::k503;
    else if (kind == "401")
      fault.kind = Kind::k401;
    else if (kind == "507")
      fault.kind = Kind::k507;
    else if (kind == "reset")
      fault.kind = Kind::kReset;
    else if (kind == "timeout")
      fault.kind = Kind::kTimeout;
    else if (kind == "torn")
      fault.kind = Kind::kTorn;
    else
      return bad("unknown kind '" + kind + "'");
    std::string when = entry.substr(at + 1);
    bool ok = false;
    if (!when.empty() && when.back() == '+') {
      ok = ParseCount(when.substr(0, when.size() - 1), &fault.first);
      fault.last = UINT64_MAX;
    } else if (size_t dash = when.find('-'); dash != std::string::npos) {
      ok = ParseCount(when.substr(0, dash), &fault.first) &&
           ParseCount(when.substr(dash + 1), &fault.last) && fault.last >= fault.first;
    } else {
      ok = ParseCount(when, &fault.first);
      fault.last = fault.first;
    }
    if (!ok) return bad("bad request number '" + when + "'");
    plan.faults.push_back(std::move(fault));
  }
  return plan;
}

const FaultPlan::Fault* FaultPlan::Match(uint64_t nth, const std::string& method,
                                         uint64_t nth_of_method) const {
  for (const Fault& f : faults) {
    if (!f.method.empty() && f.method != method) continue;
    const uint64_t n = f.method.empty() ? nth : nth_of_method;
    if (n >= f.first && n <= f.last) return &f;
  }
  return nullptr;
}

std::string HttpResponse::Header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return "";
}

HttpClient::HttpClient(std::shared_ptr<CredentialSource> credentials)
    : credentials_(std::move(credentials)) {
  GlobalInit();
  curl_ = curl_easy_init();
  if (const char* env = std::getenv("JSYNC_FAULTS"); env != nullptr && *env != '\0') {
    auto plan = FaultPlan::Parse(env);
    if (plan.ok()) {
      faults_ = std::move(plan).value();
    } else {
      faults_error_ = "JSYNC_FAULTS: " + plan.status().message();
    }
  }
}

void HttpClient::set_fault_plan(std::optional<FaultPlan> plan) {
  faults_ = std::move(plan);
  faults_error_.clear();
  requests_by_method_.clear();
  stats_ = HttpStats{};
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Result<HttpResponse> HttpClient::Send(const HttpRequest& request,
                                      const std::function<bool(ByteSpan)>& body_sink) {
  if (request.without_credentials) return SendOnce(request, "", body_sink);
  // Credentials in the query string (CloudKit) are taken afresh for every attempt: they may
  // have rotated with the previous response, which the source observes.
  bool query_credentials = false;
  auto attempt = [&](const std::string& auth) -> Result<HttpResponse> {
    const std::string suffix = credentials_ ? credentials_->UrlQuerySuffix() : "";
    if (suffix.empty()) {
      JSYNC_ASSIGN_OR_RETURN(HttpResponse r, SendOnce(request, auth, body_sink));
      if (credentials_) credentials_->ObserveResponse(r);
      return r;
    }
    query_credentials = true;
    HttpRequest with_query = request;
    with_query.url += (request.url.find('?') == std::string::npos ? '?' : '&') + suffix;
    JSYNC_ASSIGN_OR_RETURN(HttpResponse r, SendOnce(with_query, auth, body_sink));
    credentials_->ObserveResponse(r);
    return r;
  };
  // 421 is CloudKit's "sign in again" (AUTHENTICATION_REQUIRED), handled like a 401 only for
  // query-string credentials: elsewhere it means Misdirected Request.
  auto refused = [&](int status) { return status == 401 || (status == 421 && query_credentials); };
  std::string auth;
  if (credentials_) {
    JSYNC_ASSIGN_OR_RETURN(auth, credentials_->Authorization());
  }
  JSYNC_ASSIGN_OR_RETURN(HttpResponse response, attempt(auth));
  if (!refused(response.status) || !credentials_) return response;
  // One refresh, one retry; a second 401 means the account must be linked again.
  ++stats_.refreshes;
  Status refreshed = credentials_->Refresh();
  if (!refreshed.ok()) {
    return Status(Code::kAuthExpired, "the server refused the credentials (HTTP " +
                                          std::to_string(response.status) +
                                          "): " + refreshed.message());
  }
  JSYNC_ASSIGN_OR_RETURN(auth, credentials_->Authorization());
  JSYNC_ASSIGN_OR_RETURN(response, attempt(auth));
  if (refused(response.status)) {
    return Status(Code::kAuthExpired, "the server refused the credentials (HTTP " +
                                          std::to_string(response.status) +
                                          ") even after a refresh; link the account again");
  }
  return response;
}

Result<HttpResponse> HttpClient::SendOnce(const HttpRequest& request,
                                          const std::string& authorization,
                                          const std::function<bool(ByteSpan)>& body_sink) {
  if (!faults_error_.empty()) return Status::Invalid(faults_error_);
  ++stats_.requests;
  const uint64_t nth_of_method = ++requests_by_method_[request.method];
  const FaultPlan::Fault* fault =
      faults_ ? faults_->Match(stats_.requests, request.method, nth_of_method) : nullptr;
  if (fault == nullptr) return Exchange(request, authorization, body_sink);
  ++stats_.injected;
  const std::string what = request.method + " failed: ";
  HttpResponse answer;
  switch (fault->kind) {
    case FaultPlan::Kind::k429:
      answer.status = 429;
      answer.headers.emplace_back("retry-after", "1");
      return answer;
    case FaultPlan::Kind::k503:
      answer.status = 503;
      return answer;
    case FaultPlan::Kind::k401:
      answer.status = 401;
      return answer;
    case FaultPlan::Kind::k507:
      answer.status = 507;
      return answer;
    case FaultPlan::Kind::kReset:
      return Status::Retryable(what + "Connection reset by peer (injected fault)");
    case FaultPlan::Kind::kTimeout: {
      // The server acts on the request; the answer never reaches the caller.
      (void)Exchange(request, authorization, nullptr);
      return Status::Retryable(what +
                               "Timeout was reached (injected fault; the server got "
                               "the request)");
    }
    case FaultPlan::Kind::kTorn: {
      if (request.body.empty()) {
        return Status::Retryable(what + "Connection reset by peer (injected fault)");
      }
      HttpRequest torn = request;
      torn.abort_body_after = request.body.size() / 2;
      (void)Exchange(torn, authorization, nullptr);
      return Status::Retryable(
          what + "the connection dropped after " + std::to_string(torn.abort_body_after) + " of " +
          std::to_string(request.body.size()) + " body bytes (injected torn upload)");
    }
  }
  return Status::Fatal("unknown injected fault");
}

Result<HttpResponse> HttpClient::Exchange(const HttpRequest& request,
                                          const std::string& authorization,
                                          const std::function<bool(ByteSpan)>& body_sink) {
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) return Status::Fatal("libcurl could not start");
  curl_easy_reset(curl);  // keeps live connections and the DNS cache
  HttpResponse response;
  Transfer t{&request, 0, &body_sink, &response};
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : request.headers)
    headers = curl_slist_append(headers, (k + ": " + v).c_str());
  if (!authorization.empty()) {
    headers = curl_slist_append(headers, ("Authorization: " + authorization).c_str());
  }
  // libcurl would otherwise wait for "100 Continue" on large bodies.
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(request.timeout_ms ? request.timeout_ms : 300000));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, ReadHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!request.body.empty() || request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &t);
    // CURLOPT_UPLOAD turns the method into PUT; keep the one asked for.
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && t.sink_stopped)) {
    // Transport failures are worth retrying; the message names the host part only.
    std::string what = curl_easy_strerror(rc);
    Code code = rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL ? Code::kInvalid
                                                                              : Code::kRetryable;
    return Status(code, request.method + " failed: " + what);
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace jsync::provider

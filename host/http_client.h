// The host's HTTP client (libcurl), the only way plugins reach the network.
//
// One client per provider instance: it keeps its connections alive between requests, verifies
// TLS, takes proxies from the environment (http_proxy, https_proxy, no_proxy), applies
// timeouts, and asks its CredentialSource for the Authorization header — refreshing once when a
// request comes back 401. Not thread-safe: one request at a time.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/util/bytes.h"

namespace jsync::provider {

struct HttpResponse;

// Supplies the Authorization header for an account. Implementations live in auth/.
class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // The header value ("Bearer ...", "Basic ..."), or "" for none.
  virtual Result<std::string> Authorization() = 0;
  // Called once after a 401 (or a 421 when UrlQuerySuffix() is used); kAuthExpired when
  // nothing can be refreshed (re-link needed).
  virtual Status Refresh() = 0;
  // Optional hooks for credentials that travel in the query string and rotate with every
  // response (CloudKit's ckWebAuthToken). The defaults change nothing.
  // Already-encoded "k=v&k2=v2" appended to every request URL (with '?' or '&'); "" for none.
  virtual std::string UrlQuerySuffix() { return ""; }
  // Sees every response before the caller does (e.g. to persist a rotated token).
  virtual void ObserveResponse(const HttpResponse& /*response*/) {}
};

// Credentials that always fail with one status: an account that must be linked (again). The
// provider still opens, so local work goes on; only calls that need the network fail.
class FailingCredentials final : public CredentialSource {
 public:
  explicit FailingCredentials(Status why) : why_(std::move(why)) {}
  Result<std::string> Authorization() override { return why_; }
  Status Refresh() override { return why_; }

 private:
  Status why_;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  ByteSpan body;
  uint32_t timeout_ms = 0;  // 0: 300 s total, 10 s to connect; under 1 B/s for 60 s aborts
  // Test hook for torn uploads: send only this many body bytes, then drop the connection.
  size_t abort_body_after = SIZE_MAX;
  // A pre-authenticated URL (an upload session, a download link on another host): the
  // account's credentials are neither sent nor refreshed on a 401.
  bool without_credentials = false;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  // The body of an answer with status >= 300 (its first 64 KiB): the server's error document,
  // which never goes to the body sink (it is not the object asked for).
  std::string error_body;
  std::string Header(const std::string& lower_name) const;
};

// Test seam: transport faults HttpClient::Send injects before (or instead of) really sending,
// so the host's retry policy is exercised end to end the way real clouds fail. Off unless set
// with HttpClient::set_fault_plan() or, for every client in the process, the environment
// variable JSYNC_FAULTS (read when a client is constructed).
//
// A plan is a comma-separated list of KIND[:METHOD]@WHEN, e.g. "429@3,503@5,torn:PUT@1".
// WHEN is N (the Nth request), N-M (requests N to M) or N+ (request N and every later one).
// Requests are numbered from 1 per client, counting every attempt (the resend after a 401
// too); with :METHOD only requests of that method are counted. The first matching entry wins.
//   429      answered locally: 429 Too Many Requests with "Retry-After: 1"; nothing is sent
//   503      answered locally: 503 Service Unavailable (no Retry-After); nothing is sent
//   401      answered locally: 401 Unauthorized (Send then refreshes once and resends)
//   507      answered locally: 507 Insufficient Storage; nothing is sent
//   reset    the connection drops before anything is sent: kRetryable
//   timeout  the request is sent and the server acts on it, but the answer is lost:
//            kRetryable (the outcome a retry must be idempotent against)
//   torn     a request with a body sends half of it, then the connection drops
//            (HttpRequest::abort_body_after): kRetryable; without a body, like reset
// Permanent kinds (507, or 401 on every request) make ordinary operations fail by design.
struct FaultPlan {
  enum class Kind { k429, k503, k401, k507, kReset, kTimeout, kTorn };
  struct Fault {
    Kind kind = Kind::kReset;
    std::string method;  // "": every request counts
    uint64_t first = 1;
    uint64_t last = 1;  // UINT64_MAX: no end
  };
  std::vector<Fault> faults;

  // kInvalid naming the bad entry when `spec` does not follow the syntax above.
  static Result<FaultPlan> Parse(const std::string& spec);
  // The entry matching a request that is the `nth` of all and the `nth_of_method` of its method.
  const Fault* Match(uint64_t nth, const std::string& method, uint64_t nth_of_method) const;
};

// What a client did, for tests and the conformance kit.
struct HttpStats {
  uint64_t requests = 0;   // attempts, injected faults included
  uint64_t refreshes = 0;  // CredentialSource::Refresh calls after a 401
  uint64_t injected = 0;   // faults injected from the plan
};

class HttpClient {
 public:
  explicit HttpClient(std::shared_ptr<CredentialSource> credentials = nullptr);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Ok when a response arrived (any HTTP status); kRetryable for transport failures
  // (connection refused or reset, timeout, DNS); kAuthExpired when a 401 survives a refresh.
  // The body streams into `body_sink` (return false to stop); pass nullptr to discard it.
  Result<HttpResponse> Send(const HttpRequest& request,
                            const std::function<bool(ByteSpan)>& body_sink);

  // Replaces the fault plan (nullopt: no faults) and restarts the request numbering.
  void set_fault_plan(std::optional<FaultPlan> plan);
  const HttpStats& stats() const { return stats_; }

 private:
  // One attempt: consults the fault plan, then Exchange (the real libcurl transfer).
  Result<HttpResponse> SendOnce(const HttpRequest& request, const std::string& authorization,
                                const std::function<bool(ByteSpan)>& body_sink);
  Result<HttpResponse> Exchange(const HttpRequest& request, const std::string& authorization,
                                const std::function<bool(ByteSpan)>& body_sink);
  void* curl_;  // CURL*, kept for connection reuse
  std::shared_ptr<CredentialSource> credentials_;
  std::optional<FaultPlan> faults_;
  std::string faults_error_;  // a malformed JSYNC_FAULTS: every Send fails with it
  std::map<std::string, uint64_t> requests_by_method_;
  HttpStats stats_;
};

}  // namespace jsync::provider

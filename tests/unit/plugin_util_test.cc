// providers/sdk/jsync_plugin_util.h, the plugin authors' helper header: Retry-After in both
// forms, Content-Range, random hex through the host, the HTTP status mapping, errors, and one
// exchange over a scripted host->http that behaves like the real host (body bytes first,
// status and headers once the transfer ends).
#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "providers/sdk/jsync_plugin_util.h"

namespace {

namespace pu = jsync_plugin;

// 1994-11-06 08:49:37 UTC, RFC 9110's example date.
constexpr int64_t kExampleMs = 784111777000;

// ---- Retry-After -------------------------------------------------------------------------------

TEST(PluginUtilRetryAfter, DeltaSeconds) {
  EXPECT_EQ(pu::ParseRetryAfter("120", 0), 120000);
  EXPECT_EQ(pu::ParseRetryAfter("0", 5), 0);
  EXPECT_EQ(pu::ParseRetryAfter(" 7\r\n", 0), 7000) << "header whitespace is not part of it";
  EXPECT_EQ(pu::ParseRetryAfter("86400", 0), pu::kMaxRetryAfterMs);
  EXPECT_EQ(pu::ParseRetryAfter("86401", 0), pu::kMaxRetryAfterMs) << "capped at a day";
  EXPECT_EQ(pu::ParseRetryAfter("99999999999999999999999999", 0), pu::kMaxRetryAfterMs)
      << "past 64 bits: capped, not wrapped";
}

TEST(PluginUtilRetryAfter, HttpDateInTheFutureIsTheWaitFromNow) {
  EXPECT_EQ(pu::ParseRetryAfter("Sun, 06 Nov 1994 08:50:07 GMT", kExampleMs), 30000);
  EXPECT_EQ(pu::ParseRetryAfter("Sun, 06 Nov 1994 08:49:38 GMT", kExampleMs - 500), 1500);
  // The two obsolete forms a recipient must accept (RFC 9110 §5.6.7).
  EXPECT_EQ(pu::ParseRetryAfter("Sunday, 06-Nov-94 08:50:07 GMT", kExampleMs), 30000);
  EXPECT_EQ(pu::ParseRetryAfter("Sun Nov  6 08:50:07 1994", kExampleMs), 30000);
  // A year ahead is capped like a huge delta.
  EXPECT_EQ(pu::ParseRetryAfter("Mon, 06 Nov 1995 08:49:37 GMT", kExampleMs), pu::kMaxRetryAfterMs);
}

TEST(PluginUtilRetryAfter, HttpDateInThePastMeansNow) {
  EXPECT_EQ(pu::ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kExampleMs), 0);
  EXPECT_EQ(pu::ParseRetryAfter("Thu, 01 Jan 1970 00:00:00 GMT", kExampleMs), 0);
  EXPECT_EQ(pu::ParseRetryAfter("Sat, 05 Nov 1994 08:49:37 GMT", kExampleMs), 0);
}

TEST(PluginUtilRetryAfter, GarbageIsNoWait) {
  for (const char* bad :
       {"", "   ", "-5", "+5", "1.5", "5s", "soon", "0x10", "Sun, 06 Nov 1994 08:49:37 PST",
        "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 GMT trailing",
        "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Nov 1994 08:61:37 GMT", "1994-11-06T08:49:37Z", "Sun, 06 Nov 1994"}) {
    EXPECT_EQ(pu::ParseRetryAfter(bad, kExampleMs), -1) << "'" << bad << "'";
  }
}

TEST(PluginUtilHttpDate, ThreeFormsOneInstantWhateverTheTimeZone) {
  // timegm, not mktime: the local time zone must not move the instant.
  const char* old_tz = std::getenv("TZ");
  const std::string saved = old_tz != nullptr ? old_tz : "";
  setenv("TZ", "EST5EDT", 1);
  tzset();
  int64_t ms = 0;
  EXPECT_TRUE(pu::ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", &ms));
  EXPECT_EQ(ms, kExampleMs);
  ms = 0;
  EXPECT_TRUE(pu::ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", &ms));
  EXPECT_EQ(ms, kExampleMs);
  ms = 0;
  EXPECT_TRUE(pu::ParseHttpDate("Sun Nov  6 08:49:37 1994", &ms));
  EXPECT_EQ(ms, kExampleMs);
  ms = 0;
  EXPECT_TRUE(pu::ParseHttpDate("Thu, 29 Feb 2024 23:59:59 GMT", &ms)) << "a leap day";
  EXPECT_EQ(ms, 1709251199000);
  EXPECT_FALSE(pu::ParseHttpDate("Thu, 29 Feb 2023 23:59:59 GMT", &ms)) << "no such day";
  if (old_tz != nullptr) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

// ---- Content-Range -----------------------------------------------------------------------------

TEST(PluginUtilContentRange, ParsesTheThreeForms) {
  pu::ContentRange r;
  ASSERT_TRUE(pu::ParseContentRange("bytes 0-99/1000", &r));
  EXPECT_TRUE(r.has_range);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.last, 99u);
  EXPECT_EQ(r.length(), 100u);
  EXPECT_TRUE(r.has_total);
  EXPECT_EQ(r.total, 1000u);

  ASSERT_TRUE(pu::ParseContentRange("bytes 100-199/*", &r));
  EXPECT_TRUE(r.has_range);
  EXPECT_EQ(r.first, 100u);
  EXPECT_FALSE(r.has_total) << "unknown total";

  ASSERT_TRUE(pu::ParseContentRange("bytes */1000", &r));
  EXPECT_FALSE(r.has_range) << "an unsatisfied range (416)";
  EXPECT_EQ(r.length(), 0u);
  EXPECT_EQ(r.total, 1000u);

  ASSERT_TRUE(pu::ParseContentRange("  BYTES 9-9/10 ", &r)) << "unit in any case, trimmed";
  EXPECT_EQ(r.length(), 1u);
  ASSERT_TRUE(pu::ParseContentRange("bytes 0-0/1", &r));
  ASSERT_TRUE(pu::ParseContentRange("bytes */0", &r)) << "an empty object";
  EXPECT_EQ(r.total, 0u);
  ASSERT_TRUE(pu::ParseContentRange("bytes 0-18446744073709551614/18446744073709551615", &r));
  EXPECT_EQ(r.last, UINT64_MAX - 1);
  ASSERT_TRUE(pu::ParseContentRange("bytes 0-18446744073709551615/*", &r));
  EXPECT_EQ(r.length(), UINT64_MAX) << "saturates";
}

TEST(PluginUtilContentRange, RefusesMalformedValues) {
  for (const char* bad : {"",
                          "bytes",
                          "bytes ",
                          "bytes */*",
                          "bytes 10-5/100",
                          "bytes 0-100/100",
                          "bytes 5-5/5",
                          "bytes 0-99",
                          "items 0-9/10",
                          "bytes=0-9/10",
                          "bytes -9/10",
                          "bytes 0-/10",
                          "bytes 0-9/",
                          "bytes 0-9/x",
                          "bytes a-b/c",
                          "bytes 0 - 9/10",
                          "bytes 0-99999999999999999999/*",
                          "bytes 0-9/99999999999999999999",
                          "bytes0-9/10",
                          "bytes +0-9/10"}) {
    pu::ContentRange r;
    r.first = 77;
    EXPECT_FALSE(pu::ParseContentRange(bad, &r)) << "'" << bad << "'";
    EXPECT_EQ(r.first, 77u) << "untouched on failure: '" << bad << "'";
  }
}

TEST(PluginUtilContentRange, FormatsWhatItParses) {
  EXPECT_EQ(pu::FormatContentRange(0, 99, 1000), "bytes 0-99/1000");
  EXPECT_EQ(pu::FormatContentRange(1000), "bytes */1000");
  pu::ContentRange r;
  ASSERT_TRUE(pu::ParseContentRange(pu::FormatContentRange(5, 9, 10), &r));
  EXPECT_EQ(r.first, 5u);
  EXPECT_EQ(r.last, 9u);
  EXPECT_EQ(r.total, 10u);
  EXPECT_EQ(pu::RangeHeaderValue(0, 10), "bytes=0-9");
  EXPECT_EQ(pu::RangeHeaderValue(10, 1), "bytes=10-10");
  EXPECT_EQ(pu::RangeHeaderValue(1234, UINT64_MAX), "bytes=1234-") << "to the end";
  EXPECT_EQ(pu::RangeHeaderValue(UINT64_MAX - 1, 5), "bytes=18446744073709551614-")
      << "an end past 64 bits is the end";
}

// ---- a scripted host ---------------------------------------------------------------------------

// What the fake host answers: like host/plugin_provider.cc's HostHttp, a 2xx body is written
// before the status is set; status, the error document and the headers come afterwards.
struct Script {
  int code = JSYNC_OK;  // the transport's answer
  std::string host_message;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> chunks;  // the body, in writes
  uint8_t random_byte = 0xa5;
  int64_t now_ms = kExampleMs;
  // What the plugin sent.
  std::string method, url, sent_body;
  std::vector<std::pair<std::string, std::string>> sent_headers;
  uint32_t timeout_ms = 0;
  int writes_refused = 0;
};

int ScriptedHttp(void* host, const jsync_http_request* req, jsync_http_response* resp,
                 jsync_error* err) {
  auto* s = static_cast<Script*>(host);
  s->method = req->method;
  s->url = req->url;
  s->sent_body.assign(reinterpret_cast<const char*>(req->body), req->body_len);
  s->timeout_ms = req->timeout_ms;
  for (size_t i = 0; i < req->header_count; ++i)
    s->sent_headers.emplace_back(req->headers[i].name, req->headers[i].value);
  if (s->code != JSYNC_OK) {
    pu::Fail(err, s->code, s->host_message);
    return s->code;
  }
  const bool success = s->status >= 200 && s->status < 300;
  if (success && resp->body.write != nullptr) {
    for (const std::string& c : s->chunks) {
      if (resp->body.write(resp->body.ctx, reinterpret_cast<const uint8_t*>(c.data()), c.size()) !=
          0) {
        ++s->writes_refused;
        break;
      }
    }
  }
  resp->status = s->status;
  if (!success && resp->body.write != nullptr) {
    std::string doc;
    for (const std::string& c : s->chunks) doc += c;
    resp->body.write(resp->body.ctx, reinterpret_cast<const uint8_t*>(doc.data()), doc.size());
  }
  if (resp->on_header != nullptr) {
    for (const auto& [k, v] : s->headers) resp->on_header(resp->header_ctx, k.c_str(), v.c_str());
  }
  return JSYNC_OK;
}

void ScriptedRandom(void* host, uint8_t* out, size_t len) {
  for (size_t i = 0; i < len; ++i)
    out[i] = static_cast<uint8_t>(static_cast<Script*>(host)->random_byte + i);
}

int64_t ScriptedNow(void* host) { return static_cast<Script*>(host)->now_ms; }

jsync_host_services HostOf(Script* s) {
  return {JSYNC_PROVIDER_ABI_VERSION,
          sizeof(jsync_host_services),
          s,
          ScriptedHttp,
          nullptr,
          ScriptedNow,
          ScriptedRandom,
          nullptr};
}

// ---- random, errors, statuses ------------------------------------------------------------------

TEST(PluginUtilRandomHex, ComesFromTheHost) {
  Script s;
  s.random_byte = 0xfe;
  const jsync_host_services host = HostOf(&s);
  EXPECT_EQ(pu::RandomHex(&host, 3), "feff00");
  EXPECT_EQ(pu::RandomHex(&host, 0), "");
  jsync_host_services without = host;
  without.random = nullptr;
  const std::string fallback = pu::RandomHex(&without, 16);
  EXPECT_EQ(fallback.size(), 32u);
  EXPECT_EQ(fallback.find_first_not_of("0123456789abcdef"), std::string::npos) << fallback;
}

TEST(PluginUtilErrors, FailFillsAndTruncates) {
  jsync_error err{123, {'x', 0}};
  EXPECT_EQ(pu::Fail(&err, JSYNC_INVALID, "bad option"), JSYNC_INVALID);
  EXPECT_STREQ(err.message, "bad option");
  EXPECT_EQ(err.retry_after_ms, -1);
  EXPECT_EQ(pu::Fail(&err, JSYNC_RETRYABLE_THROTTLED, "slow down", 2500),
            JSYNC_RETRYABLE_THROTTLED);
  EXPECT_EQ(err.retry_after_ms, 2500);
  const std::string long_message(2000, 'm');
  pu::Fail(&err, JSYNC_FATAL, long_message);
  EXPECT_EQ(std::string(err.message), long_message.substr(0, sizeof err.message - 1));
  EXPECT_EQ(pu::Fail(nullptr, JSYNC_FATAL, "no place"), JSYNC_FATAL);
}

TEST(PluginUtilErrors, CatchAllKeepsExceptionsOnOurSide) {
  jsync_error err{-1, {0}};
  EXPECT_EQ(pu::CatchAll(&err, "p get", [] { return JSYNC_NOT_FOUND; }), JSYNC_NOT_FOUND);
  EXPECT_EQ(pu::CatchAll(&err, "p get", []() -> int { throw std::runtime_error("disk on fire"); }),
            JSYNC_FATAL);
  EXPECT_STREQ(err.message, "p get: disk on fire");
  EXPECT_EQ(pu::CatchAll(&err, "p put", []() -> int { throw std::bad_alloc(); }), JSYNC_FATAL);
  EXPECT_STREQ(err.message, "p put: out of memory");
  EXPECT_EQ(pu::CatchAll(&err, "p list", []() -> int { throw 42; }), JSYNC_FATAL);
  EXPECT_STREQ(err.message, "p list");
}

TEST(PluginUtilStatus, OneMappingForEveryPlugin) {
  struct Case {
    int status;
    int code;
  };
  for (const Case c : {Case{200, JSYNC_OK},
                       Case{206, JSYNC_OK},
                       Case{207, JSYNC_OK},
                       Case{301, JSYNC_INVALID},
                       Case{308, JSYNC_INVALID},
                       Case{400, JSYNC_INVALID},
                       Case{401, JSYNC_AUTH_EXPIRED},
                       Case{403, JSYNC_AUTH_EXPIRED},
                       Case{404, JSYNC_NOT_FOUND},
                       Case{405, JSYNC_INVALID},
                       Case{408, JSYNC_RETRYABLE_NETWORK},
                       Case{409, JSYNC_INVALID},
                       Case{410, JSYNC_FATAL},
                       Case{412, JSYNC_FATAL},
                       Case{413, JSYNC_FATAL},
                       Case{416, JSYNC_INVALID},
                       Case{418, JSYNC_FATAL},
                       Case{423, JSYNC_RETRYABLE_UNAVAILABLE},
                       Case{429, JSYNC_RETRYABLE_THROTTLED},
                       Case{500, JSYNC_RETRYABLE_UNAVAILABLE},
                       Case{501, JSYNC_FATAL},
                       Case{502, JSYNC_RETRYABLE_UNAVAILABLE},
                       Case{503, JSYNC_RETRYABLE_UNAVAILABLE},
                       Case{504, JSYNC_RETRYABLE_UNAVAILABLE},
                       Case{505, JSYNC_FATAL},
                       Case{507, JSYNC_QUOTA_EXCEEDED},
                       Case{508, JSYNC_FATAL},
                       Case{520, JSYNC_RETRYABLE_UNAVAILABLE},
                       Case{100, JSYNC_FATAL},
                       Case{0, JSYNC_FATAL},
                       Case{600, JSYNC_FATAL}}) {
    EXPECT_EQ(pu::CodeFromHttpStatus(c.status), c.code) << c.status;
  }
  EXPECT_EQ(pu::HttpStatusText(503), "HTTP 503 Service Unavailable");
  EXPECT_EQ(pu::HttpStatusText(599), "HTTP 599");
}

TEST(PluginUtilStatus, FailFromHttpStatusTakesRetryAfterOnlyWhenRetryable) {
  Script s;
  const jsync_host_services host = HostOf(&s);
  jsync_error err{-1, {0}};
  pu::Response r;
  r.status = 503;
  r.headers = {{"retry-after", "Sun, 06 Nov 1994 08:49:47 GMT"}};  // 10 s after ScriptedNow
  EXPECT_EQ(pu::FailFromHttpStatus(&host, "P get a/b", r, &err), JSYNC_RETRYABLE_UNAVAILABLE);
  EXPECT_STREQ(err.message, "P get a/b: HTTP 503 Service Unavailable");
  EXPECT_EQ(err.retry_after_ms, 10000);
  r.status = 429;
  r.headers = {{"Retry-After", "3"}};
  EXPECT_EQ(pu::FailFromHttpStatus(&host, "P put x", r, &err), JSYNC_RETRYABLE_THROTTLED);
  EXPECT_EQ(err.retry_after_ms, 3000);
  r.status = 404;
  EXPECT_EQ(pu::FailFromHttpStatus(&host, "P get x", r, &err), JSYNC_NOT_FOUND);
  EXPECT_EQ(err.retry_after_ms, -1) << "only a retryable answer has a wait";
  r.status = 204;
  EXPECT_EQ(pu::FailFromHttpStatus(&host, "P get x", r, &err), JSYNC_FATAL)
      << "a success the caller did not accept is still a failure";
}

// ---- the exchange ------------------------------------------------------------------------------

TEST(PluginUtilExchange, PassesTheRequestAndCollectsTheAnswer) {
  Script s;
  s.status = 201;
  s.headers = {{"Content-Type", "application/json"}, {"ETag", "\"1\""}, {"etag", "\"2\""}};
  s.chunks = {"{\"id\":", "\"abc\"}"};
  const jsync_host_services host = HostOf(&s);
  pu::Request req;
  req.method = "POST";
  req.url = "https://cloud.example/files";
  req.headers = {{"Content-Type", "text/plain"}};
  const std::string body = "hello";
  req.body = reinterpret_cast<const uint8_t*>(body.data());
  req.body_len = body.size();
  req.timeout_ms = 1234;
  pu::Response resp;
  jsync_error err{-1, {0}};
  ASSERT_EQ(pu::Exchange(&host, req, &resp, "P put x", &err), JSYNC_OK) << err.message;
  EXPECT_EQ(s.method, "POST");
  EXPECT_EQ(s.url, "https://cloud.example/files");
  EXPECT_EQ(s.sent_body, "hello");
  EXPECT_EQ(s.timeout_ms, 1234u);
  ASSERT_EQ(s.sent_headers.size(), 1u);
  EXPECT_EQ(s.sent_headers[0].second, "text/plain");
  EXPECT_EQ(resp.status, 201);
  EXPECT_EQ(resp.body, "{\"id\":\"abc\"}");
  EXPECT_EQ(resp.Header("content-type"), "application/json");
  EXPECT_EQ(resp.Header("ETAG"), "\"2\"") << "the last value, any case";
  EXPECT_EQ(resp.Header("location"), "");
  EXPECT_EQ(resp.headers[0].first, "content-type") << "names lower-cased";
}

TEST(PluginUtilExchange, ErrorDocumentsAreCollectedEvenWithATarget) {
  struct Refuse final : pu::BodyTarget {
    bool Write(int, const pu::Response&, const uint8_t*, size_t) override {
      ADD_FAILURE() << "an error page is not the object";
      return false;
    }
  } refuse;
  Script s;
  s.status = 403;
  s.chunks = {"{\"error\":{\"errors\":[{\"reason\":\"rateLimitExceeded\"}]}}"};
  const jsync_host_services host = HostOf(&s);
  pu::Request req;
  req.url = "https://cloud.example/x";
  req.target = &refuse;
  pu::Response resp;
  jsync_error err{-1, {0}};
  ASSERT_EQ(pu::Exchange(&host, req, &resp, "P get x", &err), JSYNC_OK);
  EXPECT_EQ(resp.status, 403);
  EXPECT_NE(resp.body.find("rateLimitExceeded"), std::string::npos) << resp.body;
}

TEST(PluginUtilExchange, FailuresSayWhatAndKeepTheHostsCode) {
  Script s;
  s.code = JSYNC_RETRYABLE_NETWORK;
  s.host_message = "GET failed: Connection reset by peer";
  const jsync_host_services host = HostOf(&s);
  pu::Request req;
  req.url = "https://cloud.example/x";
  pu::Response resp;
  jsync_error err{-1, {0}};
  EXPECT_EQ(pu::Exchange(&host, req, &resp, "P get x", &err), JSYNC_RETRYABLE_NETWORK);
  EXPECT_STREQ(err.message, "P get x: GET failed: Connection reset by peer");
  s.host_message.clear();
  EXPECT_EQ(pu::Exchange(&host, req, &resp, "P get x", &err), JSYNC_RETRYABLE_NETWORK);
  EXPECT_STREQ(err.message, "P get x: the request failed");

  s = Script();
  s.status = 0;  // an answer without a status line
  EXPECT_EQ(pu::Exchange(&host, req, &resp, "P get x", &err), JSYNC_RETRYABLE_NETWORK);
  EXPECT_STREQ(err.message, "P get x: no HTTP status in the answer");

  jsync_host_services no_http = host;
  no_http.http = nullptr;
  EXPECT_EQ(pu::Exchange(&no_http, req, &resp, "P get x", &err), JSYNC_INVALID);
}

TEST(PluginUtilExchange, ABodyOverTheLimitFailsAndStopsTheTransfer) {
  Script s;
  s.chunks = {std::string(600, 'a'), std::string(600, 'b'), std::string(600, 'c')};
  const jsync_host_services host = HostOf(&s);
  pu::Request req;
  req.url = "https://cloud.example/list";
  req.body_limit = 1000;
  pu::Response resp;
  jsync_error err{-1, {0}};
  EXPECT_EQ(pu::Exchange(&host, req, &resp, "P list", &err), JSYNC_FATAL);
  EXPECT_STREQ(err.message, "P list: the answer is larger than 1000 bytes");
  EXPECT_EQ(s.writes_refused, 1) << "stopped at the second write";
  req.body_limit = 1800;
  EXPECT_EQ(pu::Exchange(&host, req, &resp, "P list", &err), JSYNC_OK) << "exactly the limit";
  EXPECT_EQ(resp.body.size(), 1800u);
}

// A download into get()'s sink, the way the real host delivers it: the bytes arrive before the
// status and Content-Range are known, so they are held back and handed over afterwards.
struct Collect {
  std::string bytes;
  uint64_t announced = UINT64_MAX;
  bool refuse_size = false;
  size_t stop_after = SIZE_MAX;
  static int Write(void* ctx, const uint8_t* d, size_t n) {
    auto* c = static_cast<Collect*>(ctx);
    c->bytes.append(reinterpret_cast<const char*>(d), n);
    return c->bytes.size() >= c->stop_after ? 1 : 0;
  }
  static int Size(void* ctx, uint64_t total) {
    auto* c = static_cast<Collect*>(ctx);
    c->announced = total;
    return c->refuse_size ? 1 : 0;
  }
};

TEST(PluginUtilRangeTarget, A206IsPlacedByItsContentRange) {
  Script s;
  s.status = 206;
  s.headers = {{"Content-Range", "bytes 2-7/10"}};
  s.chunks = {"234", "567"};
  const jsync_host_services host = HostOf(&s);
  Collect c;
  jsync_get_sink sink{{&c, Collect::Write}, Collect::Size};
  pu::RangeTarget target(&sink.sink, 3, 4, &sink);
  pu::Request req;
  req.url = "https://cloud.example/o";
  req.target = &target;
  req.body_limit = pu::DownloadBodyLimit(3, 4);
  pu::Response resp;
  jsync_error err{-1, {0}};
  ASSERT_EQ(pu::Exchange(&host, req, &resp, "P get o", &err), JSYNC_OK) << err.message;
  EXPECT_EQ(c.bytes, "3456") << "a widened range is cut to what was asked";
  EXPECT_EQ(target.delivered(), 4u);
  EXPECT_EQ(c.announced, UINT64_MAX) << "the size is told only for a read from 0";
  EXPECT_FALSE(target.bad_range());
}

TEST(PluginUtilRangeTarget, A200FromAServerIgnoringTheRangeIsSkipped) {
  Script s;
  s.headers = {{"Content-Length", "10"}};
  s.chunks = {"01234", "56789"};
  const jsync_host_services host = HostOf(&s);
  Collect c;
  jsync_get_sink sink{{&c, Collect::Write}, Collect::Size};
  pu::RangeTarget target(&sink.sink, 6, UINT64_MAX, &sink);
  pu::Request req;
  req.target = &target;
  req.body_limit = pu::DownloadBodyLimit(6, UINT64_MAX);
  pu::Response resp;
  jsync_error err{-1, {0}};
  ASSERT_EQ(pu::Exchange(&host, req, &resp, "P get o", &err), JSYNC_OK) << err.message;
  EXPECT_EQ(c.bytes, "6789");
  EXPECT_EQ(resp.body, "") << "the object went to the sink, not into memory twice";
}

TEST(PluginUtilRangeTarget, TellsTheSizeFirstAndStopsWhenTheHostSaysSo) {
  Script s;
  s.headers = {{"Content-Length", "10"}};
  s.chunks = {"0123456789"};
  const jsync_host_services host = HostOf(&s);
  Collect c;
  c.refuse_size = true;
  jsync_get_sink sink{{&c, Collect::Write}, Collect::Size};
  pu::RangeTarget target(&sink.sink, 0, 5, &sink);
  pu::Request req;
  req.target = &target;
  pu::Response resp;
  jsync_error err{-1, {0}};
  ASSERT_EQ(pu::Exchange(&host, req, &resp, "P get o", &err), JSYNC_OK) << err.message;
  EXPECT_EQ(c.announced, 10u);
  EXPECT_EQ(c.bytes, "") << "nothing written after the size was refused";
  EXPECT_TRUE(target.sink_stopped());

  Collect d;
  d.stop_after = 3;
  jsync_get_sink sink2{{&d, Collect::Write}, nullptr};
  pu::RangeTarget stop(&sink2.sink, 0, UINT64_MAX, nullptr);
  req.target = &stop;
  ASSERT_EQ(pu::Exchange(&host, req, &resp, "P get o", &err), JSYNC_OK);
  EXPECT_EQ(d.bytes, "0123456789") << "one write of the held bytes, then stop";
  EXPECT_TRUE(stop.sink_stopped());
}

// A 206 of "bytes 0-99/1000" holding 50 bytes is complete as HTTP goes, and still no read.
TEST(PluginUtilRangeTarget, AnAnswerShorterThanItsHeadersEndedEarly) {
  Script s;
  s.status = 206;
  s.headers = {{"Content-Range", "bytes 0-9/40"}};
  s.chunks = {"01234"};
  const jsync_host_services host = HostOf(&s);
  Collect c;
  jsync_get_sink sink{{&c, Collect::Write}, nullptr};
  pu::RangeTarget cut(&sink.sink, 0, 10, nullptr);
  pu::Request req;
  req.target = &cut;
  pu::Response resp;
  jsync_error err{-1, {0}};
  ASSERT_EQ(pu::Exchange(&host, req, &resp, "P get o", &err), JSYNC_OK);
  EXPECT_TRUE(cut.EndedEarly(resp)) << "5 of the 10 bytes announced";
  // Asked for fewer than the answer announced, and all of those came: complete.
  Collect d;
  jsync_get_sink sink2{{&d, Collect::Write}, nullptr};
  pu::RangeTarget enough(&sink2.sink, 2, 3, nullptr);
  req.target = &enough;
  ASSERT_EQ(pu::Exchange(&host, req, &resp, "P get o", &err), JSYNC_OK);
  EXPECT_EQ(d.bytes, "234");
  EXPECT_FALSE(enough.EndedEarly(resp));
  // A whole object whose Content-Length matches its bytes, and one past the end: complete.
  s.status = 200;
  s.headers = {{"Content-Length", "5"}};
  Collect e;
  jsync_get_sink sink3{{&e, Collect::Write}, nullptr};
  pu::RangeTarget whole(&sink3.sink, 0, UINT64_MAX, nullptr);
  req.target = &whole;
  ASSERT_EQ(pu::Exchange(&host, req, &resp, "P get o", &err), JSYNC_OK);
  EXPECT_EQ(e.bytes, "01234");
  EXPECT_FALSE(whole.EndedEarly(resp));
  Collect f;
  jsync_get_sink sink4{{&f, Collect::Write}, nullptr};
  pu::RangeTarget past(&sink4.sink, 7, 3, nullptr);
  req.target = &past;
  ASSERT_EQ(pu::Exchange(&host, req, &resp, "P get o", &err), JSYNC_OK);
  EXPECT_FALSE(past.EndedEarly(resp)) << "nothing was announced at or after byte 7";
}

TEST(PluginUtilRangeTarget, A206StartingAfterTheOffsetIsRefused) {
  Script s;
  s.status = 206;
  s.headers = {{"content-range", "bytes 5-9/10"}};
  s.chunks = {"56789"};
  const jsync_host_services host = HostOf(&s);
  Collect c;
  jsync_get_sink sink{{&c, Collect::Write}, nullptr};
  pu::RangeTarget target(&sink.sink, 2, 3, nullptr);
  pu::Request req;
  req.target = &target;
  pu::Response resp;
  jsync_error err{-1, {0}};
  ASSERT_EQ(pu::Exchange(&host, req, &resp, "P get o", &err), JSYNC_OK);
  EXPECT_TRUE(target.bad_range());
  EXPECT_EQ(c.bytes, "") << "bytes from elsewhere are never passed on";
}

TEST(PluginUtilRangeTarget, HeldBytesStopAtTheLimitAndStillReachTheTarget) {
  // A server ignoring the Range sends a huge object; only what the range needs is held.
  Script s;
  s.chunks = {std::string(1000, 'x'), std::string(1000, 'y'), std::string(1000, 'z')};
  const jsync_host_services host = HostOf(&s);
  Collect c;
  jsync_get_sink sink{{&c, Collect::Write}, nullptr};
  pu::RangeTarget target(&sink.sink, 900, 200, nullptr);
  pu::Request req;
  req.target = &target;
  req.body_limit = 1500;
  pu::Response resp;
  jsync_error err{-1, {0}};
  ASSERT_EQ(pu::Exchange(&host, req, &resp, "P get o", &err), JSYNC_OK) << err.message;
  EXPECT_EQ(s.writes_refused, 1) << "the transfer stopped once the held bytes reached the limit";
  EXPECT_EQ(c.bytes, std::string(100, 'x') + std::string(100, 'y'));
  EXPECT_EQ(pu::DownloadBodyLimit(0, UINT64_MAX), SIZE_MAX);
  EXPECT_EQ(pu::DownloadBodyLimit(10, 20), 30u + (1u << 20));
}

}  // namespace

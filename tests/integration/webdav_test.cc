// The WebDAV provider plugin against two independent real servers on 127.0.0.1:
// `rclone serve webdav` and the npm package webdav-server (tests/peers/), both serving a
// directory on disk, so what the plugin wrote can be checked file by file.
// Needs scripts/install-test-peers.sh (rclone, node_modules).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "host/http_client.h"
#include "host/open_provider.h"
#include "host/plugin_loader.h"
#include "host/plugin_provider.h"
#include "tests/support/test_support.h"
#include "tests/support/webdav_servers.h"

namespace jsync {
namespace {

namespace fs = std::filesystem;
using provider::CredentialSource;
using provider::ObjectInfo;
using provider::PluginInfo;
using provider::PluginProvider;
using testing::WebDavServer;
using testing::WebDavServerKind;

Bytes RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::vector<std::string> Paths(const std::vector<ObjectInfo>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o.path);
  return out;
}

// Every file under `dir` whose name starts with the temporary-upload prefix.
std::vector<std::string> TempFilesOnDisk(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& p : testing::ListFiles(dir)) {
    if (p.filename().string().starts_with(JSYNC_TEMP_PREFIX)) out.push_back(p.string());
  }
  return out;
}

// Drives a plugin's C table directly, with a minimal host around the host's HttpClient, to see
// exactly what the plugin emits (PluginProvider filters and sorts on top).
class RawPlugin {
 public:
  RawPlugin(const PluginInfo& info, const std::string& location,
            std::shared_ptr<CredentialSource> credentials)
      : client_(std::move(credentials)), table_(info.table) {
    services_ = {
        JSYNC_PROVIDER_ABI_VERSION, sizeof(jsync_host_services), this, &Http, &Log, &Now, &Random,
        nullptr};
    jsync_error err{-1, {0}};
    open_rc_ = table_->open(&services_, location.c_str(), "{}", &inst_, &err);
  }
  ~RawPlugin() {
    if (inst_ != nullptr) table_->close(inst_);
  }
  int open_rc() const { return open_rc_; }

  int Put(const std::string& path, const Bytes& bytes, int if_absent) {
    jsync_error err{-1, {0}};
    return table_->put(inst_, path.c_str(), bytes.data(), bytes.size(), if_absent, &err);
  }

  // The plugin's emits, in order; *pages counts set_next calls with a non-empty token.
  int List(const std::string& prefix, std::vector<ObjectInfo>* out, int* pages) {
    struct Ctx {
      std::vector<ObjectInfo>* out;
      int* pages;
    } ctx{out, pages};
    jsync_list_sink sink{&ctx,
                         [](void* c, const char* path, uint64_t size) {
                           static_cast<Ctx*>(c)->out->push_back({path, size});
                         },
                         [](void* c, const char* token) {
                           if (token != nullptr && *token != '\0') ++*static_cast<Ctx*>(c)->pages;
                         },
                         nullptr};
    jsync_error err{-1, {0}};
    return table_->list(inst_, prefix.c_str(), "", &sink, &err);
  }

 private:
  static int Http(void* host, const jsync_http_request* req, jsync_http_response* resp,
                  jsync_error* err) {
    auto* self = static_cast<RawPlugin*>(host);
    provider::HttpRequest r;
    r.method = req->method;
    r.url = req->url;
    for (size_t i = 0; i < req->header_count; ++i) {
      r.headers.emplace_back(req->headers[i].name, req->headers[i].value);
    }
    r.body = ByteSpan(req->body, req->body_len);
    std::function<bool(ByteSpan)> sink;
    if (resp->body.write != nullptr) {
      sink = [resp](ByteSpan b) {
        return resp->body.write(resp->body.ctx, b.data(), b.size()) == 0;
      };
    }
    auto res = self->client_.Send(r, sink);
    if (!res.ok()) {
      std::snprintf(err->message, sizeof err->message, "%s", res.status().message().c_str());
      err->retry_after_ms = -1;
      return res.status().code() == Code::kAuthExpired ? JSYNC_AUTH_EXPIRED
                                                       : JSYNC_RETRYABLE_NETWORK;
    }
    resp->status = res->status;
    if (resp->on_header != nullptr) {
      for (const auto& [k, v] : res->headers)
        resp->on_header(resp->header_ctx, k.c_str(), v.c_str());
    }
    return JSYNC_OK;
  }
  static void Log(void*, int, const char*) {}
  static int64_t Now(void*) { return 0; }
  static void Random(void*, uint8_t* out, size_t len) {
    static std::mt19937_64 rng(7);
    for (size_t i = 0; i < len; ++i) out[i] = static_cast<uint8_t>(rng());
  }

  provider::HttpClient client_;
  const jsync_provider* table_;
  jsync_host_services services_{};
  jsync_instance* inst_ = nullptr;
  int open_rc_ = -1;
};

class WebDavTest : public ::testing::TestWithParam<WebDavServerKind> {
 protected:
  void SetUp() override {
    const std::string plugin_file = testing::WebDavPluginPath();
    ASSERT_FALSE(plugin_file.empty()) << "the webdav plugin is not part of this build";
    auto plugin = provider::LoadPlugin(plugin_file);
    ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
    plugin_ = *plugin;
    ASSERT_EQ(plugin_.name, "webdav");
    ASSERT_TRUE(plugin_.capabilities.range_read);
    std::string error;
    server_ = WebDavServer::Start(GetParam(), root(), &error, options_);
    ASSERT_NE(server_, nullptr) << error;
    location_ = server_->Url("dav/journals");
    provider_ = Open(location_, server_->password());
    ASSERT_NE(provider_, nullptr);
  }

  std::unique_ptr<PluginProvider> Open(const std::string& location, const std::string& password) {
    auto p = PluginProvider::Open(plugin_, location, "{}",
                                  provider::BasicCredentials(server_->user(), password));
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(p).value() : nullptr;
  }

  fs::path root() const { return dir_.path() / "served"; }
  // Where the server keeps the object at `rel` (a UTF-8 path relative to the location).
  fs::path OnDisk(const std::string& rel) const { return root() / "dav" / "journals" / rel; }

  // Nothing the server logged or the plugin said may contain the password.
  void ExpectNoPassword(const Status& s) const {
    EXPECT_EQ(s.message().find(server_->password()), std::string::npos) << s.ToString();
  }

  testing::TempDir dir_;
  testing::WebDavServerOptions options_;
  PluginInfo plugin_;
  std::unique_ptr<WebDavServer> server_;
  std::string location_;
  std::unique_ptr<PluginProvider> provider_;
};

TEST_P(WebDavTest, PutGetRoundTrip) {
  const std::vector<std::pair<std::string, Bytes>> objects = {
      {"empty", Bytes()},
      {"one", B("x")},
      {"changes/dev/big", RandomBytes(1 << 20, 1)},
  };
  for (const auto& [path, bytes] : objects) {
    ASSERT_TRUE(provider_->PutIfAbsent(path, bytes).ok()) << path;
  }
  for (const auto& [path, bytes] : objects) {
    auto got = provider_->Get(path, provider::kNoSizeLimit);
    ASSERT_TRUE(got.ok()) << path << ": " << got.status().ToString();
    EXPECT_EQ(*got, bytes) << path;
    EXPECT_EQ(testing::ReadFileBytes(OnDisk(path)), AsString(bytes)) << path;
  }
  EXPECT_TRUE(TempFilesOnDisk(root()).empty());
  auto missing = provider_->Get("changes/dev/nothing", provider::kNoSizeLimit);
  EXPECT_TRUE(missing.status().Is(Code::kNotFound)) << missing.status().ToString();
}

TEST_P(WebDavTest, PutIfAbsentSameBytesOkOtherBytesExists) {
  const Bytes original = RandomBytes(5000, 2);
  ASSERT_TRUE(provider_->PutIfAbsent("changes/a/0001", original).ok());
  // A retried upload of the same bytes succeeds.
  Status again = provider_->PutIfAbsent("changes/a/0001", original);
  EXPECT_TRUE(again.ok()) << again.ToString();
  // Other bytes under the same name: kExists, and the original stays.
  Status other = provider_->PutIfAbsent("changes/a/0001", RandomBytes(5000, 3));
  EXPECT_TRUE(other.Is(Code::kExists)) << other.ToString();
  Status longer = provider_->PutIfAbsent("changes/a/0001", RandomBytes(6000, 2));
  EXPECT_TRUE(longer.Is(Code::kExists)) << longer.ToString();
  Status empty = provider_->PutIfAbsent("changes/a/0001", Bytes());
  EXPECT_TRUE(empty.Is(Code::kExists)) << empty.ToString();
  auto got = provider_->Get("changes/a/0001", provider::kNoSizeLimit);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, original);
  // The temporary uploads were cleaned up after each 412.
  EXPECT_EQ(TempFilesOnDisk(root()), std::vector<std::string>());
}

TEST_P(WebDavTest, RangeReads) {
  const Bytes data = RandomBytes(10000, 4);
  ASSERT_TRUE(provider_->PutIfAbsent("r/obj", data).ok());
  struct Case {
    uint64_t offset, length;
  };
  for (const Case c : {Case{0, 10}, Case{5, 10}, Case{9990, 10}, Case{9997, 10}, Case{9999, 1},
                       Case{0, 10000}, Case{0, 20000}, Case{1234, UINT64_MAX}, Case{10000, 5},
                       Case{12000, 5}, Case{0, 0}, Case{500, 0}, Case{10000, UINT64_MAX}}) {
    auto got = provider_->GetRange("r/obj", c.offset, c.length);
    ASSERT_TRUE(got.ok()) << c.offset << "+" << c.length << ": " << got.status().ToString();
    const uint64_t begin = std::min<uint64_t>(c.offset, data.size());
    const uint64_t end = c.length > data.size() - begin ? data.size() : begin + c.length;
    EXPECT_EQ(*got, Bytes(data.begin() + begin, data.begin() + end)) << c.offset << "+" << c.length;
  }
  ASSERT_TRUE(provider_->PutIfAbsent("r/empty", Bytes()).ok());
  auto whole = provider_->Get("r/empty", provider::kNoSizeLimit);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_TRUE(whole->empty());
  // webdav-server 2.6 answers a Range on an empty file with a broken 206 ("bytes -1--1/*",
  // Content-Length 1, no body) that stalls until it drops the connection: retryable, never
  // wrong bytes. rclone answers 416, which is an empty read.
  if (GetParam() == WebDavServerKind::kRclone) {
    auto got = provider_->GetRange("r/empty", 0, 10);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(got->empty());
  }
  auto missing = provider_->GetRange("r/none", 5, 10);
  EXPECT_TRUE(missing.status().Is(Code::kNotFound)) << missing.status().ToString();
}

TEST_P(WebDavTest, ListingWithPrefixesAndNestedFolders) {
  auto listed = provider_->List("");
  ASSERT_TRUE(listed.ok()) << "a location that does not exist yet lists as empty: "
                           << listed.status().ToString();
  EXPECT_TRUE(listed->empty());

  const std::vector<std::string> names = {"changes/dev1/0001", "changes/dev1/0002",
                                          "changes/dev2/0001", "changes/dev10/deep/x/0001",
                                          "keys/k1",           "top"};
  for (size_t i = 0; i < names.size(); ++i) {
    ASSERT_TRUE(provider_->PutIfAbsent(names[i], RandomBytes(10 + i, i)).ok()) << names[i];
  }
  // A torn upload left behind, and an empty folder: neither is an object.
  testing::WriteFileBytes(OnDisk("changes/dev1/.jsync-tmp-0123456789abcdef"), "torn");
  fs::create_directories(OnDisk("changes/empty"));

  auto all = provider_->List("");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Paths(*all), std::vector<std::string>({"changes/dev1/0001", "changes/dev1/0002",
                                                   "changes/dev10/deep/x/0001", "changes/dev2/0001",
                                                   "keys/k1", "top"}));
  for (const auto& o : *all) {
    const size_t i = std::find(names.begin(), names.end(), o.path) - names.begin();
    EXPECT_EQ(o.size, 10 + i) << o.path;
  }
  auto expect = [&](const std::string& prefix, std::vector<std::string> want) {
    auto got = provider_->List(prefix);
    ASSERT_TRUE(got.ok()) << prefix << ": " << got.status().ToString();
    EXPECT_EQ(Paths(*got), want) << "prefix '" << prefix << "'";
  };
  expect("changes/", {"changes/dev1/0001", "changes/dev1/0002", "changes/dev10/deep/x/0001",
                      "changes/dev2/0001"});
  expect("changes/dev1/", {"changes/dev1/0001", "changes/dev1/0002"});
  expect("changes/dev1", {"changes/dev1/0001", "changes/dev1/0002", "changes/dev10/deep/x/0001"});
  expect("changes/dev1/000", {"changes/dev1/0001", "changes/dev1/0002"});
  expect("changes/dev1/0002", {"changes/dev1/0002"});
  expect("changes/dev10/deep/", {"changes/dev10/deep/x/0001"});
  expect("k", {"keys/k1"});
  expect("t", {"top"});
  expect("nothing/", {});
  expect("changes/nothing/more/", {});
  expect("changes/empty/", {});

  // What the plugin itself emits: no temporary names, one page, in order.
  RawPlugin raw(plugin_, location_,
                provider::BasicCredentials(server_->user(), server_->password()));
  ASSERT_EQ(raw.open_rc(), JSYNC_OK);
  std::vector<ObjectInfo> emitted;
  int pages = 0;
  ASSERT_EQ(raw.List("changes/dev1/", &emitted, &pages), JSYNC_OK);
  EXPECT_EQ(Paths(emitted), std::vector<std::string>({"changes/dev1/0001", "changes/dev1/0002"}));
  EXPECT_EQ(pages, 0);
  emitted.clear();
  ASSERT_EQ(raw.List("", &emitted, &pages), JSYNC_OK);
  EXPECT_EQ(emitted.size(), names.size());
  for (const auto& o : emitted) EXPECT_EQ(o.path.find(JSYNC_TEMP_PREFIX), std::string::npos);
}

TEST_P(WebDavTest, UnicodeAndSpacesInNames) {
  const std::vector<std::string> names = {
      "notes/with space/a b.txt", "notes/naïve café/☕ 日本語.bin", "notes/odd/a+b=c&d;e,f@g!h'i(j)",
      "notes/odd/per%25cent %41", "notes/odd/question?hash#"};
  for (size_t i = 0; i < names.size(); ++i) {
    Status s = provider_->PutIfAbsent(names[i], B("content " + std::to_string(i)));
    ASSERT_TRUE(s.ok()) << names[i] << ": " << s.ToString();
  }
  for (size_t i = 0; i < names.size(); ++i) {
    auto got = provider_->Get(names[i], provider::kNoSizeLimit);
    ASSERT_TRUE(got.ok()) << names[i] << ": " << got.status().ToString();
    EXPECT_EQ(AsString(*got), "content " + std::to_string(i));
    // The server stored it under the very name (percent-encoding undone).
    EXPECT_TRUE(fs::exists(OnDisk(names[i]))) << names[i];
  }
  auto all = provider_->List("notes/");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(Paths(*all), sorted);
  auto cafe = provider_->List("notes/naïve");
  ASSERT_TRUE(cafe.ok());
  EXPECT_EQ(Paths(*cafe), std::vector<std::string>({"notes/naïve café/☕ 日本語.bin"}));
  EXPECT_TRUE(provider_->Remove("notes/with space/a b.txt").ok());
  EXPECT_FALSE(fs::exists(OnDisk("notes/with space/a b.txt")));
}

TEST_P(WebDavTest, PlainPutReplaces) {
  RawPlugin raw(plugin_, location_,
                provider::BasicCredentials(server_->user(), server_->password()));
  ASSERT_EQ(raw.open_rc(), JSYNC_OK);
  ASSERT_EQ(raw.Put("p/state", B("first"), 0), JSYNC_OK);
  ASSERT_EQ(raw.Put("p/state", B("second, longer"), 0), JSYNC_OK);
  EXPECT_EQ(testing::ReadFileBytes(OnDisk("p/state")), "second, longer");
  EXPECT_EQ(raw.Put("p/state", B("third"), 1), JSYNC_EXISTS);
  EXPECT_EQ(raw.Put("p/state", B("second, longer"), 1), JSYNC_OK);
  EXPECT_EQ(TempFilesOnDisk(root()), std::vector<std::string>());
  EXPECT_EQ(raw.Put("p/../x", B("x"), 1), JSYNC_INVALID);
  EXPECT_EQ(raw.Put("p//x", B("x"), 1), JSYNC_INVALID);
  EXPECT_EQ(raw.Put("/p", B("x"), 1), JSYNC_INVALID);
}

TEST_P(WebDavTest, RemoveIsIdempotent) {
  ASSERT_TRUE(provider_->PutIfAbsent("d/x", B("bytes")).ok());
  EXPECT_TRUE(provider_->Remove("d/x").ok());
  EXPECT_TRUE(provider_->Get("d/x", provider::kNoSizeLimit).status().Is(Code::kNotFound));
  Status again = provider_->Remove("d/x");
  EXPECT_TRUE(again.ok()) << again.ToString();
  Status never = provider_->Remove("never/was/here");
  EXPECT_TRUE(never.ok()) << never.ToString();
  auto listed = provider_->List("d/");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  // The name is free again.
  EXPECT_TRUE(provider_->PutIfAbsent("d/x", B("other bytes")).ok());
}

TEST_P(WebDavTest, WrongPasswordIsAuthExpired) {
  ASSERT_TRUE(provider_->PutIfAbsent("a/b", B("bytes")).ok());
  auto wrong = Open(location_, "not-" + server_->password());
  ASSERT_NE(wrong, nullptr) << "open does not contact the server";
  Status put = wrong->PutIfAbsent("a/c", B("bytes"));
  EXPECT_TRUE(put.Is(Code::kAuthExpired)) << put.ToString();
  auto get = wrong->Get("a/b", provider::kNoSizeLimit);
  EXPECT_TRUE(get.status().Is(Code::kAuthExpired)) << get.status().ToString();
  auto list = wrong->List("");
  EXPECT_TRUE(list.status().Is(Code::kAuthExpired)) << list.status().ToString();
  Status rm = wrong->Remove("a/b");
  EXPECT_TRUE(rm.Is(Code::kAuthExpired)) << rm.ToString();
  for (const Status& s : {put, get.status(), list.status(), rm}) ExpectNoPassword(s);
  EXPECT_TRUE(provider_->Get("a/b", provider::kNoSizeLimit).ok()) << "the object is still there";
}

TEST_P(WebDavTest, StoppedServerIsRetryable) {
  ASSERT_TRUE(provider_->PutIfAbsent("a/b", B("bytes")).ok());
  server_->Stop();
  Status put = provider_->PutIfAbsent("a/c", B("bytes"));
  EXPECT_TRUE(put.Is(Code::kRetryable)) << put.ToString();
  auto get = provider_->Get("a/b", provider::kNoSizeLimit);
  EXPECT_TRUE(get.status().Is(Code::kRetryable)) << get.status().ToString();
  auto list = provider_->List("");
  EXPECT_TRUE(list.status().Is(Code::kRetryable)) << list.status().ToString();
}

TEST_P(WebDavTest, QuotaWhereTheServerReportsIt) {
  ASSERT_TRUE(provider_->PutIfAbsent("q/a", B("bytes")).ok());
  auto quota = provider_->Quota();
  // Neither server reports RFC 4331 quota unless it has a limit.
  EXPECT_TRUE(quota.status().Is(Code::kNotFound)) << quota.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Servers, WebDavTest, ::testing::ValuesIn(testing::AllWebDavServerKinds()),
                         [](const auto& info) {
                           return info.param == WebDavServerKind::kRclone ? "Rclone"
                                                                          : "WebdavServer";
                         });

// webdav-server with a per-user limit: RFC 4331 quota is reported and a write past it is 507.
class WebDavQuotaTest : public WebDavTest {
 protected:
  void SetUp() override {
    options_.quota = 20000;
    WebDavTest::SetUp();
  }
};

TEST_P(WebDavQuotaTest, QuotaReportedAndEnforced) {
  ASSERT_TRUE(plugin_.capabilities.quota);
  ASSERT_TRUE(provider_->PutIfAbsent("q/a", RandomBytes(5000, 5)).ok());
  auto quota = provider_->Quota();
  ASSERT_TRUE(quota.ok()) << quota.status().ToString();
  EXPECT_EQ(quota->total, 20000u);
  EXPECT_GE(quota->used, 5000u);
  EXPECT_LT(quota->used, 6000u);
  Status full = provider_->PutIfAbsent("q/b", RandomBytes(30000, 6));
  EXPECT_TRUE(full.Is(Code::kQuotaExceeded)) << full.ToString();
  ExpectNoPassword(full);
  EXPECT_EQ(TempFilesOnDisk(root()), std::vector<std::string>());
  auto listed = provider_->List("q/");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(Paths(*listed), std::vector<std::string>({"q/a"}));
}

INSTANTIATE_TEST_SUITE_P(Servers, WebDavQuotaTest,
                         ::testing::Values(WebDavServerKind::kNodeWebdavServer),
                         [](const auto&) { return std::string("WebdavServer"); });

// webdav-server that ignores Range (as some servers do): the plugin skips to the offset itself.
class WebDavNoRangeTest : public WebDavTest {
 protected:
  void SetUp() override {
    options_.ignore_range = true;
    WebDavTest::SetUp();
  }
};

TEST_P(WebDavNoRangeTest, RangeReadsFromWholeAnswers) {
  const Bytes data = RandomBytes(300000, 8);
  ASSERT_TRUE(provider_->PutIfAbsent("r/obj", data).ok());
  ASSERT_TRUE(provider_->PutIfAbsent("r/empty", Bytes()).ok());
  struct Case {
    uint64_t offset, length;
  };
  for (const Case c : {Case{0, 10}, Case{5, 10}, Case{299990, 100}, Case{123456, 65536},
                       Case{1, UINT64_MAX}, Case{300000, 5}, Case{400000, 5}, Case{7, 0}}) {
    auto got = provider_->GetRange("r/obj", c.offset, c.length);
    ASSERT_TRUE(got.ok()) << c.offset << "+" << c.length << ": " << got.status().ToString();
    const uint64_t begin = std::min<uint64_t>(c.offset, data.size());
    const uint64_t end = c.length > data.size() - begin ? data.size() : begin + c.length;
    EXPECT_EQ(*got, Bytes(data.begin() + begin, data.begin() + end)) << c.offset << "+" << c.length;
  }
  auto empty = provider_->GetRange("r/empty", 0, 10);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->empty());
}

INSTANTIATE_TEST_SUITE_P(Servers, WebDavNoRangeTest,
                         ::testing::Values(WebDavServerKind::kNodeWebdavServer),
                         [](const auto&) { return std::string("WebdavServerIgnoringRange"); });

// webdav-server answering chosen statuses: how the plugin classifies each.
class WebDavStatusTest : public WebDavTest {
 protected:
  void SetUp() override {
    options_.fault_paths = true;
    WebDavTest::SetUp();
  }
};

TEST_P(WebDavStatusTest, StatusesMapToCodes) {
  struct Case {
    int status;
    Code code;
  };
  for (const Case c :
       {Case{400, Code::kInvalid}, Case{401, Code::kAuthExpired}, Case{403, Code::kAuthExpired},
        Case{404, Code::kNotFound}, Case{405, Code::kInvalid}, Case{410, Code::kFatal},
        Case{429, Code::kRetryable}, Case{500, Code::kRetryable}, Case{501, Code::kFatal},
        Case{502, Code::kRetryable}, Case{503, Code::kRetryable}, Case{504, Code::kRetryable},
        Case{507, Code::kQuotaExceeded}}) {
    const std::string dir = "s/__status_" + std::to_string(c.status) + "__";
    auto get = provider_->Get(dir + "/obj", provider::kNoSizeLimit);
    EXPECT_TRUE(get.status().Is(c.code)) << c.status << ": " << get.status().ToString();
    if (c.status != 404) {
      EXPECT_NE(get.status().message().find(std::to_string(c.status)), std::string::npos)
          << get.status().ToString();
      EXPECT_NE(get.status().message().find(dir + "/obj"), std::string::npos)
          << "names the object: " << get.status().ToString();
    }
    ExpectNoPassword(get.status());
    if (c.code == Code::kRetryable) {
      EXPECT_EQ(get.status().retry_after_ms(), 7000) << c.status;
    }
    if (c.status != 404) {
      auto list = provider_->List(dir + "/");
      EXPECT_TRUE(list.status().Is(c.code)) << c.status << ": " << list.status().ToString();
    }
    Status put = provider_->PutIfAbsent(dir + "/obj", B("bytes"));
    // A PUT into a missing collection (404) creates it; here MKCOL then answers 404 too.
    EXPECT_TRUE(put.Is(c.code)) << c.status << ": " << put.ToString();
    Status rm = provider_->Remove(dir + "/obj");
    EXPECT_TRUE(c.status == 404 ? rm.ok() : rm.Is(c.code)) << c.status << ": " << rm.ToString();
  }
  // Retry-After as an HTTP date, about 30 s ahead.
  auto get = provider_->Get("s/__status_503_date__/obj", provider::kNoSizeLimit);
  ASSERT_TRUE(get.status().Is(Code::kRetryable)) << get.status().ToString();
  EXPECT_GE(get.status().retry_after_ms(), 25000) << get.status().ToString();
  EXPECT_LE(get.status().retry_after_ms(), 31000) << get.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Servers, WebDavStatusTest,
                         ::testing::Values(WebDavServerKind::kNodeWebdavServer),
                         [](const auto&) { return std::string("WebdavServerWithFaults"); });

TEST(WebDavNoServer, MissingServerIsRetryableAndOpenStaysOffline) {
  auto plugin = provider::LoadPlugin(testing::WebDavPluginPath());
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  const int port = testing::FreeLoopbackPort();
  ASSERT_GT(port, 0);
  const std::string location = "http://127.0.0.1:" + std::to_string(port) + "/dav/journals/";
  auto p = PluginProvider::Open(*plugin, location, "{}", provider::BasicCredentials("u", "secret"));
  ASSERT_TRUE(p.ok()) << "open must not contact the server: " << p.status().ToString();
  Status put = (*p)->PutIfAbsent("a/b", B("x"));
  EXPECT_TRUE(put.Is(Code::kRetryable)) << put.ToString();
  auto get = (*p)->Get("a/b", provider::kNoSizeLimit);
  EXPECT_TRUE(get.status().Is(Code::kRetryable)) << get.status().ToString();
  auto list = (*p)->List("");
  EXPECT_TRUE(list.status().Is(Code::kRetryable)) << list.status().ToString();
  Status rm = (*p)->Remove("a/b");
  EXPECT_TRUE(rm.Is(Code::kRetryable)) << rm.ToString();
  for (const Status& s : {put, get.status(), list.status(), rm}) {
    EXPECT_EQ(s.message().find("secret"), std::string::npos) << s.ToString();
  }
}

TEST(WebDavNoServer, BadLocationsAreInvalid) {
  auto plugin = provider::LoadPlugin(testing::WebDavPluginPath());
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  // Straight to the table: these messages are the plugin's own.
  jsync_host_services services{};
  services.abi_version = JSYNC_PROVIDER_ABI_VERSION;
  services.struct_size = sizeof services;
  services.http = [](void*, const jsync_http_request*, jsync_http_response*, jsync_error*) {
    ADD_FAILURE() << "open contacted the server";
    return static_cast<int>(JSYNC_FATAL);
  };
  for (const std::string location :
       {"", "ftp://example.com/x", "http://", "http://user:secret@127.0.0.1:1/dav",
        "http://127.0.0.1:1/dav?x=1", "http://127.0.0.1:1/a/../b", "/tmp/folder"}) {
    jsync_error err{-1, {0}};
    jsync_instance* inst = nullptr;
    const int rc = plugin->table->open(&services, location.c_str(), "{}", &inst, &err);
    EXPECT_EQ(rc, JSYNC_INVALID) << location << ": " << err.message;
    EXPECT_EQ(inst, nullptr) << location;
    EXPECT_GT(std::strlen(err.message), 10u) << location;
    EXPECT_EQ(std::strstr(err.message, "secret"), nullptr) << err.message;
  }
  jsync_error err{-1, {0}};
  jsync_instance* inst = nullptr;
  ASSERT_EQ(plugin->table->open(&services, "https://example.com/remote.php/dav/files/me/j%20x/",
                                "{}", &inst, &err),
            JSYNC_OK)
      << err.message;
  plugin->table->close(inst);
}

}  // namespace
}  // namespace jsync

// Test-only (never compiled into the plugin): opens a provider plugin's instance straight
// through its C table, with a host services table over the host's HttpClient, so a plugin's
// own tests see the raw slot codes and errors (JSYNC_INVALID from watch without an address,
// JSYNC_EXISTS, the plugin's log lines) that PluginProvider turns into Status. It is the only
// instance such a test opens; reading the feed of a provider under test beside it goes through
// Provider::Changes/Watch on that provider instead (the conformance runners do).
// Its HTTP service is the host's (provider::HostHttp); only the log is captured for tests.
// Used by tests/integration/gdrive_*. Header-only; needs jsync_host. One thread at a time.
#pragma once

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "host/http_client.h"
#include "host/plugin_loader.h"
#include "host/plugin_provider.h"
#include "core/provider/provider.h"
#include "providers/sdk/jsync_provider.h"

namespace jsync::gdrive_testing {

class DirectInstance {
 public:
  static Result<std::unique_ptr<DirectInstance>> Open(
      provider::PluginInfo plugin, const std::string& location, const std::string& config_json,
      std::shared_ptr<provider::CredentialSource> credentials) {
    std::unique_ptr<DirectInstance> d(new DirectInstance());
    d->plugin_ = std::move(plugin);
    d->http_ = std::make_unique<provider::HttpClient>(std::move(credentials));
    d->services_ = {JSYNC_PROVIDER_ABI_VERSION, sizeof(jsync_host_services), d.get(),
                    &DirectInstance::Http,      &DirectInstance::Log,        &DirectInstance::Now,
                    &DirectInstance::Random,    &DirectInstance::HttpWithoutCredentials};
    jsync_error err{-1, {0}};
    const int rc = d->plugin_.table->open(&d->services_, location.c_str(), config_json.c_str(),
                                          &d->instance_, &err);
    if (rc != JSYNC_OK || d->instance_ == nullptr) {
      d->instance_ = nullptr;
      return provider::StatusFromPlugin(rc == JSYNC_OK ? JSYNC_FATAL : rc, err, "open");
    }
    return d;
  }
  ~DirectInstance() {
    if (instance_ != nullptr) plugin_.table->close(instance_);
  }

  const jsync_provider& table() const { return *plugin_.table; }
  jsync_instance* instance() { return instance_; }
  provider::HttpClient& http() { return *http_; }
  // What the plugin logged (one line each).
  const std::vector<std::string>& logs() const { return logs_; }

  // The slots, with the raw code and the error the plugin filled.
  int Put(const std::string& path, const std::string& bytes, jsync_error* err, int if_absent = 1) {
    return plugin_.table->put(instance_, path.c_str(),
                              reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                              if_absent, Clear(err));
  }
  int Get(const std::string& path, std::string* out, jsync_error* err, uint64_t offset = 0,
          uint64_t length = UINT64_MAX) {
    out->clear();
    // A version-2 host hands get() a jsync_get_sink (no size callback here).
    jsync_get_sink sink{{out,
                         [](void* ctx, const uint8_t* d, size_t n) {
                           static_cast<std::string*>(ctx)->append(reinterpret_cast<const char*>(d),
                                                                  n);
                           return 0;
                         }},
                        nullptr};
    return plugin_.table->get(instance_, path.c_str(), offset, length, &sink.sink, Clear(err));
  }
  struct Page {
    std::vector<provider::ObjectInfo> objects;
    std::string next;
  };
  // One call of list (page_token "" for the first page) or changes (cursor).
  int ListPage(const std::string& prefix, const std::string& token, Page* page, jsync_error* err) {
    *page = Page{};
    jsync_list_sink sink = Sink(page);
    return plugin_.table->list(instance_, prefix.c_str(), token.c_str(), &sink, Clear(err));
  }
  int Changes(const std::string& cursor, Page* page, jsync_error* err) {
    *page = Page{};
    jsync_list_sink sink = Sink(page);
    return plugin_.table->changes(instance_, cursor.c_str(), &sink, Clear(err));
  }
  int Remove(const std::string& path, jsync_error* err) {
    return plugin_.table->remove(instance_, path.c_str(), Clear(err));
  }
  int Watch(const std::string& url, jsync_error* err) {
    return plugin_.table->watch(instance_, url.c_str(), Clear(err));
  }
  int Quota(uint64_t* used, uint64_t* total, jsync_error* err) {
    return plugin_.table->quota(instance_, used, total, Clear(err));
  }
  // Every page of a listing, sorted as the host sorts it.
  int ListAll(const std::string& prefix, std::vector<provider::ObjectInfo>* all, jsync_error* err) {
    all->clear();
    std::string token;
    for (int i = 0; i < 100000; ++i) {
      Page page;
      const int rc = ListPage(prefix, token, &page, err);
      if (rc != JSYNC_OK) return rc;
      all->insert(all->end(), page.objects.begin(), page.objects.end());
      if (page.next.empty()) break;
      token = page.next;
    }
    return JSYNC_OK;
  }

 private:
  DirectInstance() = default;

  static jsync_error* Clear(jsync_error* err) {
    err->retry_after_ms = -1;
    err->message[0] = '\0';
    return err;
  }
  static jsync_list_sink Sink(Page* page) {
    return {
        page,
        [](void* ctx, const char* path, uint64_t size) {
          static_cast<Page*>(ctx)->objects.push_back({path ? path : "", size});
        },
        [](void* ctx, const char* token) { static_cast<Page*>(ctx)->next = token ? token : ""; },
        nullptr};
  }
  // The host's own HTTP service over this instance's client.
  static int Http(void* host, const jsync_http_request* req, jsync_http_response* resp,
                  jsync_error* err) {
    return provider::HostHttp(static_cast<DirectInstance*>(host)->http_.get(), req, resp, err);
  }
  static int HttpWithoutCredentials(void* host, const jsync_http_request* req,
                                    jsync_http_response* resp, jsync_error* err) {
    return provider::HostHttpWithoutCredentials(static_cast<DirectInstance*>(host)->http_.get(),
                                                req, resp, err);
  }
  static void Log(void* host, int, const char* message) {
    static_cast<DirectInstance*>(host)->logs_.emplace_back(message ? message : "");
  }
  static int64_t Now(void*) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static void Random(void*, uint8_t* out, size_t len) {
    static uint64_t state = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < len; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      out[i] = static_cast<uint8_t>(state >> 56);
    }
  }

  provider::PluginInfo plugin_;
  std::unique_ptr<provider::HttpClient> http_;
  jsync_host_services services_{};
  jsync_instance* instance_ = nullptr;
  std::vector<std::string> logs_;
};

}  // namespace jsync::gdrive_testing

// A Provider backed by a plugin's C table: opens an instance, turns every call into the C ABI
// and every answer back into a Status, and catches anything a plugin lets escape.
#pragma once

#include <memory>
#include <string>

#include "host/http_client.h"
#include "host/plugin_loader.h"

namespace jsync::provider {

class PluginProvider final : public Provider {
 public:
  // `credentials` may be null (no account). `config_json` holds the plugin's options. The
  // location is first put in the plugin's canonical form (ABI 3 canonical_location), then
  // opened; `create` asks a version-3 plugin with open_ex to create a missing location.
  static Result<std::unique_ptr<PluginProvider>> Open(
      PluginInfo plugin, const std::string& location, const std::string& config_json,
      std::shared_ptr<CredentialSource> credentials, bool create = false);
  ~PluginProvider() override;

  std::string Describe() const override { return plugin_.name + " " + location_; }
  Status PutIfAbsent(const std::string& path, ByteSpan bytes) override;
  Result<Bytes> Get(const std::string& path, uint64_t max_size) override;
  Result<Bytes> GetRange(const std::string& path, uint64_t offset, uint64_t length) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Result<std::vector<ObjectInfo>> ListTemporary(const std::string& prefix) override;
  Status Remove(const std::string& path) override;
  Capabilities capabilities() const override { return plugin_.capabilities; }
  Result<QuotaInfo> Quota() override;
  Result<ChangePage> Changes(const std::string& cursor) override;
  Status Watch(const std::string& webhook_url) override;

  // The host services table handed to the plugin (exposed for the conformance kit).
  HttpClient& http() { return *http_; }
  // The location as opened: the plugin's canonical form (as given, for plugins without one).
  const std::string& location() const { return opened_location_; }
  const PluginInfo& plugin() const { return plugin_; }

 private:
  PluginProvider() = default;
  // One listing: objects (and what is not an object) first, temporary upload files second.
  Result<std::pair<std::vector<ObjectInfo>, std::vector<ObjectInfo>>> ListAll(
      const std::string& prefix);
  PluginInfo plugin_;
  std::string location_;         // for messages: never with user info
  std::string opened_location_;  // what open was given
  std::unique_ptr<HttpClient> http_;
  jsync_host_services services_{};
  jsync_instance* instance_ = nullptr;
};

// The host's HTTP service (jsync_host_services.http) with `host` an HttpClient*: credentials
// injected, one refresh on 401, error documents passed to the sink. Exposed so test hosts that
// drive a plugin's table directly behave exactly as the real one.
int HostHttp(void* host, const jsync_http_request* req, jsync_http_response* resp,
             jsync_error* err);
// jsync_host_services.http_without_credentials: the same, for pre-authenticated URLs.
int HostHttpWithoutCredentials(void* host, const jsync_http_request* req,
                               jsync_http_response* resp, jsync_error* err);

// Maps a plugin status code and error to a Status (retry_after carried along).
Status StatusFromPlugin(int code, const jsync_error& err, const std::string& context);

}  // namespace jsync::provider

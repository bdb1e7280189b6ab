// Opens a journal's provider by name: the built-in folder provider or a loaded plugin, wrapped
// in the host's retry, pacing and quota policy.
#pragma once

#include <memory>
#include <string>

#include "core/provider/http_client.h"
#include "core/provider/provider.h"

namespace jsync::provider {

struct OpenOptions {
  bool create_location = false;  // make a missing folder (only `jsync init` asks for that)
  std::string config_json = "{}";
  std::shared_ptr<CredentialSource> credentials;  // null: none (or from the environment)
};

Result<std::unique_ptr<Provider>> OpenProvider(const std::string& name, const std::string& location,
                                               const OpenOptions& options = {});

// Basic credentials for HTTP providers (WebDAV): JSYNC_<NAME>_USER / JSYNC_<NAME>_PASSWORD.
std::shared_ptr<CredentialSource> CredentialsFromEnvironment(const std::string& provider_name);
std::shared_ptr<CredentialSource> BasicCredentials(const std::string& user,
                                                   const std::string& password);

}  // namespace jsync::provider
